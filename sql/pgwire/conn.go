package pgwire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgproto3/v2"

	"github.com/streamsql/streamsql/sql/sqlerr"
)

// startupTimeout bounds the handshake, so that a client that connects and
// sends nothing does not hold a goroutine forever.
const startupTimeout = 10 * time.Second

// errSessionPanic marks the error a panic in a Session call became; the
// panic has been logged already.
var errSessionPanic = errors.New("pgwire: panic in session")

// errCancelRequested is the cause of a statement context cancelled by a
// CancelRequest; it tells a user's cancel apart from a disconnect.
var errCancelRequested = errors.New("pgwire: cancel requested")

// conn serves one client connection. Apart from the fields documented as
// shared, it is owned by the goroutine running serve.
type conn struct {
	srv *Server
	nc  net.Conn
	log *slog.Logger
	be  *pgproto3.Backend
	// pr is the read end of the pipe readLoop fills from nc; be reads it.
	pr *io.PipeReader
	pw *io.PipeWriter

	// out is the only path by which bytes reach the client. Shared with the
	// timer goroutine of its flush policy.
	out output

	// ctx is cancelled when the connection ends: the client disconnected, a
	// write failed, or the server is closing. Every statement's context
	// derives from it. Shared: cancel is called from any goroutine.
	ctx    context.Context
	cancel context.CancelFunc

	// pid and key are the BackendKeyData that a CancelRequest must present.
	// They are set once, under Server.mu, before the connection becomes
	// reachable by CancelRequest.
	pid, key uint32

	// qmu guards cancelQuery, which is non-nil while a Session call runs and
	// cancels that call's context. Shared with CancelRequest handlers.
	qmu         sync.Mutex
	cancelQuery context.CancelCauseFunc

	session Session
	// stmts and portals are the extended protocol's prepared statements and
	// portals by name; "" is the unnamed one.
	stmts   map[string]*statement
	portals map[string]*portal
	// skipToSync is set after an error in an extended-protocol message:
	// until the next Sync every message except Terminate is discarded.
	skipToSync bool
}

// statement is a prepared statement of the extended protocol.
type statement struct {
	query string
	// empty says query holds no statement (only whitespace, semicolons and
	// comments); executing it yields EmptyQueryResponse.
	empty bool
	// cols caches the Session's description once described is set.
	cols      []Column
	described bool
}

// portal is a bound statement of the extended protocol, ready to execute.
type portal struct {
	stmt    *statement
	formats []int16 // result format codes from Bind, each 0 or 1
	// done and tag record that the portal ran to completion; executing it
	// again repeats the tag rather than running the statement twice.
	done bool
	tag  string
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{
		srv:     s,
		nc:      nc,
		log:     s.log.With("remote", nc.RemoteAddr().String()),
		stmts:   make(map[string]*statement),
		portals: make(map[string]*portal),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.pr, c.pw = io.Pipe()
	c.be = pgproto3.NewBackend(pgproto3.NewChunkReader(c.pr), nc)
	c.out = output{nc: nc, onFail: c.cancel}
	return c
}

// readLoop copies bytes from the socket into the pipe the connection
// goroutine reads messages from. Because it always has a read pending, it
// notices a disconnect even while a statement runs and no message is being
// read, and cancels the connection's context at once. The pipe is
// unbuffered, so it never reads further ahead than one chunk.
func (c *conn) readLoop() {
	defer c.srv.wg.Done()
	buf := make([]byte, 8<<10)
	for {
		n, err := c.nc.Read(buf)
		if n > 0 {
			if _, werr := c.pw.Write(buf[:n]); werr != nil {
				return // The connection goroutine has stopped reading.
			}
		}
		if err != nil {
			c.cancel()
			c.pw.CloseWithError(err)
			return
		}
	}
}

// abort ends the connection from another goroutine (Server.Close): it
// cancels what runs and closes the socket, which ends both goroutines.
func (c *conn) abort() {
	c.cancel()
	c.nc.Close()
}

// cancelRunning cancels the Session call in progress, if any. It is called
// by the goroutine serving a CancelRequest.
func (c *conn) cancelRunning() {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.cancelQuery != nil {
		c.cancelQuery(errCancelRequested)
	}
}

// serve runs the connection from startup to its end.
func (c *conn) serve() {
	defer c.srv.wg.Done()
	defer c.srv.untrack(c)
	defer c.pr.Close() // Unblocks readLoop if it is writing to the pipe.
	defer c.nc.Close()
	defer c.cancel()
	defer c.out.stop()

	params, ok := c.startup()
	if !ok {
		return
	}
	if !c.begin(params) {
		return
	}
	defer func() {
		if err := c.guard(func() error { c.session.Close(); return nil }); err != nil {
			c.log.Error("pgwire: session close failed", "err", err)
		}
		c.log.Debug("pgwire: connection closed")
	}()
	c.messageLoop()
}

// startup reads the startup packet, declining SSL and GSS encryption, and
// returns the client's parameters. It returns false when the connection
// must end: a CancelRequest (handled here; PostgreSQL closes such a
// connection without a reply), a protocol error or a disconnect.
func (c *conn) startup() (map[string]string, bool) {
	_ = c.nc.SetReadDeadline(time.Now().Add(startupTimeout))
	for {
		msg, err := c.be.ReceiveStartupMessage()
		if err != nil {
			if !isDisconnect(err) {
				c.log.Warn("pgwire: bad startup packet", "err", err)
				c.fatal(sqlerr.ProtocolViolation, "invalid startup packet: "+err.Error())
			}
			return nil, false
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			// 'N': continue unencrypted on this connection.
			if c.out.raw('N') != nil {
				return nil, false
			}
		case *pgproto3.CancelRequest:
			c.srv.cancelRequest(m.ProcessID, m.SecretKey)
			return nil, false
		case *pgproto3.StartupMessage:
			// Lift the deadline; this also applies to the read readLoop
			// already has pending.
			_ = c.nc.SetReadDeadline(time.Time{})
			return maps.Clone(m.Parameters), true
		default:
			c.fatal(sqlerr.ProtocolViolation, fmt.Sprintf("unexpected startup message %T", msg))
			return nil, false
		}
	}
}

// begin completes the handshake after the startup packet: it creates the
// session, authenticates (trust), reports the server's parameters and the
// cancel key, and sends the first ReadyForQuery.
func (c *conn) begin(params map[string]string) bool {
	user := params["user"]
	if user == "" {
		c.fatal("28000", "no PostgreSQL user name specified in startup packet")
		return false
	}
	c.srv.assignKey(c)
	c.log = c.log.With("pid", c.pid, "user", user)
	if err := c.guard(func() error {
		c.session = c.srv.handler.NewSession(params)
		return nil
	}); err != nil || c.session == nil {
		c.fatal(sqlerr.InternalError, "could not create a session")
		return false
	}
	c.log.Debug("pgwire: connection started", "database", params["database"], "application_name", params["application_name"])

	_ = c.out.send(&pgproto3.AuthenticationOk{})
	for _, p := range [...][2]string{
		{"server_version", c.srv.cfg.ServerVersion},
		{"server_encoding", "UTF8"},
		{"client_encoding", "UTF8"},
		{"DateStyle", "ISO, MDY"},
		{"integer_datetimes", "on"},
		{"standard_conforming_strings", "on"},
		{"TimeZone", "UTC"},
		{"application_name", params["application_name"]},
		{"is_superuser", "on"},
		{"session_authorization", user},
		{"IntervalStyle", "postgres"},
	} {
		_ = c.out.send(&pgproto3.ParameterStatus{Name: p[0], Value: cstring(p[1])})
	}
	_ = c.out.send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.key})
	c.readyForQuery()
	return !c.out.failed()
}

// messageLoop handles messages until the client terminates or disconnects.
func (c *conn) messageLoop() {
	for {
		msg, err := c.be.Receive()
		if err != nil {
			if !isDisconnect(err) {
				c.log.Warn("pgwire: bad message", "err", err)
				c.fatal(sqlerr.ProtocolViolation, "invalid frontend message: "+err.Error())
			}
			return
		}
		if c.skipToSync {
			switch msg.(type) {
			case *pgproto3.Sync, *pgproto3.Terminate:
			default:
				continue
			}
		}
		switch m := msg.(type) {
		case *pgproto3.Query:
			c.simpleQuery(m.String)
		case *pgproto3.Parse:
			c.extended(c.parse(m))
		case *pgproto3.Bind:
			c.extended(c.bind(m))
		case *pgproto3.Describe:
			c.extended(c.describe(m))
		case *pgproto3.Execute:
			c.extended(c.execute(m))
		case *pgproto3.Close:
			c.extended(c.closeObject(m))
		case *pgproto3.Sync:
			c.sync()
		case *pgproto3.Flush:
			_ = c.out.flush()
		case *pgproto3.Terminate:
			return
		case *pgproto3.FunctionCall:
			c.sendError(sqlerr.New(sqlerr.FeatureNotSupported, "the function call protocol is not supported"))
			c.readyForQuery()
		case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
			// PostgreSQL ignores these outside COPY IN, so that a client
			// that was streaming COPY data when an error struck can finish
			// its stream.
		default:
			c.log.Warn("pgwire: unexpected message", "type", fmt.Sprintf("%T", msg))
			c.fatal(sqlerr.ProtocolViolation, fmt.Sprintf("unexpected message %T", msg))
			return
		}
		if c.out.failed() {
			return
		}
	}
}

// simpleQuery runs a Query message: every statement in text, then
// ReadyForQuery. Like PostgreSQL it drops the unnamed prepared statement and
// portal first.
func (c *conn) simpleQuery(text string) {
	delete(c.stmts, "")
	delete(c.portals, "")
	if empty, _ := scanQuery(text); empty {
		_ = c.out.send(&pgproto3.EmptyQueryResponse{})
		c.readyForQuery()
		return
	}
	w := &resultWriter{out: &c.out}
	err := c.run(func(ctx context.Context) error { return c.session.Execute(ctx, text, w) })
	switch {
	case err != nil:
		c.sendError(err)
	case w.open:
		c.sendError(c.unfinished())
	case w.statements == 0:
		// The session found no statement where the server's scan saw one
		// (a comment syntax it knows better, say).
		_ = c.out.send(&pgproto3.EmptyQueryResponse{})
	}
	c.readyForQuery()
}

// unfinished is the error for a Session whose Execute returned without
// completing the statement whose columns it reported, which would leave the
// client waiting for a CommandComplete.
func (c *conn) unfinished() error {
	c.log.Error("pgwire: Session.Execute returned without completing its statement")
	return sqlerr.New(sqlerr.InternalError, "statement ended without a result")
}

// extended finishes an extended-protocol message: after an error, the
// protocol requires ignoring everything up to the next Sync.
func (c *conn) extended(err error) {
	if err != nil {
		c.sendError(err)
		c.skipToSync = true
	}
}

// parse handles Parse: it stores the statement. Bind parameters are not
// supported, so a statement that declares parameter types or contains a $n
// placeholder is refused here, the earliest point, pointing at the first
// placeholder.
func (c *conn) parse(m *pgproto3.Parse) error {
	if _, exists := c.stmts[m.Name]; exists && m.Name != "" {
		return sqlerr.New("42P05", "prepared statement %q already exists", m.Name)
	}
	empty, paramPos := scanQuery(m.Query)
	if paramPos > 0 || len(m.ParameterOIDs) > 0 {
		return sqlerr.New(sqlerr.FeatureNotSupported, "parameters are not supported").
			WithHint("Write the values into the statement text instead of binding them.").
			At(paramPos)
	}
	c.stmts[m.Name] = &statement{query: m.Query, empty: empty}
	return c.out.send(&pgproto3.ParseComplete{})
}

// bind handles Bind: it creates a portal for a prepared statement with the
// requested result formats. Whether the number of formats fits the number of
// columns is checked when the columns are known (Describe or Execute), so
// Bind does not cost a planning round.
func (c *conn) bind(m *pgproto3.Bind) error {
	st, ok := c.stmts[m.PreparedStatement]
	if !ok {
		return noStatement(m.PreparedStatement)
	}
	if len(m.Parameters) > 0 {
		return sqlerr.New(sqlerr.ProtocolViolation,
			"bind message supplies %d parameters, but prepared statement %q requires 0", len(m.Parameters), m.PreparedStatement)
	}
	for _, f := range m.ResultFormatCodes {
		if f != formatText && f != formatBinary {
			return sqlerr.New(sqlerr.InvalidParameter, "unsupported format code: %d", f)
		}
	}
	if _, exists := c.portals[m.DestinationPortal]; exists && m.DestinationPortal != "" {
		return sqlerr.New("42P03", "portal %q already exists", m.DestinationPortal)
	}
	c.portals[m.DestinationPortal] = &portal{stmt: st, formats: slices.Clone(m.ResultFormatCodes)}
	return c.out.send(&pgproto3.BindComplete{})
}

// describe handles Describe of a statement (its parameters, none, and its
// columns in text format) or of a portal (its columns in the bound formats).
func (c *conn) describe(m *pgproto3.Describe) error {
	switch m.ObjectType {
	case 'S':
		st, ok := c.stmts[m.Name]
		if !ok {
			return noStatement(m.Name)
		}
		cols, err := c.describeStatement(st)
		if err != nil {
			return err
		}
		_ = c.out.send(&pgproto3.ParameterDescription{})
		return c.sendColumns(cols, nil)
	case 'P':
		p, ok := c.portals[m.Name]
		if !ok {
			return noPortal(m.Name)
		}
		cols, err := c.describeStatement(p.stmt)
		if err != nil {
			return err
		}
		formats, err := resolveFormats(p.formats, len(cols))
		if err != nil {
			return err
		}
		return c.sendColumns(cols, formats)
	default:
		return sqlerr.New(sqlerr.ProtocolViolation, "invalid DESCRIBE message subtype %d", m.ObjectType)
	}
}

// describeStatement asks the Session for a statement's columns once and
// caches them for the statement's life.
func (c *conn) describeStatement(st *statement) ([]Column, error) {
	if st.empty || st.described {
		return st.cols, nil
	}
	var cols []Column
	err := c.run(func(ctx context.Context) error {
		var err error
		cols, err = c.session.Describe(ctx, st.query)
		return err
	})
	if err != nil {
		return nil, err
	}
	st.cols, st.described = slices.Clone(cols), true
	return st.cols, nil
}

// sendColumns sends RowDescription, or NoData for a statement without rows.
func (c *conn) sendColumns(cols []Column, formats []int16) error {
	if len(cols) == 0 {
		return c.out.send(&pgproto3.NoData{})
	}
	return c.out.send(rowDescription(cols, formats))
}

// execute handles Execute: it runs the portal's statement to completion.
// MaxRows is ignored (see "Limitations" in the package documentation).
func (c *conn) execute(m *pgproto3.Execute) error {
	p, ok := c.portals[m.Portal]
	if !ok {
		return noPortal(m.Portal)
	}
	if p.stmt.empty {
		return c.out.send(&pgproto3.EmptyQueryResponse{})
	}
	if p.done {
		return c.out.send(&pgproto3.CommandComplete{CommandTag: []byte(cstring(p.tag))})
	}
	w := &resultWriter{out: &c.out, portal: true, formats: p.formats}
	if err := c.run(func(ctx context.Context) error { return c.session.Execute(ctx, p.stmt.query, w) }); err != nil {
		return err
	}
	if w.open {
		return c.unfinished()
	}
	if w.statements == 0 {
		return c.out.send(&pgproto3.EmptyQueryResponse{})
	}
	p.done, p.tag = true, w.tag
	return nil
}

// closeObject handles Close. Closing a statement also closes the portals
// bound from it, as in PostgreSQL. Closing something that does not exist is
// not an error.
func (c *conn) closeObject(m *pgproto3.Close) error {
	switch m.ObjectType {
	case 'S':
		if st, ok := c.stmts[m.Name]; ok {
			delete(c.stmts, m.Name)
			maps.DeleteFunc(c.portals, func(_ string, p *portal) bool { return p.stmt == st })
		}
	case 'P':
		delete(c.portals, m.Name)
	default:
		return sqlerr.New(sqlerr.ProtocolViolation, "invalid CLOSE message subtype %d", m.ObjectType)
	}
	return c.out.send(&pgproto3.CloseComplete{})
}

// sync handles Sync: it ends error recovery and answers ReadyForQuery.
// Outside a transaction block the implicit transaction ends here, and with
// it every portal, as in PostgreSQL.
func (c *conn) sync() {
	c.skipToSync = false
	if c.txStatus() == 'I' {
		clear(c.portals)
	}
	c.readyForQuery()
}

// readyForQuery ends a query cycle and writes everything queued.
func (c *conn) readyForQuery() {
	_ = c.out.send(&pgproto3.ReadyForQuery{TxStatus: c.txStatus()})
	_ = c.out.flush()
}

// txStatus returns the session's transaction status for ReadyForQuery.
func (c *conn) txStatus() byte {
	ts, ok := c.session.(TxStatuser)
	if !ok {
		return 'I'
	}
	var status byte
	if err := c.guard(func() error { status = ts.TxStatus(); return nil }); err != nil {
		return 'I'
	}
	switch status {
	case 'I', 'T', 'E':
		return status
	}
	return 'I'
}

// run calls f, a call into the Session, with a context that a CancelRequest
// cancels, and maps a cancellation to the error PostgreSQL reports for it.
func (c *conn) run(f func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancelCause(c.ctx)
	c.qmu.Lock()
	c.cancelQuery = cancel
	c.qmu.Unlock()

	err := c.guard(func() error { return f(ctx) })

	c.qmu.Lock()
	c.cancelQuery = nil
	c.qmu.Unlock()
	userCanceled := errors.Is(context.Cause(ctx), errCancelRequested)
	cancel(nil)

	switch {
	case err == nil:
		return nil
	case userCanceled || errors.Is(err, context.Canceled):
		// Whatever error the statement ended with, the user asked for it
		// to end. A cancel because the client went away lands here too,
		// but nobody is left to read it.
		return sqlerr.New(sqlerr.QueryCanceled, "canceling statement due to user request")
	case errors.Is(err, context.DeadlineExceeded):
		return sqlerr.New(sqlerr.QueryCanceled, "canceling statement due to statement timeout")
	}
	return err
}

// guard calls f, a call into the Session, and turns a panic into an
// internal error after logging it with its stack. It is the package's only
// recover: a bug in the engine ends one statement, not the server, while a
// panic in the wire code itself is not hidden.
func (c *conn) guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("pgwire: panic in session", "panic", r, "stack", string(debug.Stack()))
			err = &sqlerr.Error{Code: sqlerr.InternalError, Message: fmt.Sprintf("internal error: %v", r), Err: errSessionPanic}
		}
	}()
	return f()
}

// sendError sends err as an ErrorResponse. Errors without a SQLSTATE are
// internal (XX000) and are logged, since they point at a bug or an
// unexpected failure rather than at the user's statement.
func (c *conn) sendError(err error) {
	if c.out.failed() {
		return // The client is gone; err is most likely the failed write.
	}
	e := sqlerr.As(err)
	code := e.Code
	if code == "" {
		code = sqlerr.InternalError
	}
	if code == sqlerr.InternalError && !errors.Is(err, errSessionPanic) {
		c.log.Warn("pgwire: internal error", "err", err)
	}
	_ = c.out.send(&pgproto3.ErrorResponse{
		Severity:            "ERROR",
		SeverityUnlocalized: "ERROR",
		Code:                code,
		Message:             cstring(e.Message),
		Detail:              cstring(e.Detail),
		Hint:                cstring(e.Hint),
		Position:            int32(e.Position),
	})
}

// fatal sends an ErrorResponse of severity FATAL, after which the connection
// is closed.
func (c *conn) fatal(code, msg string) {
	_ = c.out.send(&pgproto3.ErrorResponse{
		Severity:            "FATAL",
		SeverityUnlocalized: "FATAL",
		Code:                code,
		Message:             cstring(msg),
	})
	_ = c.out.flush()
}

func noStatement(name string) error {
	if name == "" {
		return sqlerr.New(sqlerr.InvalidSQLStatement, "unnamed prepared statement does not exist")
	}
	return sqlerr.New(sqlerr.InvalidSQLStatement, "prepared statement %q does not exist", name)
}

func noPortal(name string) error {
	if name == "" {
		return sqlerr.New("34000", "unnamed portal does not exist")
	}
	return sqlerr.New("34000", "portal %q does not exist", name)
}

// isDisconnect reports whether a read error means the client went away (or
// the server closed the connection), which needs no reply and no warning.
func isDisconnect(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.ErrClosedPipe) || errors.Is(err, net.ErrClosed) ||
		errors.As(err, &ne)
}

// cstring removes NUL bytes, which cannot occur inside the NUL-terminated
// strings of protocol messages and would corrupt their framing.
func cstring(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "")
}
