package pgwire

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgproto3/v2"
)

// These tests speak the protocol message by message, to check exact
// sequences that drivers hide: error recovery in the extended protocol,
// format codes, empty queries, the startup handshake.

// rawClient is a hand-driven frontend.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	fe *pgproto3.Frontend
}

// dialRaw connects without starting up.
func dialRaw(t *testing.T, srv *Server) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", srv.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawClient{t: t, nc: nc, fe: pgproto3.NewFrontend(pgproto3.NewChunkReader(nc), nc)}
}

// startRaw connects and completes startup.
func startRaw(t *testing.T, srv *Server) *rawClient {
	t.Helper()
	c := dialRaw(t, srv)
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "raw"}})
	got := c.cycle()
	if len(got) < 3 || got[0] != "AuthenticationOk" || got[len(got)-2] != "BackendKeyData" || got[len(got)-1] != "ReadyForQuery I" {
		t.Fatalf("startup: %q", got)
	}
	return c
}

func (c *rawClient) send(msgs ...pgproto3.FrontendMessage) {
	c.t.Helper()
	for _, m := range msgs {
		if err := c.fe.Send(m); err != nil {
			c.t.Fatal(err)
		}
	}
}

// cycle returns the messages received up to and including the next
// ReadyForQuery, summarised by summary.
func (c *rawClient) cycle() []string {
	c.t.Helper()
	var got []string
	for {
		msg, err := c.fe.Receive()
		if err != nil {
			c.t.Fatalf("receive after %q: %v", got, err)
		}
		got = append(got, summary(msg))
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			return got
		}
	}
}

// summary renders a backend message as one comparable line.
func summary(msg pgproto3.BackendMessage) string {
	switch m := msg.(type) {
	case *pgproto3.ReadyForQuery:
		return "ReadyForQuery " + string(m.TxStatus)
	case *pgproto3.ErrorResponse:
		return fmt.Sprintf("Error %s %s %d %s", m.Severity, m.Code, m.Position, m.Message)
	case *pgproto3.NoticeResponse:
		return "Notice " + m.Message
	case *pgproto3.CommandComplete:
		return "CommandComplete " + string(m.CommandTag)
	case *pgproto3.ParameterDescription:
		return fmt.Sprintf("ParameterDescription %v", m.ParameterOIDs)
	case *pgproto3.ParameterStatus:
		return "ParameterStatus " + m.Name
	case *pgproto3.RowDescription:
		var fields []string
		for _, f := range m.Fields {
			fields = append(fields, fmt.Sprintf("%s:%d:%d:%d", f.Name, f.DataTypeOID, f.DataTypeSize, f.Format))
		}
		return "RowDescription " + strings.Join(fields, " ")
	case *pgproto3.DataRow:
		var vals []string
		for _, v := range m.Values {
			if v == nil {
				vals = append(vals, "NULL")
			} else {
				vals = append(vals, fmt.Sprintf("%q", v))
			}
		}
		return "DataRow " + strings.Join(vals, " ")
	case *pgproto3.CopyOutResponse:
		return fmt.Sprintf("CopyOutResponse %d %v", m.OverallFormat, m.ColumnFormatCodes)
	case *pgproto3.CopyData:
		return fmt.Sprintf("CopyData %q", m.Data)
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", msg), "*pgproto3.")
}

func checkCycle(t *testing.T, c *rawClient, want ...string) {
	t.Helper()
	got := c.cycle()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

func TestExtendedErrorRecovery(t *testing.T) {
	c := startRaw(t, startServer(t, newFakeHandler()))
	// The error at the first Execute discards everything up to the first
	// Sync; each Sync gets exactly one ReadyForQuery.
	c.send(&pgproto3.Parse{Query: "late bad"}, &pgproto3.Bind{}, &pgproto3.Execute{},
		&pgproto3.Parse{Query: "select 1"}, &pgproto3.Bind{}, &pgproto3.Execute{},
		&pgproto3.Sync{}, &pgproto3.Sync{})
	checkCycle(t, c, "ParseComplete", "BindComplete", `DataRow "1"`,
		`Error ERROR 42703 8 column "bad" does not exist`, "ReadyForQuery I")
	checkCycle(t, c, "ReadyForQuery I")

	c.send(&pgproto3.Parse{Query: "select 1"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
	checkCycle(t, c, "ParseComplete", "BindComplete", `DataRow "1"`, "CommandComplete SELECT 1", "ReadyForQuery I")

	// Errors from each kind of message.
	for _, tc := range []struct {
		msgs []pgproto3.FrontendMessage
		want string
	}{
		{[]pgproto3.FrontendMessage{&pgproto3.Parse{Query: "select 'x', $1"}}, "Error ERROR 0A000 13 parameters are not supported"},
		{[]pgproto3.FrontendMessage{&pgproto3.Parse{Query: "select 1", ParameterOIDs: []uint32{20}}}, "Error ERROR 0A000 0 parameters are not supported"},
		{[]pgproto3.FrontendMessage{&pgproto3.Bind{PreparedStatement: "nope"}}, `Error ERROR 26000 0 prepared statement "nope" does not exist`},
		{[]pgproto3.FrontendMessage{&pgproto3.Describe{ObjectType: 'P', Name: "nope"}}, `Error ERROR 34000 0 portal "nope" does not exist`},
		{[]pgproto3.FrontendMessage{&pgproto3.Execute{Portal: "nope"}}, `Error ERROR 34000 0 portal "nope" does not exist`},
	} {
		c.send(tc.msgs...)
		c.send(&pgproto3.Sync{})
		checkCycle(t, c, tc.want, "ReadyForQuery I")
	}

	// A portal holds one statement; the second one is refused (after the
	// first ran, as the server does not parse).
	c.send(&pgproto3.Parse{Query: "select 1; create"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
	checkCycle(t, c, "ParseComplete", "BindComplete", `DataRow "1"`, "CommandComplete SELECT 1",
		"Error ERROR 42601 0 cannot insert multiple commands into a prepared statement", "ReadyForQuery I")
}

func TestExtendedFormats(t *testing.T) {
	c := startRaw(t, startServer(t, newFakeHandler()))
	textDesc := "RowDescription i:20:8:0 f:701:8:0 b:16:1:0 s:25:-1:0 ts:1114:8:0 iv:1186:16:0 n:25:-1:0"
	nulls := "DataRow NULL NULL NULL NULL NULL NULL NULL"

	// Describe of the statement reports text formats, Describe of the
	// portal the bound ones; Execute sends no RowDescription.
	c.send(&pgproto3.Parse{Name: "s1", Query: "types"}, &pgproto3.Describe{ObjectType: 'S', Name: "s1"},
		&pgproto3.Bind{PreparedStatement: "s1", ResultFormatCodes: []int16{1}},
		&pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{})
	be := binary.BigEndian
	bin := []string{
		string(be.AppendUint64(nil, 42)),
		string(be.AppendUint64(nil, math.Float64bits(1.5))),
		"\x01",
		"héllo",
		string(be.AppendUint64(nil, uint64((tsMillis-946_684_800_000)*1000))),
		string(be.AppendUint64(nil, ivMillis*1000)) + "\x00\x00\x00\x00\x00\x00\x00\x00",
	}
	q := func(vals ...string) string {
		for i, v := range vals {
			if v != "NULL" {
				vals[i] = fmt.Sprintf("%q", v)
			}
		}
		return "DataRow " + strings.Join(vals, " ")
	}
	checkCycle(t, c, "ParseComplete", "ParameterDescription []", textDesc, "BindComplete",
		"RowDescription i:20:8:1 f:701:8:1 b:16:1:1 s:25:-1:1 ts:1114:8:1 iv:1186:16:1 n:25:-1:1",
		q(append(bin, "NULL")...), nulls, "CommandComplete SELECT 2", "ReadyForQuery I")

	// One code per column.
	c.send(&pgproto3.Bind{PreparedStatement: "s1", ResultFormatCodes: []int16{0, 1, 0, 1, 0, 1, 0}},
		&pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{})
	checkCycle(t, c, "BindComplete",
		"RowDescription i:20:8:0 f:701:8:1 b:16:1:0 s:25:-1:1 ts:1114:8:0 iv:1186:16:1 n:25:-1:0",
		q("42", bin[1], "t", "héllo", "2026-11-23 10:01:00.123", bin[5], "NULL"), nulls,
		"CommandComplete SELECT 2", "ReadyForQuery I")

	// No codes: all text, as the simple protocol sends.
	c.send(&pgproto3.Bind{PreparedStatement: "s1"}, &pgproto3.Execute{}, &pgproto3.Sync{})
	checkCycle(t, c, "BindComplete", q("42", "1.5", "t", "héllo", "2026-11-23 10:01:00.123", "1 day 01:01:01.5", "NULL"),
		nulls, "CommandComplete SELECT 2", "ReadyForQuery I")
	c.send(&pgproto3.Query{String: "types"})
	checkCycle(t, c, textDesc, q("42", "1.5", "t", "héllo", "2026-11-23 10:01:00.123", "1 day 01:01:01.5", "NULL"),
		nulls, "CommandComplete SELECT 2", "ReadyForQuery I")

	// A wrong number of codes is refused once the columns are known; a
	// code other than 0 and 1 at Bind.
	c.send(&pgproto3.Bind{PreparedStatement: "s1", ResultFormatCodes: []int16{0, 1}}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Sync{})
	checkCycle(t, c, "BindComplete", "Error ERROR 08P01 0 bind message has 2 result formats but query has 7 columns", "ReadyForQuery I")
	c.send(&pgproto3.Bind{PreparedStatement: "s1", ResultFormatCodes: []int16{2}}, &pgproto3.Sync{})
	checkCycle(t, c, "Error ERROR 22023 0 unsupported format code: 2", "ReadyForQuery I")

	// Closing the statement closes it for Bind.
	c.send(&pgproto3.Close{ObjectType: 'S', Name: "s1"}, &pgproto3.Bind{PreparedStatement: "s1"}, &pgproto3.Sync{})
	checkCycle(t, c, "CloseComplete", `Error ERROR 26000 0 prepared statement "s1" does not exist`, "ReadyForQuery I")
}

func TestEmptyQueries(t *testing.T) {
	c := startRaw(t, startServer(t, newFakeHandler()))
	for _, q := range []string{"", " ;\n", "-- ping", "/* a /* nested */ comment */;"} {
		c.send(&pgproto3.Query{String: q})
		checkCycle(t, c, "EmptyQueryResponse", "ReadyForQuery I")
	}
	c.send(&pgproto3.Parse{Query: "-- nothing"}, &pgproto3.Describe{ObjectType: 'S'}, &pgproto3.Bind{},
		&pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{})
	checkCycle(t, c, "ParseComplete", "ParameterDescription []", "NoData", "BindComplete", "NoData",
		"EmptyQueryResponse", "ReadyForQuery I")
	c.send(&pgproto3.Parse{Query: "create"}, &pgproto3.Describe{ObjectType: 'S'}, &pgproto3.Bind{},
		&pgproto3.Execute{}, &pgproto3.Sync{})
	checkCycle(t, c, "ParseComplete", "ParameterDescription []", "NoData", "BindComplete",
		"CommandComplete CREATE STREAM", "ReadyForQuery I")
	c.send(&pgproto3.Query{String: "notice; begin"})
	checkCycle(t, c, "Notice hello notice", "CommandComplete SET", "CommandComplete BEGIN", "ReadyForQuery T")
}

func TestStartupNegotiation(t *testing.T) {
	srv := startServer(t, newFakeHandler())
	c := dialRaw(t, srv)
	// SSLRequest and GSSENCRequest are declined with a single 'N', and the
	// handshake goes on in plain text on the same connection.
	for _, code := range []uint32{80877103, 80877104} {
		req := be32(nil, 8)
		req = be32(req, code)
		if _, err := c.nc.Write(req); err != nil {
			t.Fatal(err)
		}
		var b [1]byte
		if _, err := io.ReadFull(c.nc, b[:]); err != nil || b[0] != 'N' {
			t.Fatalf("request %d: answer %q, %v", code, b[:], err)
		}
	}
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "u"}})
	got := c.cycle()
	want := []string{"AuthenticationOk"}
	for _, name := range []string{"server_version", "server_encoding", "client_encoding", "DateStyle", "integer_datetimes",
		"standard_conforming_strings", "TimeZone", "application_name", "is_superuser", "session_authorization", "IntervalStyle"} {
		want = append(want, "ParameterStatus "+name)
	}
	want = append(want, "BackendKeyData", "ReadyForQuery I")
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("startup:\n%q\nwant\n%q", got, want)
	}

	// A CancelRequest with a wrong key is ignored, and its connection
	// closed without a reply.
	cr := dialRaw(t, srv)
	cr.send(&pgproto3.CancelRequest{ProcessID: 1, SecretKey: 2})
	if n, err := cr.nc.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("cancel connection: read %d, %v; want EOF", n, err)
	}

	// No user name is a FATAL error.
	nu := dialRaw(t, srv)
	nu.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"database": "d"}})
	msg, err := nu.fe.Receive()
	if err != nil || summary(msg) != "Error FATAL 28000 0 no PostgreSQL user name specified in startup packet" {
		t.Errorf("no user: %v, %v", summary(msg), err)
	}
}

func TestProtocolViolation(t *testing.T) {
	c := startRaw(t, startServer(t, newFakeHandler()))
	if _, err := c.nc.Write([]byte{'?', 0, 0, 0, 4}); err != nil {
		t.Fatal(err)
	}
	msg, err := c.fe.Receive()
	if err != nil || !strings.HasPrefix(summary(msg), "Error FATAL 08P01 0 invalid frontend message") {
		t.Fatalf("got %v, %v", summary(msg), err)
	}
	if _, err := c.fe.Receive(); err == nil {
		t.Error("connection still open after a protocol violation")
	}
}

func be32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }
