package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// report is everything one `make bench` measured; -json writes it as is.
type report struct {
	Time          string        `json:"time"`
	Commit        string        `json:"commit"`
	Go            string        `json:"go"`
	Cores         int           `json:"cores"`
	LoadAvgBefore string        `json:"load_avg_before"`
	Broker        string        `json:"broker"`
	Topic         string        `json:"topic"`
	Events        int64         `json:"events"`
	Partitions    int           `json:"partitions"`
	Generator     genConfig     `json:"generator"`
	AvgValueBytes float64       `json:"avg_value_bytes"`
	Runs          int           `json:"runs"`
	Produce       produceResult `json:"produce"`
	// ServerPeakRSSAfterProduceKB is the server's lifetime peak before the
	// first query: with the embedded broker it holds the whole topic.
	ServerPeakRSSAfterProduceKB int64         `json:"server_peak_rss_after_produce_kb"`
	Raw                         []rawResult   `json:"raw_runs"`
	Query                       []queryResult `json:"query_runs"`
	// Sinks are the sink measurements, at_least_once then exactly_once
	// (empty with -sinks=false).
	Sinks   []sinkResult `json:"sinks,omitempty"`
	Summary summary      `json:"summary"`

	rawMedian, queryMedian int            // indexes into Raw and Query
	sinkMedian             map[string]int // delivery -> index into Sinks
	embedded               bool
}

// summary holds the headline figures: medians over the runs (the middle
// run, the lower one of an even count) and the best run.
type summary struct {
	RawEventsPerS              float64 `json:"raw_events_per_s"`
	RawEventsPerCPUSec         float64 `json:"raw_events_per_cpu_s"`
	QueryEventsPerS            float64 `json:"query_events_per_s"`
	QueryEventsPerServerCPUSec float64 `json:"query_events_per_server_cpu_s"`
	// QueryEventsPerEngineCPUSecEst subtracts from the query's server CPU
	// what the embedded broker spent serving the raw read: an estimate of
	// the engine's own cost. Zero against an external broker, where the
	// server's CPU is all engine already.
	QueryEventsPerEngineCPUSecEst float64 `json:"query_events_per_engine_cpu_s_est,omitempty"`
	RatioWall                     float64 `json:"ratio_query_to_raw_wall"`
	RatioCPU                      float64 `json:"ratio_query_to_raw_cpu"`
	BestRawEventsPerS             float64 `json:"best_raw_events_per_s"`
	BestQueryEventsPerS           float64 `json:"best_query_events_per_s"`
	BestRatioWall                 float64 `json:"best_ratio_query_to_raw_wall"`
	QueryPeakRSSKB                int64   `json:"query_peak_rss_kb"`
	// The sinks' events/s and events per server CPU-second, and
	// exactly_once over at_least_once: the throughput cost of exactly-once.
	SinkALOEventsPerS          float64 `json:"sink_at_least_once_events_per_s,omitempty"`
	SinkEOSEventsPerS          float64 `json:"sink_exactly_once_events_per_s,omitempty"`
	SinkALOEventsPerCPUSec     float64 `json:"sink_at_least_once_events_per_server_cpu_s,omitempty"`
	SinkEOSEventsPerCPUSec     float64 `json:"sink_exactly_once_events_per_server_cpu_s,omitempty"`
	SinkRatioEOSToALO          float64 `json:"sink_ratio_exactly_once_to_at_least_once,omitempty"`
	SinkRatioEOSToALOPerCPUSec float64 `json:"sink_ratio_exactly_once_to_at_least_once_per_cpu_s,omitempty"`
	// ...Interpolated uses each sink's interpolated wall time.
	SinkRatioEOSToALOInterpolated float64 `json:"sink_ratio_exactly_once_to_at_least_once_interpolated,omitempty"`
}

func (r *report) summarize() {
	r.embedded = strings.HasPrefix(r.Broker, "embedded")
	r.rawMedian = medianIndex(len(r.Raw), func(i int) float64 { return r.Raw[i].EventsPerS })
	r.queryMedian = medianIndex(len(r.Query), func(i int) float64 { return r.Query[i].EventsPerS })
	raw, q := r.Raw[r.rawMedian], r.Query[r.queryMedian]
	s := &r.Summary
	s.RawEventsPerS, s.RawEventsPerCPUSec = raw.EventsPerS, raw.EventsPerCPUSec
	s.QueryEventsPerS, s.QueryEventsPerServerCPUSec = q.EventsPerS, q.EventsPerServerCPUSec
	s.RatioWall = q.EventsPerS / raw.EventsPerS
	s.RatioCPU = q.EventsPerServerCPUSec / raw.EventsPerCPUSec
	if r.embedded {
		if engine := q.Server - raw.Server; engine > 0 {
			s.QueryEventsPerEngineCPUSecEst = float64(q.Events) / engine.Seconds()
		}
	}
	for _, x := range r.Raw {
		s.BestRawEventsPerS = max(s.BestRawEventsPerS, x.EventsPerS)
	}
	for _, x := range r.Query {
		s.BestQueryEventsPerS = max(s.BestQueryEventsPerS, x.EventsPerS)
		s.QueryPeakRSSKB = max(s.QueryPeakRSSKB, x.PeakRSSKB)
	}
	s.BestRatioWall = s.BestQueryEventsPerS / s.BestRawEventsPerS
	r.sinkMedian = map[string]int{}
	for _, mode := range sinkModes {
		var idx []int
		for i, x := range r.Sinks {
			if x.Delivery == mode {
				idx = append(idx, i)
			}
		}
		if len(idx) > 0 {
			r.sinkMedian[mode] = idx[medianIndex(len(idx), func(i int) float64 { return r.Sinks[idx[i]].EventsPerS })]
		}
	}
	ai, aok := r.sinkMedian["at_least_once"]
	ei, eok := r.sinkMedian["exactly_once"]
	if aok && eok {
		alo, eos := r.Sinks[ai], r.Sinks[ei]
		s.SinkALOEventsPerS, s.SinkALOEventsPerCPUSec = alo.EventsPerS, alo.EventsPerServerCPUSec
		s.SinkEOSEventsPerS, s.SinkEOSEventsPerCPUSec = eos.EventsPerS, eos.EventsPerServerCPUSec
		s.SinkRatioEOSToALO = eos.EventsPerS / alo.EventsPerS
		s.SinkRatioEOSToALOPerCPUSec = eos.EventsPerServerCPUSec / alo.EventsPerServerCPUSec
		s.SinkRatioEOSToALOInterpolated = eos.EventsPerSInterpolated / alo.EventsPerSInterpolated
	}
}

// medianIndex returns the index of the median of n values (the lower middle
// one for even n), so the median is a real run whose other figures can be
// shown beside it.
func medianIndex(n int, v func(int) float64) int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return v(idx[a]) < v(idx[b]) })
	return idx[(n-1)/2]
}

func (r *report) print(w io.Writer) {
	raw, q := r.Raw[r.rawMedian], r.Query[r.queryMedian]
	s := r.Summary
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }

	p("StreamSQL clickstream benchmark")
	p("  data     %s events, %.1f bytes of JSON each on average, %d partitions, topic %q",
		commas(float64(r.Events)), r.AvgValueBytes, r.Partitions, r.Topic)
	p("           %s", r.Generator)
	p("  broker   %s", r.Broker)
	p("  machine  %d cores, load average %s before the runs; %s; commit %s", r.Cores, r.LoadAvgBefore, r.Go, r.Commit)
	if r.Runs > 1 {
		p("  runs     %d; the table shows the median run of each measurement", r.Runs)
	}
	p("")
	p("  %-30s %12s %16s %9s %10s %10s %10s", "", "events/s", "events/CPU-s", "wall", "bench CPU", "server CPU", "others CPU")
	p("  %-30s %12s %16s %9s", "produce ("+r.Produce.Producer+", lz4, acks=1)",
		commas(r.Produce.EventsPerS), "-", round(r.Produce.Wall))
	p("  %-30s %12s %16s %9s %10s %10s %10s", "(a) raw sarama read",
		commas(raw.EventsPerS), commas(raw.EventsPerCPUSec)+" (a)", round(raw.Wall), secs(raw.Self), secs(raw.Server), secs(raw.Others))
	p("  %-30s %12s %16s %9s %10s %10s %10s", "(b) tumble-count query",
		commas(q.EventsPerS), commas(q.EventsPerServerCPUSec)+" (b)", round(q.Wall), secs(q.Self), secs(q.Server), secs(q.Others))
	p("")
	p("  ratio (b)/(a), events/s wall      %.2f   the query runs at %.0f%% of the speed of a plain sarama read", s.RatioWall, 100*s.RatioWall)
	p("  ratio (b)/(a), events per CPU-s   %.2f   server CPU of (b) against the reader's CPU of (a)", s.RatioCPU)
	if r.Runs > 1 {
		p("  best runs                         raw %s events/s, query %s events/s, ratio %.2f",
			commas(s.BestRawEventsPerS), commas(s.BestQueryEventsPerS), s.BestRatioWall)
		var rs, qs []string
		for i := range r.Raw {
			rs = append(rs, commas(r.Raw[i].EventsPerS))
			qs = append(qs, commas(r.Query[i].EventsPerS))
		}
		p("  all runs, events/s                raw [%s], query [%s]", strings.Join(rs, " "), strings.Join(qs, " "))
	}
	peak := fmt.Sprintf("peak %s during it", mib(q.PeakRSSKB))
	if q.PeakIsLifetime {
		peak = fmt.Sprintf("peak %s over the server's life (could not reset VmHWM)", mib(q.PeakRSSKB))
	}
	p("  server memory (RSS)               %s before the query, %s", mib(q.RSSBeforeKB), peak)
	p("  server kernel CPU in (b)          %s of its %s (%s minor page faults: about %s of memory touched afresh)",
		secs(q.ServerSys), secs(q.Server), commas(float64(q.ServerFaults)), mib(q.ServerFaults*4))
	p("")
	p("  (a) events/CPU-s is per CPU-second of the bench process; (b) per CPU-second of the whole server process.")
	if r.embedded {
		p("  The embedded broker runs inside the server: during (a) it used %s of CPU serving fetches, and (b)'s",
			secs(raw.Server))
		p("  server CPU includes the same kind of work. Subtracting it, the engine alone did about %s events",
			commas(s.QueryEventsPerEngineCPUSecEst))
		p("  per CPU-second (an estimate). The reader and the broker share the %d cores in (a), the engine and", r.Cores)
		p("  the broker in (b).")
	}
	// "others CPU" is the machine's busy time (/proc/stat, tick-sampled and
	// flushed lazily by the kernel) minus the two processes' own: over less
	// than a second or so it is too coarse to say anything.
	for _, part := range []struct {
		name  string
		use   cpuUse
		cores float64
	}{{"(a)", raw.cpuUse, raw.OthersCores}, {"(b)", q.cpuUse, q.OthersCores}} {
		if part.use.Wall >= time.Second && part.cores >= 0.15 {
			what := "other processes"
			if !r.embedded {
				what = "other processes (the Kafka broker among them if it runs on this machine)"
			}
			p("  NOTE: %s kept about %.1f of the %d cores busy during %s: its figures are lower than on an idle machine.",
				what, part.cores, r.Cores, part.name)
		}
	}
	r.printSinks(p)
	if r.Runs == 1 {
		p("  NOTE: one run measures a freshly started server and bench process, which still grow their heaps;")
		p("  later runs are usually faster. -runs 3 reports the median.")
	}
	if raw.Wall < time.Second || q.Wall < time.Second {
		p("  NOTE: a measurement took under a second; use more -events (or -runs) for figures worth comparing.")
	}
}

// commas formats v rounded to an integer with thousands separators.
func commas(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

func mib(kb int64) string { return fmt.Sprintf("%d MiB", (kb+512)/1024) }

// printSinks adds the sink part to the report: the median run of each
// delivery mode (by events/s), their ratio, and what was checked.
func (r *report) printSinks(p func(string, ...any)) {
	if len(r.Sinks) == 0 {
		return
	}
	s := r.Summary
	var med []sinkResult
	for _, mode := range sinkModes {
		if i, ok := r.sinkMedian[mode]; ok {
			med = append(med, r.Sinks[i])
		}
	}
	label := func(i int) string { return fmt.Sprintf("(%c)", 'c'+i) }
	p("")
	p("  sinks: the same query as CREATE SINK ... WITH (delivery = ..., checkpoint_interval = '%s'), from the earliest offset;", sinkCheckpointInterval)
	p("  timed from CREATE SINK until SHOW SINKS (polled every %s) shows rows_in = %s", sinkPoll, commas(float64(r.Events)))
	if r.Runs > 1 {
		p("  %d runs of each, alternating; the table shows the median run of each delivery", r.Runs)
	}
	p("")
	p("  %-30s %12s %16s %9s %10s %10s %10s", "", "events/s", "events/CPU-s", "wall", "+ckpt", "server CPU", "others CPU")
	for i, x := range med {
		p("  %-30s %12s %16s %9s %10s %10s %10s", label(i)+" sink, "+x.Delivery,
			commas(x.EventsPerS), commas(x.EventsPerServerCPUSec)+" (b)", round(x.Wall), round(x.ToCheckpoint), secs(x.Server), secs(x.Others))
	}
	p("")
	if s.SinkRatioEOSToALO > 0 {
		p("  ratio (d)/(c), events/s wall      %.2f   exactly-once runs at %.0f%% of the speed of at-least-once", s.SinkRatioEOSToALO, 100*s.SinkRatioEOSToALO)
		p("  the same, extrapolated wall       %.2f   rows_in = N placed between the last two polls", s.SinkRatioEOSToALOInterpolated)
		p("  ratio (d)/(c), events per CPU-s   %.2f   server CPU of each", s.SinkRatioEOSToALOPerCPUSec)
	}
	if r.Runs > 1 {
		for _, mode := range sinkModes {
			var all []string
			for _, x := range r.Sinks {
				if x.Delivery == mode {
					all = append(all, commas(x.EventsPerS))
				}
			}
			p("  all runs, events/s, %-13s [%s]", mode, strings.Join(all, " "))
		}
	}
	for _, x := range med {
		p("")
		run := ""
		if r.Runs > 1 {
			run = fmt.Sprintf(" (run %d)", x.Run)
		}
		p("  %s%s: first rows_in after %s; rows_in = N extrapolated at %s between polls: %s events/s",
			x.Delivery, run, round(x.FirstRows), round(x.WallInterpolated), commas(x.EventsPerSInterpolated))
		p("    checkpoint after the run (epoch %d): %d ms, %s bytes; max while polling: %d ms, %s bytes (%d checkpoints seen)",
			x.CheckpointEpoch, x.CheckpointMs, commas(float64(x.CheckpointBytes)), x.MaxCheckpointMs, commas(float64(x.MaxCheckpointBytes)), len(x.Checkpoints))
		o := x.Output
		p("    output (read_committed): %s records, %s clicks; closed: %d windows, %s groups, %s events (%s in the window(s) still open)",
			commas(float64(o.Records)), commas(float64(o.Clicks)), o.ClosedWindows, commas(float64(o.ClosedGroups)),
			commas(float64(o.ClosedEvents)), commas(float64(o.OpenEvents)))
		restarts := "?"
		if x.Restarts >= 0 {
			restarts = strconv.FormatInt(x.Restarts, 10)
		}
		p("    SHOW SINKS: rows_in %s, rows_out %s, late %d, decode errors %d, state %s; restarts %s",
			commas(float64(x.RowsIn)), commas(float64(x.RowsOut)), x.LateEvents, x.DecodeErrors, x.State, restarts)
	}
	p("")
	var bad int
	for _, x := range r.Sinks {
		if x.Problem != "" {
			bad++
		}
	}
	if bad == 0 {
		p("  output check: every closed (page, window) group once with the count produced, in every sink run")
	}
	for _, x := range r.Sinks {
		for _, f := range x.FailedReasons {
			p("  NOTE: run %d %s: SHOW SINKS showed it failed: %s", x.Run, x.Delivery, f)
		}
		for _, n := range x.Notes {
			p("  NOTE: run %d %s: %s", x.Run, x.Delivery, n)
		}
		if x.Problem != "" {
			p("  run %d %s: %s", x.Run, x.Delivery, x.Problem)
		}
	}
	if r.embedded {
		p("  Sinks' events/CPU-s are per CPU-second of the whole server, the embedded broker included, as for (b).")
	} else {
		p("  Sinks' events/CPU-s are per CPU-second of the server process, as for (b).")
	}
	p("  +ckpt: CREATE SINK to the first checkpoint completed after rows_in = N. checkpoint ms and bytes are")
	p("  SHOW SINKS's checkpoint_ms and checkpoint_bytes. The sinks run one after the other on one server.")
	for i, x := range med {
		if x.Wall >= time.Second && x.OthersCores >= 0.15 {
			p("  NOTE: other processes kept about %.1f of the %d cores busy during %s: its figures are lower than on an idle machine.",
				x.OthersCores, r.Cores, label(i))
		}
		if x.Wall < time.Second {
			p("  NOTE: %s took under a second: the %s polling and the sink's start-up weigh on it; use more -events.", label(i), sinkPoll)
		}
	}
}
