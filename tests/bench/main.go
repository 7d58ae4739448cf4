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
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/streamsql/streamsql/tests/nexmark"
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
	heapProfile string
	parallelism int
	wmDelay     time.Duration
	sinks       bool

	// What to run: the clickstream suite (the default), the Nexmark suite,
	// the latency mode or the memory mode.
	suite   string
	latency bool
	memory  bool

	// The clickstream's shape (gen.go).
	gen genConfig

	// Nexmark (nexmark.go).
	queries        []string
	nexmarkTimeTPS int

	// Latency mode (latency.go).
	rate     int
	duration time.Duration

	// Memory mode (memory.go).
	memoryFactor int
	// Distinct-keys memory mode (memory.go).
	memoryDistinct bool
	stateCacheSize string

	// set records the flags given on the command line.
	set map[string]bool
}

// Sizes used when -events is not given.
const (
	defaultClickEvents    = 2_000_000
	defaultNexmarkEvents  = 1_000_000
	defaultMemoryEvents   = 1_000_000
	defaultDistinctEvents = 10_000_000
)

func parseFlags() options {
	var o options
	var queries string
	var disorder time.Duration
	var nexmarkFlag bool
	flag.Int64Var(&o.events, "events", defaultClickEvents,
		fmt.Sprintf("number of events to produce and read (default %s for -suite nexmark, %s (and 10x) for -memory)",
			commas(defaultNexmarkEvents), commas(defaultMemoryEvents)))
	flag.IntVar(&o.partitions, "partitions", 4, "partitions of the topic")
	flag.StringVar(&o.brokers, "brokers", "",
		"Kafka bootstrap broker host:port to run against (passed to the server as --brokers); empty uses the server's embedded broker")
	flag.IntVar(&o.runs, "runs", 1, "how many times to repeat (a) and (b) on the same data; the table shows the median, and the best when runs > 1")
	flag.StringVar(&o.jsonPath, "json", "", "also write the results as JSON to this file")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (server data, log, binary) and shut the server down cleanly")
	flag.StringVar(&o.producer, "producer", "kgo", "client that fills the topic: kgo (franz-go) or sarama (AsyncProducer)")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "",
		"write a CPU profile of the server during the last query run to this file (-suite nexmark: one per bounded query, FILE.q0 ...); builds the server with a profiling hook through go build -overlay")
	flag.StringVar(&o.heapProfile, "heapprofile", "",
		"write the server's heap profile at its largest live heap to this file (-memory: one per run, FILE.run1 and FILE.run2); builds the server with the profiling hook")
	flag.IntVar(&o.parallelism, "parallelism", 0, "passed to the server as --parallelism when > 0 (server default: min(partitions, cores))")
	flag.DurationVar(&o.wmDelay, "watermark-delay", time.Second,
		"the clicks stream's watermark_delay; events are up to -disorder out of order, so below that some are late and dropped (SEMANTICS.md) and the result check fails (-latency: default 0)")
	flag.BoolVar(&o.sinks, "sinks", true,
		"after the query runs, also measure the query as a continuous sink (CREATE SINK), at_least_once then exactly_once (-suite nexmark: exactly_once)")

	flag.StringVar(&o.suite, "suite", "clickstream", "clickstream, or nexmark: the Nexmark queries as bounded queries and exactly-once sinks (nexmark.go)")
	flag.BoolVar(&nexmarkFlag, "nexmark", false, "the same as -suite nexmark")
	flag.BoolVar(&o.latency, "latency", false,
		"latency mode: an at-least-once 1-second tumble sink while clicks are produced at -rate for -duration; reports window-close-to-readable percentiles")
	flag.BoolVar(&o.memory, "memory", false,
		"memory mode: the clickstream bounded query at -events and -memory-factor times as many, each on a fresh server; reports both peak RSS")

	flag.IntVar(&o.gen.Pages, "keys", defaultPages, "clickstream: number of pages (the query's group key)")
	flag.IntVar(&o.gen.Users, "users", defaultUsers, "clickstream: number of users (uniform)")
	flag.Float64Var(&o.gen.Skew, "skew", defaultSkew, "clickstream: Zipf exponent s of the pages (must be > 1), or 0 for uniform")
	flag.DurationVar(&disorder, "disorder", defaultDisorder, "clickstream: the most an event's time is set back (max out-of-orderness; ms resolution)")

	flag.StringVar(&queries, "queries", strings.Join(nexmark.Queries, ","), "-suite nexmark: the queries to run, comma-separated")
	flag.IntVar(&o.nexmarkTimeTPS, "nexmark-time-rate", 10_000,
		"-suite nexmark: events per second of event time (the reference generator's default first-event rate)")

	flag.IntVar(&o.rate, "rate", 100_000, "-latency: events per second to produce")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "-latency: how long to produce")

	flag.IntVar(&o.memoryFactor, "memory-factor", 10, "-memory: the second run has this many times -events")
	flag.BoolVar(&o.memoryDistinct, "memory-distinct", false,
		"distinct-keys memory mode: a bounded SELECT user_id, COUNT(*) ... GROUP BY user_id over -events clicks (default 10,000,000) by -users users (default: -events, all distinct); reports the server's peak RSS against 1 GiB")
	flag.StringVar(&o.stateCacheSize, "state-cache-size", "",
		"-memory-distinct: passed to the server as --state-cache-size (e.g. 0 for no budget); empty: the server's default")
	flag.Parse()

	for _, p := range []*string{&o.cpuProfile, &o.heapProfile} {
		if *p != "" {
			abs, err := filepath.Abs(*p)
			if err != nil {
				fmt.Fprintf(os.Stderr, "bench: %v\n", err)
				os.Exit(2)
			}
			*p = abs
		}
	}
	o.set = map[string]bool{}
	flag.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	o.gen.DisorderMs = disorder.Milliseconds()
	o.gen.WindowMs = windowMs
	if nexmarkFlag {
		o.suite = "nexmark"
	}
	for _, q := range strings.Split(queries, ",") {
		if q = strings.TrimSpace(strings.ToLower(q)); q != "" {
			o.queries = append(o.queries, q)
		}
	}
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
		os.Exit(2)
	}
	modes := 0
	for _, on := range []bool{o.suite == "nexmark", o.latency, o.memory, o.memoryDistinct} {
		if on {
			modes++
		}
	}
	switch {
	case flag.NArg() > 0:
		fail("unexpected arguments %q (flags go in BENCHFLAGS: make bench BENCHFLAGS='-events 200000')", flag.Args())
	case o.suite != "clickstream" && o.suite != "nexmark":
		fail("-suite must be clickstream or nexmark, got %q", o.suite)
	case modes > 1:
		fail("-suite nexmark, -latency, -memory and -memory-distinct are separate modes: give one")
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
	case o.gen.Pages < 1:
		fail("-keys must be at least 1, got %d", o.gen.Pages)
	case o.gen.Users < 1:
		fail("-users must be at least 1, got %d", o.gen.Users)
	case o.gen.Skew != 0 && !(o.gen.Skew > 1):
		fail("-skew must be 0 (uniform) or a Zipf exponent above 1, got %g", o.gen.Skew)
	case disorder < 0:
		fail("-disorder must not be negative, got %s", disorder)
	case o.rate < 1:
		fail("-rate must be at least 1, got %d", o.rate)
	case o.duration < 2*time.Second:
		fail("-duration must be at least 2s, got %s", o.duration)
	case o.memoryFactor < 2:
		fail("-memory-factor must be at least 2, got %d", o.memoryFactor)
	case o.nexmarkTimeTPS < 1:
		fail("-nexmark-time-rate must be at least 1, got %d", o.nexmarkTimeTPS)
	}
	if o.suite == "nexmark" {
		for _, q := range o.queries {
			if !slices.Contains(nexmark.Queries, q) {
				fail("-queries: %q is not one of %s", q, strings.Join(nexmark.Queries, ","))
			}
		}
		if len(o.queries) == 0 {
			fail("-queries: no query given")
		}
	}
	if !o.set["events"] {
		switch {
		case o.suite == "nexmark":
			o.events = defaultNexmarkEvents
		case o.memory:
			o.events = defaultMemoryEvents
		case o.memoryDistinct:
			o.events = defaultDistinctEvents
		}
	}
	if o.memoryDistinct && !o.set["users"] {
		o.gen.Users = int(o.events)
	}
	if o.latency && !o.set["watermark-delay"] {
		o.wmDelay = 0
	}
	return o
}

func main() {
	o := parseFlags()
	var err error
	switch {
	case o.suite == "nexmark":
		err = runNexmark(o)
	case o.latency:
		err = runLatency(o)
	case o.memory:
		err = runMemory(o)
	case o.memoryDistinct:
		err = runMemoryDistinct(o)
	default:
		err = run(o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "\nbench: FAILED:", err)
		os.Exit(1)
	}
}

// step prints what the bench is about to do. Nothing is printed while a
// measurement runs.
func step(format string, args ...any) {
	fmt.Printf("%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// harness is what every mode shares: the repository, a temporary directory
// holding the server binary, and the servers started in it, which are
// stopped (and the directory removed, without -keep) on return or Ctrl-C.
type harness struct {
	o        options
	root     string
	dir      string
	bin      string
	mu       sync.Mutex
	servers  []*server
	stopped  map[*server]bool
	closeOne sync.Once
}

// newHarness builds the server into a fresh temporary directory.
func newHarness(o options) (*harness, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "streamsql-bench-")
	if err != nil {
		return nil, err
	}
	h := &harness{o: o, root: root, dir: dir, stopped: map[*server]bool{}}
	step("building ./cmd/streamsql")
	if h.bin, err = buildServer(root, dir, o.cpuProfile != "" || o.heapProfile != "" || o.suite == "nexmark"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// Ctrl-C must not leave a server running or a data directory behind.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		fmt.Fprintln(os.Stderr, "\nbench: interrupted")
		h.close()
		os.Exit(130)
	}()
	return h, nil
}

// start starts a server whose data and log go to the subdirectory sub of
// the harness's directory ("" for the directory itself).
func (h *harness) start(sub string) (*server, error) {
	dir := h.dir
	if sub != "" {
		dir = filepath.Join(h.dir, sub)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	heap := h.o.heapProfile
	if heap != "" && sub != "" {
		heap += "." + sub
	}
	srv, err := startServer(h.bin, dir, h.o.brokers, h.o.parallelism,
		serverHooks{cpuProfile: h.o.cpuProfile, heapProfile: heap, freeMem: h.o.suite == "nexmark"})
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.servers = append(h.servers, srv)
	h.mu.Unlock()
	return srv, nil
}

// stop ends one server: cleanly with -keep (so its data directory can be
// reopened), else with SIGKILL.
func (h *harness) stop(srv *server) {
	h.mu.Lock()
	done := h.stopped[srv]
	h.stopped[srv] = true
	h.mu.Unlock()
	if done {
		return
	}
	if h.o.keep {
		srv.stop()
	} else {
		srv.kill()
	}
}

// close stops every server and removes the directory (without -keep).
func (h *harness) close() {
	h.closeOne.Do(func() {
		h.mu.Lock()
		servers := slices.Clone(h.servers)
		h.mu.Unlock()
		for _, s := range servers {
			h.stop(s)
		}
		if h.o.keep {
			fmt.Printf("kept %s (server data in data/, log in server.log)\n", h.dir)
		} else {
			os.RemoveAll(h.dir)
		}
	})
}

// topicName is name on the embedded broker; on a shared cluster a fresh
// name keeps earlier runs' data out.
func topicName(name string, srv *server, suffix string) string {
	if srv.embedded {
		return name
	}
	return name + suffix
}

// brokerDesc describes where the data lives.
// startMain starts a mode's server and announces it; it returns the server
// and a description of its broker.
func (h *harness) startMain(o options) (*server, string, error) {
	srv, err := h.start("")
	if err != nil {
		return nil, "", err
	}
	bd := brokerDesc(srv, o.brokers)
	step("server pid %d, pg %s, broker %s", srv.pid(), srv.pgAddr, bd)
	return srv, bd, nil
}

// addLogTail appends the server's log tail to *err when a mode failed.
func (s *server) addLogTail(err *error) {
	if *err != nil {
		*err = fmt.Errorf("%w\n--- server log (tail) ---\n%s", *err, s.logTail(3000))
	}
}

func brokerDesc(srv *server, brokers string) string {
	if srv.embedded {
		return "embedded (franz-go kfake inside the server process)"
	}
	return "external " + brokers
}

// writeJSON writes v to path (the -json flag).
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("\nresults written to %s\n", path)
	return nil
}

// machine describes the run; every mode's JSON starts with it.
type machine struct {
	Time          string `json:"time"`
	Commit        string `json:"commit"`
	Go            string `json:"go"`
	Cores         int    `json:"cores"`
	LoadAvgBefore string `json:"load_avg_before"`
	Broker        string `json:"broker"`
}

func describeMachine(root, broker string) machine {
	return machine{Time: time.Now().UTC().Format(time.RFC3339), Commit: gitDescribe(root), Go: runtime.Version(),
		Cores: numCPU(), LoadAvgBefore: loadAverage(), Broker: broker}
}

// run is the clickstream suite, `make bench` without a mode flag.
func run(o options) (err error) {
	h, err := newHarness(o)
	if err != nil {
		return err
	}
	defer h.close()
	srv, brokerDesc, err := h.startMain(o)
	if err != nil {
		return err
	}
	root := h.root
	defer srv.addLogTail(&err)

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, srv.url())
	if err != nil {
		return fmt.Errorf("connecting to the server: %w", err)
	}
	defer conn.Close(ctx)

	// On a shared cluster, a fresh topic keeps earlier runs' data out.
	topic := topicName("clicks", srv, fmt.Sprintf("-bench-%d", time.Now().Unix()))
	// The watermark must trail the generator's disorder, or events near a
	// window's end arrive after it closed and are dropped as late, as
	// SEMANTICS.md prescribes for bounded queries too.
	if o.gen.DisorderMs > o.wmDelay.Milliseconds() {
		step("NOTE: -disorder %dms exceeds -watermark-delay %s: events will be late and dropped, and the result check will fail",
			o.gen.DisorderMs, o.wmDelay)
	}
	ddl := clicksDDL(topic, o.partitions, o.wmDelay, "")
	if _, err := conn.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("%s: %w", ddl, err)
	}

	step("producing %s events into topic %q (%d partitions) with %s; %s", commas(float64(o.events)), topic, o.partitions, o.producer, o.gen)
	g := newGenerator(o.gen, o.partitions)
	prod, err := produce(o.producer, srv.brokerAddr, topic, int32(o.partitions), o.events, g, produceBatchBytes)
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

	m := describeMachine(root, brokerDesc)
	rep := report{
		Time: m.Time, Commit: m.Commit, Go: m.Go,
		Cores: m.Cores, LoadAvgBefore: m.LoadAvgBefore, Broker: brokerDesc, Topic: topic,
		Events: o.events, Partitions: o.partitions, Generator: o.gen, AvgValueBytes: avgBytes, Runs: o.runs, Produce: prod,
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
		if err := writeJSON(o.jsonPath, rep); err != nil {
			return err
		}
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

// clicksDDL creates the clicks stream over topic; extra adds options.
func clicksDDL(topic string, partitions int, wmDelay time.Duration, extra string) string {
	return fmt.Sprintf("CREATE STREAM clicks (user_id BIGINT, page VARCHAR, ts TIMESTAMP, referrer VARCHAR, ua VARCHAR) "+
		"WITH (kafka_topic='%s', value_format='json', timestamp='ts', partitions=%d, watermark_delay='%s'%s)",
		topic, partitions, wmDelay, extra)
}
