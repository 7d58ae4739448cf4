package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/streamsql/streamsql/tests/nexmark"
)

// -suite nexmark: N Nexmark events (tests/nexmark's generator, the JSON
// shape of the suite's ddl_kafka.sql) in a topic, the stream and the
// person/auction/bid views created as tests/e2e/nexmark_test.go creates
// them, the raw read, and then each query as a bounded SELECT and as an
// exactly-once sink. Events/CPU-s count every Nexmark event in the topic
// (persons and auctions too), as Flink's per-core figures do.

// flinkPerCore is Flink's published Nexmark V2 throughput per core
// (events/s per core); q15 has none.
var flinkPerCore = map[string]float64{
	"q0": 378_000, "q1": 395_000, "q2": 414_000, "q12": 194_000,
	"q14": 259_000, "q17": 161_000, "q21": 147_000, "q22": 211_000,
}

// flinkTarget is the target: this many times Flink's per-core figure.
const flinkTarget = 3.0

// nexmarkBase is the event time of the first event.
var nexmarkBase = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC).UnixMilli()

// nexmarkSource generates the events for the producer and tallies how many
// rows each bounded query must return.
type nexmarkSource struct {
	g                        *nexmark.Generator
	persons, auctions, bids  int64
	q2, q14, q21             int64
	q12, q17                 map[[2]int64]struct{}
	q15                      map[int64]struct{}
	personB, auctionB, bidsB int64
}

func newNexmarkSource(tps int) *nexmarkSource {
	return &nexmarkSource{
		g: nexmark.NewGenerator(nexmark.Config{Seed: seed, EventTime: func(i int64) int64 {
			return nexmarkBase + i*1000/int64(tps)
		}}),
		q12: map[[2]int64]struct{}{}, q17: map[[2]int64]struct{}{}, q15: map[int64]struct{}{},
	}
}

func (s *nexmarkSource) next(buf []byte) []byte {
	e := s.g.Next()
	v := e.JSON()
	switch e.Type {
	case nexmark.Person:
		s.persons++
		s.personB += int64(len(v))
	case nexmark.Auction:
		s.auctions++
		s.auctionB += int64(len(v))
	case nexmark.Bid:
		s.bids++
		s.bidsB += int64(len(v))
		b := e.Bid
		ts := int64(b.DateTime)
		if b.Auction%123 == 0 {
			s.q2++
		}
		if p := 0.908 * float64(b.Price); p > 1_000_000 && p < 50_000_000 {
			s.q14++
		}
		switch b.Channel {
		case "Apple", "Google", "Facebook", "Baidu":
			s.q21++
		default:
			if strings.Contains(b.URL, "&channel_id=") || strings.HasPrefix(b.URL, "channel_id=") {
				s.q21++
			}
		}
		day := ts / 86_400_000
		s.q12[[2]int64{b.Bidder, ts - ts%10_000}] = struct{}{}
		s.q17[[2]int64{b.Auction, day}] = struct{}{}
		s.q15[day] = struct{}{}
	}
	return append(buf, v...)
}

// wantRows is what the bounded query returns over all the events.
func (s *nexmarkSource) wantRows(q string) int64 {
	switch q {
	case "q0", "q1", "q22":
		return s.bids
	case "q2":
		return s.q2
	case "q12":
		return int64(len(s.q12))
	case "q14":
		return s.q14
	case "q15":
		return int64(len(s.q15))
	case "q17":
		return int64(len(s.q17))
	case "q21":
		return s.q21
	}
	return -1
}

// nexmarkQueryResult is one query run as a bounded SELECT. cpuUse covers
// sending the query to receiving its last row.
type nexmarkQueryResult struct {
	Query    string `json:"query"`
	Rows     int64  `json:"rows"`
	WantRows int64  `json:"want_rows"`
	cpuUse
	EventsPerS            float64 `json:"events_per_s"`
	EventsPerServerCPUSec float64 `json:"events_per_server_cpu_s"`
	// EventsPerEngineCPUSecEst subtracts the embedded broker's CPU for
	// serving the raw read (an estimate of the engine's own cost); zero
	// against an external broker.
	EventsPerEngineCPUSecEst float64 `json:"events_per_engine_cpu_s_est,omitempty"`
	RatioToRaw               float64 `json:"ratio_to_raw_read"`
	// FlinkPerCore is Flink's V2 events/s per core (0: none published);
	// the ratios divide events/CPU-s by it.
	FlinkPerCore          float64 `json:"flink_per_core,omitempty"`
	RatioToFlink          float64 `json:"ratio_to_flink_per_core,omitempty"`
	RatioToFlinkEngineEst float64 `json:"ratio_to_flink_per_core_engine_est,omitempty"`
	OthersCores           float64 `json:"others_cores"`
	RSSBeforeKB           int64   `json:"rss_before_kb"`
	PeakRSSKB             int64   `json:"peak_rss_kb"`
	PeakIsLifetime        bool    `json:"peak_is_lifetime"`
	Problem               string  `json:"problem,omitempty"`
	// RunsEventsPerServerCPUSec lists every run's events per server
	// CPU-second when -runs > 1; the other figures are the median run's.
	RunsEventsPerServerCPUSec []float64 `json:"runs_events_per_server_cpu_s,omitempty"`
}

// nexmarkSinkResult is one query as CREATE SINK ... delivery =
// 'exactly_once', timed from CREATE SINK to SHOW SINKS showing rows_in = N.
type nexmarkSinkResult struct {
	Query    string `json:"query"`
	Sink     string `json:"sink"`
	Topic    string `json:"topic"`
	Delivery string `json:"delivery"`
	cpuUse
	EventsPerS               float64       `json:"events_per_s"`
	EventsPerSInterpolated   float64       `json:"events_per_s_interpolated"`
	EventsPerServerCPUSec    float64       `json:"events_per_server_cpu_s"`
	EventsPerEngineCPUSecEst float64       `json:"events_per_engine_cpu_s_est,omitempty"`
	RatioToRaw               float64       `json:"ratio_to_raw_read"`
	FlinkPerCore             float64       `json:"flink_per_core,omitempty"`
	RatioToFlink             float64       `json:"ratio_to_flink_per_core,omitempty"`
	RatioToFlinkEngineEst    float64       `json:"ratio_to_flink_per_core_engine_est,omitempty"`
	OthersCores              float64       `json:"others_cores"`
	FirstRows                time.Duration `json:"first_rows_after_ns"`
	ToCheckpoint             time.Duration `json:"to_checkpoint_ns"`
	// PeakRSSKB is the server's peak from CREATE SINK to the second
	// checkpoint after rows_in = N; RSSBeforeKB its RSS at CREATE SINK.
	RSSBeforeKB int64 `json:"rss_before_kb"`
	PeakRSSKB   int64 `json:"peak_rss_kb"`
	// State: what SHOW SINKS said the checkpoints wrote (the largest and
	// the sum over the checkpoints seen), and the disk use of the
	// server's state directory (Badger, shared by all sinks) when the
	// sink was created and before it was dropped.
	MaxCheckpointBytes   int64            `json:"max_checkpoint_bytes"`
	SumCheckpointBytes   int64            `json:"sum_checkpoint_bytes"`
	MaxCheckpointMs      int64            `json:"max_checkpoint_ms"`
	Checkpoints          []checkpointSeen `json:"checkpoints"`
	StateDirBeforeBytes  int64            `json:"state_dir_before_bytes"`
	StateDirAfterBytes   int64            `json:"state_dir_after_bytes"`
	RowsIn               int64            `json:"rows_in"`
	RowsOut              int64            `json:"rows_out"`
	LateEvents           int64            `json:"late_events"`
	DecodeErrors         int64            `json:"decode_errors"`
	State                string           `json:"state"`
	FailedReasons        []string         `json:"failed_reasons,omitempty"`
	Restarts             int64            `json:"restarts"`
	OutputHighWatermarks int64            `json:"output_high_watermarks"`
	OutputCommittedEnd   int64            `json:"output_committed_end_offsets"`
	Notes                []string         `json:"notes,omitempty"`
}

type nexmarkReport struct {
	machine
	Suite         string        `json:"suite"`
	Topic         string        `json:"topic"`
	Events        int64         `json:"events"`
	Persons       int64         `json:"persons"`
	Auctions      int64         `json:"auctions"`
	Bids          int64         `json:"bids"`
	Partitions    int           `json:"partitions"`
	EventTimeRate int           `json:"event_time_events_per_s"`
	AvgValueBytes float64       `json:"avg_value_bytes"`
	Produce       produceResult `json:"produce"`
	Raw           rawResult     `json:"raw"`
	// FlinkTarget is the target, in multiples of Flink's per-core
	// figure, for events per server CPU-second.
	FlinkTarget float64              `json:"flink_target_ratio"`
	Queries     []nexmarkQueryResult `json:"queries"`
	Sinks       []nexmarkSinkResult  `json:"sinks,omitempty"`
	SQL         map[string]string    `json:"sql"`
	embedded    bool
}

func runNexmark(o options) (err error) {
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
	dir, err := nexmark.FindDir(h.root)
	if err != nil {
		return err
	}
	suffix := fmt.Sprintf("-bench-%d", time.Now().Unix())
	topic := topicName("nexmark", srv, suffix)
	ddl, err := nexmark.StreamDDL(dir, topic, o.partitions)
	if err != nil {
		return err
	}
	views, err := nexmark.Views(dir)
	if err != nil {
		return err
	}
	sqls := map[string]string{}
	for _, q := range o.queries {
		if sqls[q], err = nexmark.Select(dir, q); err != nil {
			return err
		}
	}

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, srv.url())
	if err != nil {
		return fmt.Errorf("connecting to the server: %w", err)
	}
	defer conn.Close(ctx)
	for _, s := range append([]string{ddl}, views...) {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s\n: %w", s, err)
		}
	}

	step("producing %s Nexmark events into topic %q (%d partitions) with %s; %s events per second of event time",
		commas(float64(o.events)), topic, o.partitions, o.producer, commas(float64(o.nexmarkTimeTPS)))
	src := newNexmarkSource(o.nexmarkTimeTPS)
	prod, err := produce(o.producer, srv.brokerAddr, topic, int32(o.partitions), o.events, src, produceBatchBytes)
	if err != nil {
		return fmt.Errorf("producing: %w", err)
	}
	step("produced in %s: %s events/s, %.1f MB/s of JSON, %.1f bytes per event (person %.0f, auction %.0f, bid %.0f)",
		round(prod.Wall), commas(prod.EventsPerS), float64(prod.Bytes)/1e6/prod.Wall.Seconds(), float64(prod.Bytes)/float64(prod.Events),
		float64(src.personB)/float64(max(src.persons, 1)), float64(src.auctionB)/float64(max(src.auctions, 1)),
		float64(src.bidsB)/float64(max(src.bids, 1)))
	want := map[string]int64{}
	for _, q := range o.queries {
		want[q] = src.wantRows(q)
	}
	rep := nexmarkReport{
		machine: describeMachine(h.root, bd), Suite: "nexmark", Topic: topic, Events: o.events,
		Persons: src.persons, Auctions: src.auctions, Bids: src.bids, Partitions: o.partitions,
		EventTimeRate: o.nexmarkTimeTPS, AvgValueBytes: float64(prod.Bytes) / float64(o.events), Produce: prod,
		FlinkTarget: flinkTarget, SQL: sqls, embedded: srv.embedded,
	}
	src = nil
	runtime.GC()
	debug.FreeOSMemory()

	settle(srv.pid())
	step("(a) raw sarama read")
	if rep.Raw, err = rawRead(srv.brokerAddr, topic, srv.pid()); err != nil {
		return fmt.Errorf("raw read: %w", err)
	}
	step("       %s events/s (%s wall, %s CPU)", commas(rep.Raw.EventsPerS), round(rep.Raw.Wall), secs(rep.Raw.Self))

	for _, q := range o.queries {
		if err := freeServerMemory(srv); err != nil {
			return err
		}
		var runs []nexmarkQueryResult
		for i := range max(o.runs, 1) {
			if i > 0 {
				if err := freeServerMemory(srv); err != nil {
					return err
				}
			}
			settle(srv.pid())
			step("%s: bounded query (run %d of %d)", q, i+1, max(o.runs, 1))
			qr, err := runNexmarkQuery(ctx, conn, srv, q, sqls[q], o.events, want[q], rep.Raw)
			if err != nil {
				return err
			}
			runs = append(runs, qr)
			step("       %s rows in %s: %s events/s, %s events per server CPU-s%s; peak RSS %s%s",
				commas(float64(qr.Rows)), round(qr.Wall), commas(qr.EventsPerS), commas(qr.EventsPerServerCPUSec),
				flinkNote(qr.RatioToFlink), mib(qr.PeakRSSKB), problemNote(qr.Problem))
		}
		rep.Queries = append(rep.Queries, medianQueryRun(runs))
		if !o.sinks {
			continue
		}
		if err := freeServerMemory(srv); err != nil {
			return err
		}
		settle(srv.pid())
		step("%s: CREATE SINK ... delivery 'exactly_once', checkpoint_interval '%s'", q, sinkCheckpointInterval)
		sr, err := runNexmarkSink(ctx, conn, srv, q, sqls[q], topicName("nexmark_"+q, srv, suffix), o.events, rep.Raw)
		if err != nil {
			return err
		}
		rep.Sinks = append(rep.Sinks, sr)
		step("       rows_in = N after %s: %s events/s, %s events per server CPU-s%s; rows_out %s; peak RSS %s",
			round(sr.Wall), commas(sr.EventsPerS), commas(sr.EventsPerServerCPUSec), flinkNote(sr.RatioToFlink),
			commas(float64(sr.RowsOut)), mib(sr.PeakRSSKB))
	}
	fmt.Println()
	rep.print(os.Stdout)
	if o.jsonPath != "" {
		if err := writeJSON(o.jsonPath, rep); err != nil {
			return err
		}
	}
	var problems []string
	for _, q := range rep.Queries {
		if q.Problem != "" {
			problems = append(problems, q.Problem)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return nil
}

// medianQueryRun returns the run with the median events per server
// CPU-second (the lower middle one of an even number), or the first run
// with a problem, carrying every run's figure.
func medianQueryRun(runs []nexmarkQueryResult) nexmarkQueryResult {
	var per []float64
	for _, r := range runs {
		per = append(per, r.EventsPerServerCPUSec)
	}
	sorted := slices.Clone(runs)
	slices.SortStableFunc(sorted, func(a, b nexmarkQueryResult) int {
		return cmp.Compare(a.EventsPerServerCPUSec, b.EventsPerServerCPUSec)
	})
	m := sorted[(len(sorted)-1)/2]
	for _, r := range runs {
		if r.Problem != "" {
			m = r
			break
		}
	}
	if len(runs) > 1 {
		m.RunsEventsPerServerCPUSec = per
	}
	return m
}

func flinkNote(ratio float64) string {
	if ratio == 0 {
		return ""
	}
	return fmt.Sprintf(" (%.2fx Flink per core)", ratio)
}

func problemNote(p string) string {
	if p == "" {
		return ""
	}
	return "; WRONG ROW COUNT"
}

// runNexmarkQuery sends one query, reads (without decoding) every row and
// counts them. The clock runs from sending the query to its last row.
func runNexmarkQuery(ctx context.Context, conn *pgx.Conn, srv *server, name, sql string, n, want int64, raw rawResult) (nexmarkQueryResult, error) {
	pid := srv.pid()
	r := nexmarkQueryResult{Query: name, WantRows: want, FlinkPerCore: flinkPerCore[name]}
	var err error
	if r.RSSBeforeKB, err = procStatusKB(pid, "VmRSS"); err != nil {
		return r, err
	}
	r.PeakIsLifetime = !resetPeakRSS(pid)
	profile := srv.profilePath != ""
	if profile {
		if err := startServerProfile(srv); err != nil {
			return r, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	before, err := sampleCPU(pid)
	if err != nil {
		return r, err
	}
	rows, err := conn.Query(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return r, fmt.Errorf("%s: %w", name, err)
	}
	var lastRow time.Time
	for rows.Next() {
		r.Rows++
		lastRow = time.Now()
	}
	rows.Close()
	after, err := sampleCPU(pid)
	if err != nil {
		return r, err
	}
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("%s: %w\n%s", name, err, sql)
	}
	if profile {
		// One profile per query: FILE.q0, FILE.q0.allocs0, FILE.q0.allocs.
		if err := stopServerProfile(srv); err != nil {
			return r, err
		}
		for _, ext := range []string{"", ".allocs0", ".allocs"} {
			if err := os.Rename(srv.profilePath+ext, srv.profilePath+"."+name+ext); err != nil {
				return r, err
			}
		}
	}
	if r.PeakRSSKB, err = procStatusKB(pid, "VmHWM"); err != nil {
		return r, err
	}
	r.cpuUse = cpuBetween(before, after)
	if !lastRow.IsZero() {
		r.Wall = lastRow.Sub(before.at)
	}
	r.EventsPerS = float64(n) / r.Wall.Seconds()
	r.EventsPerServerCPUSec = float64(n) / r.Server.Seconds()
	r.RatioToRaw = r.EventsPerS / raw.EventsPerS
	r.OthersCores = r.othersCores()
	if srv.embedded {
		if engine := r.Server - raw.Server; engine > 0 {
			r.EventsPerEngineCPUSecEst = float64(n) / engine.Seconds()
		}
	}
	if r.FlinkPerCore > 0 {
		r.RatioToFlink = r.EventsPerServerCPUSec / r.FlinkPerCore
		r.RatioToFlinkEngineEst = r.EventsPerEngineCPUSecEst / r.FlinkPerCore
	}
	if want >= 0 && r.Rows != want {
		r.Problem = fmt.Sprintf("%s: WRONG RESULT: %d rows, the generated events give %d", name, r.Rows, want)
	}
	return r, nil
}

// runNexmarkSink runs one query as an exactly-once sink from the earliest
// offset until rows_in = n and two checkpoints after, then drops it.
func runNexmarkSink(ctx context.Context, conn *pgx.Conn, srv *server, name, sql, topic string, n int64, raw rawResult) (nexmarkSinkResult, error) {
	const delivery = "exactly_once"
	pid := srv.pid()
	r := nexmarkSinkResult{Query: name, Sink: "bench_nexmark_" + name, Topic: topic, Delivery: delivery,
		FlinkPerCore: flinkPerCore[name], Restarts: -1}
	r.RSSBeforeKB, _ = procStatusKB(pid, "VmRSS")
	stateDir := filepath.Join(srv.dataDir, "state")
	r.StateDirBeforeBytes = diskUsage(stateDir)
	ddl := fmt.Sprintf("CREATE SINK %s WITH (kafka_topic = '%s', delivery = '%s', checkpoint_interval = '%s') AS %s",
		r.Sink, r.Topic, delivery, sinkCheckpointInterval, sql)
	resetPeakRSS(pid)
	before, err := sampleCPU(pid)
	if err != nil {
		return r, err
	}
	if _, err := conn.Exec(ctx, ddl, pgx.QueryExecModeSimpleProtocol); err != nil {
		return r, fmt.Errorf("%s: %w", ddl, err)
	}
	dropped := false
	defer func() {
		if !dropped {
			_, _ = conn.Exec(context.Background(), "DROP SINK IF EXISTS "+r.Sink, pgx.QueryExecModeSimpleProtocol)
		}
	}()
	w := sinkResult{Sink: r.Sink}
	last, atN, err := watchSink(ctx, conn, pid, &w, n, before)
	if err != nil {
		return r, err
	}
	r.PeakRSSKB, _ = procStatusKB(pid, "VmHWM")
	r.cpuUse = cpuBetween(before, atN)
	r.EventsPerS = float64(n) / r.Wall.Seconds()
	r.EventsPerSInterpolated = float64(n) / w.WallInterpolated.Seconds()
	r.EventsPerServerCPUSec = float64(n) / r.Server.Seconds()
	r.RatioToRaw = r.EventsPerS / raw.EventsPerS
	r.OthersCores = r.othersCores()
	if srv.embedded {
		if engine := r.Server - raw.Server; engine > 0 {
			r.EventsPerEngineCPUSecEst = float64(n) / engine.Seconds()
		}
	}
	if r.FlinkPerCore > 0 {
		r.RatioToFlink = r.EventsPerServerCPUSec / r.FlinkPerCore
		r.RatioToFlinkEngineEst = r.EventsPerEngineCPUSecEst / r.FlinkPerCore
	}
	r.FirstRows, r.ToCheckpoint = w.FirstRows, w.ToCheckpoint
	r.Checkpoints, r.MaxCheckpointBytes, r.MaxCheckpointMs, r.FailedReasons = w.Checkpoints, w.MaxCheckpointBytes, w.MaxCheckpointMs, w.FailedReasons
	for _, c := range w.Checkpoints {
		r.SumCheckpointBytes += c.Bytes
	}
	r.RowsIn, r.RowsOut, r.LateEvents, r.DecodeErrors, r.State = last.rowsIn, last.rowsOut, last.lateEvents, last.decodeErrors, last.state
	if r.RowsIn != n {
		r.Notes = append(r.Notes, fmt.Sprintf("rows_in is %d, %d events were produced", r.RowsIn, n))
	}
	r.StateDirAfterBytes = diskUsage(stateDir)
	if e, err := outputEnds(srv.brokerAddr, r.Topic); err == nil {
		r.OutputHighWatermarks, r.OutputCommittedEnd = e.high, e.committed
	}
	r.Restarts = sinkRestarts(srv.httpAddr, r.Sink)
	if _, err := conn.Exec(ctx, "DROP SINK "+r.Sink, pgx.QueryExecModeSimpleProtocol); err != nil {
		return r, fmt.Errorf("DROP SINK %s: %w", r.Sink, err)
	}
	dropped = true
	return r, nil
}

// diskUsage is the disk space (allocated blocks, as du counts them) of the
// files under dir; 0 if it cannot be read.
func diskUsage(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				total += st.Blocks * 512
			} else {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}

func (r *nexmarkReport) print(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("StreamSQL Nexmark benchmark")
	p("  data     %s events (%s persons, %s auctions, %s bids), %.1f bytes of JSON each on average, %d partitions, topic %q",
		commas(float64(r.Events)), commas(float64(r.Persons)), commas(float64(r.Auctions)), commas(float64(r.Bids)),
		r.AvgValueBytes, r.Partitions, r.Topic)
	p("           event time: %s events per second (%s of event time)", commas(float64(r.EventTimeRate)),
		round(time.Duration(float64(r.Events)/float64(r.EventTimeRate)*float64(time.Second))))
	p("  broker   %s", r.Broker)
	p("  machine  %d cores, load average %s before the runs; %s; commit %s", r.Cores, r.LoadAvgBefore, r.Go, r.Commit)
	p("")
	p("  produce (%s, lz4, acks=1)   %s events/s in %s", r.Produce.Producer, commas(r.Produce.EventsPerS), round(r.Produce.Wall))
	broker := ""
	if r.embedded {
		broker = fmt.Sprintf("; the broker (in the server) used %s", secs(r.Raw.Server))
	}
	p("  (a) raw sarama read         %s events/s in %s, %s events per CPU-s of the reader%s",
		commas(r.Raw.EventsPerS), round(r.Raw.Wall), commas(r.Raw.EventsPerCPUSec), broker)
	p("")
	p("  events/s = all %s events (persons and auctions too) over the wall time; events/CPU-s = over the server's", commas(float64(r.Events)))
	p("  CPU time (with the embedded broker, the broker's included); x raw = events/s over (a)'s; xFlink = events/CPU-s")
	p("  over Flink's V2 events/s per core (target %.0fx); est. engine = the embedded broker's CPU in (a) subtracted", r.FlinkTarget)
	p("  (an estimate of the engine alone). RSS at = when the query was sent, after a GC that returned free memory.")
	p("")
	if n := len(r.Queries); n > 0 && len(r.Queries[0].RunsEventsPerServerCPUSec) > 1 {
		p("  bounded queries (SELECT over the Postgres wire, every row read; the median of %d runs by events/CPU-s, all runs listed below)",
			len(r.Queries[0].RunsEventsPerServerCPUSec))
	} else {
		p("  bounded queries (SELECT over the Postgres wire, every row read)")
	}
	p("  %-5s %10s %12s %6s %13s %7s %13s %7s %9s %9s %8s %9s %7s", "", "rows", "events/s", "x raw", "events/CPU-s", "xFlink",
		"est. engine", "xFlink", "RSS at", "peak RSS", "wall", "srv CPU", "others")
	for _, q := range r.Queries {
		p("  %-5s %10s %12s %6.2f %13s %7s %13s %7s %9s %9s %8s %9s %7s", q.Query, commas(float64(q.Rows)), commas(q.EventsPerS), q.RatioToRaw,
			commas(q.EventsPerServerCPUSec), ratioCell(q.RatioToFlink), estCell(q.EventsPerEngineCPUSecEst), ratioCell(q.RatioToFlinkEngineEst),
			mib(q.RSSBeforeKB), mib(q.PeakRSSKB), round(q.Wall), secs(q.Server), secs(q.Others))
	}
	for _, q := range r.Queries {
		if len(q.RunsEventsPerServerCPUSec) > 1 {
			var cells []string
			for _, v := range q.RunsEventsPerServerCPUSec {
				cells = append(cells, commas(v))
			}
			p("  %-5s runs: %s events/CPU-s", q.Query, strings.Join(cells, ", "))
		}
	}
	if len(r.Sinks) > 0 {
		p("")
		p("  sinks: CREATE SINK ... WITH (delivery = 'exactly_once', checkpoint_interval = '%s'), from the earliest offset,", sinkCheckpointInterval)
		p("  timed until SHOW SINKS (polled every %s) shows rows_in = %s; state: largest checkpoint_bytes, and the", sinkPoll, commas(float64(r.Events)))
		p("  server's state directory on disk before DROP SINK")
		p("  %-5s %10s %12s %6s %13s %7s %13s %7s %9s %9s %10s %9s %8s %9s %7s", "", "rows_out", "events/s", "x raw", "events/CPU-s", "xFlink",
			"est. engine", "xFlink", "RSS at", "peak RSS", "ckpt max", "state dir", "wall", "srv CPU", "others")
		for _, s := range r.Sinks {
			p("  %-5s %10s %12s %6.2f %13s %7s %13s %7s %9s %9s %10s %9s %8s %9s %7s", s.Query, commas(float64(s.RowsOut)), commas(s.EventsPerS), s.RatioToRaw,
				commas(s.EventsPerServerCPUSec), ratioCell(s.RatioToFlink), estCell(s.EventsPerEngineCPUSecEst), ratioCell(s.RatioToFlinkEngineEst),
				mib(s.RSSBeforeKB), mib(s.PeakRSSKB), byteSize(s.MaxCheckpointBytes), byteSize(s.StateDirAfterBytes), round(s.Wall), secs(s.Server), secs(s.Others))
		}
	}
	p("")
	var met, missed []string
	for _, q := range r.Queries {
		if q.FlinkPerCore == 0 {
			continue
		}
		if q.RatioToFlink >= r.FlinkTarget {
			met = append(met, q.Query)
		} else {
			missed = append(missed, fmt.Sprintf("%s %.2fx", q.Query, q.RatioToFlink))
		}
	}
	p("  target %.0fx Flink per core (bounded queries, server CPU): met by [%s]; not by [%s]", r.FlinkTarget,
		strings.Join(met, " "), strings.Join(missed, ", "))
	for _, q := range r.Queries {
		if q.Problem != "" {
			p("  %s", q.Problem)
		}
		if q.Wall >= time.Second && q.OthersCores >= 0.15 {
			p("  NOTE: other processes kept about %.1f of the %d cores busy during %s (query): its figures are lower than on an idle machine.",
				q.OthersCores, r.Cores, q.Query)
		}
	}
	for _, s := range r.Sinks {
		for _, f := range s.FailedReasons {
			p("  NOTE: sink %s: SHOW SINKS showed it failed: %s", s.Query, f)
		}
		for _, n := range s.Notes {
			p("  NOTE: sink %s: %s", s.Query, n)
		}
		if s.LateEvents > 0 || s.DecodeErrors > 0 || s.Restarts > 0 {
			p("  NOTE: sink %s: late %d, decode errors %d, restarts %d", s.Query, s.LateEvents, s.DecodeErrors, s.Restarts)
		}
		if s.OutputCommittedEnd != s.OutputHighWatermarks {
			p("  NOTE: sink %s: read_committed end offsets (sum %d) below the high watermarks (%d) before DROP SINK", s.Query,
				s.OutputCommittedEnd, s.OutputHighWatermarks)
		}
		if s.Wall >= time.Second && s.OthersCores >= 0.15 {
			p("  NOTE: other processes kept about %.1f of the %d cores busy during %s (sink): its figures are lower than on an idle machine.",
				s.OthersCores, r.Cores, s.Query)
		}
	}
	if r.embedded {
		p("  With the embedded broker the server's CPU includes the broker: serving the fetches (%s in (a)) and, for the", secs(r.Raw.Server))
		p("  sinks, taking their output and transactions. Against -brokers the server's CPU is the engine's alone.")
	}
}

func ratioCell(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

func estCell(v float64) string {
	if v == 0 {
		return "-"
	}
	return commas(v)
}

// byteSize formats bytes as B, KiB or MiB.
func byteSize(b int64) string {
	switch {
	case b >= 10<<20:
		return fmt.Sprintf("%d MiB", (b+(1<<19))>>20)
	case b >= 10<<10:
		return fmt.Sprintf("%d KiB", (b+512)>>10)
	}
	return fmt.Sprintf("%d B", b)
}
