package engine

// Push queries: SELECT ... EMIT CHANGES [LIMIT n] runs until LIMIT n rows
// were sent or the client cancels, sending each row as it is produced. Three
// ways to receive one:
//
//   - the plain query (simple or extended protocol): RowDescription, then
//     DataRows as they come, then "SELECT n" at the LIMIT. Drivers such as
//     pgx read rows as they arrive; psql without FETCH_COUNT waits for the
//     whole result, so it prints nothing until the LIMIT.
//   - COPY (SELECT ...) TO STDOUT: CopyData per row; psql writes each line as
//     it arrives. Any SELECT can be copied, bounded or push.
//   - cursors (DECLARE / FETCH / CLOSE), which psql uses with \set
//     FETCH_COUNT n: the query starts at DECLARE and FETCH FORWARD n waits
//     until n rows are available (or the query has ended). It must wait for
//     all n: psql takes a short FETCH for the end of the result.
//
// A push query reads from the stream's start_from (default earliest) unless
// the session sets push_start_from, and keeps following the topic. The
// cancellation of a statement's context (CancelRequest, disconnect) stops
// the query; the wire server reports it as 57014.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql"
	"github.com/streamsql/streamsql/sql/pgwire"
	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

const (
	// pushEmitInterval is the time between the barriers of a push query. At
	// each one a non-windowed GROUP BY emits the groups changed since the
	// previous one, so it bounds how stale a pushed aggregate can be; a push
	// query saves nothing at a barrier, so a short interval costs little.
	// Windowed aggregates and plain projections do not wait for it.
	pushEmitInterval = 500 * time.Millisecond

	// cursorBuffer is how many rows a cursor's query may produce ahead of
	// FETCH. When the buffer is full the query waits, so a client that
	// fetches slowly (or not at all) holds back the query rather than the
	// server's memory.
	cursorBuffer = 1024

	// pushStartSetting names the session setting that overrides where push
	// queries start reading: 'earliest', 'latest' or a timestamp. DEFAULT
	// (or RESET) returns to the stream's start_from.
	pushStartSetting = "push_start_from"
)

// errQueryCanceled is what a statement cancelled by its client reports.
func errQueryCanceled() error {
	return sqlerr.New(sqlerr.QueryCanceled, "canceling statement due to user request")
}

// planPush plans SELECT ... EMIT CHANGES. It plans in Bounded mode, whose
// only differences from Continuous are that it allows LIMIT (which exec's
// result stage applies to push queries as to bounded ones) and, for a
// query without EMIT CHANGES, ORDER BY; the planner rejects ORDER BY in a
// push query itself. What makes the query a push query is exec.Config's
// Unbounded, set by startQuery from Plan.EmitChanges.
func (s *Session) planPush(q *sql.Query) (*planner.Plan, error) {
	plan, err := planner.Build(q, s.e.cfg.Catalog, planner.Bounded)
	if err != nil {
		return nil, err
	}
	from, ok, err := s.pushStartFrom()
	if err != nil || !ok {
		return plan, err
	}
	// Plans are shared values: copy the path to the stream rather than
	// changing the catalog's.
	p := *plan
	scan := *p.Scan
	stream := *scan.Stream
	stream.StartFrom = from
	scan.Stream = &stream
	p.Scan = &scan
	return &p, nil
}

// pushStartFrom returns the session's push_start_from setting in the form of
// catalog.Stream.StartFrom, and whether it is set.
func (s *Session) pushStartFrom() (string, bool, error) {
	v, ok := s.settings[pushStartSetting]
	if !ok || strings.EqualFold(v, "default") || v == "" {
		return "", false, nil
	}
	switch strings.ToLower(v) {
	case "earliest", "latest":
		return strings.ToLower(v), true, nil
	}
	if ms, ok := types.ParseTimestamp(v); ok {
		return strconv.FormatInt(ms, 10), true, nil
	}
	return "", false, sqlerr.New(sqlerr.InvalidParameter, "invalid value for %s: %q", pushStartSetting, v).
		WithHint("Use SET %s = 'earliest', 'latest' or a timestamp such as '2026-11-23T10:00:00Z'; RESET %s returns to each stream's start_from.",
			pushStartSetting, pushStartSetting)
}

// selectPush runs SELECT ... EMIT CHANGES and streams its rows to w until
// the LIMIT or a cancellation.
func (s *Session) selectPush(ctx context.Context, q *sql.Query, w pgwire.ResultWriter) error {
	plan, err := s.planPush(q)
	if err != nil {
		return err
	}
	if err := w.Columns(planColumns(plan)); err != nil {
		return err
	}
	n, err := s.runQuery(ctx, plan, w.Row)
	if err != nil {
		return err
	}
	return w.Complete(fmt.Sprintf("SELECT %d", n))
}

// startQuery starts plan, as a push query when it has EMIT CHANGES, and
// hands its rows to emit one at a time. emit is called from the query's
// goroutines but never concurrently, and its row is reused afterwards. An
// error from emit ends the query with that error; exec.ErrStopOutput ends
// it without one.
func (s *Session) startQuery(ctx context.Context, plan *planner.Plan, emit func([]types.Value) error) (*exec.Query, error) {
	width := len(plan.Columns)
	row := make([]types.Value, width)
	cfg := s.queryConfig(plan)
	cfg.Unbounded = plan.EmitChanges
	cfg.CheckpointInterval = pushEmitInterval
	cfg.Output = func(b *types.Batch) error {
		for i := 0; i < b.Len(); i++ {
			for j := 0; j < width; j++ {
				row[j] = b.Cols[j].Value(i)
			}
			if err := emit(row); err != nil {
				return err
			}
		}
		return nil
	}
	return exec.Start(ctx, cfg)
}

// runQuery runs plan to its end (a bounded query, or a push query's LIMIT)
// and returns how many rows emit took. A cancelled ctx ends it with 57014.
func (s *Session) runQuery(ctx context.Context, plan *planner.Plan, emit func([]types.Value) error) (int64, error) {
	// n is written by the query's goroutines and read after Err, which
	// waits for them.
	var n int64
	q, err := s.startQuery(ctx, plan, func(row []types.Value) error {
		if err := emit(row); err != nil {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		return 0, err
	}
	if err := q.Err(); err != nil {
		if errors.Is(err, context.Canceled) {
			return n, errQueryCanceled()
		}
		return n, err
	}
	return n, nil
}

// executePush runs the statements this file adds: COPY TO STDOUT and the
// cursor statements.
func (s *Session) executePush(ctx context.Context, st sql.Statement, w pgwire.ResultWriter) error {
	switch st := st.(type) {
	case *sql.CopyTo:
		return s.copyTo(ctx, st, w)
	case *sql.DeclareCursor:
		return s.declareCursor(st, w)
	case *sql.Fetch:
		return s.fetch(ctx, st, w)
	case *sql.CloseCursor:
		return s.closeCursor(st, w)
	}
	return sqlerr.New(sqlerr.FeatureNotSupported, "statement %T is not supported", st)
}

// copyTo runs COPY (SELECT ...) TO STDOUT: the rows in COPY format, as they
// are produced.
func (s *Session) copyTo(ctx context.Context, st *sql.CopyTo, w pgwire.ResultWriter) error {
	cw, ok := w.(pgwire.CopyOutWriter)
	if !ok {
		return sqlerr.New(sqlerr.FeatureNotSupported, "COPY TO STDOUT is not supported on this connection")
	}
	plan, err := s.planSelect(st.Query)
	if err != nil {
		return err
	}
	f := st.Format
	if err := cw.CopyOut(planColumns(plan), pgwire.CopyFormat{CSV: f.CSV, Delimiter: f.Delimiter, Null: f.Null, Header: f.Header}); err != nil {
		return err
	}
	n, err := s.runQuery(ctx, plan, cw.Row)
	if err != nil {
		return err
	}
	return w.Complete(fmt.Sprintf("COPY %d", n))
}

// cursor is a DECLAREd cursor. Its query runs from DECLARE until CLOSE, the
// end of the transaction or the end of the session, in its own goroutines,
// and hands rows to FETCH through rows, a bounded channel (see
// cursorBuffer). A session's cursors are used only by its own statements,
// which never run concurrently.
type cursor struct {
	cols []pgwire.Column
	// rows carries the query's rows, each its own slice. It is closed once
	// the query has ended and err is set.
	rows chan []types.Value
	// err is why the query ended: nil for its end, its LIMIT or CLOSE.
	// Written before rows is closed and read only after.
	err    error
	q      *exec.Query
	cancel context.CancelFunc
}

// close stops the cursor's query and waits until its goroutines have ended.
func (c *cursor) close() {
	c.cancel()
	<-c.q.Done()
}

// declareCursor handles DECLARE: it plans and starts the query. Rows are
// produced into the cursor's buffer before anyone fetches them, so a push
// query's rows are not lost between FETCHes.
func (s *Session) declareCursor(st *sql.DeclareCursor, w pgwire.ResultWriter) error {
	if !s.inTxn {
		return sqlerr.New("25P01", "DECLARE CURSOR can only be used in transaction blocks").
			WithHint("Run BEGIN first; psql does so itself when FETCH_COUNT is set.")
	}
	if _, dup := s.cursors[st.Name]; dup {
		return sqlerr.New("42P03", "cursor %q already exists", st.Name).At(st.NamePos)
	}
	plan, err := s.planSelect(st.Query)
	if err != nil {
		return err
	}
	c := &cursor{cols: planColumns(plan), rows: make(chan []types.Value, cursorBuffer)}
	// The query outlives this statement, so its context is the cursor's own.
	ctx, cancel := context.WithCancel(context.Background())
	q, err := s.startQuery(ctx, plan, func(row []types.Value) error {
		select {
		case c.rows <- slices.Clone(row):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	if err != nil {
		cancel()
		return err
	}
	c.q, c.cancel = q, cancel
	go func() {
		err := q.Err()
		if errors.Is(err, context.Canceled) {
			err = nil // CLOSE or the end of the transaction.
		}
		c.err = err
		close(c.rows)
	}()
	if s.cursors == nil {
		s.cursors = make(map[string]*cursor)
	}
	s.cursors[st.Name] = c
	return w.Complete("DECLARE CURSOR")
}

// lookupCursor returns the named cursor or PostgreSQL's error for a missing one.
func (s *Session) lookupCursor(name string, pos int) (*cursor, error) {
	c, ok := s.cursors[name]
	if !ok {
		return nil, sqlerr.New("34000", "cursor %q does not exist", name).At(pos)
	}
	return c, nil
}

// fetch handles FETCH: it returns the next Count rows, waiting until that
// many are available or the query has ended. Returning fewer early would
// end psql's FETCH_COUNT loop, which takes a short result for the last one,
// so a push query without LIMIT fills every FETCH; use a small FETCH_COUNT
// (or COPY) to see rows one by one. A cancelled FETCH reports 57014; the
// cursor stays open.
func (s *Session) fetch(ctx context.Context, st *sql.Fetch, w pgwire.ResultWriter) error {
	c, err := s.lookupCursor(st.Cursor, st.CursorPos)
	if err != nil {
		return err
	}
	if err := w.Columns(c.cols); err != nil {
		return err
	}
	var n int64
	for st.Count < 0 || n < st.Count {
		select {
		case row, ok := <-c.rows:
			if !ok {
				if c.err != nil {
					return c.err
				}
				return w.Complete(fmt.Sprintf("FETCH %d", n))
			}
			if err := w.Row(row); err != nil {
				return err
			}
			n++
		case <-ctx.Done():
			return errQueryCanceled()
		}
	}
	return w.Complete(fmt.Sprintf("FETCH %d", n))
}

// describeFetch returns the columns FETCH from the named cursor returns, for
// the extended protocol's Describe.
func (s *Session) describeFetch(st *sql.Fetch) ([]pgwire.Column, error) {
	c, err := s.lookupCursor(st.Cursor, st.CursorPos)
	if err != nil {
		return nil, err
	}
	return c.cols, nil
}

// closeCursor handles CLOSE name and CLOSE ALL.
func (s *Session) closeCursor(st *sql.CloseCursor, w pgwire.ResultWriter) error {
	if st.All {
		s.closeCursors()
		return w.Complete("CLOSE CURSOR ALL")
	}
	c, err := s.lookupCursor(st.Name, st.NamePos)
	if err != nil {
		return err
	}
	c.close()
	delete(s.cursors, st.Name)
	return w.Complete("CLOSE CURSOR")
}

// closeCursors closes every open cursor: at CLOSE ALL, at the end of a
// transaction (cursors are not WITH HOLD) and when the session ends.
func (s *Session) closeCursors() {
	for name, c := range s.cursors {
		c.close()
		delete(s.cursors, name)
	}
}
