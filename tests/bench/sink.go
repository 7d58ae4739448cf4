package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/jackc/pgx/v5"
)

// The sink part: the tumble-count query as a continuous sink reading the
// same topic from its earliest offset, once per delivery guarantee, so that
// the throughput cost of exactly-once shows beside at-least-once.

// sinkModes are measured in this order; the ratio is exactly_once over
// at_least_once.
var sinkModes = []string{"at_least_once", "exactly_once"}

const (
	// sinkCheckpointInterval is the sinks' checkpoint_interval.
	sinkCheckpointInterval = "1s"
	// sinkPoll is how often SHOW SINKS is asked while a sink runs: the
	// wall time is known to this precision.
	sinkPoll = 50 * time.Millisecond
	// sinkTimeout bounds one sink's measurement, checkpoints included.
	sinkTimeout = 10 * time.Minute
	// outputQuiet ends the read of an output partition that has sent
	// nothing for this long (see readOutput).
	outputQuiet = 1500 * time.Millisecond
	// lsoWait bounds how long readOutput waits for open transactions.
	lsoWait = 5 * time.Second
)

const sinkSelect = `SELECT page, TUMBLE_START(ts, INTERVAL '1' MINUTE) AS window_start, COUNT(*) AS clicks ` +
	`FROM clicks GROUP BY page, TUMBLE(ts, INTERVAL '1' MINUTE)`

// checkpointSeen is one completed checkpoint as a SHOW SINKS poll saw it.
type checkpointSeen struct {
	Epoch int64 `json:"epoch"`
	Ms    int64 `json:"checkpoint_ms"`
	Bytes int64 `json:"checkpoint_bytes"`
	// After is the time from CREATE SINK to the poll that first saw it.
	After time.Duration `json:"seen_after_ns"`
}

// sinkResult is one sink's measurement. cpuUse covers CREATE SINK up to the
// poll that saw rows_in reach N.
type sinkResult struct {
	Run      int    `json:"run"`
	Delivery string `json:"delivery"`
	Sink     string `json:"sink"`
	Topic    string `json:"topic"`
	Events   int64  `json:"events"`
	cpuUse
	EventsPerS            float64 `json:"events_per_s"`
	EventsPerServerCPUSec float64 `json:"events_per_server_cpu_s"`
	OthersCores           float64 `json:"others_cores"`
	// WallInterpolated places the moment rows_in reached N between the
	// last two polls, at the rate rows_in grew between the two polls
	// before (rows_in stops at N, so the last interval says nothing about
	// the rate): the polled Wall is late by up to sinkPoll.
	// EventsPerSInterpolated is N over it.
	WallInterpolated       time.Duration `json:"wall_interpolated_ns"`
	EventsPerSInterpolated float64       `json:"events_per_s_interpolated"`
	// FirstRows is CREATE SINK to the first poll that saw rows_in > 0
	// (the sink's start-up, to sinkPoll).
	FirstRows time.Duration `json:"first_rows_after_ns"`
	// ToCheckpoint is CREATE SINK to the poll that saw the first
	// checkpoint completed after rows_in reached N.
	ToCheckpoint time.Duration `json:"to_checkpoint_ns"`
	// EpochAtN is last_checkpoint when rows_in reached N; CheckpointEpoch
	// the first one after it.
	EpochAtN        int64 `json:"epoch_at_rows_in_n"`
	CheckpointEpoch int64 `json:"checkpoint_epoch"`
	// CheckpointMs and CheckpointBytes are what SHOW SINKS reported for
	// that first checkpoint after the run; the maxima are over every
	// checkpoint seen while polling (the run and the checkpoints after it).
	CheckpointMs       int64            `json:"checkpoint_ms"`
	CheckpointBytes    int64            `json:"checkpoint_bytes"`
	MaxCheckpointMs    int64            `json:"max_checkpoint_ms"`
	MaxCheckpointBytes int64            `json:"max_checkpoint_bytes"`
	Checkpoints        []checkpointSeen `json:"checkpoints"`
	// What SHOW SINKS said once the output was complete.
	RowsIn       int64  `json:"rows_in"`
	RowsOut      int64  `json:"rows_out"`
	LateEvents   int64  `json:"late_events"`
	DecodeErrors int64  `json:"decode_errors"`
	State        string `json:"state"`
	// FailedReasons lists every distinct failure reason a poll saw.
	FailedReasons []string `json:"failed_reasons,omitempty"`
	// Restarts is streamsql_sink_restarts_total (-1: /metrics unreadable).
	Restarts int64       `json:"restarts"`
	Output   outputCheck `json:"output"`
	// Problem is set when the output was wrong; the run then fails after
	// the report is printed.
	Problem string `json:"problem,omitempty"`
	// Notes are observations that do not fail the run.
	Notes []string `json:"notes,omitempty"`
}

// outputCheck is what was read back from the sink's topic (read_committed)
// and what the generator says should be there.
type outputCheck struct {
	Records    int64 `json:"records"`
	Groups     int   `json:"groups"`
	Duplicates int64 `json:"duplicate_records"`
	// Clicks is the sum over all records read, duplicates included.
	Clicks int64 `json:"clicks"`
	// ClosedGroups and ClosedEvents are the (page, window) groups of the
	// windows the watermark has closed and the events in them: what the
	// sink must have emitted. OpenEvents are in windows still open.
	ClosedWindows int   `json:"closed_windows"`
	ClosedGroups  int   `json:"closed_groups"`
	ClosedEvents  int64 `json:"closed_events"`
	OpenEvents    int64 `json:"open_events"`
	// UncertainWindows lie between the lowest and the highest partition
	// watermark: closed only once every partition is idle.
	UncertainWindows int `json:"uncertain_windows,omitempty"`
	// CommittedEnd and HighWatermark sum the read_committed end offsets
	// (last stable offsets) and the high watermarks of the partitions;
	// they differ while a transaction is open.
	CommittedEnd  int64 `json:"committed_end_offsets"`
	HighWatermark int64 `json:"high_watermarks"`
	// AfterDrop* are the same sums after DROP SINK.
	AfterDropCommittedEnd  int64 `json:"after_drop_committed_end_offsets"`
	AfterDropHighWatermark int64 `json:"after_drop_high_watermarks"`
}

// closedWindows splits the expected groups by whether a continuous query
// over all the data has closed their window. A window closes when the
// watermark reaches its end; the watermark is the minimum over partitions
// of (largest event time - delay), and the largest of them once every
// partition is idle: windows ending between the two are uncertain.
func closedWindows(expected map[windowKey]int64, maxTs []int64, delay time.Duration) (sure, uncertain map[windowKey]int64) {
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, ts := range maxTs {
		if ts == math.MinInt64 {
			lo = math.MinInt64 // an empty partition holds the watermark until it is idle
			continue
		}
		lo = min(lo, ts-delay.Milliseconds())
		hi = max(hi, ts-delay.Milliseconds())
	}
	sure, uncertain = map[windowKey]int64{}, map[windowKey]int64{}
	for k, v := range expected {
		end := k.window + 60_000
		switch {
		case lo != math.MinInt64 && end <= lo:
			sure[k] = v
		case hi != math.MinInt64 && end <= hi:
			uncertain[k] = v
		}
	}
	return sure, uncertain
}

// sinkStatus is one SHOW SINKS row.
type sinkStatus struct {
	state, reason                             string
	rowsIn, rowsOut, decodeErrors, lateEvents int64
	lastCheckpoint, checkpointMs, cpBytes     int64
	delivery                                  string
}

func showSink(ctx context.Context, conn *pgx.Conn, name string) (sinkStatus, bool, error) {
	rows, err := conn.Query(ctx, "SHOW SINKS", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return sinkStatus{}, false, err
	}
	defer rows.Close()
	idx := map[string]int{}
	for i, f := range rows.FieldDescriptions() {
		idx[f.Name] = i
	}
	for _, c := range []string{"name", "state", "rows_in", "rows_out", "last_checkpoint", "checkpoint_ms", "checkpoint_bytes"} {
		if _, ok := idx[c]; !ok {
			return sinkStatus{}, false, fmt.Errorf("SHOW SINKS has no column %q", c)
		}
	}
	var st sinkStatus
	found := false
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			return sinkStatus{}, false, err
		}
		col := func(name string) any {
			if i, ok := idx[name]; ok {
				return v[i]
			}
			return nil
		}
		if s, _ := col("name").(string); s != name {
			continue
		}
		found = true
		st.state, _ = col("state").(string)
		st.reason, _ = col("reason").(string)
		st.delivery, _ = col("delivery").(string)
		st.rowsIn = asInt(col("rows_in"))
		st.rowsOut = asInt(col("rows_out"))
		st.decodeErrors = asInt(col("decode_errors"))
		st.lateEvents = asInt(col("late_events"))
		st.lastCheckpoint = asInt(col("last_checkpoint"))
		st.checkpointMs = asInt(col("checkpoint_ms"))
		st.cpBytes = asInt(col("checkpoint_bytes"))
	}
	return st, found, rows.Err()
}

func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case int:
		return int64(x)
	}
	return 0
}

// runSink measures one delivery mode: CREATE SINK, poll SHOW SINKS every
// sinkPoll until rows_in reaches n (the timed part) and then until the first
// checkpoint after that completes; wait for one more checkpoint (the first
// whose barrier surely followed the last event), read the output topic back
// and check it, and DROP SINK.
func runSink(ctx context.Context, conn *pgx.Conn, srv *server, mode, topicSuffix string, n int64,
	sure, uncertain map[windowKey]int64) (sinkResult, error) {
	r := sinkResult{Delivery: mode, Sink: "bench_" + mode, Topic: "bench_" + mode + topicSuffix, Events: n, Restarts: -1}
	pid := srv.pid()
	ddl := fmt.Sprintf("CREATE SINK %s WITH (kafka_topic = '%s', delivery = '%s', checkpoint_interval = '%s') AS %s",
		r.Sink, r.Topic, mode, sinkCheckpointInterval, sinkSelect)

	// With -runs > 1 the topic holds earlier runs' output: this run's
	// starts at its current end.
	from := map[int32]int64{}
	if ps, err := outputPartitions(srv.brokerAddr, r.Topic); err == nil {
		for _, p := range ps {
			from[p.partition] = p.high
		}
	}

	before, err := sampleCPU(pid)
	if err != nil {
		return r, err
	}
	if _, err := conn.Exec(ctx, ddl, pgx.QueryExecModeSimpleProtocol); err != nil {
		return r, fmt.Errorf("%s: %w", ddl, err)
	}
	dropped := false
	defer func() {
		if !dropped { // on an error: leave no sink running
			_, _ = conn.Exec(context.Background(), "DROP SINK IF EXISTS "+r.Sink, pgx.QueryExecModeSimpleProtocol)
		}
	}()

	last, atN, err := watchSink(ctx, conn, pid, &r, n, before)
	if err != nil {
		return r, err
	}
	r.cpuUse = cpuBetween(before, atN)
	r.EventsPerS = float64(n) / r.Wall.Seconds()
	r.EventsPerSInterpolated = float64(n) / r.WallInterpolated.Seconds()
	r.EventsPerServerCPUSec = float64(n) / r.Server.Seconds()
	r.OthersCores = r.othersCores()
	r.RowsIn, r.RowsOut, r.LateEvents, r.DecodeErrors, r.State = last.rowsIn, last.rowsOut, last.lateEvents, last.decodeErrors, last.state
	if last.delivery != mode {
		r.Notes = append(r.Notes, fmt.Sprintf("SHOW SINKS reports delivery %q for a sink created with %q", last.delivery, mode))
	}
	if r.RowsIn != n {
		r.Notes = append(r.Notes, fmt.Sprintf("rows_in is %d, %d events were produced", r.RowsIn, n))
	}

	recs, ends, err := readOutput(srv.brokerAddr, r.Topic, from)
	if err != nil {
		return r, fmt.Errorf("reading %s back: %w", r.Topic, err)
	}
	r.Output.CommittedEnd, r.Output.HighWatermark = ends.committed, ends.high
	r.checkOutput(recs, sure, uncertain, n)
	if st, ok, err := showSink(ctx, conn, r.Sink); err == nil && ok {
		r.RowsOut = st.rowsOut // windows the idle timeout closed meanwhile count too
	}
	r.Restarts = sinkRestarts(srv.httpAddr, r.Sink)

	if _, err := conn.Exec(ctx, "DROP SINK "+r.Sink, pgx.QueryExecModeSimpleProtocol); err != nil {
		return r, fmt.Errorf("DROP SINK %s: %w", r.Sink, err)
	}
	dropped = true
	if after, err := outputEnds(srv.brokerAddr, r.Topic); err == nil {
		r.Output.AfterDropCommittedEnd, r.Output.AfterDropHighWatermark = after.committed, after.high
		if after.committed != after.high {
			r.Notes = append(r.Notes, fmt.Sprintf("after DROP SINK the output topic's read_committed end offsets (sum %d) stay below its high watermarks (sum %d): a transaction was left open",
				after.committed, after.high))
		}
	}
	return r, nil
}

// watchSink polls SHOW SINKS for r.Sink every sinkPoll from before.at until
// rows_in reaches n (atN is the CPU sample then) and then until the second
// checkpoint after that completes, filling r's start-up, timing and
// checkpoint fields. last is the status the final poll saw.
func watchSink(ctx context.Context, conn *pgx.Conn, pid int, r *sinkResult, n int64, before cpuSample) (last sinkStatus, atN cpuSample, err error) {
	var (
		reachedN bool
		cpAfter  bool
		prevAt   time.Time
		// rate is rows_in's growth per second between the last two polls.
		rate    float64
		seen    = map[int64]bool{}
		reasons = map[string]bool{}
	)
	deadline := before.at.Add(sinkTimeout)
	next := before.at
	for {
		next = next.Add(sinkPoll)
		time.Sleep(time.Until(next))
		st, ok, err := showSink(ctx, conn, r.Sink)
		if err != nil {
			return last, atN, fmt.Errorf("SHOW SINKS: %w", err)
		}
		now := time.Now()
		if !ok {
			return last, atN, fmt.Errorf("SHOW SINKS does not list %s", r.Sink)
		}
		if r.FirstRows == 0 && st.rowsIn > 0 {
			r.FirstRows = now.Sub(before.at)
		}
		if !reachedN && st.rowsIn >= n {
			if atN, err = sampleCPU(pid); err != nil {
				return last, atN, err
			}
			reachedN = true
			r.EpochAtN = st.lastCheckpoint
			r.WallInterpolated = now.Sub(before.at)
			if rate > 0 {
				est := prevAt.Sub(before.at) + time.Duration(float64(n-last.rowsIn)/rate*float64(time.Second))
				r.WallInterpolated = min(r.WallInterpolated, est)
			}
		}
		if !prevAt.IsZero() && now.After(prevAt) {
			rate = float64(st.rowsIn-last.rowsIn) / now.Sub(prevAt).Seconds()
		}
		last, prevAt = st, now
		if st.state == "failed" && !reasons[st.reason] {
			reasons[st.reason] = true
			r.FailedReasons = append(r.FailedReasons, st.reason)
		}
		if st.lastCheckpoint > 0 && !seen[st.lastCheckpoint] {
			seen[st.lastCheckpoint] = true
			r.Checkpoints = append(r.Checkpoints, checkpointSeen{Epoch: st.lastCheckpoint, Ms: st.checkpointMs,
				Bytes: st.cpBytes, After: now.Sub(before.at)})
			r.MaxCheckpointMs = max(r.MaxCheckpointMs, st.checkpointMs)
			r.MaxCheckpointBytes = max(r.MaxCheckpointBytes, st.cpBytes)
		}
		if reachedN && !cpAfter && st.lastCheckpoint > r.EpochAtN {
			cpAfter = true
			r.ToCheckpoint = now.Sub(before.at)
			r.CheckpointMs, r.CheckpointBytes, r.CheckpointEpoch = st.checkpointMs, st.cpBytes, st.lastCheckpoint
		}
		// The checkpoint after EpochAtN may have had its barrier injected
		// before the last events were read; the one after it cannot
		// (one checkpoint is in flight at a time), so once it completes
		// every closed window is in the output (and, exactly-once,
		// committed).
		if reachedN && st.lastCheckpoint >= r.EpochAtN+2 {
			break
		}
		if now.After(deadline) {
			if !reachedN {
				return last, atN, fmt.Errorf("sink %s: rows_in is %d of %d after %s (state %s %s)", r.Sink, st.rowsIn, n, sinkTimeout, st.state, st.reason)
			}
			return last, atN, fmt.Errorf("sink %s: read all %d events, but last_checkpoint stayed at %d for %s (state %s %s)",
				r.Sink, n, st.lastCheckpoint, sinkTimeout, st.state, st.reason)
		}
	}
	return last, atN, nil
}

// outputRecord is one record of the sink's topic.
type outputRecord struct {
	key, value []byte
}

// checkOutput compares the records read back with the closed windows:
// every closed group once with its count, no group of a window still open.
// At-least-once may repeat a record (counted and noted); exactly-once may
// not.
func (r *sinkResult) checkOutput(recs []outputRecord, sure, uncertain map[windowKey]int64, n int64) {
	o := &r.Output
	got := map[windowKey]int64{}
	times := map[windowKey]int{}
	var bad []string
	for _, m := range recs {
		var v struct {
			Page        string `json:"page"`
			WindowStart string `json:"window_start"`
			Clicks      int64  `json:"clicks"`
		}
		if err := json.Unmarshal(m.value, &v); err != nil {
			bad = append(bad, fmt.Sprintf("undecodable record %q: %v", m.value, err))
			continue
		}
		ws, err := time.Parse(time.RFC3339, v.WindowStart)
		if err != nil {
			bad = append(bad, fmt.Sprintf("record %s: bad window_start: %v", m.value, err))
			continue
		}
		k := windowKey{v.Page, ws.UnixMilli()}
		o.Records++
		o.Clicks += v.Clicks
		got[k] = v.Clicks
		times[k]++
	}
	o.Groups = len(got)
	o.Duplicates = o.Records - int64(o.Groups)

	windows := map[int64]bool{}
	uncertainWindows := map[int64]bool{}
	closed := map[windowKey]int64{}
	for k, v := range sure {
		closed[k] = v
		windows[k.window] = true
	}
	for k := range uncertain {
		uncertainWindows[k.window] = true
	}
	o.UncertainWindows = len(uncertainWindows)
	// An uncertain window counts as closed if the sink emitted it.
	for k, v := range uncertain {
		if _, ok := got[k]; ok {
			closed[k] = v
			windows[k.window] = true
		}
	}
	o.ClosedWindows = len(windows)
	o.ClosedGroups = len(closed)
	for _, v := range closed {
		o.ClosedEvents += v
	}
	o.OpenEvents = n - o.ClosedEvents

	for k, c := range got {
		w, ok := closed[k]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("%s @ %s: %d clicks emitted for a window not closed (or a group never produced)", k.page, fmtWindow(k.window), c))
		case c != w:
			bad = append(bad, fmt.Sprintf("%s @ %s: got %d, want %d", k.page, fmtWindow(k.window), c, w))
		}
	}
	for k, w := range closed {
		if _, ok := got[k]; !ok {
			bad = append(bad, fmt.Sprintf("%s @ %s: missing (want %d)", k.page, fmtWindow(k.window), w))
		}
	}
	var dup []string
	for k, t := range times {
		if t > 1 {
			dup = append(dup, fmt.Sprintf("%s @ %s x%d", k.page, fmtWindow(k.window), t))
		}
	}
	sort.Strings(dup)
	if len(dup) > 5 {
		dup = append(dup[:5], "...")
	}
	exactly := r.Delivery == "exactly_once"
	switch {
	case o.Duplicates > 0 && exactly:
		bad = append(bad, fmt.Sprintf("%d records for %d groups: duplicates (%s)", o.Records, o.Groups, strings.Join(dup, ", ")))
	case o.Duplicates > 0:
		r.Notes = append(r.Notes, fmt.Sprintf("%d duplicate records (allowed at least once): %s", o.Duplicates, strings.Join(dup, ", ")))
	}
	if exactly && o.Records != int64(o.ClosedGroups) {
		bad = append(bad, fmt.Sprintf("%d records, %d closed (page, window) groups", o.Records, o.ClosedGroups))
	}
	var dedup int64
	for _, c := range got {
		dedup += c
	}
	if dedup != o.ClosedEvents {
		bad = append(bad, fmt.Sprintf("the emitted windows hold %d clicks, the closed windows %d events", dedup, o.ClosedEvents))
	}
	if len(bad) == 0 {
		return
	}
	total := len(bad)
	sort.Strings(bad)
	if total > 10 {
		bad = append(bad[:10], fmt.Sprintf("... %d more", total-10))
	}
	r.Problem = fmt.Sprintf("WRONG OUTPUT on %s (%d records, %d clicks; %d closed groups, %d events): %s",
		r.Topic, o.Records, o.Clicks, o.ClosedGroups, o.ClosedEvents, strings.Join(bad, "; "))
}

func fmtWindow(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.DateTime) }

type endOffsets struct{ committed, high int64 }

// partitionEnds are a partition's oldest offset, its read_committed end
// (the last stable offset) and its high watermark.
type partitionEnds struct {
	partition               int32
	oldest, committed, high int64
}

func outputClient(broker string) (sarama.Client, error) {
	conf := sarama.NewConfig()
	conf.Version = sarama.V4_1_0_0
	conf.Consumer.IsolationLevel = sarama.ReadCommitted
	conf.Consumer.Return.Errors = true
	return sarama.NewClient([]string{broker}, conf)
}

func topicEnds(client sarama.Client, topic string) ([]partitionEnds, error) {
	if err := client.RefreshMetadata(topic); err != nil {
		return nil, err
	}
	parts, err := client.Partitions(topic)
	if err != nil {
		return nil, err
	}
	var out []partitionEnds
	for _, p := range parts {
		e := partitionEnds{partition: p}
		if e.oldest, err = client.GetOffset(topic, p, sarama.OffsetOldest); err != nil {
			return nil, err
		}
		if e.high, err = client.GetOffset(topic, p, sarama.OffsetNewest); err != nil {
			return nil, err
		}
		// client.GetOffset asks read_uncommitted (the high watermark);
		// the last stable offset needs a ListOffsets of our own.
		leader, err := client.Leader(topic, p)
		if err != nil {
			return nil, err
		}
		req := sarama.NewOffsetRequest(client.Config().Version)
		req.IsolationLevel = sarama.ReadCommitted
		req.AddBlock(topic, p, sarama.OffsetNewest, 1)
		resp, err := leader.GetAvailableOffsets(req)
		if err != nil {
			return nil, err
		}
		b := resp.GetBlock(topic, p)
		if b == nil {
			return nil, fmt.Errorf("%s/%d: no offset in the ListOffsets response", topic, p)
		}
		if b.Err != sarama.ErrNoError {
			return nil, fmt.Errorf("%s/%d: ListOffsets read_committed: %w", topic, p, b.Err)
		}
		e.committed = b.Offset
		out = append(out, e)
	}
	return out, nil
}

// outputPartitions returns the offsets of topic's partitions; an error
// if the topic does not exist.
func outputPartitions(broker, topic string) ([]partitionEnds, error) {
	client, err := outputClient(broker)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	return topicEnds(client, topic)
}

func outputEnds(broker, topic string) (endOffsets, error) {
	ps, err := outputPartitions(broker, topic)
	var e endOffsets
	for _, p := range ps {
		e.committed += p.committed
		e.high += p.high
	}
	return e, err
}

// readOutput reads every partition of topic with isolation.level =
// read_committed from the offset in from (the oldest if absent) up to its
// last stable offset. On Apache Kafka the commit markers reach the
// partitions a moment after the commit, so it first waits (up to
// lsoWait) for the last stable offsets to catch up with the high
// watermarks; a transaction still open after that stays unread. A
// transactional partition
// ends with a commit marker the consumer never delivers, so a partition
// whose last record is below the end is read until it has been quiet for
// outputQuiet (the output is small: this is not timed).
func readOutput(broker, topic string, from map[int32]int64) ([]outputRecord, endOffsets, error) {
	var ends endOffsets
	client, err := outputClient(broker)
	if err != nil {
		return nil, ends, err
	}
	defer client.Close()
	var parts []partitionEnds
	for deadline := time.Now().Add(lsoWait); ; time.Sleep(100 * time.Millisecond) {
		if parts, err = topicEnds(client, topic); err != nil {
			return nil, ends, err
		}
		settled := true
		for _, p := range parts {
			settled = settled && p.committed == p.high
		}
		if settled || time.Now().After(deadline) {
			break
		}
	}
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return nil, ends, err
	}
	defer consumer.Close()
	var (
		mu   sync.Mutex
		out  []outputRecord
		errs = make([]error, len(parts))
		wg   sync.WaitGroup
	)
	for i, p := range parts {
		ends.committed += p.committed
		ends.high += p.high
		start := max(p.oldest, from[p.partition])
		if p.committed <= start {
			continue
		}
		pc, err := consumer.ConsumePartition(topic, p.partition, start)
		if err != nil {
			return nil, ends, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer pc.AsyncClose()
			quiet := time.NewTimer(outputQuiet)
			defer quiet.Stop()
			overall := time.NewTimer(time.Minute)
			defer overall.Stop()
			var mine []outputRecord
			defer func() {
				mu.Lock()
				out = append(out, mine...)
				mu.Unlock()
			}()
			for {
				select {
				case m := <-pc.Messages():
					mine = append(mine, outputRecord{key: m.Key, value: m.Value})
					if m.Offset >= p.committed-1 {
						return
					}
					quiet.Reset(outputQuiet)
				case e := <-pc.Errors():
					errs[i] = e
					return
				case <-quiet.C:
					return
				case <-overall.C:
					errs[i] = fmt.Errorf("%s/%d: not read up to offset %d within a minute", topic, p.partition, p.committed)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			return nil, ends, e
		}
	}
	return out, ends, nil
}

// sinkRestarts reads streamsql_sink_restarts_total for sink from /metrics;
// -1 if it cannot.
func sinkRestarts(httpAddr, sink string) int64 {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "streamsql_sink_restarts_total{") || !strings.Contains(line, `"`+sink+`"`) {
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			return int64(v)
		}
	}
	return -1
}
