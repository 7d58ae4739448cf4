package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The recovery tests run the clickstream tumble count over a few hundred
// thousand events while the engine (or Kafka) is stopped at random moments,
// then compare the committed output, read with read_committed, with the
// result computed directly from the events: for exactly-once every window
// exactly once, for at-least-once every window at least once.

const (
	crashPages    = 8
	crashStepMs   = 10 // event time between consecutive events
	crashWindowMs = 10_000
)

var crashBase = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).UnixMilli()

func crashEvent(i int) Record {
	ts := crashBase + int64(i)*crashStepMs
	v := fmt.Sprintf(`{"user_id":%d,"page":"/p/%d","ts":%d}`, i%9973, i%crashPages, ts)
	return Record{Partition: int32(i % 4), Value: []byte(v)}
}

// expectedCounts is the windowed count computed straight from events [0, n).
func expectedCounts(n int) map[string]int {
	out := map[string]int{}
	for i := 0; i < n; i++ {
		ts := crashBase + int64(i)*crashStepMs
		ws := ts - ts%crashWindowMs
		out[fmt.Sprintf("/p/%d@%d", i%crashPages, ws)]++
	}
	return out
}

type crashResult struct {
	Page  string `json:"page"`
	WS    string `json:"ws"`
	Count int    `json:"n"`
}

func setupCrashQuery(t *testing.T, srv *Server, delivery string) {
	t.Helper()
	execAll(t, srv,
		`CREATE STREAM clicks (user_id BIGINT, page VARCHAR, ts TIMESTAMP)
		   WITH (kafka_topic = 'clicks', timestamp = 'ts', partitions = 4, idle_timeout = '60 seconds')`,
		fmt.Sprintf(`CREATE SINK counts WITH (delivery = '%s') AS
		   SELECT page, TUMBLE_START(ts, INTERVAL '10' SECOND) AS ws, COUNT(*) AS n
		   FROM clicks GROUP BY page, TUMBLE(ts, INTERVAL '10' SECOND)`, delivery))
}

// execAll runs statements on a fresh connection, failing the test on the
// first error.
func execAll(t *testing.T, srv *Server, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := srv.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range stmts {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// startCrashServer starts the engine to be killed, checkpointing every
// 200 ms (with args added), and a Kafka client for its broker. The
// engine's own embedded broker would die with it: it is a development
// convenience and does not promise durability across a SIGKILL. Without a
// real cluster a second streamsql process serves as the broker.
func startCrashServer(t *testing.T, args ...string) (*Server, *Kafka) {
	t.Helper()
	brokers := Brokers()
	if brokers == "" {
		brokers = StartServerWith(t, "").BrokerAddr
	}
	srv := StartServerWith(t, brokers, append([]string{"--checkpoint-interval", "200ms"}, args...)...)
	k, err := NewKafka(srv.BrokerAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	if Brokers() != "" {
		cleanTopics(t, k)
		t.Cleanup(func() { cleanTopics(t, k) })
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log (tail):\n%s", short(srv.Log(), 6000))
		}
	})
	return srv, k
}

// produceWhileKilling produces events [0, events) while killing the engine
// with SIGKILL at random moments, crashKills times, restarting it each time.
func produceWhileKilling(t *testing.T, srv *Server, k *Kafka, events int) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		produceEvents(t, k, 0, events, 10_000, 100*time.Millisecond)
	}()
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for range crashKills() {
		time.Sleep(time.Duration(150+rng.Intn(600)) * time.Millisecond)
		srv.Kill()
		time.Sleep(time.Duration(rng.Intn(200)) * time.Millisecond)
		srv.Start()
	}
	wg.Wait()
}

// produceEvents writes events [from, to) in chunks, pausing between chunks
// so that processing overlaps with the disruptions.
func produceEvents(t *testing.T, k *Kafka, from, to, chunk int, pause time.Duration) {
	for i := from; i < to; i += chunk {
		var recs []Record
		for j := i; j < min(i+chunk, to); j++ {
			recs = append(recs, crashEvent(j))
		}
		var err error
		for attempt := 0; attempt < 100; attempt++ {
			if err = k.Produce("clicks", recs); err == nil {
				break
			}
			time.Sleep(200 * time.Millisecond) // the broker may be restarting
		}
		if err != nil {
			t.Errorf("producing events %d..: %v", i, err)
			return
		}
		time.Sleep(pause)
	}
}

// closeAllWindows writes one event per partition far past the last window
// so the watermark passes every window of events [0, n).
func closeAllWindows(t *testing.T, k *Kafka, n int) {
	var recs []Record
	ts := crashBase + int64(n)*crashStepMs + 5*crashWindowMs
	for p := int32(0); p < 4; p++ {
		recs = append(recs, Record{Partition: p, Value: []byte(fmt.Sprintf(`{"user_id":0,"page":"/end","ts":%d}`, ts))})
	}
	if err := k.Produce("clicks", recs); err != nil {
		t.Fatal(err)
	}
}

// checkCounts reads the sink's committed output and compares it with the
// expected counts. exact requires every window exactly once; otherwise
// duplicates are allowed but must carry the same count.
func checkCounts(t *testing.T, k *Kafka, n int, exact bool) {
	t.Helper()
	want := expectedCounts(n)
	recs, err := k.ReadAll("counts", len(want), 3*time.Minute, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]int{}
	for _, r := range recs {
		var cr crashResult
		if err := json.Unmarshal(r.Value, &cr); err != nil {
			t.Fatalf("bad output record %q: %v", r.Value, err)
		}
		ws, err := time.Parse("2006-01-02T15:04:05.000Z", cr.WS)
		if err != nil {
			t.Fatalf("bad window start in %q", r.Value)
		}
		key := fmt.Sprintf("%s@%d", cr.Page, ws.UnixMilli())
		got[key] = append(got[key], cr.Count)
	}
	var problems []string
	dups := 0
	for key, n := range want {
		counts := got[key]
		switch {
		case len(counts) == 0:
			problems = append(problems, fmt.Sprintf("missing %s (want %d)", key, n))
		case exact && len(counts) > 1:
			problems = append(problems, fmt.Sprintf("%s emitted %d times: %v", key, len(counts), counts))
		}
		for _, c := range counts {
			if c != n {
				problems = append(problems, fmt.Sprintf("%s: count %d, want %d", key, c, n))
			}
		}
		dups += max(0, len(counts)-1)
	}
	for key := range got {
		if _, ok := want[key]; !ok {
			problems = append(problems, fmt.Sprintf("unexpected window %s", key))
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		if len(problems) > 20 {
			problems = append(problems[:20], fmt.Sprintf("... and %d more", len(problems)-20))
		}
		t.Fatalf("%d output records for %d windows:\n%s", len(recs), len(want), strings.Join(problems, "\n"))
	}
	t.Logf("%d windows, %d output records, %d duplicates", len(want), len(recs), dups)
}

func TestExactlyOnceThroughCrashes(t *testing.T) { crashTest(t, "exactly_once") }

func TestAtLeastOnceThroughCrashes(t *testing.T) { crashTest(t, "at_least_once") }

// crashTest kills the engine with SIGKILL at random moments — at least 12
// times, many of them during checkpoints (every 200 ms) — while events are
// produced and processed, restarting it each time.
func crashTest(t *testing.T, delivery string) {
	events := crashEvents()
	srv, k := startCrashServer(t)
	setupCrashQuery(t, srv, delivery)
	produceWhileKilling(t, srv, k, events)
	closeAllWindows(t, k, events)
	t.Logf("%d kills", crashKills())
	checkCounts(t, k, events, delivery == "exactly_once")
}

// TestExactlyOnceThroughBrokerRestart restarts Kafka itself in the middle
// of a run: the sink fails, is restarted by the engine from its last
// checkpoint, and the output is still exactly once. With a real cluster the
// broker is restarted by tests/kafka/broker.sh; otherwise a second streamsql
// process serves as the broker (its embedded one), stopped and started.
func TestExactlyOnceThroughBrokerRestart(t *testing.T) {
	const events = 200_000
	var restartBroker func()
	var brokers string
	if b := Brokers(); b != "" {
		brokers = b
		restartBroker = func() {
			cmd := exec.Command("../kafka/broker.sh", "restart")
			cmd.Env = os.Environ()
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("broker.sh restart: %v\n%s", err, out)
			}
		}
	} else {
		broker := StartServerWith(t, "")
		brokers = broker.BrokerAddr
		restartBroker = func() {
			broker.Stop()
			time.Sleep(500 * time.Millisecond)
			broker.Start()
		}
	}
	srv := StartServerWith(t, brokers, "--checkpoint-interval", "200ms")
	k, err := NewKafka(brokers)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if Brokers() != "" {
		cleanTopics(t, k)
		defer cleanTopics(t, k)
	}
	setupCrashQuery(t, srv, "exactly_once")
	produceEvents(t, k, 0, events/2, 10_000, 50*time.Millisecond)
	restartBroker()
	produceEvents(t, k, events/2, events, 10_000, 50*time.Millisecond)
	closeAllWindows(t, k, events)
	checkCounts(t, k, events, true)
}

// crashEvents is how many events crashTest runs through (300,000; the soak
// target raises it with STREAMSQL_CRASH_EVENTS).
func crashEvents() int {
	if v, err := strconv.Atoi(os.Getenv("STREAMSQL_CRASH_EVENTS")); err == nil && v > 0 {
		return v
	}
	return 300_000
}

// crashKills is how many times crashTest kills the engine (12; the soak
// target raises it with STREAMSQL_CRASH_KILLS).
func crashKills() int {
	if v, err := strconv.Atoi(os.Getenv("STREAMSQL_CRASH_KILLS")); err == nil {
		return v
	}
	return 12
}

// TestExactlyOnceUpsertThroughCrashesWithEviction runs a non-windowed
// GROUP BY sink with a state budget far below its state, so that groups are
// evicted after their checkpoint and read back from Badger all the time,
// while the engine is killed at random moments. Its output is an upsert
// stream: exactly once means every user's successive counts strictly
// increase (a repeated count is a duplicate, a smaller one lost or stale
// state) and the last one is the user's total.
func TestExactlyOnceUpsertThroughCrashesWithEviction(t *testing.T) {
	const users = 9973 // crashEvent's user_id is i mod 9973
	events := crashEvents()
	srv, k := startCrashServer(t, "--state-cache-size", "64KiB")
	execAll(t, srv,
		`CREATE STREAM clicks (user_id BIGINT, page VARCHAR, ts TIMESTAMP)
		   WITH (kafka_topic = 'clicks', timestamp = 'ts', partitions = 4)`,
		`CREATE SINK totals WITH (delivery = 'exactly_once') AS
		   SELECT user_id, COUNT(*) AS n FROM clicks GROUP BY user_id`)
	produceWhileKilling(t, srv, k, events)
	// More events once the kills are over, so that the last run surely
	// reads evicted groups back (checked at the end).
	const tail = 60_000
	produceEvents(t, k, events, events+tail, 10_000, 100*time.Millisecond)

	want := make([]int, users)
	for i := range events + tail {
		want[i%users]++
	}
	// The last counts appear at the checkpoint after the last event is
	// processed: read until every user's last count is its total.
	var problems []string
	deadline := time.Now().Add(3 * time.Minute)
	for {
		recs, err := k.ReadAll("totals", users, time.Minute, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		seen := make([][]int, users)
		problems = problems[:0]
		for _, r := range recs {
			var v struct {
				User int `json:"user_id"`
				N    int `json:"n"`
			}
			if err := json.Unmarshal(r.Value, &v); err != nil || v.User < 0 || v.User >= users {
				t.Fatalf("bad output record %q: %v", r.Value, err)
			}
			seen[v.User] = append(seen[v.User], v.N)
		}
		for u, counts := range seen {
			switch {
			case len(counts) == 0:
				problems = append(problems, fmt.Sprintf("user %d: no count (want %d)", u, want[u]))
			case counts[len(counts)-1] != want[u]:
				problems = append(problems, fmt.Sprintf("user %d: last count %d, want %d (counts %v)", u, counts[len(counts)-1], want[u], counts))
			}
			for i := 1; i < len(counts); i++ {
				if counts[i] <= counts[i-1] {
					problems = append(problems, fmt.Sprintf("user %d: count %d after %d (counts %v)", u, counts[i], counts[i-1], counts))
					break
				}
			}
		}
		if len(problems) == 0 {
			t.Logf("%d users, %d output records, %d kills", users, len(recs), crashKills())
			break
		}
		if time.Now().After(deadline) {
			if len(problems) > 20 {
				problems = append(problems[:20], fmt.Sprintf("... and %d more", len(problems)-20))
			}
			t.Fatalf("%d output records:\n%s", len(recs), strings.Join(problems, "\n"))
		}
		time.Sleep(time.Second)
	}
	// The run since the last restart did evict groups and read them back,
	// or this test did not test eviction.
	evicted := sinkMetric(t, srv, "streamsql_sink_state_evictions_total", "totals")
	loaded := sinkMetric(t, srv, "streamsql_sink_state_loads_total", "totals")
	t.Logf("last run: %v groups evicted, %v read back", evicted, loaded)
	if evicted == 0 || loaded == 0 {
		t.Fatalf("the last run evicted %v groups and read back %v: the budget did not bite", evicted, loaded)
	}
}

// sinkMetric reads one sink's value of a metric from the server's /metrics.
func sinkMetric(t *testing.T, srv *Server, name, sink string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + srv.HTTP + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("%s{sink=%q} ", name, sink)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s for sink %s:\n%s", name, sink, body)
	return 0
}
