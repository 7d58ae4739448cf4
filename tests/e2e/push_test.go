package e2e

// Push queries (SELECT ... EMIT CHANGES) end to end. A push query never
// ends by itself, which the script format cannot express, so these tests
// drive it from Go: with pgx (simple and extended protocol, cursors, COPY)
// and with the psql binary (COPY TO STDOUT, \set FETCH_COUNT, Ctrl-C).
//
// Every test stream but one has a single partition, so that rows arrive in
// offset order and psql's output can be compared exactly.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// pushConnect opens a pgx connection on which a cancelled context sends a
// CancelRequest and keeps the connection, as psql's Ctrl-C does. (pgx's
// default closes the connection instead.)
func pushConnect(t *testing.T, srv *Server) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: 10 * time.Second}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// pushExec runs statements that must succeed.
func pushExec(t *testing.T, conn *pgx.Conn, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := conn.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// pushStreamDDL declares a clicks-like stream over its own topic.
func pushStreamDDL(name string, partitions int) string {
	return fmt.Sprintf(`CREATE STREAM %s (user_id BIGINT, page VARCHAR, ts TIMESTAMP)
  WITH (kafka_topic = '%s', timestamp = 'ts', partitions = %d, idle_timeout = '1 second')`, name, name, partitions)
}

// click is one event; user 0 stands for a NULL user_id.
type click struct {
	user int
	page string
	ts   string // time of day on 2026-11-23, e.g. "10:00:01"
}

// produceClicks writes clicks to topic, spreading them over its partitions
// (click i to partition i mod n).
func produceClicks(t *testing.T, k *Kafka, topic string, clicks ...click) {
	t.Helper()
	recs := make([]Record, len(clicks))
	for i, c := range clicks {
		user := "null"
		if c.user != 0 {
			user = fmt.Sprint(c.user)
		}
		v := fmt.Sprintf(`{"user_id": %s, "page": %q, "ts": "2026-11-23T%sZ"}`, user, c.page, c.ts)
		recs[i] = Record{Partition: -1, Value: []byte(v)}
	}
	if err := k.Produce(topic, recs); err != nil {
		t.Fatal(err)
	}
}

// pushResult is one message of a running query: a row, or its end.
type pushResult struct {
	row  string // the row's values joined by spaces (timestamps as 15:04:05)
	done bool
	tag  string
	err  error
}

// streamQuery runs sql and reports each row as soon as pgx has it, then the
// end of the query. The channel is buffered generously so that the query's
// goroutine never waits for a test that stopped reading. When the test
// ends, a query still running is cancelled and waited for, so that a
// failed subtest leaves the shared connection usable.
func streamQuery(t *testing.T, ctx context.Context, conn *pgx.Conn, sql string, mode pgx.QueryExecMode) <-chan pushResult {
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan pushResult, 10000)
	finished := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		<-finished
	})
	go func() {
		defer close(finished)
		rows, err := conn.Query(ctx, sql, mode)
		if err != nil {
			ch <- pushResult{done: true, err: err}
			return
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				rows.Close()
				ch <- pushResult{done: true, err: err}
				return
			}
			var parts []string
			for _, v := range vals {
				if tm, ok := v.(time.Time); ok {
					parts = append(parts, tm.UTC().Format("15:04:05"))
				} else {
					parts = append(parts, fmt.Sprint(v))
				}
			}
			ch <- pushResult{row: strings.Join(parts, " ")}
		}
		rows.Close()
		ch <- pushResult{done: true, err: rows.Err(), tag: rows.CommandTag().String()}
	}()
	return ch
}

// nextRows reads n rows from ch, failing if the query ends or they do not
// arrive within 30 seconds. The rows are returned sorted, for queries over
// several partitions whose order across partitions is not defined.
func nextRows(t *testing.T, ch <-chan pushResult, n int) []string {
	t.Helper()
	var rows []string
	timeout := time.After(30 * time.Second)
	for len(rows) < n {
		select {
		case r := <-ch:
			if r.done {
				t.Fatalf("query ended after %d of %d rows (%v): tag %q, err %v", len(rows), n, rows, r.tag, r.err)
			}
			rows = append(rows, r.row)
		case <-timeout:
			t.Fatalf("only %d of %d rows within 30s: %v", len(rows), n, rows)
		}
	}
	slices.Sort(rows)
	return rows
}

// quiet checks that ch delivers nothing for d.
func quiet(t *testing.T, ch <-chan pushResult, d time.Duration) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("unexpected %+v", r)
	case <-time.After(d):
	}
}

// queryEnd waits for the end of the query and returns it.
func queryEnd(t *testing.T, ch <-chan pushResult) pushResult {
	t.Helper()
	select {
	case r := <-ch:
		if !r.done {
			t.Fatalf("unexpected row %q; want the end of the query", r.row)
		}
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("query did not end within 30s")
	}
	return pushResult{}
}

var pushModes = []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement}

func modeName(m pgx.QueryExecMode) string {
	if m == pgx.QueryExecModeSimpleProtocol {
		return "simple"
	}
	return "extended"
}

// TestPushPgx runs push queries through pgx over both query protocols.
func TestPushPgx(t *testing.T) {
	srv := StartServer(t, "--checkpoint-interval", "500ms")
	topics := []string{"pl_simple", "pl_extended", "pw", "pg", "pk", "pc"}
	k := clientKafka(t, srv, topics...)
	clientLogOnFailure(t, srv)
	conn := pushConnect(t, srv)
	for _, name := range topics {
		parts := 1
		if strings.HasPrefix(name, "pl_") || name == "pk" {
			parts = 4
		}
		pushExec(t, conn, pushStreamDDL(name, parts))
	}

	// LIMIT n ends the query after n rows, counting rows produced after it
	// started: the first three are in the topic before, the last two are
	// produced once the first three have arrived.
	for _, mode := range pushModes {
		t.Run("limit_"+modeName(mode), func(t *testing.T) {
			topic := "pl_" + modeName(mode)
			produceClicks(t, k, topic, click{1, "/home", "10:00:01"}, click{2, "/cart", "10:00:02"}, click{3, "/home", "10:00:03"})
			ch := streamQuery(t, context.Background(), conn, "SELECT page, user_id FROM "+topic+" EMIT CHANGES LIMIT 5", mode)
			if got, want := nextRows(t, ch, 3), []string{"/cart 2", "/home 1", "/home 3"}; !slices.Equal(got, want) {
				t.Fatalf("rows before: %v, want %v", got, want)
			}
			quiet(t, ch, 700*time.Millisecond)
			produceClicks(t, k, topic, click{4, "/checkout", "10:00:04"}, click{5, "/home", "10:00:05"})
			if got, want := nextRows(t, ch, 2), []string{"/checkout 4", "/home 5"}; !slices.Equal(got, want) {
				t.Fatalf("rows after: %v, want %v", got, want)
			}
			if end := queryEnd(t, ch); end.err != nil || end.tag != "SELECT 5" {
				t.Fatalf("end: tag %q, err %v; want SELECT 5", end.tag, end.err)
			}
			var n int64
			if err := conn.QueryRow(context.Background(), "SELECT COUNT(*) FROM "+topic).Scan(&n); err != nil || n != 5 {
				t.Fatalf("after the push query: count %d, %v", n, err)
			}
		})
	}

	// A windowed aggregate sends early results of its open windows at each
	// emit interval, and each window's final row once the watermark passes
	// the window's end, which takes an event of a later window.
	t.Run("window", func(t *testing.T) {
		produceClicks(t, k, "pw", click{1, "/home", "10:00:01"}, click{2, "/home", "10:00:30"}, click{3, "/cart", "10:00:40"})
		ch := streamQuery(t, context.Background(), conn, `SELECT page, TUMBLE_START(ts, INTERVAL '1' MINUTE) AS window_start, COUNT(*) AS clicks
			FROM pw GROUP BY page, TUMBLE(ts, INTERVAL '1' MINUTE) EMIT CHANGES`, pgx.QueryExecModeCacheStatement)
		// Several emit intervals and the idle timeout pass: early results
		// only (the latest per group is the window's count so far).
		latest := map[string]string{}
		for wait := time.After(2 * time.Second); ; {
			var r pushResult
			select {
			case r = <-ch:
			case <-wait:
			}
			if r.row == "" && !r.done {
				break
			}
			if r.done || !strings.Contains(r.row, " 10:00:00 ") {
				t.Fatalf("before the closing event: %+v", r)
			}
			latest[strings.Fields(r.row)[0]] = r.row
		}
		if want := map[string]string{"/home": "/home 10:00:00 2", "/cart": "/cart 10:00:00 1"}; !maps.Equal(latest, want) {
			t.Fatalf("early results: %v, want %v", latest, want)
		}
		// The closing event: the 10:00 windows' final rows, and possibly an
		// early result of the new window.
		produceClicks(t, k, "pw", click{4, "/home", "10:01:05"})
		final := map[string]bool{"/home 10:00:00 2": true, "/cart 10:00:00 1": true}
		for len(final) > 0 {
			row := nextRows(t, ch, 1)[0]
			switch {
			case final[row]:
				delete(final, row)
			case row == "/home 10:01:00 1":
			default:
				t.Fatalf("after the closing event: unexpected row %q", row)
			}
		}
	})

	// A non-windowed GROUP BY emits the groups that changed, with their new
	// values, at each emit interval: first every group, then only /home.
	t.Run("group_by", func(t *testing.T) {
		produceClicks(t, k, "pg", click{1, "/home", "10:00:01"}, click{2, "/home", "10:00:02"}, click{3, "/cart", "10:00:03"})
		ch := streamQuery(t, context.Background(), conn, "SELECT page, COUNT(*) AS clicks FROM pg GROUP BY page EMIT CHANGES LIMIT 3",
			pgx.QueryExecModeSimpleProtocol)
		if got, want := nextRows(t, ch, 2), []string{"/cart 1", "/home 2"}; !slices.Equal(got, want) {
			t.Fatalf("first rows: %v, want %v", got, want)
		}
		quiet(t, ch, time.Second) // nothing changed, nothing is emitted
		produceClicks(t, k, "pg", click{4, "/home", "10:00:04"})
		if got, want := nextRows(t, ch, 1), []string{"/home 3"}; !slices.Equal(got, want) {
			t.Fatalf("update: %v, want %v", got, want)
		}
		if end := queryEnd(t, ch); end.err != nil || end.tag != "SELECT 3" {
			t.Fatalf("end: tag %q, err %v", end.tag, end.err)
		}
	})

	// A context deadline sends a CancelRequest: the query ends with 57014
	// promptly and the connection goes on.
	produceClicks(t, k, "pk", click{1, "/home", "10:00:01"}, click{2, "/cart", "10:00:02"})
	for _, mode := range pushModes {
		t.Run("cancel_"+modeName(mode), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			ch := streamQuery(t, ctx, conn, "SELECT page FROM pk EMIT CHANGES", mode)
			nextRows(t, ch, 2)
			start := time.Now()
			end := queryEnd(t, ch)
			var pgErr *pgconn.PgError
			if !errors.As(end.err, &pgErr) || pgErr.Code != "57014" || pgErr.Message != "canceling statement due to user request" {
				t.Fatalf("end: %+v; want 57014", end)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("the cancel took %v", d)
			}
			if conn.IsClosed() {
				t.Fatal("the cancel closed the connection")
			}
			var n int64
			if err := conn.QueryRow(context.Background(), "SELECT COUNT(*) FROM pk").Scan(&n); err != nil || n != 2 {
				t.Fatalf("after the cancel: count %d, %v", n, err)
			}
		})
	}

	// Cursors, as psql's FETCH_COUNT uses them: DECLARE starts the query,
	// FETCH n waits for n rows, COMMIT closes the cursor.
	produceClicks(t, k, "pc", click{1, "/home", "10:00:01"}, click{2, "/home", "10:00:30"},
		click{3, "/cart", "10:00:40"}, click{4, "/home", "10:01:05"})
	t.Run("cursor", func(t *testing.T) {
		ctx := context.Background()
		pc := conn.PgConn()
		_, err := conn.Exec(ctx, "DECLARE c CURSOR FOR SELECT page FROM pc EMIT CHANGES")
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "25P01" {
			t.Fatalf("DECLARE outside a transaction: %v; want 25P01", err)
		}
		pushExec(t, conn, "BEGIN", "DECLARE c NO SCROLL CURSOR FOR SELECT page, user_id FROM pc EMIT CHANGES")
		if pc.TxStatus() != 'T' {
			t.Errorf("status in the transaction: %c", pc.TxStatus())
		}
		fetch := func(sql string, mode pgx.QueryExecMode, want ...string) {
			t.Helper()
			ch := streamQuery(t, ctx, conn, sql, mode)
			got := nextRows(t, ch, len(want))
			if !slices.Equal(got, want) {
				t.Fatalf("%s: %v, want %v", sql, got, want)
			}
			if end := queryEnd(t, ch); end.err != nil || end.tag != fmt.Sprintf("FETCH %d", len(want)) {
				t.Fatalf("%s: end %+v", sql, end)
			}
		}
		// The extended protocol describes FETCH with the cursor's columns.
		fetch("FETCH FORWARD 2 FROM c", pgx.QueryExecModeCacheStatement, "/home 1", "/home 2")
		fetch("FETCH 2 FROM c", pgx.QueryExecModeSimpleProtocol, "/cart 3", "/home 4")
		// The topic holds no more: FETCH waits for the next event.
		go func() {
			time.Sleep(500 * time.Millisecond)
			produceClicks(t, k, "pc", click{5, "/pricing", "10:01:10"})
		}()
		fetch("FETCH NEXT FROM c", pgx.QueryExecModeSimpleProtocol, "/pricing 5")
		pushExec(t, conn, "CLOSE c", "COMMIT")
		if pc.TxStatus() != 'I' {
			t.Errorf("status after COMMIT: %c", pc.TxStatus())
		}

		// A cursor over a bounded query ends with a short FETCH; COMMIT
		// closes an open cursor.
		pushExec(t, conn, "BEGIN", "DECLARE b CURSOR FOR SELECT user_id FROM pc")
		fetch("FETCH 3 FROM b", pgx.QueryExecModeSimpleProtocol, "1", "2", "3")
		fetch("FETCH ALL FROM b", pgx.QueryExecModeSimpleProtocol, "4", "5")
		fetch("FETCH 3 FROM b", pgx.QueryExecModeSimpleProtocol)
		pushExec(t, conn, "COMMIT", "BEGIN")
		_, err = conn.Exec(ctx, "FETCH 1 FROM b")
		if !errors.As(err, &pgErr) || pgErr.Code != "34000" || pgErr.Message != `cursor "b" does not exist` {
			t.Fatalf("FETCH after COMMIT: %v; want 34000", err)
		}
		pushExec(t, conn, "ROLLBACK")
	})

	// COPY TO STDOUT through pgx, in CSV with a header (psql's test below covers
	// the text format).
	t.Run("copy", func(t *testing.T) {
		var buf bytes.Buffer
		tag, err := conn.PgConn().CopyTo(context.Background(), &buf,
			"COPY (SELECT page, user_id, ts FROM pc EMIT CHANGES LIMIT 3) TO STDOUT WITH (FORMAT csv, HEADER)")
		if err != nil || tag.String() != "COPY 3" {
			t.Fatalf("COPY: tag %q, %v", tag, err)
		}
		want := "page,user_id,ts\n/home,1,2026-11-23 10:00:01\n/home,2,2026-11-23 10:00:30\n/cart,3,2026-11-23 10:00:40\n"
		if buf.String() != want {
			t.Errorf("COPY wrote\n%s\nwant\n%s", buf.String(), want)
		}
	})
}

// TestPushPsql follows push queries with the psql binary: COPY TO STDOUT,
// \copy, \set FETCH_COUNT, and Ctrl-C (SIGINT) during an endless query.
func TestPushPsql(t *testing.T) {
	bin := requireClient(t, "psql", "postgresql-client")
	srv := StartServer(t, "--checkpoint-interval", "500ms")
	k := clientKafka(t, srv, "pp")
	clientLogOnFailure(t, srv)
	conn := pushConnect(t, srv)
	pushExec(t, conn, pushStreamDDL("pp", 1))
	// The last click exercises COPY's escapes: a tab in a value, a
	// backslash, and a NULL.
	produceClicks(t, k, "pp", click{1, "/home", "10:00:01"}, click{2, "/cart", "10:00:02"},
		click{3, "/home", "10:00:03"}, click{4, "/checkout", "10:00:04"}, click{0, "tab\there\\", "10:00:05"})

	t.Run("copy", func(t *testing.T) {
		r := runPsql(t, bin, srv, "-c", "COPY (SELECT page, user_id FROM pp EMIT CHANGES LIMIT 3) TO STDOUT")
		if want := "/home\t1\n/cart\t2\n/home\t3\n"; r.code != 0 || r.stdout != want || r.stderr != "" {
			t.Fatalf("want exit status 0 and stdout %q\n%s", want, r)
		}
	})

	t.Run("copy_escapes", func(t *testing.T) {
		r := runPsql(t, bin, srv, "-c", "COPY (SELECT page, user_id FROM pp EMIT CHANGES LIMIT 2 OFFSET 3) TO STDOUT")
		if want := "/checkout\t4\ntab\\there\\\\\t\\N\n"; r.code != 0 || r.stdout != want || r.stderr != "" {
			t.Fatalf("want exit status 0 and stdout %q\n%s", want, r)
		}
	})

	// psql's \copy sends COPY ... TO STDOUT with the old option syntax and
	// writes the rows itself.
	t.Run("backslash_copy_csv", func(t *testing.T) {
		r := runPsql(t, bin, srv, "-c", `\copy (SELECT page, user_id FROM pp EMIT CHANGES LIMIT 5) to stdout with csv header`)
		want := "page,user_id\n/home,1\n/cart,2\n/home,3\n/checkout,4\ntab\there\\,\n"
		if r.code != 0 || r.stdout != want || r.stderr != "" {
			t.Fatalf("want exit status 0 and stdout %q\n%s", want, r)
		}
	})

	// \set FETCH_COUNT makes psql read through a cursor and print each
	// batch as it comes (aligned per batch, as PostgreSQL's psql does).
	t.Run("fetch_count", func(t *testing.T) {
		script := filepath.Join(t.TempDir(), "fetch.sql")
		if err := os.WriteFile(script, []byte("\\set FETCH_COUNT 2\nSELECT page, user_id FROM pp EMIT CHANGES LIMIT 4;\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := runPsql(t, bin, srv, "-v", "ON_ERROR_STOP=1", "-f", script)
		want := ` page  | user_id 
-------+---------
 /home |       1
 /cart |       2
 /home     |       3
 /checkout |       4
(4 rows)

`
		if r.code != 0 || r.stdout != want || r.stderr != "" {
			t.Fatalf("want exit status 0 and stdout\n%s\n%s", want, r)
		}
	})

	// Ctrl-C in psql sends a CancelRequest: the endless query ends with
	// 57014. psql reading a script from a pipe then stops, as it stops any
	// script interrupted by Ctrl-C, with exit status 3 (see
	// TestPushPsqlInteractive for a terminal session, which goes on).
	for _, q := range []struct{ name, pre, sql string }{
		{"sigint_select", "", "SELECT page FROM pp EMIT CHANGES;"},
		{"sigint_copy", "", "COPY (SELECT page FROM pp EMIT CHANGES) TO STDOUT;"},
		{"sigint_fetch_count", "\\set FETCH_COUNT 1\n", "SELECT page FROM pp EMIT CHANGES;"},
	} {
		t.Run(q.name, func(t *testing.T) {
			args := append(srv.PsqlArgs(), "-P", "pager=off", "-a")
			cmd := exec.Command(bin, args...)
			cmd.Env = clientEnv()
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			if _, err := io.WriteString(stdin, q.pre+q.sql+"\n"); err != nil {
				t.Fatal(err)
			}
			// -a echoes each line as psql reads it, right before it sends
			// the query; give the query a moment to start.
			out := bufio.NewReader(stdout)
			var echoed strings.Builder
			for !strings.Contains(echoed.String(), q.sql) {
				line, err := out.ReadString('\n')
				echoed.WriteString(line)
				if err != nil {
					t.Fatalf("psql ended before echoing the query: %v\n%s\nstderr:\n%s", err, echoed.String(), stderr.String())
				}
			}
			time.Sleep(700 * time.Millisecond)
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(out)
			stdin.Close()
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var werr error
			select {
			case werr = <-done:
			case <-time.After(15 * time.Second):
				t.Fatal("psql did not exit after Ctrl-C")
			}
			var ee *exec.ExitError
			code := 0
			if errors.As(werr, &ee) {
				code = ee.ExitCode()
			}
			want := "Cancel request sent\nERROR:  canceling statement due to user request\n"
			if stderr.String() != want || code != 3 {
				t.Fatalf("want exit status 3 and stderr %q; got %d, %q\nstdout:\n%s%s", want, code, stderr.String(), echoed.String(), rest)
			}
		})
	}
}
