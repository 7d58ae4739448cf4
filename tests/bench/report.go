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
	AvgValueBytes float64       `json:"avg_value_bytes"`
	Runs          int           `json:"runs"`
	Produce       produceResult `json:"produce"`
	// ServerPeakRSSAfterProduceKB is the server's lifetime peak before the
	// first query: with the embedded broker it holds the whole topic.
	ServerPeakRSSAfterProduceKB int64         `json:"server_peak_rss_after_produce_kb"`
	Raw                         []rawResult   `json:"raw_runs"`
	Query                       []queryResult `json:"query_runs"`
	Summary                     summary       `json:"summary"`

	rawMedian, queryMedian int // indexes into Raw and Query
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
