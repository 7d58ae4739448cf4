package e2e

// TestNexmark runs Nexmark queries of the Flink suite, their SELECT texts
// taken unchanged from shared/bench/nexmark, as bounded SELECTs over a few
// thousand generated events (tests/nexmark), and compares each result with
// the result computed directly in Go from the same events.
//
// The stream is the suite's Kafka table (ddl_kafka.sql) with the edits in
// nexmarkDDL, and the views person, auction and bid come from ddl_views.sql.
// q12 groups bids into processing-time windows in the suite; here it runs
// on event time (the bid view and DESCRIPTOR(dateTime)), which a test can
// check.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/streamsql/streamsql/tests/nexmark"
)

// nexmarkDir holds the suite's SQL: shared/ beside the repository clone.
var nexmarkDir = filepath.Join("..", "..", "..", "shared", "bench", "nexmark")

// nexmarkEvents is the size of the test's event set: 100 bursts of 100
// events, 50 ms apart within a burst, one burst every 73 minutes, so the
// events span five days and every hour of the day, and a 10-second window
// holds many bids.
const nexmarkEvents = 10_000

var nexmarkBase = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC).UnixMilli()

func nexmarkEventTime(i int64) int64 {
	return nexmarkBase + (i/100)*73*60_000 + (i%100)*50
}

// nexmarkDDL turns the suite's CREATE TABLE kafka into a CREATE STREAM. The
// edits, each of which must apply:
//   - CREATE TABLE kafka → CREATE STREAM nexmark;
//   - camelCase field names quoted, since unquoted names fold to lower case
//     and the JSON keys are camelCase (`dateTime` is quoted already);
//   - the WATERMARK clause becomes the options timestamp = 'dateTime' and
//     watermark_delay = '4 seconds';
//   - the Flink connector options become StreamSQL's.
func nexmarkDDL(t *testing.T, text string) string {
	t.Helper()
	edits := []struct{ from, to string }{
		{`CREATE TABLE kafka (`, `CREATE STREAM nexmark (`},
		{`emailAddress  VARCHAR`, "`emailAddress`  VARCHAR"},
		{`creditCard  VARCHAR`, "`creditCard`  VARCHAR"},
		{`itemName  VARCHAR`, "`itemName`  VARCHAR"},
		{`initialBid  BIGINT`, "`initialBid`  BIGINT"},
	}
	for _, e := range edits {
		if !strings.Contains(text, e.from) {
			t.Fatalf("ddl_kafka.sql: %q not found", e.from)
		}
		text = strings.Replace(text, e.from, e.to, 1)
	}
	watermark := regexp.MustCompile(",\\s*WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND\\s*\\)")
	if !watermark.MatchString(text) {
		t.Fatalf("ddl_kafka.sql: WATERMARK clause not found")
	}
	text = watermark.ReplaceAllString(text, "\n)")
	i := strings.Index(text, ") WITH (")
	if i < 0 {
		t.Fatalf("ddl_kafka.sql: WITH clause not found")
	}
	return text[:i] + ") WITH (kafka_topic = 'nexmark', value_format = 'json', timestamp = 'dateTime', " +
		"watermark_delay = '4 seconds', partitions = 4)"
}

// nexmarkStatements splits a suite file into statements, dropping
// whole-line comments (q2's holds a semicolon).
func nexmarkStatements(t *testing.T, name string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(nexmarkDir, name))
	if err != nil {
		t.Fatalf("reading the Nexmark suite (shared/bench/nexmark beside the repository): %v", err)
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			lines = append(lines, l)
		}
	}
	var out []string
	for _, s := range strings.Split(strings.Join(lines, "\n"), ";") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// nexmarkSelect returns the SELECT of a query file's INSERT INTO.
func nexmarkSelect(t *testing.T, name string) string {
	t.Helper()
	insert := regexp.MustCompile(`(?s)^INSERT INTO \w+\s+(SELECT.*)$`)
	for _, s := range nexmarkStatements(t, name) {
		if m := insert.FindStringSubmatch(s); m != nil {
			return m[1]
		}
	}
	t.Fatalf("%s: no INSERT INTO ... SELECT", name)
	return ""
}

// nexmarkQuery is one query and its reference result.
type nexmarkQuery struct {
	name string
	sql  string
	want []string
}

func TestNexmark(t *testing.T) {
	ddl := nexmarkDDL(t, strings.Join(nexmarkStatements(t, "ddl_kafka.sql"), ";"))
	var views []string
	for _, v := range nexmarkStatements(t, "ddl_views.sql") {
		views = append(views, strings.ReplaceAll(v, "${NEXMARK_TABLE}", "nexmark"))
	}
	events := nexmark.Generate(nexmark.Config{Seed: 1, EventTime: nexmarkEventTime}, nexmarkEvents)

	q12 := nexmarkSelect(t, "q12.sql")
	const proctime = "TABLE B, DESCRIPTOR(p_time)"
	if !strings.Contains(q12, proctime) {
		t.Fatalf("q12.sql: %q not found", proctime)
	}
	q12 = strings.Replace(q12, proctime, "TABLE bid, DESCRIPTOR(`dateTime`)", 1)
	queries := []nexmarkQuery{
		{"q0", nexmarkSelect(t, "q0.sql"), nexmarkQ0(events)},
		{"q1", nexmarkSelect(t, "q1.sql"), nexmarkQ1(events)},
		{"q2", nexmarkSelect(t, "q2.sql"), nexmarkQ2(events)},
		{"q12", q12, nexmarkQ12(events)},
		{"q14", nexmarkSelect(t, "q14.sql"), nexmarkQ14(events)},
		{"q15", nexmarkSelect(t, "q15.sql"), nexmarkQ15(events)},
		{"q17", nexmarkSelect(t, "q17.sql"), nexmarkQ17(events)},
		{"q21", nexmarkSelect(t, "q21.sql"), nexmarkQ21(events)},
		{"q22", nexmarkSelect(t, "q22.sql"), nexmarkQ22(events)},
	}

	srv := StartServer(t, "--checkpoint-interval", "500ms")
	defer func() {
		if t.Failed() {
			t.Logf("server log (tail):\n%s", short(srv.Log(), 6000))
		}
	}()
	ctx := context.Background()
	k, err := NewKafka(srv.BrokerAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if Brokers() != "" {
		cleanTopics(t, k)
		defer cleanTopics(t, k)
	}
	conn, err := srv.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, s := range append([]string{ddl}, views...) {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s\n: %v", s, err)
		}
	}
	recs := make([]Record, len(events))
	for i, e := range events {
		recs[i] = Record{Partition: -1, Value: e.JSON()}
	}
	for i := 0; i < len(recs); i += 1000 {
		if err := k.Produce("nexmark", recs[i:min(i+1000, len(recs))]); err != nil {
			t.Fatal(err)
		}
	}
	// Every event decodes and has an event time.
	if got := nexmarkRows(t, conn, "SELECT count(*), count(DISTINCT event_type) FROM nexmark"); len(got) != 1 ||
		got[0] != fmt.Sprintf("%d|3", nexmarkEvents) {
		t.Fatalf("nexmark holds %v; want %d events of 3 types", got, nexmarkEvents)
	}

	for _, q := range queries {
		t.Run(q.name, func(t *testing.T) {
			if len(q.want) == 0 {
				t.Fatalf("the reference result is empty: the events do not exercise %s", q.name)
			}
			got := nexmarkRows(t, conn, q.sql)
			t.Logf("%d rows", len(got))
			if diff := multisetDiff(got, q.want); diff != "" {
				t.Errorf("%s\n%s", q.sql, diff)
			}
		})
	}
}

// nexmarkRows runs a bounded SELECT and renders its rows as nexmarkRow does.
func nexmarkRows(t *testing.T, conn *pgx.Conn, sql string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		t.Fatalf("%s\n: %v", sql, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, nexmarkRow(vals...))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s\n: %v", sql, err)
	}
	return out
}

// nexmarkTS marks an epoch-ms value as a TIMESTAMP for nexmarkRow.
type nexmarkTS int64

// nexmarkRow renders values canonically, joined by "|": NULL (nil),
// integers, floats in Go's shortest form, strings as they are, timestamps
// as UTC with milliseconds.
func nexmarkRow(vals ...any) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		switch v := v.(type) {
		case nil:
			parts[i] = "NULL"
		case int64:
			parts[i] = strconv.FormatInt(v, 10)
		case int32:
			parts[i] = strconv.FormatInt(int64(v), 10)
		case int:
			parts[i] = strconv.Itoa(v)
		case float64:
			parts[i] = strconv.FormatFloat(v, 'g', -1, 64)
		case string:
			parts[i] = v
		case bool:
			parts[i] = strconv.FormatBool(v)
		case time.Time:
			parts[i] = v.UTC().Format("2006-01-02 15:04:05.000")
		case nexmarkTS:
			parts[i] = time.UnixMilli(int64(v)).UTC().Format("2006-01-02 15:04:05.000")
		default:
			parts[i] = fmt.Sprintf("%T(%v)", v, v)
		}
	}
	return strings.Join(parts, "|")
}

// multisetDiff compares two row lists ignoring order; it returns "" when
// they hold the same rows the same number of times.
func multisetDiff(got, want []string) string {
	count := map[string]int{}
	for _, r := range want {
		count[r]++
	}
	for _, r := range got {
		count[r]--
	}
	var missing, extra []string
	for r, n := range count {
		for ; n > 0; n-- {
			missing = append(missing, r)
		}
		for ; n < 0; n++ {
			extra = append(extra, r)
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return ""
	}
	sort.Strings(missing)
	sort.Strings(extra)
	cut := func(rs []string) string {
		if len(rs) > 10 {
			return strings.Join(rs[:10], "\n") + fmt.Sprintf("\n... %d more", len(rs)-10)
		}
		return strings.Join(rs, "\n")
	}
	return fmt.Sprintf("got %d rows, want %d\n--- missing (%d)\n%s\n--- unexpected (%d)\n%s",
		len(got), len(want), len(missing), cut(missing), len(extra), cut(extra))
}

// ---- reference implementations, one per query ----

func nexmarkBids(events []nexmark.Event) []*nexmark.BidEvent {
	var out []*nexmark.BidEvent
	for _, e := range events {
		if e.Type == nexmark.Bid {
			out = append(out, e.Bid)
		}
	}
	return out
}

func nexmarkQ0(events []nexmark.Event) []string {
	var out []string
	for _, b := range nexmarkBids(events) {
		out = append(out, nexmarkRow(b.Auction, b.Bidder, b.Price, nexmarkTS(b.DateTime), b.Extra))
	}
	return out
}

func nexmarkQ1(events []nexmark.Event) []string {
	var out []string
	for _, b := range nexmarkBids(events) {
		out = append(out, nexmarkRow(b.Auction, b.Bidder, 0.908*float64(b.Price), nexmarkTS(b.DateTime), b.Extra))
	}
	return out
}

func nexmarkQ2(events []nexmark.Event) []string {
	var out []string
	for _, b := range nexmarkBids(events) {
		if b.Auction%123 == 0 {
			out = append(out, nexmarkRow(b.Auction, b.Price))
		}
	}
	return out
}

// nexmarkQ12: bids per bidder per 10-second event-time window.
func nexmarkQ12(events []nexmark.Event) []string {
	type key struct{ bidder, start int64 }
	counts := map[key]int64{}
	for _, b := range nexmarkBids(events) {
		ts := int64(b.DateTime)
		counts[key{b.Bidder, ts - ts%10_000}]++
	}
	var out []string
	for k, n := range counts {
		out = append(out, nexmarkRow(k.bidder, n, nexmarkTS(k.start), nexmarkTS(k.start+10_000)))
	}
	return out
}

func nexmarkQ14(events []nexmark.Event) []string {
	var out []string
	for _, b := range nexmarkBids(events) {
		price := 0.908 * float64(b.Price)
		if !(price > 1_000_000 && price < 50_000_000) {
			continue
		}
		hour := time.UnixMilli(int64(b.DateTime)).UTC().Hour()
		kind := "otherTime"
		switch {
		case hour >= 8 && hour <= 18:
			kind = "dayTime"
		case hour <= 6 || hour >= 20:
			kind = "nightTime"
		}
		out = append(out, nexmarkRow(b.Auction, b.Bidder, price, kind, nexmarkTS(b.DateTime), b.Extra,
			int64(strings.Count(b.Extra, "c"))))
	}
	return out
}

func nexmarkDay(t nexmark.Time) string { return time.UnixMilli(int64(t)).UTC().Format("2006-01-02") }

// nexmarkRank is the price rank of q15 and q17: 0 below 10,000, 1 below
// 1,000,000, 2 above.
func nexmarkRank(price int64) int {
	switch {
	case price < 10_000:
		return 0
	case price < 1_000_000:
		return 1
	}
	return 2
}

func nexmarkQ15(events []nexmark.Event) []string {
	type stats struct {
		bids     [4]int64 // total, rank 1, 2, 3
		bidders  [4]map[int64]bool
		auctions [4]map[int64]bool
	}
	days := map[string]*stats{}
	for _, b := range nexmarkBids(events) {
		d := nexmarkDay(b.DateTime)
		s := days[d]
		if s == nil {
			s = &stats{}
			for i := range 4 {
				s.bidders[i], s.auctions[i] = map[int64]bool{}, map[int64]bool{}
			}
			days[d] = s
		}
		for _, i := range []int{0, 1 + nexmarkRank(b.Price)} {
			s.bids[i]++
			s.bidders[i][b.Bidder] = true
			s.auctions[i][b.Auction] = true
		}
	}
	var out []string
	for d, s := range days {
		row := []any{d}
		for i := range 4 {
			row = append(row, s.bids[i])
		}
		for i := range 4 {
			row = append(row, int64(len(s.bidders[i])))
		}
		for i := range 4 {
			row = append(row, int64(len(s.auctions[i])))
		}
		out = append(out, nexmarkRow(row...))
	}
	return out
}

func nexmarkQ17(events []nexmark.Event) []string {
	type key struct {
		auction int64
		day     string
	}
	type stats struct {
		bids          [4]int64
		min, max, sum int64
	}
	groups := map[key]*stats{}
	for _, b := range nexmarkBids(events) {
		k := key{b.Auction, nexmarkDay(b.DateTime)}
		s := groups[k]
		if s == nil {
			s = &stats{min: b.Price, max: b.Price}
			groups[k] = s
		}
		s.bids[0]++
		s.bids[1+nexmarkRank(b.Price)]++
		s.min, s.max, s.sum = min(s.min, b.Price), max(s.max, b.Price), s.sum+b.Price
	}
	var out []string
	for k, s := range groups {
		// AVG is DOUBLE PRECISION in StreamSQL (Flink's AVG of a BIGINT is
		// a truncated BIGINT).
		out = append(out, nexmarkRow(k.auction, k.day, s.bids[0], s.bids[1], s.bids[2], s.bids[3],
			s.min, s.max, float64(s.sum)/float64(s.bids[0]), s.sum))
	}
	return out
}

var nexmarkChannelID = regexp.MustCompile(`(&|^)channel_id=([^&]*)`)

func nexmarkQ21(events []nexmark.Event) []string {
	ids := map[string]string{"apple": "0", "google": "1", "facebook": "2", "baidu": "3"}
	var out []string
	for _, b := range nexmarkBids(events) {
		var extracted any // NULL unless the URL has a channel_id
		if m := nexmarkChannelID.FindStringSubmatch(b.URL); m != nil {
			extracted = m[2]
		}
		id, hot := ids[strings.ToLower(b.Channel)]
		if !hot && extracted == nil {
			continue
		}
		var channelID any = id
		if !hot {
			channelID = extracted
		}
		out = append(out, nexmarkRow(b.Auction, b.Bidder, b.Price, b.Channel, channelID))
	}
	return out
}

func nexmarkQ22(events []nexmark.Event) []string {
	var out []string
	for _, b := range nexmarkBids(events) {
		parts := strings.Split(b.URL, "/")
		dir := func(i int) any {
			if i < len(parts) {
				return parts[i]
			}
			return nil
		}
		out = append(out, nexmarkRow(b.Auction, b.Bidder, b.Price, b.Channel, dir(3), dir(4), dir(5)))
	}
	return out
}
