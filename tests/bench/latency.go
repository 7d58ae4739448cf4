package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"
)

// -latency: an at-least-once sink counting clicks per page in 1-second
// tumbling windows runs while the bench produces clicks at a fixed rate,
// with event time = the wall time at production, so the watermark follows
// the wall clock. For each window the bench knows when the watermark
// passed its end (approximately: when every partition had been sent an
// event with ts >= end + watermark_delay and the broker acknowledged it;
// round-robin production makes that the moment the last partition got
// one) and when its results became readable (a read_committed sarama
// consumer on the sink's topic records the arrival of each record; a
// window is readable when the last of its (page, window) groups arrived).
// It reports the percentiles of the difference.

const (
	latencyWindowMs = 1000
	// latencyIdleTimeout keeps partitions from being declared idle (which
	// would move the watermark by another rule).
	latencyIdleTimeout = time.Hour
	// latencyGrace is how long the consumer keeps reading after the last
	// event was produced.
	latencyGrace  = 5 * time.Second
	latencyTarget = 50 * time.Millisecond
)

// latencyWindow is one window's timeline, in ms since the first event
// was produced (Unix ms in the JSON's *_unix_ms fields).
type latencyWindow struct {
	Start int64 `json:"window_start_unix_ms"`
	// ClosedGen is when the last partition was handed its first event
	// with ts >= end + delay; ClosedAck when the broker acknowledged it.
	ClosedGenUnixMs float64 `json:"closed_generated_unix_ms"`
	ClosedAckUnixMs float64 `json:"closed_acked_unix_ms"`
	// Readable is when the last of the window's groups arrived at the
	// consumer (0: some group never arrived).
	ReadableUnixMs float64 `json:"readable_unix_ms,omitempty"`
	Groups         int     `json:"groups"`
	Arrived        int     `json:"groups_arrived"`
	LatencyAckMs   float64 `json:"latency_from_ack_ms"`
	LatencyGenMs   float64 `json:"latency_from_generation_ms"`
	WrongCounts    int     `json:"wrong_counts,omitempty"`
}

type percentiles struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50_ms"`
	P95  float64 `json:"p95_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

func percentilesOf(v []float64) percentiles {
	if len(v) == 0 {
		return percentiles{}
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	// Nearest rank: the smallest value with at least p% of the values at
	// or below it.
	rank := func(p float64) float64 {
		i := int(math.Ceil(p/100*float64(len(s)))) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	var sum float64
	for _, x := range s {
		sum += x
	}
	return percentiles{N: len(s), P50: rank(50), P95: rank(95), P99: rank(99), Max: s[len(s)-1], Mean: sum / float64(len(s))}
}

type latencyReport struct {
	machine
	Mode             string        `json:"mode"`
	Topic            string        `json:"topic"`
	OutputTopic      string        `json:"output_topic"`
	Partitions       int           `json:"partitions"`
	Generator        genConfig     `json:"generator"`
	Sink             string        `json:"sink_ddl"`
	WatermarkDelayMs int64         `json:"watermark_delay_ms"`
	TargetRate       int           `json:"target_events_per_s"`
	Duration         time.Duration `json:"duration_ns"`
	Produced         int64         `json:"produced"`
	ProduceWall      time.Duration `json:"produce_wall_ns"`
	AchievedRate     float64       `json:"achieved_events_per_s"`
	// MaxPacingLagMs is how far production fell behind its schedule at
	// worst.
	MaxPacingLagMs float64 `json:"max_pacing_lag_ms"`
	// FromAck is the headline: closed = the broker's acknowledgement of
	// the closing event on the last partition. FromGen counts from when
	// that event was created (producer batching and the broker's ack
	// included).
	FromAck percentiles `json:"latency_from_ack"`
	FromGen percentiles `json:"latency_from_generation"`
	// Windows: every window whose end every partition passed; Missing are
	// those with a group that never arrived within latencyGrace.
	Windows      []latencyWindow `json:"windows"`
	Missing      int             `json:"missing_windows"`
	WrongCounts  int             `json:"groups_with_wrong_counts"`
	Duplicates   int64           `json:"duplicate_records"`
	OutputRecs   int64           `json:"output_records"`
	ServerCPU    time.Duration   `json:"server_cpu_ns"`
	ServerCores  float64         `json:"server_cores"`
	OthersCores  float64         `json:"others_cores"`
	PeakRSSKB    int64           `json:"peak_rss_kb"`
	RowsIn       int64           `json:"rows_in"`
	RowsOut      int64           `json:"rows_out"`
	LateEvents   int64           `json:"late_events"`
	DecodeErrors int64           `json:"decode_errors"`
	SinkState    string          `json:"sink_state"`
	MetTarget    bool            `json:"p99_under_50ms"`
}

// arrival is what the output consumer saw of one (page, window) group.
type arrival struct {
	first  time.Time
	count  int64 // clicks in the first record
	copies int
}

func runLatency(o options) (err error) {
	h, err := newHarness(o)
	if err != nil {
		return err
	}
	defer h.close()
	srv, bd, err := h.startMain(o)
	if err != nil {
		return err
	}
	defer srv.addLogTail(&err)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, srv.url())
	if err != nil {
		return fmt.Errorf("connecting to the server: %w", err)
	}
	defer conn.Close(ctx)

	suffix := fmt.Sprintf("-bench-%d", time.Now().Unix())
	topic := topicName("clicks", srv, suffix)
	outTopic := topicName("bench_latency", srv, suffix)
	gcfg := o.gen
	gcfg.WindowMs = latencyWindowMs
	gcfg.DisorderMs = 0 // event time is the wall time at production
	rep := latencyReport{
		machine: describeMachine(h.root, bd), Mode: "latency", Topic: topic, OutputTopic: outTopic,
		Partitions: o.partitions, Generator: gcfg, WatermarkDelayMs: o.wmDelay.Milliseconds(),
		TargetRate: o.rate, Duration: o.duration,
	}
	ddl := clicksDDL(topic, o.partitions, o.wmDelay, fmt.Sprintf(", idle_timeout='%s'", latencyIdleTimeout))
	if _, err := conn.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("%s: %w", ddl, err)
	}
	const sinkName = "bench_latency"
	rep.Sink = fmt.Sprintf("CREATE SINK %s WITH (kafka_topic = '%s', delivery = 'at_least_once', checkpoint_interval = '1s') AS "+
		"SELECT page, TUMBLE_START(ts, INTERVAL '1' SECOND) AS window_start, COUNT(*) AS clicks "+
		"FROM clicks GROUP BY page, TUMBLE(ts, INTERVAL '1' SECOND)", sinkName, outTopic)
	step("%s", rep.Sink)
	if _, err := conn.Exec(ctx, rep.Sink, pgx.QueryExecModeSimpleProtocol); err != nil {
		return fmt.Errorf("%s: %w", rep.Sink, err)
	}
	defer func() {
		_, _ = conn.Exec(context.Background(), "DROP SINK IF EXISTS "+sinkName, pgx.QueryExecModeSimpleProtocol)
	}()
	if err := waitSinkRunning(ctx, conn, sinkName); err != nil {
		return err
	}

	// The consumer first, so that it is reading before the first result.
	cons, err := startOutputConsumer(srv.brokerAddr, outTopic)
	if err != nil {
		return fmt.Errorf("consuming %s: %w", outTopic, err)
	}
	defer cons.close()

	settle(srv.pid())
	step("producing %s clicks/s for %s into %q (%d partitions), event time = wall time; %s",
		commas(float64(o.rate)), o.duration, topic, o.partitions, gcfg)
	resetPeakRSS(srv.pid())
	before, err := sampleCPU(srv.pid())
	if err != nil {
		return err
	}
	g := newGenerator(gcfg, o.partitions)
	pr, err := producePaced(srv.brokerAddr, topic, o.partitions, o.rate, o.duration, g, o.wmDelay.Milliseconds())
	if err != nil {
		return fmt.Errorf("producing: %w", err)
	}
	after, err := sampleCPU(srv.pid())
	if err != nil {
		return err
	}
	rep.Produced, rep.ProduceWall, rep.MaxPacingLagMs = pr.sent, pr.wall, float64(pr.maxLag)/float64(time.Millisecond)
	rep.AchievedRate = float64(pr.sent) / pr.wall.Seconds()
	use := cpuBetween(before, after)
	rep.ServerCPU, rep.ServerCores, rep.OthersCores = use.Server, use.Server.Seconds()/use.Wall.Seconds(), use.othersCores()
	step("produced %s events in %s: %s events/s (target %s), pacing lag at most %.1f ms; waiting %s for the last results",
		commas(float64(pr.sent)), round(pr.wall), commas(rep.AchievedRate), commas(float64(o.rate)), rep.MaxPacingLagMs, latencyGrace)
	time.Sleep(latencyGrace)
	rep.PeakRSSKB, _ = procStatusKB(srv.pid(), "VmHWM")
	arrivals, recs, dups, cerr := cons.stop()
	if cerr != nil {
		return fmt.Errorf("consuming %s: %w", outTopic, cerr)
	}
	rep.OutputRecs, rep.Duplicates = recs, dups
	if st, ok, err := showSink(ctx, conn, sinkName); err == nil && ok {
		rep.RowsIn, rep.RowsOut, rep.LateEvents, rep.DecodeErrors, rep.SinkState = st.rowsIn, st.rowsOut, st.lateEvents, st.decodeErrors, st.state
	}

	// Per window: the groups produced, when it closed, when it was readable.
	groups := map[int64][]windowKey{}
	for k := range g.expected {
		groups[k.window] = append(groups[k.window], k)
	}
	var fromAck, fromGen []float64
	for _, c := range pr.closed() {
		w := latencyWindow{Start: c.start, ClosedGenUnixMs: unixMs(c.gen), ClosedAckUnixMs: unixMs(c.ack), Groups: len(groups[c.start])}
		var readable time.Time
		for _, k := range groups[c.start] {
			a, ok := arrivals[k]
			if !ok {
				continue
			}
			w.Arrived++
			if a.count != g.expected[k] {
				w.WrongCounts++
			}
			if a.first.After(readable) {
				readable = a.first
			}
		}
		rep.WrongCounts += w.WrongCounts
		if w.Arrived < w.Groups || w.Groups == 0 {
			rep.Missing++
			rep.Windows = append(rep.Windows, w)
			continue
		}
		w.ReadableUnixMs = unixMs(readable)
		w.LatencyAckMs = float64(readable.Sub(c.ack)) / float64(time.Millisecond)
		w.LatencyGenMs = float64(readable.Sub(c.gen)) / float64(time.Millisecond)
		fromAck = append(fromAck, w.LatencyAckMs)
		fromGen = append(fromGen, w.LatencyGenMs)
		rep.Windows = append(rep.Windows, w)
	}
	rep.FromAck, rep.FromGen = percentilesOf(fromAck), percentilesOf(fromGen)
	rep.MetTarget = rep.FromAck.N > 0 && rep.FromAck.P99 < float64(latencyTarget/time.Millisecond) && rep.Missing == 0

	fmt.Println()
	rep.print(os.Stdout)
	if o.jsonPath != "" {
		if err := writeJSON(o.jsonPath, rep); err != nil {
			return err
		}
	}
	if rep.FromAck.N == 0 {
		return fmt.Errorf("no window's result was read back from %s", outTopic)
	}
	return nil
}

func unixMs(t time.Time) float64 { return float64(t.UnixMicro()) / 1000 }

func (r *latencyReport) print(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("StreamSQL latency benchmark: at-least-once sink, 1-second tumbling windows, event time = wall time")
	p("  data     %d partitions, topic %q; %s", r.Partitions, r.Topic, r.Generator)
	p("  broker   %s", r.Broker)
	p("  machine  %d cores, load average %s before the run; %s; commit %s", r.Cores, r.LoadAvgBefore, r.Go, r.Commit)
	p("  sink     %s", r.Sink)
	p("           stream watermark_delay %d ms, idle_timeout %s", r.WatermarkDelayMs, latencyIdleTimeout)
	p("")
	p("  produced %s events in %s: %s events/s (target %s); production fell behind its schedule by at most %.1f ms",
		commas(float64(r.Produced)), round(r.ProduceWall), commas(r.AchievedRate), commas(float64(r.TargetRate)), r.MaxPacingLagMs)
	p("  server   %s CPU over the production (%.2f cores), peak RSS %s; others kept %.1f cores busy",
		secs(r.ServerCPU), r.ServerCores, mib(r.PeakRSSKB), r.OthersCores)
	p("")
	p("  window closed -> result readable, per window (%d windows measured, %d missing)", r.FromAck.N, r.Missing)
	p("  %-46s %8s %8s %8s %8s %8s", "", "p50", "p95", "p99", "max", "mean")
	row := func(name string, x percentiles) {
		p("  %-46s %6.1fms %6.1fms %6.1fms %6.1fms %6.1fms", name, x.P50, x.P95, x.P99, x.Max, x.Mean)
	}
	row("from the broker's ack of the closing event", r.FromAck)
	row("from the closing event's creation", r.FromGen)
	p("")
	verdict := "met"
	if !r.MetTarget {
		verdict = "NOT met"
	}
	p("  target p99 < %s at %s events/s (from the ack): %s", latencyTarget, commas(float64(r.TargetRate)), verdict)
	p("  closed: when the last partition got its first event with ts >= window end + watermark_delay (round-robin, so")
	p("  every partition has one then). readable: when the last of the window's (page, window) groups reached a")
	p("  read_committed sarama consumer of %q. With %d windows, p99 is the %s largest.", r.OutputTopic, r.FromAck.N, ordinal(r.FromAck.N))
	p("  output: %s records, %d duplicates, %d groups with a wrong count; SHOW SINKS: rows_in %s, rows_out %s, late %d, decode errors %d, state %s",
		commas(float64(r.OutputRecs)), r.Duplicates, r.WrongCounts, commas(float64(r.RowsIn)), commas(float64(r.RowsOut)),
		r.LateEvents, r.DecodeErrors, r.SinkState)
	if r.Produced > 0 && r.AchievedRate < 0.98*float64(r.TargetRate) {
		p("  NOTE: production reached only %.0f%% of -rate: the figures are for the achieved rate.", 100*r.AchievedRate/float64(r.TargetRate))
	}
	if r.OthersCores >= 0.15 {
		p("  NOTE: other processes kept about %.1f of the %d cores busy: latency is higher than on an idle machine.", r.OthersCores, r.Cores)
	}
	if r.Missing > 0 {
		p("  NOTE: %d closed window(s) had groups that never arrived within %s after the last event.", r.Missing, latencyGrace)
	}
}

// ordinal names which value nearest-rank p99 picks out of n: the largest
// below 100 values.
func ordinal(n int) string {
	k := n - int(math.Ceil(0.99*float64(n))) + 1
	switch k {
	case 1:
		return "1st"
	case 2:
		return "2nd"
	case 3:
		return "3rd"
	}
	return fmt.Sprintf("%dth", k)
}

// waitSinkRunning polls SHOW SINKS until the sink is running (30 s).
func waitSinkRunning(ctx context.Context, conn *pgx.Conn, name string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, ok, err := showSink(ctx, conn, name)
		if err != nil {
			return err
		}
		if ok && st.state == "running" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sink %s is not running after 30s (state %q %s)", name, st.state, st.reason)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// closeMark is one window's end passing one partition.
type closeMark struct {
	gen time.Time
	ack time.Time
}

type pacedResult struct {
	sent   int64
	wall   time.Duration
	maxLag time.Duration
	// marks[partition][window start] is when the partition got its first
	// event at or past the window's end + delay.
	mu    sync.Mutex
	marks []map[int64]*closeMark
}

type windowClose struct {
	start    int64
	gen, ack time.Time
}

// closed returns the windows every partition passed, in order, with the
// latest partition's times.
func (r *pacedResult) closed() []windowClose {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []windowClose
	for start, m0 := range r.marks[0] {
		c := windowClose{start: start, gen: m0.gen, ack: m0.ack}
		ok := !m0.ack.IsZero()
		for _, pm := range r.marks[1:] {
			m, found := pm[start]
			if !found || m.ack.IsZero() {
				ok = false
				break
			}
			if m.gen.After(c.gen) {
				c.gen = m.gen
			}
			if m.ack.After(c.ack) {
				c.ack = m.ack
			}
		}
		if ok {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	return out
}

// producePaced produces rate events per second for d, round-robin over the
// partitions, each with event time = the wall time when it is created, and
// notes for every partition when it got its first event at or past each
// window's end + delayMs (and when the broker acknowledged that event).
func producePaced(broker, topic string, partitions, rate int, d time.Duration, g *generator, delayMs int64) (*pacedResult, error) {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(broker),
		kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.Lz4Compression()),
		kgo.ProducerLinger(0),
		kgo.MaxProduceRequestsInflightPerBroker(produceInFlight),
		kgo.DisableIdempotentWrite(),
		kgo.RequiredAcks(kgo.LeaderAck()),
	)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	r := &pacedResult{marks: make([]map[int64]*closeMark, partitions)}
	for i := range r.marks {
		r.marks[i] = map[int64]*closeMark{}
	}
	var (
		failed   atomic.Int64
		firstErr atomic.Value
	)
	plain := func(_ *kgo.Record, err error) {
		if err != nil && failed.Add(1) == 1 {
			firstErr.Store(err)
		}
	}
	// nextEnd[p] is the end of the first window p has not passed yet.
	nextEnd := make([]int64, partitions)
	for i := range nextEnd {
		nextEnd[i] = math.MinInt64
	}
	ctx := context.Background()
	var a arena
	start := time.Now()
	for {
		now := time.Now()
		el := now.Sub(start)
		if el >= d {
			break
		}
		due := int64(el.Seconds() * float64(rate))
		if lag := el - time.Duration(float64(r.sent)/float64(rate)*float64(time.Second)); lag > r.maxLag {
			r.maxLag = lag
		}
		ts := now.UnixMilli()
		for ; r.sent < due; r.sent++ {
			p := int(r.sent % int64(partitions))
			v := a.add(func(buf []byte) []byte { return g.nextAt(buf, ts) })
			rec := &kgo.Record{Partition: int32(p), Value: v}
			if nextEnd[p] == math.MinInt64 {
				nextEnd[p] = ts - ts%latencyWindowMs + latencyWindowMs
			}
			if ts < nextEnd[p]+delayMs {
				cl.Produce(ctx, rec, plain)
				continue
			}
			// This event passes the end of every window from nextEnd[p]
			// up to the one holding ts - delay.
			var marks []*closeMark
			r.mu.Lock()
			for end := nextEnd[p]; end+delayMs <= ts; end += latencyWindowMs {
				m := &closeMark{gen: now}
				r.marks[p][end-latencyWindowMs] = m
				marks = append(marks, m)
				nextEnd[p] = end + latencyWindowMs
			}
			r.mu.Unlock()
			cl.Produce(ctx, rec, func(rec *kgo.Record, err error) {
				at := time.Now()
				plain(rec, err)
				r.mu.Lock()
				for _, m := range marks {
					m.ack = at
				}
				r.mu.Unlock()
			})
		}
		time.Sleep(500 * time.Microsecond)
	}
	r.wall = time.Since(start)
	if err := cl.Flush(ctx); err != nil {
		return r, err
	}
	if f := failed.Load(); f > 0 {
		return r, fmt.Errorf("kgo: %d of %d records failed, first: %v", f, r.sent, firstErr.Load())
	}
	return r, nil
}

// outputConsumer reads the sink's topic (read_committed) and notes when
// each (page, window) group first arrived.
type outputConsumer struct {
	client   sarama.Client
	consumer sarama.Consumer
	pcs      []sarama.PartitionConsumer
	wg       sync.WaitGroup
	mu       sync.Mutex
	arrivals map[windowKey]*arrival
	records  int64
	dups     int64
	err      error
	done     chan struct{}
}

func startOutputConsumer(broker, topic string) (*outputConsumer, error) {
	conf := sarama.NewConfig()
	conf.Version = sarama.V4_1_0_0
	conf.Consumer.IsolationLevel = sarama.ReadCommitted
	conf.Consumer.Return.Errors = true
	// A fetch returns as soon as one byte is there (Fetch.Min 1); the wait
	// only bounds an empty long poll.
	conf.Consumer.MaxWaitTime = 100 * time.Millisecond
	client, err := sarama.NewClient([]string{broker}, conf)
	if err != nil {
		return nil, err
	}
	c := &outputConsumer{client: client, arrivals: map[windowKey]*arrival{}, done: make(chan struct{})}
	var parts []int32
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_ = client.RefreshMetadata(topic)
		if parts, err = client.Partitions(topic); err == nil && len(parts) > 0 {
			break
		}
		if time.Now().After(deadline) {
			client.Close()
			return nil, fmt.Errorf("topic %s did not appear: %v", topic, err)
		}
	}
	if c.consumer, err = sarama.NewConsumerFromClient(client); err != nil {
		client.Close()
		return nil, err
	}
	for _, p := range parts {
		pc, err := c.consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			c.close()
			return nil, err
		}
		c.pcs = append(c.pcs, pc)
		c.wg.Add(1)
		go c.read(pc)
	}
	return c, nil
}

func (c *outputConsumer) read(pc sarama.PartitionConsumer) {
	defer c.wg.Done()
	for {
		select {
		case m := <-pc.Messages():
			at := time.Now()
			var v struct {
				Page        string `json:"page"`
				WindowStart string `json:"window_start"`
				Clicks      int64  `json:"clicks"`
			}
			c.mu.Lock()
			c.records++
			if err := json.Unmarshal(m.Value, &v); err != nil {
				c.err = fmt.Errorf("undecodable record %q: %v", m.Value, err)
				c.mu.Unlock()
				continue
			}
			ws, err := time.Parse(time.RFC3339, v.WindowStart)
			if err != nil {
				c.err = fmt.Errorf("record %s: bad window_start: %v", m.Value, err)
				c.mu.Unlock()
				continue
			}
			k := windowKey{v.Page, ws.UnixMilli()}
			if a, ok := c.arrivals[k]; ok {
				a.copies++
				c.dups++
			} else {
				c.arrivals[k] = &arrival{first: at, count: v.Clicks, copies: 1}
			}
			c.mu.Unlock()
		case e := <-pc.Errors():
			c.mu.Lock()
			c.err = e
			c.mu.Unlock()
		case <-c.done:
			return
		}
	}
}

// stop ends the reading and returns what arrived.
func (c *outputConsumer) stop() (map[windowKey]*arrival, int64, int64, error) {
	close(c.done)
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.arrivals, c.records, c.dups, c.err
}

func (c *outputConsumer) close() {
	for _, pc := range c.pcs {
		pc.AsyncClose()
	}
	if c.consumer != nil {
		c.consumer.Close()
	}
	c.client.Close()
}
