package sql

import (
	"testing"

	"github.com/streamsql/streamsql/sql/sqlerr"
)

// The statements push queries are read through: COPY (SELECT ...) TO
// STDOUT and the cursor statements psql sends for \set FETCH_COUNT.

func TestParseCopy(t *testing.T) {
	text := CopyFormat{Delimiter: '\t', Null: `\N`}
	csv := CopyFormat{CSV: true, Delimiter: ',', Null: ""}
	tests := []struct {
		in    string
		want  CopyFormat
		query string // the inner query's original text
		emit  bool
	}{
		{`COPY (SELECT page FROM clicks EMIT CHANGES) TO STDOUT`, text, "SELECT page FROM clicks EMIT CHANGES", true},
		{`copy ( select page from clicks emit changes limit 3 ) to stdout;`, text, "select page from clicks emit changes limit 3", true},
		{`COPY (SELECT page FROM clicks) TO STDOUT WITH (FORMAT csv)`, csv, "SELECT page FROM clicks", false},
		{`COPY (SELECT 1 FROM c) TO STDOUT (FORMAT 'csv', HEADER, DELIMITER ';', NULL 'none')`,
			CopyFormat{CSV: true, Delimiter: ';', Null: "none", Header: true}, "SELECT 1 FROM c", false},
		{`COPY (SELECT 1 FROM c) TO STDOUT (FORMAT text, HEADER false, NULL '')`,
			CopyFormat{Delimiter: '\t', Null: ""}, "SELECT 1 FROM c", false},
		// What psql's \copy sends for `\copy (...) to stdout with csv header`.
		{`COPY ( SELECT 1 FROM c ) TO STDOUT with csv header`, CopyFormat{CSV: true, Delimiter: ',', Header: true}, "SELECT 1 FROM c", false},
		{`COPY (SELECT 1 FROM c) TO STDOUT DELIMITER AS '|' NULL AS '-'`, CopyFormat{Delimiter: '|', Null: "-"}, "SELECT 1 FROM c", false},
	}
	for _, tt := range tests {
		stmts, err := Parse(tt.in)
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		c, ok := stmts[0].(*CopyTo)
		if !ok || len(stmts) != 1 {
			t.Errorf("%s: got %#v", tt.in, stmts)
			continue
		}
		if c.Format != tt.want {
			t.Errorf("%s: format %+v, want %+v", tt.in, c.Format, tt.want)
		}
		if c.Query.Original != tt.query || c.Query.EmitChanges != tt.emit {
			t.Errorf("%s: query %q (emit %v), want %q (emit %v)", tt.in, c.Query.Original, c.Query.EmitChanges, tt.query, tt.emit)
		}
	}
}

func TestParseCursors(t *testing.T) {
	// psql's FETCH_COUNT sequence, verbatim.
	in := "DECLARE _psql_cursor NO SCROLL CURSOR FOR\nSELECT page FROM clicks EMIT CHANGES LIMIT 4;"
	stmts, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := stmts[0].(*DeclareCursor)
	if !ok || d.Name != "_psql_cursor" || d.NamePos != posOf(in, "_psql") || !d.Query.EmitChanges ||
		d.Query.Original != "SELECT page FROM clicks EMIT CHANGES LIMIT 4" {
		t.Fatalf("DECLARE: %#v", stmts[0])
	}
	for _, in := range []string{"DECLARE c CURSOR FOR SELECT 1 FROM s", "declare c insensitive cursor without hold for select 1 from s"} {
		if stmts, err := Parse(in); err != nil || stmts[0].(*DeclareCursor).Name != "c" {
			t.Errorf("%s: %v", in, err)
		}
	}

	fetches := []struct {
		in    string
		count int64
		name  string
	}{
		{"FETCH FORWARD 2 FROM _psql_cursor", 2, "_psql_cursor"},
		{"fetch next from c", 1, "c"},
		{"FETCH c", 1, "c"},
		{"FETCH 10 IN c", 10, "c"},
		{"FETCH +3 c", 3, "c"},
		{"FETCH ALL FROM c", -1, "c"},
		{"FETCH FORWARD ALL c", -1, "c"},
		{"FETCH FORWARD c", 1, "c"},
		{`FETCH 0 FROM "My Cursor"`, 0, "My Cursor"},
	}
	for _, tt := range fetches {
		stmts, err := Parse(tt.in)
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		f, ok := stmts[0].(*Fetch)
		if !ok || f.Count != tt.count || f.Cursor != tt.name || f.CursorPos == 0 {
			t.Errorf("%s: got %+v, want count %d of %q", tt.in, stmts[0], tt.count, tt.name)
		}
	}

	stmts, err = Parse("CLOSE _psql_cursor; close all")
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := stmts[0].(*CloseCursor); !ok || c.Name != "_psql_cursor" || c.All {
		t.Errorf("CLOSE name: %+v", stmts[0])
	}
	if c, ok := stmts[1].(*CloseCursor); !ok || !c.All {
		t.Errorf("CLOSE ALL: %+v", stmts[1])
	}
}

func TestParsePushErrors(t *testing.T) {
	tests := []struct {
		in   string
		code string
		msg  string
		near string // the error points at the first occurrence of near; "" = end of input
	}{
		{"COPY clicks TO STDOUT", sqlerr.FeatureNotSupported, "COPY of a stream by name is not supported", "clicks"},
		{"COPY (SELECT 1 FROM c) FROM STDIN", sqlerr.FeatureNotSupported, "COPY FROM is not supported", "FROM STDIN"},
		{"COPY (SELECT 1 FROM c) TO '/tmp/x'", sqlerr.FeatureNotSupported, "COPY to a file or program is not supported", "'/tmp"},
		{"COPY (SELECT 1 FROM c) TO STDIN", sqlerr.SyntaxError, `syntax error at or near "STDIN"`, "STDIN"},
		{"COPY (SELECT 1 FROM c)", sqlerr.SyntaxError, "syntax error at end of input", ""},
		{"COPY (SHOW SINKS) TO STDOUT", sqlerr.SyntaxError, `syntax error at or near "SHOW"`, "SHOW"},
		{"COPY (SELECT 1 FROM c) TO STDOUT (FORMAT binary)", sqlerr.FeatureNotSupported, `COPY format "binary" is not supported`, "FORMAT"},
		{"COPY (SELECT 1 FROM c) TO STDOUT (FORMAT xml)", sqlerr.InvalidParameter, `COPY format "xml" not recognized`, "FORMAT"},
		{"COPY (SELECT 1 FROM c) TO STDOUT (ENCODING 'UTF8')", sqlerr.SyntaxError, `option "encoding" not recognized`, "ENCODING"},
		{"COPY (SELECT 1 FROM c) TO STDOUT (HEADER, HEADER)", sqlerr.SyntaxError, "conflicting or redundant options", "HEADER)"},
		{"COPY (SELECT 1 FROM c) TO STDOUT (DELIMITER '||')", sqlerr.FeatureNotSupported, "COPY delimiter must be a single one-byte character", "DELIMITER"},
		{"COPY (SELECT 1 FROM c) TO STDOUT (DELIMITER 'a')", sqlerr.InvalidParameter, `COPY delimiter cannot be "a"`, "DELIMITER"},
		{"COPY (SELECT 1 FROM c) TO STDOUT (DELIMITER ',', NULL 'a,b')", sqlerr.InvalidParameter, "COPY delimiter character must not appear in the NULL specification", "DELIMITER"},
		{"COPY (SELECT 1 FROM c) TO STDOUT (DELIMITER)", sqlerr.SyntaxError, "delimiter requires a parameter", "DELIMITER"},
		{"DECLARE c SCROLL CURSOR FOR SELECT 1 FROM s", sqlerr.FeatureNotSupported, "scrollable cursors are not supported", "SCROLL"},
		{"DECLARE c CURSOR WITH HOLD FOR SELECT 1 FROM s", sqlerr.FeatureNotSupported, "WITH HOLD cursors are not supported", "WITH"},
		{"DECLARE c CURSOR FOR SHOW SINKS", sqlerr.SyntaxError, `syntax error at or near "SHOW"`, "SHOW"},
		{"DECLARE c CURSOR", sqlerr.SyntaxError, "syntax error at end of input", ""},
		{"FETCH BACKWARD 2 FROM c", sqlerr.ObjectNotInPrereq, "cursor can only scan forward", "BACKWARD"},
		{"FETCH -1 FROM c", sqlerr.ObjectNotInPrereq, "cursor can only scan forward", "-1"},
		{"FETCH PRIOR FROM c", sqlerr.ObjectNotInPrereq, "cursor can only scan forward", "PRIOR"},
		{"FETCH 2 FROM", sqlerr.SyntaxError, "syntax error at end of input", ""},
		{"FETCH 1.5 FROM c", sqlerr.SyntaxError, `syntax error at or near "1.5"`, "1.5"},
		{"CLOSE c d", sqlerr.SyntaxError, `syntax error at or near "d"`, " d"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		e := sqlerr.As(err)
		if err == nil || e.Code != tt.code || e.Message != tt.msg {
			t.Errorf("%s: got %v (%s), want %q (%s)", tt.in, err, sqlerr.Code(err), tt.msg, tt.code)
			continue
		}
		want := endPos(tt.in)
		if tt.near != "" {
			want = posOf(tt.in, tt.near)
			if tt.near[0] == ' ' {
				want++
			}
		}
		if e.Position != want {
			t.Errorf("%s: position %d, want %d", tt.in, e.Position, want)
		}
	}
}
