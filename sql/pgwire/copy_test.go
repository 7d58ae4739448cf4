package pgwire

import (
	"bytes"
	"strings"
	"testing"

	"github.com/jackc/pgproto3/v2"

	"github.com/streamsql/streamsql/sql/types"
)

func TestCopyLine(t *testing.T) {
	text := CopyFormat{Delimiter: '\t', Null: `\N`}
	csv := CopyFormat{CSV: true, Delimiter: ',', Null: ""}
	s := types.StringValue
	tests := []struct {
		name string
		f    CopyFormat
		vals []types.Value
		want string
	}{
		{"text plain", text, []types.Value{types.IntValue(-7), s("héllo"), types.BoolValue(false), types.FloatValue(0.25)}, "-7\théllo\tf\t0.25\n"},
		{"text NULL", text, []types.Value{types.NullOf(types.Bigint), s(`\N`)}, `\N` + "\t" + `\\N` + "\n"},
		{"text escapes", text, []types.Value{s("a\tb\nc\rd\\e\bf\fg\vh\x01i")}, `a\tb\nc\rd\\e\bf\fg\vh` + "\x01i\n"},
		{"text other delimiter", CopyFormat{Delimiter: '|', Null: ""}, []types.Value{s("a|b\tc"), types.NullOf(types.Varchar)}, `a\|b\tc|` + "\n"},
		{"text empty string", text, []types.Value{s(""), s("")}, "\t\n"},
		{"csv plain", csv, []types.Value{types.IntValue(1), s("x y")}, "1,x y\n"},
		{"csv quoting", csv, []types.Value{s(`say "hi"`), s("a,b"), s("line\nbreak"), s("cr\r")}, `"say ""hi""","a,b","line` + "\n" + `break","cr` + "\r\"\n"},
		{"csv NULL and empty", csv, []types.Value{types.NullOf(types.Varchar), s("")}, `,""` + "\n"},
		{"csv NULL string as a value", CopyFormat{CSV: true, Delimiter: ',', Null: "NA"}, []types.Value{s("NA"), types.NullOf(types.Bigint)}, `"NA",NA` + "\n"},
		{"csv end marker alone", csv, []types.Value{s(`\.`)}, `"\."` + "\n"},
		{"csv end marker with others", csv, []types.Value{s(`\.`), s("x")}, `\.,x` + "\n"},
		{"csv backslash", csv, []types.Value{s(`a\b`)}, `a\b` + "\n"},
	}
	for _, tt := range tests {
		got := string(appendCopyLine([]byte("prefix"), &tt.f, tt.vals))
		if got != "prefix"+tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, strings.TrimPrefix(got, "prefix"), tt.want)
		}
	}
}

// copyTypesLines is the fake engine's "copy" result: the types rows in COPY
// text format.
var copyTypesLines = []string{
	"42\t1.5\tt\théllo\t2026-11-23 10:01:00.123\t1 day 01:01:01.5\t\\N\n",
	strings.Repeat("\\N\t", 6) + "\\N\n",
}

func TestCopyOutProtocol(t *testing.T) {
	srv := startServer(t, newFakeHandler())
	c := startRaw(t, srv)
	copyOut := "CopyOutResponse 0 [0 0 0 0 0 0 0]"

	c.send(&pgproto3.Query{String: "copy"})
	checkCycle(t, c, copyOut,
		"CopyData "+quoteGo(copyTypesLines[0]), "CopyData "+quoteGo(copyTypesLines[1]),
		"CopyDone", "CommandComplete COPY 2", "ReadyForQuery I")

	// An error during the copy ends it without CopyDone, and the connection
	// goes on.
	c.send(&pgproto3.Query{String: "copy bad; select 1"})
	checkCycle(t, c, copyOut, "CopyData "+quoteGo(copyTypesLines[0]),
		"Error ERROR 42703 8 column \"bad\" does not exist", "ReadyForQuery I")

	// The extended protocol: the statement describes as NoData and Execute
	// runs the copy.
	c.send(&pgproto3.Parse{Query: "copy"}, &pgproto3.Bind{}, &pgproto3.Describe{ObjectType: 'P'},
		&pgproto3.Execute{}, &pgproto3.Sync{})
	checkCycle(t, c, "ParseComplete", "BindComplete", "NoData", copyOut,
		"CopyData "+quoteGo(copyTypesLines[0]), "CopyData "+quoteGo(copyTypesLines[1]),
		"CopyDone", "CommandComplete COPY 2", "ReadyForQuery I")

	c.send(&pgproto3.Query{String: "select 1"})
	checkCycle(t, c, "RowDescription ?column?:20:8:0", `DataRow "1"`, "CommandComplete SELECT 1", "ReadyForQuery I")
}

// quoteGo renders s as summary renders CopyData (%q of the bytes).
func quoteGo(s string) string {
	return strings.TrimPrefix(summary(&pgproto3.CopyData{Data: []byte(s)}), "CopyData ")
}

func TestPgxCopyTo(t *testing.T) {
	srv := startServer(t, newFakeHandler())
	conn := connect(t, srv)
	var buf bytes.Buffer
	tag, err := conn.PgConn().CopyTo(testCtx(t), &buf, "copy")
	if err != nil || tag.String() != "COPY 2" {
		t.Fatalf("CopyTo: tag %q, %v", tag, err)
	}
	if want := strings.Join(copyTypesLines, ""); buf.String() != want {
		t.Errorf("CopyTo wrote %q, want %q", buf.String(), want)
	}
}

func TestPsqlCopy(t *testing.T) {
	srv := startServer(t, newFakeHandler())
	out, errOut, code := runPsql(t, srv, "copy")
	if want := strings.Join(copyTypesLines, ""); out != want || errOut != "" || code != 0 {
		t.Errorf("copy: stdout %q, want %q; stderr %q, exit %d", out, want, errOut, code)
	}
	// The rows sent before the error reach stdout; the error, stderr.
	out, errOut, code = runPsql(t, srv, "copy bad")
	if out != copyTypesLines[0] || !strings.HasPrefix(errOut, `ERROR:  column "bad" does not exist`) || code != 1 {
		t.Errorf("copy bad: stdout %q, stderr %q, exit %d", out, errOut, code)
	}
}
