package engine

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
)

// Handler serves /healthz and Prometheus /metrics (text exposition format).
func (e *Engine) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/metrics", e.serveMetrics)
	return mux
}

type metric struct {
	name, help, kind string
	value            func(rs *runningSink) (float64, bool)
}

var sinkMetrics = []metric{
	{"streamsql_sink_rows_in_total", "Rows read and decoded from the source topic.", "counter",
		func(rs *runningSink) (float64, bool) { return float64(rs.stats.RowsIn.Load()), true }},
	{"streamsql_sink_rows_out_total", "Rows written to the sink topic.", "counter",
		func(rs *runningSink) (float64, bool) { return float64(rs.stats.RowsOut.Load()), true }},
	{"streamsql_sink_decode_errors_total", "Source messages skipped because they could not be decoded.", "counter",
		func(rs *runningSink) (float64, bool) { return float64(rs.stats.DecodeErrors.Load()), true }},
	{"streamsql_sink_late_events_total", "Events dropped because their windows had already been emitted.", "counter",
		func(rs *runningSink) (float64, bool) { return float64(rs.stats.LateEvents.Load()), true }},
	{"streamsql_sink_expression_errors_total", "Run-time expression errors turned into NULL.", "counter",
		func(rs *runningSink) (float64, bool) { return float64(rs.stats.ExprErrors.Load()), true }},
	{"streamsql_sink_state_evictions_total", "Groups evicted from memory under --state-cache-size.", "counter",
		func(rs *runningSink) (float64, bool) { return float64(rs.stats.State.Evicted.Load()), true }},
	{"streamsql_sink_state_loads_total", "Evicted groups read back from the checkpointed state.", "counter",
		func(rs *runningSink) (float64, bool) { return float64(rs.stats.State.Loaded.Load()), true }},
	{"streamsql_sink_watermark_ms", "Output watermark in epoch milliseconds.", "gauge",
		func(rs *runningSink) (float64, bool) {
			v := rs.stats.Watermark.Load()
			return float64(v), v != math.MinInt64 && v != math.MaxInt64
		}},
	{"streamsql_sink_checkpoint_epoch", "Epoch of the last completed checkpoint.", "gauge",
		func(rs *runningSink) (float64, bool) { cp, _ := rs.stats.Checkpoint(); return float64(cp.Epoch), true }},
	{"streamsql_sink_checkpoint_duration_seconds", "Duration of the last completed checkpoint.", "gauge",
		func(rs *runningSink) (float64, bool) {
			cp, _ := rs.stats.Checkpoint()
			return cp.Duration.Seconds(), true
		}},
	{"streamsql_sink_checkpoint_bytes", "State bytes written by the last completed checkpoint.", "gauge",
		func(rs *runningSink) (float64, bool) { cp, _ := rs.stats.Checkpoint(); return float64(cp.Bytes), true }},
	{"streamsql_sink_running", "1 if the sink is running, 0 if it failed.", "gauge",
		func(rs *runningSink) (float64, bool) {
			st, _, _, _ := rs.snapshot()
			if st == "running" {
				return 1, true
			}
			return 0, true
		}},
	{"streamsql_sink_restarts_total", "Times the sink was restarted after a failure.", "counter",
		func(rs *runningSink) (float64, bool) { _, _, n, _ := rs.snapshot(); return float64(n), true }},
}

func (e *Engine) serveMetrics(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	names := make([]string, 0, len(e.sinks))
	for n := range e.sinks {
		names = append(names, n)
	}
	sort.Strings(names)
	sinks := make([]*runningSink, len(names))
	for i, n := range names {
		sinks[i] = e.sinks[n]
	}
	e.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	var b strings.Builder
	for _, m := range sinkMetrics {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", m.name, m.help, m.name, m.kind)
		for i, rs := range sinks {
			if v, ok := m.value(rs); ok {
				fmt.Fprintf(&b, "%s{sink=%q} %g\n", m.name, names[i], v)
			}
		}
	}
	_, _ = w.Write([]byte(b.String()))
}
