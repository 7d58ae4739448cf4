// Command streamsql is the StreamSQL server: a streaming SQL engine over
// Kafka that clients reach with psql over the Postgres wire protocol. This
// file only turns flags into the constructors of the packages that do the
// work.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/streamsql/streamsql/catalog"
	"github.com/streamsql/streamsql/exec/engine"
	"github.com/streamsql/streamsql/kafka"
	"github.com/streamsql/streamsql/sql/pgwire"
	"github.com/streamsql/streamsql/state"
)

type options struct {
	dataDir            string
	pgAddr             string
	httpAddr           string
	brokers            string
	embeddedBroker     string
	checkpointInterval time.Duration
	parallelism        int
	stateCacheSize     int64
	logLevel           string
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("streamsql", flag.ContinueOnError)
	fs.StringVar(&o.dataDir, "data-dir", "./streamsql-data",
		"directory for state (Badger), the catalog, and the embedded broker's log")
	fs.StringVar(&o.pgAddr, "pg-addr", "127.0.0.1:5433", "address of the Postgres wire protocol listener (psql, pgx)")
	fs.StringVar(&o.httpAddr, "http-addr", "127.0.0.1:8081", "address serving /healthz and Prometheus /metrics")
	fs.StringVar(&o.brokers, "brokers", "",
		"comma-separated Kafka bootstrap brokers (host:port,...); empty starts the embedded broker")
	fs.StringVar(&o.embeddedBroker, "embedded-broker", "127.0.0.1:9092",
		"listen address of the embedded Kafka-protocol broker, used when --brokers is empty")
	fs.DurationVar(&o.checkpointInterval, "checkpoint-interval", 5*time.Second,
		"time between checkpoints of each sink; results become durable at checkpoints, so this bounds output latency, while shorter intervals cost more writes")
	fs.IntVar(&o.parallelism, "parallelism", 0,
		"aggregation tasks per query; 0 means min(source partitions, CPU cores)")
	stateCache := fs.String("state-cache-size", "256MiB",
		"memory for each query's GROUP BY state without windows, split over its aggregation tasks (bytes, or with KiB, MiB, GiB); "+
			"groups beyond it are evicted once a checkpoint has saved them (sinks) or spilled to <data-dir>/spill (SELECT), "+
			"so a larger cache reads Badger less; 0 keeps every group in memory")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.checkpointInterval < 10*time.Millisecond {
		return o, fmt.Errorf("--checkpoint-interval must be at least 10ms, got %s", o.checkpointInterval)
	}
	size, err := parseSize(*stateCache)
	if err != nil {
		return o, fmt.Errorf("--state-cache-size: %w", err)
	}
	o.stateCacheSize = size
	if o.parallelism < 0 {
		return o, fmt.Errorf("--parallelism must not be negative, got %d", o.parallelism)
	}
	for _, a := range []struct{ flag, addr string }{{"--pg-addr", o.pgAddr}, {"--http-addr", o.httpAddr}, {"--embedded-broker", o.embeddedBroker}} {
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			return o, fmt.Errorf("%s: %q is not host:port", a.flag, a.addr)
		}
	}
	return o, nil
}

// parseSize reads a byte count: a whole number with an optional unit
// B, KiB, MiB or GiB (KB, MB, GB and K, M, G mean the same powers of 1024).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') {
		i--
	}
	n, err := strconv.ParseInt(strings.TrimSpace(t[:i]), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size (a whole number of bytes, or with KiB, MiB, GiB)", s)
	}
	mult := map[string]int64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
		"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}
	m, ok := mult[strings.ToLower(strings.TrimSpace(t[i:]))]
	if !ok {
		return 0, fmt.Errorf("%q: unknown unit %q (use KiB, MiB or GiB)", s, t[i:])
	}
	if n > math.MaxInt64/m {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * m, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "streamsql:", err)
		os.Exit(2)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		fmt.Fprintln(os.Stderr, "streamsql: --log-level:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)
	if err := run(o, log); err != nil {
		log.Error("streamsql stopped", "err", err)
		os.Exit(1)
	}
}

func run(o options, log *slog.Logger) error {
	if err := os.MkdirAll(o.dataDir, 0o755); err != nil {
		return err
	}
	brokers := splitBrokers(o.brokers)
	if len(brokers) == 0 {
		emb, err := kafka.StartEmbedded(o.embeddedBroker, filepath.Join(o.dataDir, "broker"))
		if err != nil {
			return fmt.Errorf("starting the embedded broker on %s: %w", o.embeddedBroker, err)
		}
		defer emb.Close()
		brokers = []string{emb.Addr()}
		log.Info("using the EMBEDDED Kafka-protocol broker (franz-go kfake); pass --brokers to use a Kafka cluster",
			"addr", emb.Addr(), "dir", filepath.Join(o.dataDir, "broker"))
	} else {
		log.Info("using EXTERNAL Kafka brokers", "brokers", strings.Join(brokers, ","))
	}
	client, err := kafka.NewClient(brokers, "streamsql")
	if err != nil {
		return err
	}
	defer client.Close()
	cat, err := catalog.Open(o.dataDir)
	if err != nil {
		return err
	}
	store, err := state.Open(filepath.Join(o.dataDir, "state"))
	if err != nil {
		return err
	}
	defer store.Close()

	spill, err := state.OpenSpillArea(filepath.Join(o.dataDir, "spill"))
	if err != nil {
		return err
	}

	eng := engine.New(engine.Config{Client: client, Catalog: cat, Store: store,
		CheckpointInterval: o.checkpointInterval, Parallelism: o.parallelism,
		StateCacheBytes: o.stateCacheSize, Spill: spill, Logger: log})
	defer eng.Close()

	srv := pgwire.NewServer(pgwire.Config{Addr: o.pgAddr, Logger: log}, eng)
	if err := srv.Listen(); err != nil {
		return fmt.Errorf("--pg-addr %s: %w", o.pgAddr, err)
	}
	httpLn, err := net.Listen("tcp", o.httpAddr)
	if err != nil {
		srv.Close()
		return fmt.Errorf("--http-addr %s: %w", o.httpAddr, err)
	}
	httpSrv := &http.Server{Handler: eng.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = httpSrv.Serve(httpLn) }()
	defer httpSrv.Close()

	eng.Start()
	go gcLoop(store, log)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve() }()
	log.Info("StreamSQL is ready", "pg", srv.Addr().String(), "http", httpLn.Addr().String(), "data_dir", o.dataDir,
		"checkpoint_interval", o.checkpointInterval)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-serveErr:
		if err != nil {
			return err
		}
	}
	srv.Close()
	return nil
}

func splitBrokers(s string) []string {
	var out []string
	for _, b := range strings.Split(s, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// gcLoop reclaims Badger value-log space left by deleted window state.
func gcLoop(store *state.Store, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for range t.C {
		if err := store.GC(); err != nil {
			log.Warn("state GC", "err", err)
		}
	}
}
