// Command bench is `make bench`: the clickstream benchmark. It builds and
// starts a streamsql server, produces N clickstream events (about 100 bytes
// of JSON each) into a topic, and then, on that same data, measures
//
//	(a) a plain sarama read of the whole topic (the floor any Go reader pays),
//	(b) the bounded tumble-count query over the Postgres wire,
//
// printing events/s for both, their ratio, and what each cost in CPU. The
// query's result is checked against what was produced, group by group.
// Then (unless -sinks=false) the same query runs as a continuous sink from
// the earliest offset, at least once and then exactly once, timed until
// SHOW SINKS says it has read every event; its output topic is read back
// (read_committed) and checked (sink.go).
//
// It is a program rather than a `go test -bench` because it measures two
// processes (itself and the server) end to end, the way a user meets them.
// See README.md in this directory for how to read the figures.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

type options struct {
	events      int64
	partitions  int
	brokers     string
	runs        int
	jsonPath    string
	keep        bool
	producer    string
	cpuProfile  string
	parallelism int
	wmDelay     time.Duration
	sinks       bool
}

func parseFlags() options {
	var o options
	flag.Int64Var(&o.events, "events", 2_000_000, "number of clickstream events to produce and read")
	flag.IntVar(&o.partitions, "partitions", 4, "partitions of the clicks topic")
	flag.StringVar(&o.brokers, "brokers", "",
		"Kafka bootstrap broker host:port to run against (passed to the server as --brokers); empty uses the server's embedded broker")
	flag.IntVar(&o.runs, "runs", 1, "how many times to repeat (a) and (b) on the same data; the table shows the median, and the best when runs > 1")
	flag.StringVar(&o.jsonPath, "json", "", "also write the results as JSON to this file")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (server data, log, binary) and shut the server down cleanly")
	flag.StringVar(&o.producer, "producer", "kgo", "client that fills the topic: kgo (franz-go) or sarama (AsyncProducer)")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "",
		"write a CPU profile of the server during the last query run to this file (builds the server with a profiling hook through go build -overlay)")
	flag.IntVar(&o.parallelism, "parallelism", 0, "passed to the server as --parallelism when > 0 (server default: min(partitions, cores))")
	flag.DurationVar(&o.wmDelay, "watermark-delay", time.Second,
		"the stream's watermark_delay; events are up to 500ms out of order, so below that some are late and dropped (SEMANTICS.md) and the result check fails")
	flag.BoolVar(&o.sinks, "sinks", true,
		"after the query runs, also measure the query as a continuous sink (CREATE SINK), at_least_once then exactly_once")
	flag.Parse()
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
		os.Exit(2)
	}
	switch {
	case flag.NArg() > 0:
		fail("unexpected arguments %q (flags go in BENCHFLAGS: make bench BENCHFLAGS='-events 200000')", flag.Args())
	case o.events < 1:
		fail("-events must be at least 1, got %d", o.events)
	case o.partitions < 1:
		fail("-partitions must be at least 1, got %d", o.partitions)
	case o.runs < 1:
		fail("-runs must be at least 1, got %d", o.runs)
	case o.wmDelay < 0:
		fail("-watermark-delay must not be negative, got %s", o.wmDelay)
	case o.producer != "kgo" && o.producer != "sarama":
		fail("-producer must be kgo or sarama, got %q", o.producer)
	}
	return o
}

func main() {
	o := parseFlags()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "\nbench: FAILED:", err)
		os.Exit(1)
	}
}

// step prints what the bench is about to do. Nothing is printed while a
// measurement runs.
func step(format string, args ...any) {
	fmt.Printf("%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func run(o options) (err error) {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if o.cpuProfile != "" {
		if o.cpuProfile, err = filepath.Abs(o.cpuProfile); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "streamsql-bench-")
	if err != nil {
		return err
	}

	step("building ./cmd/streamsql")
	bin, err := buildServer(root, dir, o.cpuProfile != "")
	var srv *server
	if err == nil {
		srv, err = startServer(bin, dir, o.brokers, o.parallelism, o.cpuProfile)
	}
	if err != nil {
		if !o.keep {
			os.RemoveAll(dir)
		}
		return err
	}
	var once sync.Once
	shutdown := func() {
		once.Do(func() {
			if o.keep {
				srv.stop()
				fmt.Printf("kept %s (server data in data/, log in server.log)\n", dir)
			} else {
				srv.kill()
				os.RemoveAll(dir)
			}
		})
	}
	defer shutdown()
	// Ctrl-C must not leave a server running or a data directory behind.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		fmt.Fprintln(os.Stderr, "\nbench: interrupted")
		shutdown()
		os.Exit(130)
	}()
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\n--- server log (tail) ---\n%s", err, srv.logTail(3000))
		}
	}()
	brokerDesc := "embedded (franz-go kfake inside the server process)"
	if !srv.embedded {
		brokerDesc = "external " + o.brokers
	}
	step("server pid %d, pg %s, broker %s", srv.pid(), srv.pgAddr, brokerDesc)

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, srv.url())
	if err != nil {
		return fmt.Errorf("connecting to the server: %w", err)
	}
	defer conn.Close(ctx)

	// On a shared cluster, a fresh topic keeps earlier runs' data out.
	topic := "clicks"
	if !srv.embedded {
		topic = fmt.Sprintf("clicks-bench-%d", time.Now().Unix())
	}
	// The watermark must trail the generator's disorder (maxSkewMs), or
	// events near a window's end arrive after it closed and are dropped as
	// late, as SEMANTICS.md prescribes for bounded queries too.
	ddl := fmt.Sprintf("CREATE STREAM clicks (user_id BIGINT, page VARCHAR, ts TIMESTAMP, referrer VARCHAR, ua VARCHAR) "+
		"WITH (kafka_topic='%s', value_format='json', timestamp='ts', partitions=%d, watermark_delay='%s')",
		topic, o.partitions, o.wmDelay)
	if _, err := conn.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("%s: %w", ddl, err)
	}

	step("producing %s events into topic %q (%d partitions) with %s", commas(float64(o.events)), topic, o.partitions, o.producer)
	g := newGenerator(o.partitions)
	prod, err := produce(o.producer, srv.brokerAddr, topic, int32(o.partitions), o.events, g)
	if err != nil {
		return fmt.Errorf("producing: %w", err)
	}
	step("produced in %s: %s events/s, %.1f MB/s of JSON, %.1f bytes per event",
		round(prod.Wall), commas(prod.EventsPerS), float64(prod.Bytes)/1e6/prod.Wall.Seconds(), float64(prod.Bytes)/float64(prod.Events))
	expected := g.expected
	closedSure, closedUncertain := closedWindows(expected, g.maxTs, o.wmDelay)
	avgBytes := float64(g.bytes) / float64(o.events)
	g = nil
	// The producer's garbage must not be collected during (a).
	runtime.GC()
	debug.FreeOSMemory()

	rep := report{
		Time: time.Now().UTC().Format(time.RFC3339), Commit: gitDescribe(root), Go: runtime.Version(),
		Cores: numCPU(), LoadAvgBefore: loadAverage(), Broker: brokerDesc, Topic: topic,
		Events: o.events, Partitions: o.partitions, AvgValueBytes: avgBytes, Runs: o.runs, Produce: prod,
	}
	if lifetime, err := procStatusKB(srv.pid(), "VmHWM"); err == nil {
		rep.ServerPeakRSSAfterProduceKB = lifetime
	}
	for i := 1; i <= o.runs; i++ {
		settle(srv.pid())
		step("run %d/%d: (a) raw sarama read", i, o.runs)
		raw, err := rawRead(srv.brokerAddr, topic, srv.pid())
		if err != nil {
			return fmt.Errorf("raw read: %w", err)
		}
		rep.Raw = append(rep.Raw, raw)
		step("       %s events/s (%s wall, %s CPU)", commas(raw.EventsPerS), round(raw.Wall), secs(raw.Self))

		settle(srv.pid())
		step("run %d/%d: (b) tumble-count query", i, o.runs)
		q, err := runQuery(ctx, conn, srv, o.events, expected, o.cpuProfile != "" && i == o.runs)
		if err != nil {
			return err
		}
		rep.Query = append(rep.Query, q)
		step("       %s events/s (%s wall, %d rows, counts match what was produced); server %s CPU (%s in the kernel, %s page faults), peak RSS %s",
			commas(q.EventsPerS), round(q.Wall), q.Rows, secs(q.Server), secs(q.ServerSys), commas(float64(q.ServerFaults)), mib(q.PeakRSSKB))
	}
	if o.sinks {
		suffix := ""
		if !srv.embedded {
			suffix = strings.TrimPrefix(topic, "clicks")
		}
		for i := 1; i <= o.runs; i++ {
			for _, mode := range sinkModes {
				settle(srv.pid())
				step("run %d/%d: sink %s: CREATE SINK bench_%s (checkpoint_interval '%s'), from the earliest offset",
					i, o.runs, mode, mode, sinkCheckpointInterval)
				sr, err := runSink(ctx, conn, srv, mode, suffix, o.events, closedSure, closedUncertain)
				if err != nil {
					return err
				}
				sr.Run = i
				rep.Sinks = append(rep.Sinks, sr)
				verdict := "output checked"
				if sr.Problem != "" {
					verdict = "OUTPUT WRONG"
				}
				step("       %s events/s (rows_in = N after %s, first checkpoint after it at %s); server %s CPU; %d records on %s, %s",
					commas(sr.EventsPerS), round(sr.Wall), round(sr.ToCheckpoint), secs(sr.Server), sr.Output.Records, sr.Topic, verdict)
			}
		}
	}
	rep.summarize()
	fmt.Println()
	rep.print(os.Stdout)
	if o.cpuProfile != "" {
		fmt.Printf("\nCPU profile of the server during the last query (run %d): %s\n", o.runs, o.cpuProfile)
		fmt.Printf("  go tool pprof -top %s\n", o.cpuProfile)
		fmt.Printf("  go tool pprof -sample_index=alloc_space -top -diff_base %s.allocs0 %s.allocs\n", o.cpuProfile, o.cpuProfile)
	}
	if o.jsonPath != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.jsonPath, append(b, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Printf("\nresults written to %s\n", o.jsonPath)
	}
	var problems []string
	for _, sr := range rep.Sinks {
		if sr.Problem != "" {
			problems = append(problems, sr.Problem)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return nil
}

// settle waits (up to 30 s) until the server has been nearly idle for a
// moment, so that work left over from the previous step (the embedded
// broker persisting what was produced, a garbage collection) is not billed
// to the next measurement.
func settle(pid int) {
	const window = 250 * time.Millisecond
	deadline := time.Now().Add(30 * time.Second)
	prev, err := procCPU(pid)
	if err != nil {
		return
	}
	for time.Now().Before(deadline) {
		time.Sleep(window)
		cur, err := procCPU(pid)
		if err != nil || cur-prev <= 2*tick {
			return
		}
		prev = cur
	}
}

func gitDescribe(root string) string {
	cmd := exec.Command("git", "rev-parse", "--short", "HEAD")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	rev := strings.TrimSpace(string(out))
	cmd = exec.Command("git", "status", "--porcelain", "--untracked-files=no")
	cmd.Dir = root
	if st, err := cmd.Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		rev += " + uncommitted changes"
	}
	return rev
}

func round(d time.Duration) time.Duration {
	switch {
	case d > 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d > time.Second:
		return d.Round(10 * time.Millisecond)
	default:
		return d.Round(time.Millisecond)
	}
}
