package e2e

// Third-party clients in the loop: the psql binary (libpq, simple query
// protocol, psql's own table rendering and error formatting) and kcat
// (librdkafka, producing keyed input and reading a sink's output with
// isolation.level=read_committed). Neither test skips: when a client is
// missing it fails and names the package to install.
//
// psql output is compared with golden files under tests/psql; regenerate
// them with
//
//	go test -count=1 -run TestPsql ./tests/e2e/ -update
//
// and review the diff by eye: the golden files are the spec.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// The -update flag is looked up rather than held in a variable, so another
// file of the package may declare the same flag without a clash.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under tests/psql")
	}
}

func updatePsqlGoldens() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// psqlGoldenDir holds the SQL files and golden outputs; tests run in tests/e2e.
const psqlGoldenDir = "../psql"

// requireClient returns the path of a client binary, failing the test (never
// skipping it) with the package that provides it when it is not installed.
func requireClient(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed (not on PATH): install the %q package (Debian/Ubuntu: apt-get install -y %s); "+
			"this end-to-end test needs the real client and does not skip", name, pkg, pkg)
	}
	return path
}

// clientEnv is the environment for client processes: no PG* variables from
// the caller (PGSSLMODE, PGOPTIONS, PGPASSWORD... would change what psql
// does) and the C locale, so psql's messages are not translated.
func clientEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") ||
			strings.HasPrefix(kv, "LANG=") || strings.HasPrefix(kv, "LANGUAGE=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C", "LANG=C")
}

// clientRun is a finished client process.
type clientRun struct {
	args   []string
	stdout string
	stderr string
	code   int
}

func (r clientRun) String() string {
	return fmt.Sprintf("$ %s\nexit status %d\n--- stdout\n%s--- stderr\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// runClient runs a client to completion (or timeout) with stdin as input.
// A process that cannot start, or is still running at the timeout, fails
// the test; a non-zero exit status is the caller's to judge.
func runClient(t *testing.T, timeout time.Duration, dir, stdin, bin string, args ...string) clientRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = clientEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	r := clientRun{args: append([]string{filepath.Base(bin)}, args...), stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s did not finish within %s\n%s", filepath.Base(bin), timeout, r)
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running %s: %v", bin, err)
	}
	return r
}

// runPsql runs psql against srv in tests/psql with fixed output settings: no
// psqlrc (-X, in PsqlArgs), no pager, aligned tables.
func runPsql(t *testing.T, bin string, srv *Server, args ...string) clientRun {
	t.Helper()
	all := append(srv.PsqlArgs(), "-X", "-P", "pager=off", "-P", "format=aligned")
	return runClient(t, 60*time.Second, psqlGoldenDir, "", bin, append(all, args...)...)
}

// checkPsqlGolden compares got with tests/psql/name, or rewrites the file when
// the test runs with -update.
func checkPsqlGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(psqlGoldenDir, name)
	if updatePsqlGoldens() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from psql's output (run with -update to accept, then review the diff)\n%s",
			path, clientLineDiff(string(want), got))
	}
}

// clientLineDiff shows both texts line by line, marking the lines that differ.
func clientLineDiff(want, got string) string {
	w := strings.Split(want, "\n")
	g := strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		hasW, hasG := i < len(w), i < len(g)
		if hasW {
			wl = w[i]
		}
		if hasG {
			gl = g[i]
		}
		switch {
		case hasW && hasG && wl == gl:
			fmt.Fprintf(&b, "  %s\n", wl)
		default:
			if hasW {
				fmt.Fprintf(&b, "- %s\n", wl)
			}
			if hasG {
				fmt.Fprintf(&b, "+ %s\n", gl)
			}
		}
	}
	return "--- want (-) / got (+)\n" + b.String()
}

// clientKafka connects the test's own Kafka client. On a shared cluster
// (STREAMSQL_TEST_BROKERS) it deletes topics before the test and, with the
// server stopped first so nothing recreates them, after it. Only the named
// topics are touched, so other users of the cluster are left alone; the
// SHOW TOPICS golden output still assumes no one else's topics are there.
func clientKafka(t *testing.T, srv *Server, topics ...string) *Kafka {
	t.Helper()
	k, err := NewKafka(srv.BrokerAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	if Brokers() == "" {
		return k
	}
	drop := func() error {
		existing, err := k.Topics()
		if err != nil {
			return err
		}
		var del []string
		for _, e := range existing {
			for _, tp := range topics {
				if e == tp {
					del = append(del, e)
				}
			}
		}
		return k.DeleteTopics(del)
	}
	if err := drop(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Kill()
		if err := drop(); err != nil {
			t.Errorf("cleaning topics %v: %v", topics, err)
		}
	})
	return k
}

// clientLogOnFailure prints the tail of the server log when the test fails.
func clientLogOnFailure(t *testing.T, srv *Server) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- server log (tail)\n%s", short(srv.Log(), 4000))
		}
	})
}

// clientStreamDDL is the stream of tests/slt/clickstream.slt and
// tests/psql/setup.sql.
const clientStreamDDL = `CREATE STREAM clicks (user_id BIGINT, page VARCHAR, ts TIMESTAMP)
  WITH (kafka_topic = 'clicks', value_format = 'json', timestamp = 'ts',
        partitions = 4, watermark_delay = '5 seconds', idle_timeout = '1 second')`

const clientSinkDDL = `CREATE SINK page_counts WITH (kafka_topic = 'page_counts') AS
  SELECT page, TUMBLE_START(ts, INTERVAL '1' MINUTE) AS window_start, COUNT(*) AS clicks
  FROM clicks
  GROUP BY page, TUMBLE(ts, INTERVAL '1' MINUTE)`

// clientClicks are the events of tests/slt/clickstream.slt, keyed by user id, in
// every timestamp form the JSON decoder accepts. With a 5 s watermark delay
// and a 1 s idle timeout, the last one (10:02:10) closes the 10:00 and 10:01
// windows but not the 10:02 one.
var clientClicks = []struct{ key, value string }{
	{"1", `{"user_id": 1, "page": "/home", "ts": "2026-11-23T10:00:01Z"}`},
	{"2", `{"user_id": 2, "page": "/home", "ts": "2026-11-23T10:00:20.500Z"}`},
	{"3", `{"user_id": 3, "page": "/cart", "ts": "2026-11-23 10:00:59"}`},
	{"1", `{"user_id": 1, "page": "/home", "ts": 1795428075000}`},
	{"4", `{"user_id": 4, "page": "/cart", "ts": "2026-11-23T11:01:30+01:00"}`},
	{"5", `{"user_id": 5, "page": "/home", "ts": "2026-11-23T10:02:10Z"}`},
}

// clientGroupingError is what psql prints for the walkthrough's classic mistake:
// a column neither grouped nor aggregated.
const clientGroupingSQL = `SELECT page, COUNT(*) FROM clicks GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE);`

const clientGroupingError = `ERROR:  column "clicks.page" must appear in the GROUP BY clause or be used in an aggregate function
LINE 1: SELECT page, COUNT(*) FROM clicks GROUP BY TUMBLE(ts, INTERV...
               ^
HINT:  Group by it as well: GROUP BY page, TUMBLE(ts, INTERVAL '1' MINUTE)
`

// TestPsqlWalkthrough runs the clickstream walkthrough through psql: DDL and
// SHOW/DESCRIBE output, bounded queries over produced data, an error with
// its caret and hint, psql's exit statuses, and a session that keeps
// working after errors. Output is compared exactly with tests/psql/*.out
// and *.err.
func TestPsqlWalkthrough(t *testing.T) {
	bin := requireClient(t, "psql", "postgresql-client")
	srv := StartServer(t, "--checkpoint-interval", "500ms")
	k := clientKafka(t, srv, "clicks", "page_counts")
	clientLogOnFailure(t, srv)

	// expectOK checks a run that must succeed without a word on stderr.
	expectOK := func(r clientRun) {
		t.Helper()
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("psql failed\n%s", r)
		}
	}

	// Part 1: stream, topics, description, sink.
	r := runPsql(t, bin, srv, "-v", "ON_ERROR_STOP=1", "-f", "setup.sql")
	expectOK(r)
	checkPsqlGolden(t, "setup.out", r.stdout)

	// The input, as clickstream.slt produces it: partition i mod 4, no key.
	recs := make([]Record, len(clientClicks))
	for i, c := range clientClicks {
		recs[i] = Record{Partition: -1, Value: []byte(c.value)}
	}
	if err := k.Produce("clicks", recs); err != nil {
		t.Fatal(err)
	}

	// Part 2: bounded queries over what is in the topic now.
	r = runPsql(t, bin, srv, "-v", "ON_ERROR_STOP=1", "-f", "query.sql")
	expectOK(r)
	checkPsqlGolden(t, "query.out", r.stdout)

	// An error from a script with ON_ERROR_STOP: psql prefixes the first
	// line with the file and line, stops, and exits with status 3.
	r = runPsql(t, bin, srv, "-v", "ON_ERROR_STOP=1", "-f", "error.sql")
	if want := "psql:error.sql:1: " + clientGroupingError; r.code != 3 || r.stdout != "" || r.stderr != want {
		t.Errorf("want exit status 3, no stdout and on stderr exactly\n%s\ngot\n%s", want, r)
	}
	// The same error from -c: no prefix, exit status 1.
	r = runPsql(t, bin, srv, "-v", "ON_ERROR_STOP=1", "-c", clientGroupingSQL)
	if r.code != 1 || r.stdout != "" || r.stderr != clientGroupingError {
		t.Errorf("want exit status 1, no stdout and on stderr exactly\n%s\ngot\n%s", clientGroupingError, r)
	}

	// A session that stays usable: errors (binding, syntax, unknown column)
	// interleaved with good statements on one connection.
	r = runPsql(t, bin, srv, "-v", "ON_ERROR_STOP=1", "-f", "recover.sql")
	if r.code != 0 {
		t.Errorf("recover.sql: want exit status 0 (ON_ERROR_STOP is off in the file)\n%s", r)
	}
	checkPsqlGolden(t, "recover.out", r.stdout)
	checkPsqlGolden(t, "recover.err", r.stderr)

	// Several statements in one simple Query message: the results before
	// the error arrive, the rest of that message is skipped, and the next
	// -c (a new Query on the same connection) runs.
	r = runPsql(t, bin, srv,
		"-c", "SELECT COUNT(*) AS before_error FROM clicks; SELECT nope FROM clicks; SELECT COUNT(*) AS never_run FROM clicks",
		"-c", "SELECT COUNT(*) AS after_error FROM clicks")
	wantOut := ` before_error 
--------------
            6
(1 row)

 after_error 
-------------
           6
(1 row)

`
	wantErr := `ERROR:  column "nope" does not exist
LINE 1: ...LECT COUNT(*) AS before_error FROM clicks; SELECT nope FROM ...
                                                             ^
`
	if r.code != 0 || r.stdout != wantOut || r.stderr != wantErr {
		t.Errorf("want exit status 0, stdout\n%s\nstderr\n%s\ngot\n%s", wantOut, wantErr, r)
	}

	// Part 3: drop everything; SHOW STREAMS is empty again.
	r = runPsql(t, bin, srv, "-v", "ON_ERROR_STOP=1", "-f", "teardown.sql")
	expectOK(r)
	checkPsqlGolden(t, "teardown.out", r.stdout)
}

// TestKcatReadsSink puts kcat on both sides of a sink: it produces the
// clickstream (keyed, one line per message) and reads the page_counts topic
// as a read_committed consumer. The records must be exactly the closed
// windows: no more (no duplicates, no open window), no fewer.
func TestKcatReadsSink(t *testing.T) {
	bin := requireClient(t, "kcat", "kcat")
	srv := StartServer(t, "--checkpoint-interval", "500ms")
	k := clientKafka(t, srv, "clicks", "page_counts")
	clientLogOnFailure(t, srv)
	ctx := context.Background()
	conn, err := srv.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, clientStreamDDL); err != nil {
		t.Fatal(err)
	}

	// Produce with kcat: "key|value" lines; librdkafka's partitioner spreads
	// the keys over the four partitions.
	var in strings.Builder
	for _, c := range clientClicks {
		fmt.Fprintf(&in, "%s|%s\n", c.key, c.value)
	}
	r := runClient(t, 60*time.Second, "", in.String(), bin,
		"-P", "-b", srv.BrokerAddr, "-t", "clicks", "-K", "|", "-X", "acks=all")
	if r.code != 0 || strings.Contains(r.stderr, "ERROR") {
		t.Fatalf("kcat could not produce the clicks\n%s", r)
	}
	// Check the input landed, with the harness's own consumer.
	got, err := k.ReadAll("clicks", len(clientClicks), 30*time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(clientClicks) {
		t.Fatalf("kcat produced %d records to clicks, want %d", len(got), len(clientClicks))
	}

	// The sink starts after the data is there and reads it from the
	// earliest offsets.
	if _, err := conn.Exec(ctx, clientSinkDDL); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"page":"/home"}` + "\t" + `{"page":"/home","window_start":"2026-11-23T10:00:00.000Z","clicks":2}`,
		`{"page":"/cart"}` + "\t" + `{"page":"/cart","window_start":"2026-11-23T10:00:00.000Z","clicks":1}`,
		`{"page":"/home"}` + "\t" + `{"page":"/home","window_start":"2026-11-23T10:01:00.000Z","clicks":1}`,
		`{"page":"/cart"}` + "\t" + `{"page":"/cart","window_start":"2026-11-23T10:01:00.000Z","clicks":1}`,
	}
	kcatExpectSink(t, bin, srv.BrokerAddr, "page_counts", want)

	// One more event, produced with the harness while the sink runs: 10:03:10
	// moves the watermark to 10:03:05 (the other partitions are idle), which
	// closes the 10:02 window and only that one.
	more := []Record{{Partition: -1, Key: []byte("6"), Value: []byte(`{"user_id": 6, "page": "/cart", "ts": "2026-11-23T10:03:10Z"}`)}}
	if err := k.Produce("clicks", more); err != nil {
		t.Fatal(err)
	}
	want = append(want, `{"page":"/home"}`+"\t"+`{"page":"/home","window_start":"2026-11-23T10:02:00.000Z","clicks":1}`)
	lines := kcatExpectSink(t, bin, srv.BrokerAddr, "page_counts", want)

	// A second opinion from sarama (read_committed too) on the same topic.
	recs, err := k.ReadAll("page_counts", len(want), 30*time.Second, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var viaSarama []string
	for _, rec := range recs {
		viaSarama = append(viaSarama, string(rec.Key)+"\t"+string(rec.Value))
	}
	sort.Strings(viaSarama)
	if strings.Join(viaSarama, "\n") != strings.Join(lines, "\n") {
		t.Errorf("sarama and kcat disagree on page_counts\n--- sarama\n%s\n--- kcat\n%s",
			strings.Join(viaSarama, "\n"), strings.Join(lines, "\n"))
	}
}

// kcatExpectSink reads topic from the beginning with kcat until it holds
// len(want) records (or 60 s pass), reads it once more after a few
// checkpoint intervals to catch extra records, and compares the lines
// ("key<TAB>value") with want as a multiset. It returns the sorted lines.
func kcatExpectSink(t *testing.T, bin, broker, topic string, want []string) []string {
	t.Helper()
	read := func() ([]string, clientRun) {
		r := runClient(t, 30*time.Second, "", "", bin,
			"-b", broker, "-C", "-t", topic, "-e", "-q",
			"-X", "isolation.level=read_committed",
			"-f", `%k\t%s\n`, "-o", "beginning")
		var lines []string
		for _, l := range strings.Split(r.stdout, "\n") {
			if l != "" {
				lines = append(lines, l)
			}
		}
		sort.Strings(lines)
		return lines, r
	}
	deadline := time.Now().Add(60 * time.Second)
	var lines []string
	var last clientRun
	for {
		lines, last = read()
		if last.code == 0 && len(lines) >= len(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kcat read %d records from %s within 60s, want %d\n%s", len(lines), topic, len(want), last)
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Four checkpoint intervals: a duplicate or an early window would show.
	time.Sleep(2 * time.Second)
	lines, last = read()
	if last.code != 0 {
		t.Fatalf("kcat failed reading %s\n%s", topic, last)
	}
	w := append([]string(nil), want...)
	sort.Strings(w)
	if strings.Join(lines, "\n") != strings.Join(w, "\n") {
		t.Errorf("records in %s (kcat, read_committed):\n--- got (%d)\n%s\n--- want (%d)\n%s",
			topic, len(lines), strings.Join(lines, "\n"), len(w), strings.Join(w, "\n"))
	}
	return lines
}
