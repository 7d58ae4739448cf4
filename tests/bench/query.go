package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// tumbleCount is measurement (b): the bounded query a user would type, read
// back over the Postgres wire.
const tumbleCount = `SELECT page, TUMBLE_START(ts, INTERVAL '1' MINUTE) AS window_start, COUNT(*) AS clicks ` +
	`FROM clicks GROUP BY page, TUMBLE(ts, INTERVAL '1' MINUTE)`

type queryResult struct {
	Events int64 `json:"events"`
	Rows   int   `json:"rows"`
	cpuUse
	EventsPerS float64 `json:"events_per_s"`
	// EventsPerServerCPUSec divides by all the server's CPU, which with
	// the embedded broker includes serving the fetches.
	EventsPerServerCPUSec float64 `json:"events_per_server_cpu_s"`
	OthersCores           float64 `json:"others_cores"`
	// RSSBeforeKB is the server's resident set when the query was sent;
	// PeakRSSKB its high-water mark during the query (or over the
	// process's life if the mark could not be reset, see PeakIsLifetime).
	RSSBeforeKB    int64 `json:"rss_before_kb"`
	PeakRSSKB      int64 `json:"peak_rss_kb"`
	PeakIsLifetime bool  `json:"peak_is_lifetime"`
}

// runQuery sends the tumble-count query, reads every row, and checks the
// counts against what the generator wrote: each (page, window) group must
// match and the clicks must add up to n. The clock runs from sending the
// query to receiving its last row. With profile, the server (built with the
// profiling hook) is profiled during the query.
func runQuery(ctx context.Context, conn *pgx.Conn, srv *server, n int64, expected map[windowKey]int64, profile bool) (queryResult, error) {
	pid := srv.pid()
	var r queryResult
	var err error
	if r.RSSBeforeKB, err = procStatusKB(pid, "VmRSS"); err != nil {
		return r, err
	}
	r.PeakIsLifetime = !resetPeakRSS(pid)
	if profile {
		if err := startServerProfile(srv); err != nil {
			return r, err
		}
	}

	got := make(map[windowKey]int64, len(expected))
	var sum int64
	before, err := sampleCPU(pid)
	if err != nil {
		return r, err
	}
	// The simple protocol sends the query in one message, with no
	// Parse/Describe round trip ahead of it.
	rows, err := conn.Query(ctx, tumbleCount, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return r, fmt.Errorf("query: %w", err)
	}
	var lastRow time.Time
	for rows.Next() {
		var (
			page   string
			window time.Time
			clicks int64
		)
		if err := rows.Scan(&page, &window, &clicks); err != nil {
			rows.Close()
			return r, fmt.Errorf("scanning a row: %w", err)
		}
		lastRow = time.Now()
		got[windowKey{page, window.UnixMilli()}] += clicks
		sum += clicks
		r.Rows++
	}
	rows.Close()
	after, err := sampleCPU(pid)
	if err != nil {
		return r, err
	}
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("query: %w", err)
	}
	if profile {
		if err := stopServerProfile(srv); err != nil {
			return r, err
		}
	}
	if r.PeakRSSKB, err = procStatusKB(pid, "VmHWM"); err != nil {
		return r, err
	}

	if err := compareGroups(got, expected); err != nil {
		return r, fmt.Errorf("WRONG RESULT: the query counted %d clicks in %d rows, %d were produced; %w", sum, r.Rows, n, err)
	}
	if sum != n { // cannot happen when the groups match; kept as the check
		return r, fmt.Errorf("WRONG RESULT: the query counted %d clicks in %d rows, %d were produced", sum, r.Rows, n)
	}
	r.cpuUse = cpuBetween(before, after)
	if !lastRow.IsZero() {
		r.Wall = lastRow.Sub(before.at)
	}
	r.Events = sum
	r.EventsPerS = float64(sum) / r.Wall.Seconds()
	r.EventsPerServerCPUSec = float64(sum) / r.Server.Seconds()
	r.OthersCores = r.othersCores()
	return r, nil
}

// compareGroups reports the first few groups whose count differs.
func compareGroups(got, want map[windowKey]int64) error {
	var diffs []string
	for k, w := range want {
		if g := got[k]; g != w {
			diffs = append(diffs, fmt.Sprintf("%s @ %s: got %d, want %d", k.page, time.UnixMilli(k.window).UTC().Format(time.DateTime), g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s @ %s: got %d, want no row", k.page, time.UnixMilli(k.window).UTC().Format(time.DateTime), g))
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	total := len(diffs)
	sort.Strings(diffs)
	if total > 10 {
		diffs = append(diffs[:10], fmt.Sprintf("... %d more", total-10))
	}
	return fmt.Errorf("%d groups differ from what was produced:\n  %s", total, strings.Join(diffs, "\n  "))
}
