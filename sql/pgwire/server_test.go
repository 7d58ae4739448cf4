package pgwire

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// The fake engine behind the tests answers a few canned statements, chosen by
// their text (case-insensitive, surrounding blanks ignored); several may be
// sent at once separated by semicolons:
//
//	select 1    one BIGINT row
//	types       one row of every type, then a row of NULLs
//	big         bigRows rows
//	stream      a row, then waits for fakeHandler.release, then a second row
//	sleep       blocks until its context is cancelled
//	select bad  a *sqlerr.Error with position, hint and detail
//	late bad    a row, then the same error
//	panic       panics
//	create      no rows ("CREATE STREAM")
//	notice      a notice, no rows ("SET")
//	begin       opens a transaction block (reported 'T'); commit closes it
//	copy        the types rows as COPY TO STDOUT in text format ("COPY 2")
//	copy bad    a COPY that fails after its first row with errBad
//
// Anything else is a syntax error at position 1.

const bigRows = 100_000

// tsMillis is 2026-11-23 10:01:00.123 UTC.
var tsMillis = time.Date(2026, 11, 23, 10, 1, 0, 123_000_000, time.UTC).UnixMilli()

// ivMillis is 1 day 01:01:01.5.
const ivMillis = 86_400_000 + 3_661_500

var typesCols = []Column{
	{"i", types.Bigint}, {"f", types.Double}, {"b", types.Boolean}, {"s", types.Varchar},
	{"ts", types.Timestamp}, {"iv", types.Interval}, {"n", types.Unknown},
}

var typesRows = [][]types.Value{
	{types.IntValue(42), types.FloatValue(1.5), types.BoolValue(true), types.StringValue("héllo"),
		types.TimestampValue(tsMillis), types.IntervalValue(ivMillis), types.NullOf(types.Unknown)},
	{types.NullOf(types.Bigint), types.NullOf(types.Double), types.NullOf(types.Boolean), types.NullOf(types.Varchar),
		types.NullOf(types.Timestamp), types.NullOf(types.Interval), types.NullOf(types.Unknown)},
}

var errBad = sqlerr.New(sqlerr.UndefinedColumn, `column "bad" does not exist`).
	At(8).WithHint(`Perhaps you meant to reference the column "bar".`).WithDetail("The stream has columns foo and bar.")

type fakeHandler struct {
	// release lets a "stream" statement send its second row.
	release chan struct{}
	// sleeping receives a value when a "sleep" statement starts waiting;
	// canceled receives the error of its context when it ends.
	sleeping chan struct{}
	canceled chan error

	mu     sync.Mutex
	params []map[string]string
	closed int
}

func newFakeHandler() *fakeHandler {
	return &fakeHandler{
		release:  make(chan struct{}),
		sleeping: make(chan struct{}, 10),
		canceled: make(chan error, 10),
	}
}

func (h *fakeHandler) NewSession(params map[string]string) Session {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.params = append(h.params, params)
	return &fakeSession{h: h, tx: 'I'}
}

func (h *fakeHandler) closedSessions() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

type fakeSession struct {
	h  *fakeHandler
	tx byte
}

func (s *fakeSession) TxStatus() byte { return s.tx }

func (s *fakeSession) Close() {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	s.h.closed++
}

func (s *fakeSession) Describe(ctx context.Context, query string) ([]Column, error) {
	switch norm(query) {
	case "select 1":
		return []Column{{"?column?", types.Bigint}}, nil
	case "types":
		return typesCols, nil
	case "big":
		return []Column{{"n", types.Bigint}, {"s", types.Varchar}}, nil
	case "stream", "late bad":
		return []Column{{"n", types.Bigint}}, nil
	case "select bad":
		return nil, errBad
	case "panic":
		panic("describe boom")
	case "sleep", "create", "notice", "begin", "commit", "copy", "copy bad":
		return nil, nil
	}
	return nil, sqlerr.New(sqlerr.SyntaxError, "syntax error at or near %q", query).At(1)
}

func (s *fakeSession) Execute(ctx context.Context, text string, w ResultWriter) error {
	for _, stmt := range strings.Split(text, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if err := s.execute(ctx, norm(stmt), w); err != nil {
			return err
		}
	}
	return nil
}

func (s *fakeSession) execute(ctx context.Context, stmt string, w ResultWriter) error {
	switch stmt {
	case "select bad":
		return errBad
	case "panic":
		panic("execute boom")
	case "create":
		return w.Complete("CREATE STREAM")
	case "notice":
		if err := w.Notice("hello notice"); err != nil {
			return err
		}
		return w.Complete("SET")
	case "begin":
		s.tx = 'T'
		return w.Complete("BEGIN")
	case "commit":
		s.tx = 'I'
		return w.Complete("COMMIT")
	case "copy", "copy bad":
		cw, ok := w.(CopyOutWriter)
		if !ok {
			return errors.New("the ResultWriter does not implement CopyOutWriter")
		}
		if err := cw.CopyOut(typesCols, CopyFormat{Delimiter: '\t', Null: `\N`}); err != nil {
			return err
		}
		for _, r := range typesRows {
			if err := w.Row(r); err != nil {
				return err
			}
			if stmt == "copy bad" {
				return errBad
			}
		}
		return w.Complete("COPY 2")
	case "sleep":
		s.h.sleeping <- struct{}{}
		<-ctx.Done()
		s.h.canceled <- ctx.Err()
		return ctx.Err()
	}
	cols, err := s.Describe(ctx, stmt)
	if err != nil {
		return err
	}
	if err := w.Columns(cols); err != nil {
		return err
	}
	n := 0
	row := func(vals ...types.Value) error { n++; return w.Row(vals) }
	switch stmt {
	case "select 1":
		err = row(types.IntValue(1))
	case "types":
		for _, r := range typesRows {
			if err = row(r...); err != nil {
				break
			}
		}
	case "big":
		for i := range bigRows {
			if err = row(types.IntValue(int64(i)), types.StringValue("some text for the row")); err != nil {
				break
			}
		}
	case "late bad":
		if err = row(types.IntValue(1)); err == nil {
			err = errBad
		}
	case "stream":
		if err = row(types.IntValue(1)); err != nil {
			break
		}
		select {
		case <-s.h.release:
		case <-ctx.Done():
			return ctx.Err()
		}
		err = row(types.IntValue(2))
	}
	if err != nil {
		return err
	}
	return w.Complete(fmt.Sprintf("SELECT %d", n))
}

func norm(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// startServer runs a server for h on a free loopback port until the test
// ends.
func startServer(t *testing.T, h Handler) *Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := NewServer(Config{Addr: "127.0.0.1:0", Logger: log}, h)
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv
}

// connect opens a pgx connection with pgx's defaults (sslmode=prefer,
// statement cache), except that a cancelled context sends a CancelRequest
// and keeps the connection, as psql's Ctrl-C does, instead of closing it.
func connect(t *testing.T, srv *Server) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(fmt.Sprintf("postgres://streamsql@%s/streamsql?application_name=wiretest&connect_timeout=5", srv.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: 5 * time.Second}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestPgxStartup(t *testing.T) {
	h := newFakeHandler()
	srv := startServer(t, h)
	conn := connect(t, srv)
	pc := conn.PgConn()
	for name, want := range map[string]string{
		"server_version":              DefaultServerVersion,
		"server_encoding":             "UTF8",
		"client_encoding":             "UTF8",
		"DateStyle":                   "ISO, MDY",
		"integer_datetimes":           "on",
		"standard_conforming_strings": "on",
		"TimeZone":                    "UTC",
		"application_name":            "wiretest",
		"is_superuser":                "on",
		"session_authorization":       "streamsql",
		"IntervalStyle":               "postgres",
	} {
		if got := pc.ParameterStatus(name); got != want {
			t.Errorf("ParameterStatus(%s) = %q, want %q", name, got, want)
		}
	}
	if pc.PID() == 0 || pc.SecretKey() == nil {
		t.Errorf("no BackendKeyData: pid %d", pc.PID())
	}
	if err := conn.Ping(testCtx(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	h.mu.Lock()
	p := h.params[0]
	h.mu.Unlock()
	if p["user"] != "streamsql" || p["database"] != "streamsql" || p["application_name"] != "wiretest" {
		t.Errorf("session params = %v", p)
	}
}

// checkTypesRows reads the "types" result and checks every value. Intervals
// are compared as durations, since text and binary formats split them into
// days and microseconds differently.
func checkTypesRows(t *testing.T, rows pgx.Rows) {
	t.Helper()
	defer rows.Close()
	var got [][]any
	for rows.Next() {
		var (
			i  pgtype.Int8
			f  pgtype.Float8
			b  pgtype.Bool
			s  pgtype.Text
			ts pgtype.Timestamp
			iv pgtype.Interval
			n  pgtype.Text
		)
		if err := rows.Scan(&i, &f, &b, &s, &ts, &iv, &n); err != nil {
			t.Fatalf("Scan: %v", err)
		}
		got = append(got, []any{i, f, b, s, ts, iv, n})
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("rows: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d rows, want 2", len(got))
	}
	r := got[0]
	if v := r[0].(pgtype.Int8); !v.Valid || v.Int64 != 42 {
		t.Errorf("int8 = %+v", v)
	}
	if v := r[1].(pgtype.Float8); !v.Valid || v.Float64 != 1.5 {
		t.Errorf("float8 = %+v", v)
	}
	if v := r[2].(pgtype.Bool); !v.Valid || !v.Bool {
		t.Errorf("bool = %+v", v)
	}
	if v := r[3].(pgtype.Text); !v.Valid || v.String != "héllo" {
		t.Errorf("text = %+v", v)
	}
	if v := r[4].(pgtype.Timestamp); !v.Valid || !v.Time.Equal(time.UnixMilli(tsMillis)) {
		t.Errorf("timestamp = %+v, want %v", v, time.UnixMilli(tsMillis).UTC())
	}
	if v := r[5].(pgtype.Interval); !v.Valid || v.Months != 0 ||
		int64(v.Days)*86_400_000_000+v.Microseconds != ivMillis*1000 {
		t.Errorf("interval = %+v", v)
	}
	if v := r[6].(pgtype.Text); v.Valid {
		t.Errorf("unknown-typed NULL = %+v", v)
	}
	for i, v := range got[1] {
		if val, _ := v.(driver.Valuer).Value(); val != nil {
			t.Errorf("row 2 column %d = %v, want NULL", i, val)
		}
	}
}

func TestPgxExtendedBinary(t *testing.T) {
	srv := startServer(t, newFakeHandler())
	conn := connect(t, srv)
	ctx := testCtx(t)

	// The default mode prepares the statement (Parse, Describe) and binds
	// it asking for binary results for the types pgx knows.
	rows, err := conn.Query(ctx, "types")
	if err != nil {
		t.Fatal(err)
	}
	formats := map[string]int16{}
	for _, fd := range rows.FieldDescriptions() {
		formats[fd.Name] = fd.Format
	}
	for _, name := range []string{"i", "f", "b", "ts", "iv"} {
		if formats[name] != 1 {
			t.Errorf("column %s format %d, want binary", name, formats[name])
		}
	}
	checkTypesRows(t, rows)

	// A second run uses the cached statement: Bind and Execute only.
	rows, err = conn.Query(ctx, "types")
	if err != nil {
		t.Fatal(err)
	}
	checkTypesRows(t, rows)

	var one int64
	if err := conn.QueryRow(ctx, "select 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("select 1 = %d, %v", one, err)
	}
}

func TestPgxSimpleProtocol(t *testing.T) {
	srv := startServer(t, newFakeHandler())
	conn := connect(t, srv)
	ctx := testCtx(t)
	rows, err := conn.Query(ctx, "types", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	checkTypesRows(t, rows)

	// Several statements in one Query message give one result each.
	results, err := conn.PgConn().Exec(ctx, "select 1; create ;").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || results[0].CommandTag.String() != "SELECT 1" || string(results[0].Rows[0][0]) != "1" ||
		results[1].CommandTag.String() != "CREATE STREAM" {
		t.Errorf("results = %+v", results)
	}
}

func TestPgxErrors(t *testing.T) {
	srv := startServer(t, newFakeHandler())
	conn := connect(t, srv)
	ctx := testCtx(t)

	check := func(name string, err error) {
		t.Helper()
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			t.Fatalf("%s: error %v (%T), want *pgconn.PgError", name, err, err)
		}
		if pgErr.Severity != "ERROR" || pgErr.Code != errBad.Code || pgErr.Message != errBad.Message ||
			pgErr.Position != 8 || pgErr.Hint != errBad.Hint || pgErr.Detail != errBad.Detail {
			t.Errorf("%s: %+v", name, pgErr)
		}
		var one int64
		if err := conn.QueryRow(ctx, "select 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("%s: session not usable afterwards: %v", name, err)
		}
	}
	_, err := conn.Exec(ctx, "select bad") // No arguments: simple protocol.
	check("simple", err)
	err = conn.QueryRow(ctx, "select bad").Scan(new(int64)) // Fails at Describe.
	check("extended", err)
	// Parse, Bind, Describe portal, Execute in one go; fails at Describe.
	check("exec", query(ctx, conn, "select bad", pgx.QueryExecModeExec))
	// Fails at Execute, after a row was sent.
	check("late", query(ctx, conn, "late bad", pgx.QueryExecModeCacheStatement))

	// Parameters are refused at Parse, pointing at the placeholder.
	err = conn.QueryRow(ctx, "select 'a$1', $1", 1).Scan(new(int64))
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != sqlerr.FeatureNotSupported || pgErr.Position != 15 {
		t.Errorf("parameters: %v (%+v)", err, pgErr)
	}

	// A panic in the session is an internal error; the connection and
	// the server survive it.
	_, err = conn.Exec(ctx, "panic")
	if !errors.As(err, &pgErr) || pgErr.Code != sqlerr.InternalError || !strings.Contains(pgErr.Message, "execute boom") {
		t.Errorf("panic: %v", err)
	}
	err = conn.QueryRow(ctx, "panic").Scan(new(int64))
	if !errors.As(err, &pgErr) || pgErr.Code != sqlerr.InternalError || !strings.Contains(pgErr.Message, "describe boom") {
		t.Errorf("panic in Describe: %v", err)
	}
	var one int64
	if err := conn.QueryRow(ctx, "select 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("session not usable after a panic: %v", err)
	}
}

func TestPgxCancel(t *testing.T) {
	h := newFakeHandler()
	srv := startServer(t, h)
	conn := connect(t, srv)

	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		err := query(ctx, conn, "sleep", mode)
		cancel()
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != sqlerr.QueryCanceled ||
			pgErr.Message != "canceling statement due to user request" {
			t.Fatalf("%v: err = %v, want 57014", mode, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%v: cancel took %v", mode, d)
		}
		<-h.sleeping
		if err := <-h.canceled; !errors.Is(err, context.Canceled) {
			t.Errorf("%v: session saw %v", mode, err)
		}
		if conn.IsClosed() {
			t.Fatalf("%v: connection closed by cancel", mode)
		}
		var one int64
		if err := conn.QueryRow(testCtx(t), "select 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("%v: after cancel: %d, %v", mode, one, err)
		}
	}
}

// TestDisconnectCancels checks that a client that goes away while a
// statement runs and produces nothing still cancels it.
func TestDisconnectCancels(t *testing.T) {
	h := newFakeHandler()
	srv := startServer(t, h)
	conn := connect(t, srv)
	// The statement runs in the background; the test waits for it to end
	// before the connection is closed at cleanup.
	ran := make(chan struct{})
	defer func() { <-ran }()
	go func() {
		defer close(ran)
		conn.PgConn().Exec(context.Background(), "sleep").ReadAll()
	}()
	<-h.sleeping
	conn.PgConn().Conn().Close()
	select {
	case err := <-h.canceled:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("session saw %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("statement not cancelled after the client disconnected")
	}
	deadline := time.Now().Add(3 * time.Second)
	for h.closedSessions() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("session not closed after disconnect")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStreamingIsPrompt checks that a row reaches the client while the
// statement is still running, without waiting for buffers to fill.
func TestStreamingIsPrompt(t *testing.T) {
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		h := newFakeHandler()
		srv := startServer(t, h)
		conn := connect(t, srv)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		rows, err := conn.Query(ctx, "stream", mode)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		if !rows.Next() {
			t.Fatalf("%v: no first row while the statement runs: %v", mode, rows.Err())
		}
		if err := rows.Scan(&n); err != nil || n != 1 {
			t.Fatalf("%v: first row %d, %v", mode, n, err)
		}
		close(h.release)
		if !rows.Next() || rows.Scan(&n) != nil || n != 2 || rows.Next() {
			t.Fatalf("%v: second row %d, %v", mode, n, rows.Err())
		}
		if rows.CommandTag().String() != "SELECT 2" {
			t.Errorf("%v: tag %q", mode, rows.CommandTag())
		}
		cancel()
	}
}

func TestPgxBigResult(t *testing.T) {
	srv := startServer(t, newFakeHandler())
	conn := connect(t, srv)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		rows, err := conn.Query(testCtx(t), "big", mode)
		if err != nil {
			t.Fatal(err)
		}
		var i, n int64
		var s string
		for rows.Next() {
			if err := rows.Scan(&n, &s); err != nil || n != i {
				t.Fatalf("row %d: %d, %v", i, n, err)
			}
			i++
		}
		if rows.Err() != nil || i != bigRows {
			t.Fatalf("%v: %d rows, %v", mode, i, rows.Err())
		}
	}
}

func TestPgxNoticeAndTxStatus(t *testing.T) {
	srv := startServer(t, newFakeHandler())
	cfg, _ := pgx.ParseConfig(fmt.Sprintf("postgres://streamsql@%s/streamsql", srv.Addr()))
	var mu sync.Mutex
	var notices []string
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		mu.Lock()
		defer mu.Unlock()
		notices = append(notices, n.Severity+" "+n.Message)
	}
	ctx := testCtx(t)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "notice"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(notices) != 1 || notices[0] != "NOTICE hello notice" {
		t.Errorf("notices = %q", notices)
	}
	mu.Unlock()

	pc := conn.PgConn()
	if _, err := conn.Exec(ctx, "begin"); err != nil || pc.TxStatus() != 'T' {
		t.Errorf("after begin: status %c, %v", pc.TxStatus(), err)
	}
	if err := query(ctx, conn, "commit", pgx.QueryExecModeExec); err != nil || pc.TxStatus() != 'I' {
		t.Errorf("after commit: status %c, %v", pc.TxStatus(), err)
	}
}

func TestCloseEndsConnections(t *testing.T) {
	h := newFakeHandler()
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	srv := NewServer(Config{Addr: "127.0.0.1:0", Logger: log}, h)
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	// A second server on the same port fails at Listen, before serving.
	if err := NewServer(Config{Addr: srv.Addr().String()}, h).Listen(); err == nil {
		t.Error("Listen on a port in use succeeded")
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()

	conn := connect(t, srv)
	// The statement runs in the background; the test waits for it to end
	// before the connection is closed at cleanup.
	ran := make(chan struct{})
	defer func() { <-ran }()
	go func() {
		defer close(ran)
		conn.PgConn().Exec(context.Background(), "sleep").ReadAll()
	}()
	<-h.sleeping

	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Close did not return")
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if n := h.closedSessions(); n != 1 {
		t.Errorf("%d sessions closed, want 1", n)
	}
	if err := <-h.canceled; !errors.Is(err, context.Canceled) {
		t.Errorf("running statement saw %v", err)
	}
}

// query runs sql in mode and discards its rows, returning the error. Unlike
// pgx's Exec, which switches to the simple protocol when there are no
// arguments, it keeps the mode.
func query(ctx context.Context, conn *pgx.Conn, sql string, mode pgx.QueryExecMode) error {
	rows, err := conn.Query(ctx, sql, mode)
	if err != nil {
		return err
	}
	rows.Close()
	return rows.Err()
}
