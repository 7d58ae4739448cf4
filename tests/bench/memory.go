package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/jackc/pgx/v5"
)

// -memory: the clickstream's bounded tumble-count query over N events and
// over factor×N events with the same key count (pages, users), each on a
// freshly started server so that the two peaks are comparable. The issue's
// target: the peak RSS stays within 10% when the events grow 10x.

const memoryTarget = 1.10

// memoryRun is one size.
type memoryRun struct {
	Events  int64         `json:"events"`
	Produce produceResult `json:"produce"`
	// ServerPeakAfterProduceKB is the server's lifetime peak before the
	// query: with the embedded broker it holds the topic.
	ServerPeakAfterProduceKB int64       `json:"server_peak_rss_after_produce_kb"`
	Query                    queryResult `json:"query"`
	// GrowthKB is the query's peak minus the RSS when it was sent: the
	// memory the query added on top of what the server (and the embedded
	// broker's copy of the topic) already held.
	GrowthKB int64 `json:"growth_kb"`
}

type memoryReport struct {
	machine
	Mode       string      `json:"mode"`
	Partitions int         `json:"partitions"`
	Generator  genConfig   `json:"generator"`
	Factor     int         `json:"factor"`
	Runs       []memoryRun `json:"runs"`
	// PeakRatio is the larger run's peak RSS over the smaller's;
	// GrowthRatio the same for GrowthKB.
	PeakRatio   float64 `json:"peak_rss_ratio"`
	GrowthRatio float64 `json:"growth_ratio"`
	MetTarget   bool    `json:"peak_within_10_percent"`
	embedded    bool
}

func runMemory(o options) error {
	h, err := newHarness(o)
	if err != nil {
		return err
	}
	defer h.close()
	rep := memoryReport{Mode: "memory", Partitions: o.partitions, Generator: o.gen, Factor: o.memoryFactor}
	for i, n := range []int64{o.events, o.events * int64(o.memoryFactor)} {
		run, srv, err := memoryOnce(h, o, i, n)
		if srv != nil {
			if err != nil {
				err = fmt.Errorf("%w\n--- server log (tail) ---\n%s", err, srv.logTail(3000))
			}
			if rep.Broker == "" {
				rep.machine = describeMachine(h.root, brokerDesc(srv, o.brokers))
				rep.embedded = srv.embedded
			}
			h.stop(srv)
		}
		if err != nil {
			return err
		}
		rep.Runs = append(rep.Runs, run)
	}
	a, b := rep.Runs[0], rep.Runs[1]
	rep.PeakRatio = float64(b.Query.PeakRSSKB) / float64(a.Query.PeakRSSKB)
	if a.GrowthKB > 0 {
		rep.GrowthRatio = float64(b.GrowthKB) / float64(a.GrowthKB)
	}
	rep.MetTarget = rep.PeakRatio <= memoryTarget
	fmt.Println()
	rep.print(os.Stdout)
	if o.jsonPath != "" {
		return writeJSON(o.jsonPath, rep)
	}
	return nil
}

// memoryOnce starts a server, fills a topic with n clicks and runs the
// checked bounded query once.
func memoryOnce(h *harness, o options, i int, n int64) (memoryRun, *server, error) {
	r := memoryRun{Events: n}
	srv, err := h.start(fmt.Sprintf("run%d", i+1))
	if err != nil {
		return r, nil, err
	}
	step("run %d: server pid %d, pg %s, broker %s", i+1, srv.pid(), srv.pgAddr, brokerDesc(srv, o.brokers))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, srv.url())
	if err != nil {
		return r, srv, fmt.Errorf("connecting to the server: %w", err)
	}
	defer conn.Close(ctx)
	topic := topicName("clicks", srv, fmt.Sprintf("-bench-%d-%d", time.Now().Unix(), i+1))
	ddl := clicksDDL(topic, o.partitions, o.wmDelay, "")
	if _, err := conn.Exec(ctx, ddl); err != nil {
		return r, srv, fmt.Errorf("%s: %w", ddl, err)
	}
	step("run %d: producing %s events into %q; %s", i+1, commas(float64(n)), topic, o.gen)
	g := newGenerator(o.gen, o.partitions)
	if r.Produce, err = produce(o.producer, srv.brokerAddr, topic, int32(o.partitions), n, g); err != nil {
		return r, srv, fmt.Errorf("producing: %w", err)
	}
	expected := g.expected
	g = nil
	runtime.GC()
	debug.FreeOSMemory()
	r.ServerPeakAfterProduceKB, _ = procStatusKB(srv.pid(), "VmHWM")
	settle(srv.pid())
	step("run %d: tumble-count query", i+1)
	if r.Query, err = runQuery(ctx, conn, srv, n, expected, false); err != nil {
		return r, srv, err
	}
	r.GrowthKB = r.Query.PeakRSSKB - r.Query.RSSBeforeKB
	step("run %d: %s events/s, %d rows (checked); RSS %s before the query, peak %s during it",
		i+1, commas(r.Query.EventsPerS), r.Query.Rows, mib(r.Query.RSSBeforeKB), mib(r.Query.PeakRSSKB))
	return r, srv, nil
}

func (r *memoryReport) print(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("StreamSQL memory benchmark: the clickstream tumble-count query at N and %dN events, same keys, fresh servers", r.Factor)
	p("  data     %s; %d partitions", r.Generator, r.Partitions)
	p("  broker   %s", r.Broker)
	p("  machine  %d cores, load average %s before the runs; %s; commit %s", r.Cores, r.LoadAvgBefore, r.Go, r.Commit)
	p("")
	p("  %12s %9s %12s %14s %14s %14s %14s", "events", "rows", "events/s", "RSS after prod", "RSS at query", "peak in query", "query growth")
	for _, x := range r.Runs {
		p("  %12s %9s %12s %14s %14s %14s %14s", commas(float64(x.Events)), commas(float64(x.Query.Rows)), commas(x.Query.EventsPerS),
			mib(x.ServerPeakAfterProduceKB), mib(x.Query.RSSBeforeKB), mib(x.Query.PeakRSSKB), mib(x.GrowthKB))
	}
	p("")
	verdict := "met"
	if !r.MetTarget {
		verdict = "NOT met"
	}
	p("  peak RSS ratio (%dN / N)           %.2f   target: within %.0f%% (%s)", r.Factor, r.PeakRatio, 100*(memoryTarget-1), verdict)
	p("  query growth ratio (peak - at query) %.2f", r.GrowthRatio)
	p("  RSS after prod: the server's peak before the query; query growth: its peak during the query minus its RSS")
	p("  when the query was sent, which is what the query added.")
	if r.embedded {
		p("  With the embedded broker the server's RSS also holds what the broker keeps in memory of the topic and the")
		p("  fetch responses it builds for the query; against -brokers it is the engine's alone.")
	}
}
