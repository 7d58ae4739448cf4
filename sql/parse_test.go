package sql

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// at returns the 1-based character position of the n-th (1-based)
// occurrence of sub in s; tests use it instead of hand-counted numbers.
func at(t *testing.T, s, sub string, n int) int {
	t.Helper()
	off := -1
	for i := 0; i < n; i++ {
		j := strings.Index(s[off+1:], sub)
		if j < 0 {
			t.Fatalf("%q does not occur %d times in %q", sub, n, s)
		}
		off += 1 + j
	}
	return utf8.RuneCountInString(s[:off]) + 1
}

// endPos is the position PostgreSQL gives "at end of input".
func endPos(s string) int { return utf8.RuneCountInString(s) + 1 }

// The CREATE STREAM inputs of TestParseStatements; positions in the
// expectations are computed from them with posOf.
const (
	create1 = `CREATE STREAM clicks (user_id BIGINT, page VARCHAR, ts TIMESTAMP) WITH (kafka_topic = 'clicks', value_format = 'json', timestamp = 'ts', partitions = 4, watermark_delay = '5 seconds')`
	// Keywords in any case; quoted names verbatim; multi-word types and
	// modifiers; every kind of option value; dotted and quoted keys.
	create2 = `create stream if not exists "Clicks" (User_Id int, "Page" varchar(20), Price double  precision, ok BOOLEAN, ts timestamp(3), tz TIMESTAMP WITH TIME ZONE, d decimal(10, 2), s STRING) with (KAFKA_TOPIC = 'it''s', Partitions = 4, compact = TRUE, fmt = Json, delay = -5, ratio = +0.5, 'Key.X' = 'v', kafka.group.id = 'g')`
)

// posOf is the 1-based character position of the first occurrence of sub in
// s, for use in test tables.
func posOf(s, sub string) int {
	i := strings.Index(s, sub)
	if i < 0 {
		panic(fmt.Sprintf("%q not in %q", sub, s))
	}
	return utf8.RuneCountInString(s[:i]) + 1
}

func TestParseStatements(t *testing.T) {
	tests := []struct {
		in   string
		want []Statement
	}{
		{
			in: create1 + ";",
			want: []Statement{&CreateStream{
				text: create1,
				Name: "clicks", NamePos: posOf(create1, "clicks"),
				Columns: []ColumnDef{
					{Name: "user_id", Type: types.Bigint, TypeName: "BIGINT", Pos: posOf(create1, "user_id")},
					{Name: "page", Type: types.Varchar, TypeName: "VARCHAR", Pos: posOf(create1, "page")},
					{Name: "ts", Type: types.Timestamp, TypeName: "TIMESTAMP", Pos: posOf(create1, "ts TIMESTAMP")},
				},
				Options: Options{
					{Key: "kafka_topic", Value: "clicks", Pos: posOf(create1, "kafka_topic")},
					{Key: "value_format", Value: "json", Pos: posOf(create1, "value_format")},
					{Key: "timestamp", Value: "ts", Pos: posOf(create1, "timestamp")},
					{Key: "partitions", Value: "4", Pos: posOf(create1, "partitions")},
					{Key: "watermark_delay", Value: "5 seconds", Pos: posOf(create1, "watermark_delay")},
				},
			}},
		},
		{
			in: create2,
			want: []Statement{&CreateStream{
				text: create2,
				Name: "Clicks", NamePos: posOf(create2, `"Clicks"`), IfNotExists: true,
				Columns: []ColumnDef{
					{Name: "user_id", Type: types.Bigint, TypeName: "int", Pos: posOf(create2, "User_Id")},
					{Name: "Page", Type: types.Varchar, TypeName: "varchar(20)", Pos: posOf(create2, `"Page"`)},
					{Name: "price", Type: types.Double, TypeName: "double precision", Pos: posOf(create2, "Price")},
					{Name: "ok", Type: types.Boolean, TypeName: "BOOLEAN", Pos: posOf(create2, "ok ")},
					{Name: "ts", Type: types.Timestamp, TypeName: "timestamp(3)", Pos: posOf(create2, "ts timestamp")},
					{Name: "tz", Type: types.Timestamp, TypeName: "TIMESTAMP WITH TIME ZONE", Pos: posOf(create2, "tz ")},
					{Name: "d", Type: types.Double, TypeName: "decimal(10,2)", Pos: posOf(create2, "d decimal")},
					{Name: "s", Type: types.Varchar, TypeName: "STRING", Pos: posOf(create2, "s STRING")},
				},
				Options: Options{
					{Key: "kafka_topic", Value: "it's", Pos: posOf(create2, "KAFKA_TOPIC")},
					{Key: "partitions", Value: "4", Pos: posOf(create2, "Partitions")},
					{Key: "compact", Value: "TRUE", Pos: posOf(create2, "compact")},
					{Key: "fmt", Value: "Json", Pos: posOf(create2, "fmt")},
					{Key: "delay", Value: "-5", Pos: posOf(create2, "delay")},
					{Key: "ratio", Value: "0.5", Pos: posOf(create2, "ratio")},
					{Key: "key.x", Value: "v", Pos: posOf(create2, "'Key.X'")},
					{Key: "kafka.group.id", Value: "g", Pos: posOf(create2, "kafka.group")},
				},
			}},
		},
		{in: "SHOW streams", want: []Statement{&Show{text: "SHOW streams", What: "STREAMS"}}},
		{in: "show Topics;", want: []Statement{&Show{text: "show Topics", What: "TOPICS"}}},
		{in: "SHOW SINKS", want: []Statement{&Show{text: "SHOW SINKS", What: "SINKS"}}},
		{in: "SHOW QUERIES", want: []Statement{&Show{text: "SHOW QUERIES", What: "QUERIES"}}},
		{in: "DESCRIBE Clicks", want: []Statement{&Describe{text: "DESCRIBE Clicks", Name: "clicks", NamePos: 10}}},
		{in: `desc "Clicks"`, want: []Statement{&Describe{text: `desc "Clicks"`, Name: "Clicks", NamePos: 6}}},
		{in: "DROP STREAM clicks", want: []Statement{&Drop{text: "DROP STREAM clicks", Kind: KindStream, Name: "clicks", NamePos: 13}}},
		{in: "drop sink if exists Out", want: []Statement{&Drop{text: "drop sink if exists Out", Kind: KindSink, Name: "out", NamePos: 21, IfExists: true}}},
		{in: "SET application_name = 'psql'", want: []Statement{&Set{text: "SET application_name = 'psql'", Name: "application_name", Value: "psql"}}},
		{in: "SET extra_float_digits TO 3", want: []Statement{&Set{text: "SET extra_float_digits TO 3", Name: "extra_float_digits", Value: "3"}}},
		{in: `SET SESSION search_path = public, "$user"`, want: []Statement{&Set{text: `SET SESSION search_path = public, "$user"`, Name: "search_path", Value: "public, $user"}}},
		{in: "SET LOCAL Statement_Timeout = -1.5", want: []Statement{&Set{text: "SET LOCAL Statement_Timeout = -1.5", Name: "statement_timeout", Value: "-1.5"}}},
		{in: "SET DateStyle TO ISO, MDY", want: []Statement{&Set{text: "SET DateStyle TO ISO, MDY", Name: "datestyle", Value: "ISO, MDY"}}},
		{in: "SET x TO DEFAULT", want: []Statement{&Set{text: "SET x TO DEFAULT", Name: "x", Value: "DEFAULT"}}},
		{in: "SET streamsql.parallelism = 4", want: []Statement{&Set{text: "SET streamsql.parallelism = 4", Name: "streamsql.parallelism", Value: "4"}}},
		{in: "SET TIME ZONE 'UTC'", want: []Statement{&Set{text: "SET TIME ZONE 'UTC'", Name: "timezone", Value: "UTC"}}},
		{in: "RESET search_path", want: []Statement{&Set{text: "RESET search_path", Name: "search_path", Value: "DEFAULT"}}},
		{in: "RESET ALL", want: []Statement{&Set{text: "RESET ALL", Name: "all", Value: "DEFAULT"}}},
		{in: "BEGIN", want: []Statement{&TxnControl{text: "BEGIN", Verb: "BEGIN"}}},
		{in: "begin work", want: []Statement{&TxnControl{text: "begin work", Verb: "BEGIN"}}},
		{in: "BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED, READ ONLY", want: []Statement{&TxnControl{text: "BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED, READ ONLY", Verb: "BEGIN"}}},
		{in: "START TRANSACTION", want: []Statement{&TxnControl{text: "START TRANSACTION", Verb: "BEGIN"}}},
		{in: "COMMIT", want: []Statement{&TxnControl{text: "COMMIT", Verb: "COMMIT"}}},
		{in: "COMMIT AND NO CHAIN", want: []Statement{&TxnControl{text: "COMMIT AND NO CHAIN", Verb: "COMMIT"}}},
		{in: "END TRANSACTION", want: []Statement{&TxnControl{text: "END TRANSACTION", Verb: "COMMIT"}}},
		{in: "ROLLBACK WORK", want: []Statement{&TxnControl{text: "ROLLBACK WORK", Verb: "ROLLBACK"}}},
		{in: "ABORT", want: []Statement{&TxnControl{text: "ABORT", Verb: "ROLLBACK"}}},
		{in: "", want: []Statement{&Empty{}}},
		{in: "  \n\t", want: []Statement{&Empty{}}},
		{in: "-- nothing here", want: []Statement{&Empty{text: "-- nothing here"}}},
		{in: "/* a */ ; ;", want: []Statement{&Empty{text: "/* a */ ; ;"}}},
		{
			// Empty statements between semicolons are dropped; texts exclude
			// the semicolon and surrounding whitespace and comments.
			in: "BEGIN;; -- one\n COMMIT ; /* two */ SHOW STREAMS ;\n",
			want: []Statement{
				&TxnControl{text: "BEGIN", Verb: "BEGIN"},
				&TxnControl{text: "COMMIT", Verb: "COMMIT"},
				&Show{text: "SHOW STREAMS", What: "STREAMS"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", dump(got), dump(tt.want))
			}
		})
	}
}

// dump renders statements one a line for failure messages.
func dump(stmts []Statement) string {
	var b strings.Builder
	for _, s := range stmts {
		fmt.Fprintf(&b, "%T %+v\n", s, s)
	}
	return b.String()
}

// TestParseQueryStatements checks the statements that carry a SELECT.
func TestParseQueryStatements(t *testing.T) {
	in := "CREATE SINK page_counts WITH (kafka_topic = 'page_counts') AS\n" +
		"  SELECT page, TUMBLE_START(ts, INTERVAL '1' MINUTE) AS window_start, COUNT(*) AS clicks\n" +
		"  FROM clicks GROUP BY page, TUMBLE(ts, INTERVAL '1' MINUTE);\n" +
		"CREATE STREAM clicks (user_id BIGINT, page VARCHAR, ts TIMESTAMP) WITH (kafka_topic = 'clicks', value_format = 'json', timestamp = 'ts', partitions = 4, watermark_delay = '5 seconds');\n" +
		"CREATE STREAM IF NOT EXISTS big AS SELECT * FROM clicks WHERE page <> '' EMIT CHANGES;\n" +
		"CREATE STREAM big2 WITH (kafka_topic = 'b') AS SELECT user_id FROM clicks;\n" +
		"CREATE SINK IF NOT EXISTS s2 AS SELECT 1 AS one FROM clicks;\n" +
		"EXPLAIN SELECT page FROM clicks;\n" +
		"SELECT page FROM clicks EMIT CHANGES LIMIT 5"
	stmts, err := Parse(in)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(stmts) != 7 {
		t.Fatalf("got %d statements, want 7", len(stmts))
	}

	sink := stmts[0].(*CreateSink)
	if sink.Name != "page_counts" || sink.NamePos != 13 || sink.IfNotExists ||
		!reflect.DeepEqual(sink.Options, Options{{Key: "kafka_topic", Value: "page_counts", Pos: 31}}) {
		t.Errorf("sink = %+v", sink)
	}
	wantSQL := "SELECT page, TUMBLE_START(ts, INTERVAL '1' MINUTE) AS window_start, COUNT(*) AS clicks\n" +
		"  FROM clicks GROUP BY page, TUMBLE(ts, INTERVAL '1' MINUTE)"
	if sink.Query.SQL() != wantSQL || sink.Query.Original != wantSQL {
		t.Errorf("sink query SQL = %q", sink.Query.SQL())
	}
	wantRW := "select page, tumble_start(ts, __interval('1', 'MINUTE')) as window_start, count(*) as clicks\n" +
		"  from clicks group by page, tumble(ts, __interval('1', 'MINUTE'))"
	if sink.Query.Rewritten != wantRW {
		t.Errorf("sink Rewritten = %q", sink.Query.Rewritten)
	}
	if sink.Query.Input() != in || sink.Query.StartPosition() != at(t, in, "SELECT page, TUMBLE", 1) {
		t.Errorf("sink query Input/StartPosition wrong: %d", sink.Query.StartPosition())
	}
	if len(sink.Query.Select.GroupBy.Items) != 2 || sink.Query.EmitChanges {
		t.Errorf("sink query AST: %+v", sink.Query.Select)
	}
	if !strings.HasSuffix(sink.Text(), "TUMBLE(ts, INTERVAL '1' MINUTE)") || !strings.HasPrefix(sink.Text(), "CREATE SINK") {
		t.Errorf("sink Text = %q", sink.Text())
	}

	cs := stmts[1].(*CreateStream)
	if cs.NamePos != at(t, in, "clicks (", 1) || cs.Query != nil || len(cs.Columns) != 3 || len(cs.Options) != 5 {
		t.Errorf("create stream = %+v", cs)
	}
	if v, ok := cs.Options.Get("watermark_delay"); !ok || v != "5 seconds" {
		t.Errorf("watermark_delay = %q, %v", v, ok)
	}
	if _, ok := cs.Options.Get("missing"); ok {
		t.Error("Get(missing) found")
	}

	big := stmts[2].(*CreateStream)
	if big.Name != "big" || !big.IfNotExists || big.Columns != nil || big.Options != nil ||
		big.Query == nil || !big.Query.EmitChanges || big.Query.Rewritten != "select * from clicks where page <> ''" {
		t.Errorf("create stream as = %+v %+v", big, big.Query)
	}
	big2 := stmts[3].(*CreateStream)
	if big2.Name != "big2" || len(big2.Options) != 1 || big2.Query == nil || big2.Query.EmitChanges {
		t.Errorf("create stream with as = %+v", big2)
	}
	s2 := stmts[4].(*CreateSink)
	if s2.Name != "s2" || !s2.IfNotExists || s2.Options != nil || s2.Query == nil {
		t.Errorf("create sink if not exists = %+v", s2)
	}
	ex := stmts[5].(*Explain)
	if ex.Text() != "EXPLAIN SELECT page FROM clicks" || ex.Query.SQL() != "SELECT page FROM clicks" {
		t.Errorf("explain = %+v", ex)
	}
	sel := stmts[6].(*SelectStmt)
	if !sel.Query.EmitChanges || sel.Query.Rewritten != "select page from clicks limit 5" ||
		sel.Query.Select.Limit == nil || sel.Text() != "SELECT page FROM clicks EMIT CHANGES LIMIT 5" {
		t.Errorf("select = %+v %+v", sel, sel.Query)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		code string
		msg  string
		// pos is where the error points: the n-th occurrence of near in in,
		// or the end of input when near is empty.
		near string
		n    int
	}{
		{in: "SELECT * FRM clicks", code: sqlerr.SyntaxError, msg: `syntax error at or near "FRM"`, near: "FRM"},
		{in: "FOO bar", code: sqlerr.SyntaxError, msg: `syntax error at or near "FOO"`, near: "FOO"},
		{in: "(SELECT 1)", code: sqlerr.SyntaxError, msg: `syntax error at or near "("`, near: "("},
		{in: "'x'", code: sqlerr.SyntaxError, msg: `syntax error at or near "'x'"`, near: "'x'"},
		{in: "SELECT a FROM t WHERE", code: sqlerr.SyntaxError, msg: "syntax error at end of input"},
		{in: "SELECT a FROM t WHERE  -- trailing\n", code: sqlerr.SyntaxError, msg: "syntax error at end of input"},
		{in: "SELECT a FROM t WHERE; SELECT 1", code: sqlerr.SyntaxError, msg: `syntax error at or near ";"`, near: ";"},
		{in: "SELECT 1; SELECT * FRM t", code: sqlerr.SyntaxError, msg: `syntax error at or near "FRM"`, near: "FRM"},
		{in: "SELECT 'é;ü' AS x; SHOW STREAMS; SELECT * FRM t", code: sqlerr.SyntaxError, msg: `syntax error at or near "FRM"`, near: "FRM"},
		{in: "SELECT 'ünïcödé' AS x, * FRM t", code: sqlerr.SyntaxError, msg: `syntax error at or near "FRM"`, near: "FRM"},
		{in: "SELECT \"ü\" /* ünï */ FRM t", code: sqlerr.SyntaxError, msg: `syntax error at or near "t"`, near: "t"},
		{in: "SELECT a,, b FROM t", code: sqlerr.SyntaxError, msg: `syntax error at or near ","`, near: ",", n: 2},
		{in: "SELECT CAST(a AS BIGINT), INTERVAL '1' MINUTE, b::text FRM t", code: sqlerr.SyntaxError, msg: `syntax error at or near "t"`, near: " t", n: 1},
		{in: "SELECT * FROM t WHERE CAST(a AS BIGINT) > INTERVAL '1' MINUTE AND AND b", code: sqlerr.SyntaxError, msg: `syntax error at or near "AND"`, near: "AND", n: 2},
		{in: "SELECT a) FROM t", code: sqlerr.SyntaxError, msg: `syntax error at or near ")"`, near: ")"},
		{in: "SELECT (a FROM t", code: sqlerr.SyntaxError, msg: "syntax error at end of input"},
		{in: "SELECT (a FROM t; SHOW STREAMS", code: sqlerr.SyntaxError, msg: `syntax error at or near ";"`, near: ";"},
		{in: "SELECT x:: FROM t", code: sqlerr.SyntaxError, msg: `syntax error at or near "FROM"`, near: "FROM"},
		{in: "SELECT x::", code: sqlerr.SyntaxError, msg: "syntax error at end of input"},
		{in: "SELECT f(x::) FROM t", code: sqlerr.SyntaxError, msg: `syntax error at or near ")"`, near: ")"},
		{in: "SELECT ::int FROM t", code: sqlerr.SyntaxError, msg: `syntax error at or near "::"`, near: "::"},
		{in: "SELECT a FROM t WHERE ::int", code: sqlerr.SyntaxError, msg: `syntax error at or near "::"`, near: "::"},
		{in: "SELECT CAST(x) FROM t", code: sqlerr.SyntaxError, msg: `syntax error at or near ")"`, near: ")"},
		{in: "SELECT CAST(AS int) FROM t", code: sqlerr.SyntaxError, msg: `syntax error at or near "AS"`, near: "AS int"},
		{in: "SELECT CAST(x AS int y) FROM t", code: sqlerr.SyntaxError, msg: `syntax error at or near "y"`, near: "y"},
		{in: "SELECT CAST(x AS) FROM t", code: sqlerr.SyntaxError, msg: `syntax error at or near ")"`, near: ")"},
		{in: "SELECT CAST(x AS foo) FROM t", code: sqlerr.UndefinedObject, msg: `type "foo" does not exist`, near: "foo"},
		{in: "SELECT x::Foo(3) FROM t", code: sqlerr.UndefinedObject, msg: `type "foo" does not exist`, near: "Foo"},
		{in: "SELECT x::varchar(a) FROM t", code: sqlerr.SyntaxError, msg: `syntax error at or near "a"`, near: "a)"},
		{in: "SELECT INTERVAL 1 FROM t", code: sqlerr.SyntaxError, msg: `syntax error at or near "FROM"`, near: "FROM"},
		{in: "SELECT INTERVAL x MINUTE FROM t", code: sqlerr.SyntaxError, msg: `syntax error at or near "x"`, near: "x"},
		{in: "SELECT INTERVAL", code: sqlerr.SyntaxError, msg: "syntax error at end of input"},
		{in: "SELECT INTERVAL '1' YEAR FROM t", code: sqlerr.FeatureNotSupported, msg: "interval unit YEAR is not supported", near: "YEAR"},
		{in: "SELECT END::int FROM t", code: sqlerr.SyntaxError, msg: `syntax error at or near "::"`, near: "::"},
		{in: "SELECT FROM::int", code: sqlerr.SyntaxError, msg: `syntax error at or near "::"`, near: "::"},
		{in: "SELECT a # b FROM t", code: sqlerr.SyntaxError, msg: `syntax error at or near "#"`, near: "#"},
		{in: "SELECT a FROM t UNION SELECT b FROM u", code: sqlerr.FeatureNotSupported, msg: "UNION, INTERSECT and EXCEPT are not supported", near: "UNION"},
		{in: "SELECT 'abc", code: sqlerr.SyntaxError, msg: `unterminated quoted string at or near "'abc"`, near: "'abc"},
		{in: "SELECT 1; SELECT 'it''s", code: sqlerr.SyntaxError, msg: `unterminated quoted string at or near "'it''s"`, near: "'it"},
		{in: `SELECT "abc`, code: sqlerr.SyntaxError, msg: `unterminated quoted identifier at or near ""abc"`, near: `"abc`},
		{in: `SELECT "" FROM t`, code: sqlerr.SyntaxError, msg: `zero-length delimited identifier at or near """ FROM t"`, near: `""`},
		{in: "SELECT 1 /* a /* nested */ still open", code: sqlerr.SyntaxError, msg: `unterminated /* comment at or near "/* a /* nested */ still open"`, near: "/*"},
		{in: "CREATE STREAM s (a FOO) WITH (kafka_topic = 't')", code: sqlerr.UndefinedObject, msg: `type "foo" does not exist`, near: "FOO"},
		{in: "CREATE STREAM s (a varchar, b Foo(3))", code: sqlerr.UndefinedObject, msg: `type "foo" does not exist`, near: "Foo"},
		{in: "CREATE STREAM s (a double float)", code: sqlerr.SyntaxError, msg: `syntax error at or near "float"`, near: "float"},
		{in: "CREATE STREAM s (a BIGINT NOT NULL)", code: sqlerr.SyntaxError, msg: `syntax error at or near "NOT"`, near: "NOT"},
		{in: "CREATE STREAM s (a BIGINT,)", code: sqlerr.SyntaxError, msg: `syntax error at or near ")"`, near: ")"},
		{in: "CREATE STREAM s ()", code: sqlerr.SyntaxError, msg: `syntax error at or near ")"`, near: ")"},
		{in: "CREATE STREAM s (a BIGINT", code: sqlerr.SyntaxError, msg: "syntax error at end of input"},
		{in: "CREATE STREAM s (a BIGINT) AS SELECT 1", code: sqlerr.SyntaxError, msg: `syntax error at or near "AS"`, near: "AS"},
		{in: "CREATE STREAM s (a BIGINT) WITH (k = 'v') extra", code: sqlerr.SyntaxError, msg: `syntax error at or near "extra"`, near: "extra"},
		{in: "CREATE STREAM select (a int)", code: sqlerr.SyntaxError, msg: `syntax error at or near "select"`, near: "select"},
		{in: "CREATE STREAM (a int)", code: sqlerr.SyntaxError, msg: `syntax error at or near "("`, near: "("},
		{in: "CREATE STREAM IF EXISTS s (a int)", code: sqlerr.SyntaxError, msg: `syntax error at or near "EXISTS"`, near: "EXISTS"},
		{in: "CREATE STREAM s WITH (a = 1, A = 2) AS SELECT 1", code: sqlerr.SyntaxError, msg: `option "a" specified more than once`, near: "A = 2"},
		{in: "CREATE STREAM s WITH () AS SELECT 1", code: sqlerr.SyntaxError, msg: `syntax error at or near ")"`, near: ")"},
		{in: "CREATE STREAM s WITH (a 1) AS SELECT 1", code: sqlerr.SyntaxError, msg: `syntax error at or near "1"`, near: "1"},
		{in: "CREATE STREAM s WITH (a = ) AS SELECT 1", code: sqlerr.SyntaxError, msg: `syntax error at or near ")"`, near: ")"},
		{in: "CREATE STREAM s WITH (a = 1 b = 2) AS SELECT 1", code: sqlerr.SyntaxError, msg: `syntax error at or near "b"`, near: "b"},
		{in: "CREATE STREAM s AS INSERT", code: sqlerr.SyntaxError, msg: `syntax error at or near "INSERT"`, near: "INSERT"},
		{in: "CREATE STREAM s", code: sqlerr.SyntaxError, msg: "syntax error at end of input"},
		{in: "CREATE TABLE t (a int)", code: sqlerr.SyntaxError, msg: `syntax error at or near "TABLE"`, near: "TABLE"},
		{in: "CREATE SINK s WITH (a = 'b')", code: sqlerr.SyntaxError, msg: "syntax error at end of input"},
		{in: "CREATE SINK s WITH (a = 'b'); SHOW SINKS", code: sqlerr.SyntaxError, msg: `syntax error at or near ";"`, near: ";"},
		{in: "CREATE SINK s AS SELECT * FRM t", code: sqlerr.SyntaxError, msg: `syntax error at or near "FRM"`, near: "FRM"},
		{in: "CREATE SINK s (a int) AS SELECT 1", code: sqlerr.SyntaxError, msg: `syntax error at or near "("`, near: "("},
		{in: "DROP TABLE x", code: sqlerr.SyntaxError, msg: `syntax error at or near "TABLE"`, near: "TABLE"},
		{in: "DROP STREAM", code: sqlerr.SyntaxError, msg: "syntax error at end of input"},
		{in: "DROP STREAM IF s", code: sqlerr.SyntaxError, msg: `syntax error at or near "s"`, near: "s"},
		{in: "DROP SINK a b", code: sqlerr.SyntaxError, msg: `syntax error at or near "b"`, near: "b"},
		{in: "SHOW TABLES", code: sqlerr.SyntaxError, msg: `syntax error at or near "TABLES"`, near: "TABLES"},
		{in: "SHOW STREAMS now", code: sqlerr.SyntaxError, msg: `syntax error at or near "now"`, near: "now"},
		{in: "SHOW", code: sqlerr.SyntaxError, msg: "syntax error at end of input"},
		{in: "DESCRIBE", code: sqlerr.SyntaxError, msg: "syntax error at end of input"},
		{in: "DESCRIBE 'x'", code: sqlerr.SyntaxError, msg: `syntax error at or near "'x'"`, near: "'x'"},
		{in: "EXPLAIN CREATE STREAM s", code: sqlerr.SyntaxError, msg: `syntax error at or near "CREATE"`, near: "CREATE"},
		{in: "EXPLAIN SELECT * FRM t", code: sqlerr.SyntaxError, msg: `syntax error at or near "FRM"`, near: "FRM"},
		{in: "SET x", code: sqlerr.SyntaxError, msg: "syntax error at end of input"},
		{in: "SET x =", code: sqlerr.SyntaxError, msg: "syntax error at end of input"},
		{in: "SET x = 1 2", code: sqlerr.SyntaxError, msg: `syntax error at or near "2"`, near: "2"},
		{in: "SET = 1", code: sqlerr.SyntaxError, msg: `syntax error at or near "="`, near: "="},
		{in: "RESET", code: sqlerr.SyntaxError, msg: "syntax error at end of input"},
		{in: "START", code: sqlerr.SyntaxError, msg: "syntax error at end of input"},
		{in: "ROLLBACK TO SAVEPOINT a", code: sqlerr.SyntaxError, msg: `syntax error at or near "TO"`, near: "TO"},
		{in: "BEGIN (x)", code: sqlerr.SyntaxError, msg: `syntax error at or near "("`, near: "("},
		{in: "COMMIT AND", code: sqlerr.SyntaxError, msg: "syntax error at end of input"},
		// FILTER needs an aggregate call before it and a condition inside.
		{in: "SELECT a FILTER (WHERE b) FROM t", code: sqlerr.SyntaxError, msg: `syntax error at or near "FILTER"`, near: "FILTER"},
		{in: "SELECT a IN (1) FILTER (WHERE b) FROM t", code: sqlerr.SyntaxError, msg: `syntax error at or near "FILTER"`, near: "FILTER"},
		{in: "SELECT count(*) FILTER (WHERE) FROM t", code: sqlerr.SyntaxError, msg: `syntax error at or near ")"`, near: ")", n: 2},
		{in: "SELECT count(*) FILTER (WHERE a) FILTER (WHERE b) FROM t", code: sqlerr.SyntaxError, msg: `syntax error at or near "FILTER"`, near: "FILTER", n: 2},
		{in: "SELECT count(*) FILTER (WHERE a >) FROM t", code: sqlerr.SyntaxError, msg: `syntax error at or near ")"`, near: ")", n: 2},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			stmts, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse succeeded: %s", dump(stmts))
			}
			var e *sqlerr.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not a *sqlerr.Error", err, err)
			}
			want := endPos(tt.in)
			if tt.near != "" {
				n := tt.n
				if n == 0 {
					n = 1
				}
				want = at(t, tt.in, tt.near, n)
				if strings.HasPrefix(tt.near, " ") {
					want++
				}
			}
			if e.Code != tt.code || e.Message != tt.msg || e.Position != want {
				t.Errorf("got %s %q at %d, want %s %q at %d", e.Code, e.Message, e.Position, tt.code, tt.msg, want)
			}
		})
	}
}

func TestRewrite(t *testing.T) {
	tests := []struct {
		in, want string
		emit     bool
	}{
		// Pass-through: quoted and backtick names keep their case, unquoted
		// words are folded, || and strings are untouched.
		{in: "SELECT a, \"B\", `dateTime`, x || 'Y''z' FROM T", want: "select a, \"B\", `dateTime`, x || 'Y''z' from t"},
		{in: "SELECT a\n  FROM t\tWHERE b", want: "select a\n  from t\twhere b"},
		{in: "SELECT a /* c */ FROM t -- tail", want: "select a from t"},
		{in: "SELECT a/*x*/FROM t", want: "select a from t"},
		{in: "SELECT 'a -- not a comment', '/* nor */' FROM t", want: "select 'a -- not a comment', '/* nor */' from t"},
		{in: `SELECT 'back\slash' FROM t`, want: `select 'back\slash' from t`},
		// INTERVAL literals.
		{in: "SELECT TUMBLE(ts, INTERVAL '1' MINUTE) FROM t", want: "select tumble(ts, __interval('1', 'MINUTE')) from t"},
		{in: "SELECT HOP(ts, INTERVAL '10' SECOND, INTERVAL '1' MINUTE) FROM t", want: "select hop(ts, __interval('10', 'SECOND'), __interval('1', 'MINUTE')) from t"},
		{in: "SELECT ts + INTERVAL '5' SECOND FROM t", want: "select ts + __interval('5', 'SECOND') from t"},
		{in: "SELECT ts - interval 1 minute FROM t", want: "select ts - __interval('1', 'MINUTE') from t"},
		{in: "SELECT INTERVAL '10' SECONDS, INTERVAL 2 Hours, INTERVAL '3' days, INTERVAL 1 WEEK, INTERVAL 250 MILLISECONDS FROM t", want: "select __interval('10', 'SECOND'), __interval('2', 'HOUR'), __interval('3', 'DAY'), __interval('1', 'WEEK'), __interval('250', 'MILLISECOND') from t"},
		{in: "SELECT INTERVAL '5 seconds', INTERVAL '1 minute' AS m FROM t", want: "select __interval('5 seconds', ''), __interval('1 minute', '') as m from t"},
		{in: "SELECT INTERVAL -1 MINUTE, INTERVAL +1.5 SECOND, INTERVAL '-2' HOUR FROM t", want: "select __interval('-1', 'MINUTE'), __interval('1.5', 'SECOND'), __interval('-2', 'HOUR') from t"},
		{in: "SELECT a FROM t WHERE ts BETWEEN b.ts - INTERVAL '10' SECOND AND b.ts", want: "select a from t where ts between b.ts - __interval('10', 'SECOND') and b.ts"},
		// CAST(x AS T).
		{in: "SELECT CAST(ts AS TIMESTAMP) FROM t", want: "select __cast(ts, 'TIMESTAMP') from t"},
		{in: "SELECT CAST( a + 1 AS double precision ) FROM t", want: "select __cast( a + 1, 'double precision') from t"},
		{in: "SELECT cast(x AS VARCHAR(20)), CAST(y AS decimal(10, 2)) FROM t", want: "select __cast(x, 'VARCHAR(20)'), __cast(y, 'decimal(10,2)') from t"},
		{in: "SELECT CAST(CAST(x AS INT) AS TEXT) FROM t", want: "select __cast(__cast(x, 'INT'), 'TEXT') from t"},
		{in: "SELECT CAST(f(x, (y)) AS BIGINT) FROM t", want: "select __cast(f(x, (y)), 'BIGINT') from t"},
		{in: "SELECT CAST(x::int AS text), CAST(INTERVAL '1' MINUTE AS interval) FROM t", want: "select __cast(__cast(x, 'int'), 'text'), __cast(__interval('1', 'MINUTE'), 'interval') from t"},
		{in: "SELECT CAST(ts AS TIMESTAMP WITH TIME ZONE) FROM t", want: "select __cast(ts, 'TIMESTAMP WITH TIME ZONE') from t"},
		// operand::type.
		{in: "SELECT x::int FROM t", want: "select __cast(x, 'int') from t"},
		{in: "SELECT t.x::BIGINT, t.\"X\"::text, s.t.x::int FROM t", want: "select __cast(t.x, 'BIGINT'), __cast(t.\"X\", 'text'), __cast(s.t.x, 'int') from t"},
		{in: "SELECT '2024-01-01'::timestamp, 1.5::int, true::int, NULL::text FROM t", want: "select __cast('2024-01-01', 'timestamp'), __cast(1.5, 'int'), __cast(true, 'int'), __cast(null, 'text') from t"},
		{in: "SELECT (a+b)::double precision FROM t", want: "select __cast((a+b), 'double precision') from t"},
		{in: "SELECT COUNT(*)::bigint, s.f(x) :: int FROM t", want: "select __cast(count(*), 'bigint'), __cast(s.f(x), 'int') from t"},
		{in: "SELECT x::int::text FROM t", want: "select __cast(__cast(x, 'int'), 'text') from t"},
		{in: "SELECT x::varchar(10), y::decimal(10,2), z::timestamp(3) FROM t", want: "select __cast(x, 'varchar(10)'), __cast(y, 'decimal(10,2)'), __cast(z, 'timestamp(3)') from t"},
		{in: "SELECT -x::int, a + b::int FROM t", want: "select -__cast(x, 'int'), a + __cast(b, 'int') from t"},
		{in: "SELECT a FROM t WHERE (a)::int > 0 AND (b)::int IN (1)", want: "select a from t where __cast((a), 'int') > 0 and __cast((b), 'int') in (1)"},
		{in: "SELECT INTERVAL '1' MINUTE::text FROM t", want: "select __cast(__interval('1', 'MINUTE'), 'text') from t"},
		{in: "SELECT CAST(x AS int)::text FROM t", want: "select __cast(__cast(x, 'int'), 'text') from t"},
		{in: "SELECT x::int AS y FROM t", want: "select __cast(x, 'int') as y from t"},
		{in: "SELECT CASE WHEN a THEN CASE b WHEN 1 THEN 2 END ELSE 3 END::text FROM t", want: "select __cast(case when a then case b when 1 then 2 end else 3 end, 'text') from t"},
		{in: "SELECT LEFT(s, 2)::text, mod(a, 2)::int FROM t WHERE NOT (a)::boolean", want: "select __cast(left(s, 2), 'text'), __cast(mod(a, 2), 'int') from t where not __cast((a), 'boolean')"},
		{in: "SELECT ünï::text, \"a\"\"b\" FROM t", want: "select __cast(ünï, 'text'), \"a\"\"b\" from t"},
		// FILTER on aggregates, and STDDEV / VARIANCE as sample statistics.
		{in: "SELECT count(*) FILTER (WHERE price < 10000) FROM t", want: "select __agg_filter(count(*), price < 10000) from t"},
		{in: "SELECT COUNT(DISTINCT bidder) filter (where price >= 10000 AND price < 1000000) AS n FROM t",
			want: "select __agg_filter(count(distinct bidder), price >= 10000 and price < 1000000) as n from t"},
		{in: "SELECT sum(x) FILTER (WHERE ts > TIMESTAMP '2026-01-01' + INTERVAL '1' DAY)::text FROM t",
			want: "select __cast(__agg_filter(sum(x), ts > timestamp '2026-01-01' + __interval('1', 'DAY')), 'text') from t"},
		{in: "SELECT string_agg(page, ',') FILTER (WHERE (a)) , filter FROM t", want: "select __agg_filter(string_agg(page, ','), (a)) , filter from t"},
		{in: "SELECT a FROM t HAVING max(x) FILTER (WHERE y) > 1", want: "select a from t having __agg_filter(max(x), y) > 1"},
		{in: "SELECT STDDEV(x), variance(x), Stddev_Pop(x), std(x), stddev FROM t",
			want: "select stddev_samp(x), var_samp(x), stddev_pop(x), std(x), stddev from t"},
		{in: "SELECT stddev(x) FILTER (WHERE x > 0) FROM t", want: "select __agg_filter(stddev_samp(x), x > 0) from t"},
		// EMIT CHANGES.
		{in: "SELECT a FROM t EMIT CHANGES", want: "select a from t", emit: true},
		{in: "SELECT a FROM t emit changes LIMIT 5", want: "select a from t limit 5", emit: true},
		{in: "SELECT emit FROM t", want: "select emit from t"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			q, err := ParseSelect(tt.in)
			if err != nil {
				t.Fatalf("ParseSelect: %v", err)
			}
			if q.Rewritten != tt.want {
				t.Errorf("Rewritten = %q\n     want   %q", q.Rewritten, tt.want)
			}
			if q.EmitChanges != tt.emit {
				t.Errorf("EmitChanges = %v", q.EmitChanges)
			}
			if q.Original != tt.in && !strings.HasPrefix(tt.in, q.Original) {
				t.Errorf("Original = %q", q.Original)
			}
		})
	}
}

// collector gathers the nodes of a query by kind for the AST tests.
type collector struct {
	cols  []*ast.ColumnNameExpr
	calls []*ast.FuncCallExpr
}

func (c *collector) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.ColumnNameExpr:
		c.cols = append(c.cols, x)
	case *ast.FuncCallExpr:
		c.calls = append(c.calls, x)
	}
	return n, false
}

func (c *collector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

func collect(q *Query) *collector {
	c := &collector{}
	q.Select.Accept(c)
	return c
}

func (c *collector) col(name string) *ast.ColumnNameExpr {
	for _, x := range c.cols {
		if x.Name.Name.O == name {
			return x
		}
	}
	return nil
}

func (c *collector) call(name string, n int) *ast.FuncCallExpr {
	for _, x := range c.calls {
		if x.FnName.L == name {
			if n--; n == 0 {
				return x
			}
		}
	}
	return nil
}

// literal returns the string value of a literal argument.
func literal(t *testing.T, e ast.ExprNode) string {
	t.Helper()
	v, ok := e.(ast.ValueExpr)
	if !ok {
		t.Fatalf("%T is not a literal", e)
	}
	return v.GetString()
}

func TestRewriteAST(t *testing.T) {
	q, err := ParseSelect(`SELECT TUMBLE(ts, INTERVAL '1' MINUTE), HOP(ts, INTERVAL '10' SECOND, INTERVAL '5 seconds'),` +
		` CAST(ts AS TIMESTAMP), (a + b)::double precision, ts + INTERVAL '5' SECOND, "Page" || page FROM clicks`)
	if err != nil {
		t.Fatal(err)
	}
	f := q.Select.Fields.Fields
	if len(f) != 6 {
		t.Fatalf("%d fields", len(f))
	}

	tumble := f[0].Expr.(*ast.FuncCallExpr)
	if tumble.FnName.L != "tumble" || len(tumble.Args) != 2 {
		t.Fatalf("tumble = %+v", tumble)
	}
	iv := tumble.Args[1].(*ast.FuncCallExpr)
	if iv.FnName.L != "__interval" || literal(t, iv.Args[0]) != "1" || literal(t, iv.Args[1]) != "MINUTE" {
		t.Errorf("interval = %s(%s, %s)", iv.FnName.L, literal(t, iv.Args[0]), literal(t, iv.Args[1]))
	}

	hop := f[1].Expr.(*ast.FuncCallExpr)
	if hop.FnName.L != "hop" || len(hop.Args) != 3 {
		t.Fatalf("hop = %+v", hop)
	}
	for i, want := range [][2]string{{"10", "SECOND"}, {"5 seconds", ""}} {
		iv := hop.Args[i+1].(*ast.FuncCallExpr)
		if iv.FnName.L != "__interval" || literal(t, iv.Args[0]) != want[0] || literal(t, iv.Args[1]) != want[1] {
			t.Errorf("hop arg %d = %s(%s, %s)", i+1, iv.FnName.L, literal(t, iv.Args[0]), literal(t, iv.Args[1]))
		}
	}

	cast := f[2].Expr.(*ast.FuncCallExpr)
	if cast.FnName.L != "__cast" || cast.Args[0].(*ast.ColumnNameExpr).Name.Name.O != "ts" || literal(t, cast.Args[1]) != "TIMESTAMP" {
		t.Errorf("cast = %+v", cast)
	}

	cast = f[3].Expr.(*ast.FuncCallExpr)
	if cast.FnName.L != "__cast" || literal(t, cast.Args[1]) != "double precision" {
		t.Errorf("cast = %+v", cast)
	}
	paren := cast.Args[0].(*ast.ParenthesesExpr)
	if sum, ok := paren.Expr.(*ast.BinaryOperationExpr); !ok || sum.Op != opcode.Plus {
		t.Errorf("cast operand = %T", paren.Expr)
	}

	plus := f[4].Expr.(*ast.BinaryOperationExpr)
	if plus.Op != opcode.Plus || plus.R.(*ast.FuncCallExpr).FnName.L != "__interval" {
		t.Errorf("ts + interval = %+v", plus)
	}

	concat := f[5].Expr.(*ast.FuncCallExpr)
	if concat.FnName.L != "concat" || len(concat.Args) != 2 {
		t.Fatalf("|| = %+v", concat)
	}
	// "Page" keeps its case; page is folded, so Name.O follows PostgreSQL.
	if a, b := concat.Args[0].(*ast.ColumnNameExpr).Name.Name.O, concat.Args[1].(*ast.ColumnNameExpr).Name.Name.O; a != "Page" || b != "page" {
		t.Errorf("|| operands = %q, %q", a, b)
	}
}

func TestPositions(t *testing.T) {
	// Position of column references after rewrites that change lengths, in
	// a later statement, after multi-byte characters and comments.
	in := "SELECT 'ünï'; /* ö */ SELECT CAST(x AS BIGINT) AS y, INTERVAL '1' MINUTE AS w, z::int AS v, \"Zz\"\n" +
		"  FROM t -- é\n  WHERE ww > INTERVAL '5 seconds' AND vv = 'ä' AND CAST(uu AS text) = tt::text"
	stmts, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	q := stmts[1].(*SelectStmt).Query
	c := collect(q)
	for _, tc := range []struct {
		name, near string
	}{
		{"x", "x AS"}, {"z", "z::"}, {"Zz", `"Zz"`}, {"ww", "ww"}, {"vv", "vv"}, {"uu", "uu"}, {"tt", "tt"},
	} {
		col := c.col(tc.name)
		if col == nil {
			t.Fatalf("no column %s", tc.name)
		}
		if got, want := q.Position(col), at(t, in, tc.near, 1); got != want {
			t.Errorf("Position(%s) = %d, want %d", tc.name, got, want)
		}
	}
	// Rewritten calls point at what they replaced; their type and unit
	// arguments at the type and unit as written.
	for _, tc := range []struct {
		fn        string
		n         int
		self, arg string // where the call and its last argument point
		argN      int    // which occurrence of arg
	}{
		{"__cast", 1, "CAST(x", "BIGINT", 1},
		{"__interval", 1, "INTERVAL '1'", "MINUTE", 1},
		{"__cast", 2, "z::", "int AS v", 1},
		{"__interval", 2, "INTERVAL '5", "INTERVAL '5", 1}, // no unit: the keyword
		{"__cast", 3, "CAST(uu", "text", 1},
		{"__cast", 4, "tt::", "text", 2},
	} {
		call := c.call(tc.fn, tc.n)
		if call == nil {
			t.Fatalf("no call %s #%d", tc.fn, tc.n)
		}
		if got, want := q.Position(call), at(t, in, tc.self, 1); got != want {
			t.Errorf("Position(%s #%d) = %d, want %d", tc.fn, tc.n, got, want)
		}
		if got, want := q.Position(call.Args[1]), at(t, in, tc.arg, tc.argN); got != want {
			t.Errorf("Position(%s #%d arg) = %d, want %d", tc.fn, tc.n, got, want)
		}
	}

	if q.Position(nil) != 0 {
		t.Error("Position(nil) != 0")
	}
	if q.Position(&ast.ColumnName{}) != 0 {
		t.Error("Position of a node without offset != 0")
	}
	if got, want := q.StartPosition(), at(t, in, "SELECT CAST", 1); got != want {
		t.Errorf("StartPosition = %d, want %d", got, want)
	}
}

// TestPositionsFilter checks the FILTER and STDDEV rewrites: the wrapper and
// the renamed aggregate point at the aggregate as written, the condition's
// columns at themselves.
func TestPositionsFilter(t *testing.T) {
	in := "SELECT 'ü', STDDEV(a) FILTER (WHERE bb > 1), count(*) filter (where cc IS NULL) FROM t"
	q, err := ParseSelect(in)
	if err != nil {
		t.Fatal(err)
	}
	c := collect(q)
	for _, tc := range []struct{ name, near string }{{"a", "a)"}, {"bb", "bb"}, {"cc", "cc"}} {
		if got, want := q.Position(c.col(tc.name)), at(t, in, tc.near, 1); got != want {
			t.Errorf("Position(%s) = %d, want %d", tc.name, got, want)
		}
	}
	for i, near := range []string{"STDDEV", "count"} {
		call := c.call("__agg_filter", i+1)
		if call == nil {
			t.Fatalf("no __agg_filter #%d in %q", i+1, q.Rewritten)
		}
		want := at(t, in, near, 1)
		if got := q.Position(call); got != want {
			t.Errorf("Position(__agg_filter #%d) = %d, want %d", i+1, got, want)
		}
		if got := q.Position(call.Args[0]); got != want {
			t.Errorf("Position(aggregate #%d) = %d, want %d", i+1, got, want)
		}
	}
	if agg, ok := c.call("__agg_filter", 1).Args[0].(*ast.AggregateFuncExpr); !ok || agg.F != "stddev_samp" {
		t.Errorf("STDDEV parsed as %#v", c.call("__agg_filter", 1).Args[0])
	}
}

func TestPositionsInSink(t *testing.T) {
	in := "CREATE SINK é WITH (kafka_topic = 'ü') AS SELECT a FROM t WHERE bb > 1"
	stmts, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	s := stmts[0].(*CreateSink)
	if s.Name != "é" || s.NamePos != 13 || s.Options[0].Pos != at(t, in, "kafka", 1) {
		t.Errorf("sink = %+v", s)
	}
	q := s.Query
	if got, want := q.Position(collect(q).col("bb")), at(t, in, "bb", 1); got != want {
		t.Errorf("Position(bb) = %d, want %d", got, want)
	}
}

func TestIdentPosition(t *testing.T) {
	in := "SHOW STREAMS; SELECT 'c' AS x, \"B\", b, /* c */ `D` FROM t WHERE C = 1 AND \"b\" = 2"
	stmts, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	q := stmts[1].(*SelectStmt).Query
	for _, tc := range []struct {
		name string
		want int
	}{
		{"c", at(t, in, "C =", 1)}, // not the string, not the comment
		{"C", at(t, in, "C =", 1)},
		{"B", at(t, in, `"B"`, 1)},
		{"b", at(t, in, "b,", 1)}, // unquoted b, before the quoted "b"
		{"D", at(t, in, "`D`", 1)},
		{"d", 0}, // backticks are exact
		{"missing", 0},
	} {
		if got := q.IdentPosition(tc.name); got != tc.want {
			t.Errorf("IdentPosition(%q) = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestParseSelect(t *testing.T) {
	if _, err := ParseSelect("SHOW STREAMS"); err == nil {
		t.Error("ParseSelect(SHOW) succeeded")
	}
	if _, err := ParseSelect("SELECT 1; SELECT 2"); err == nil {
		t.Error("ParseSelect of two statements succeeded")
	}
	q, err := ParseSelect("  SELECT a FROM t ;  ")
	if err != nil || q.SQL() != "SELECT a FROM t" || q.StartPosition() != 3 {
		t.Errorf("ParseSelect = %+v, %v", q, err)
	}
}

// TestNearOffset covers the recovery of TiDB's error offset from its message.
func TestNearOffset(t *testing.T) {
	src := `select a "b" from`
	for _, tc := range []struct {
		msg  string
		want int
		ok   bool
	}{
		{`line 1 column 12 near "from" `, 13, true},
		{`line 1 column 12 near ""b" from" `, 9, true},
		{`line 1 column 17 near "" `, 17, true},
		{`[parser:1149]You have an error`, 0, false},
		{`line 1 column 3 near "zzz" `, 0, false},
	} {
		got, ok := nearOffset(tc.msg, src)
		if got != tc.want || ok != tc.ok {
			t.Errorf("nearOffset(%q) = %d, %v; want %d, %v", tc.msg, got, ok, tc.want, tc.ok)
		}
	}
	long := "select " + strings.Repeat("x", 3000)
	if got, ok := nearOffset(`line 1 column 8 near "`+long[7:7+tidbNearLimit]+`"(total length 3000) `, long); !ok || got != 7 {
		t.Errorf("truncated nearOffset = %d, %v", got, ok)
	}
}

// positionChecker checks that every node position lies inside the input.
type positionChecker struct {
	t   *testing.T
	q   *Query
	max int
}

func (c *positionChecker) Enter(n ast.Node) (ast.Node, bool) {
	if p := c.q.Position(n); p < 0 || p > c.max {
		c.t.Errorf("Position(%T) = %d outside 0..%d", n, p, c.max)
	}
	return n, false
}

func (c *positionChecker) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// FuzzParse checks that Parse never panics, that every error is a
// *sqlerr.Error positioned inside the input (or just past its end), and that
// node positions stay inside the input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"SELECT * FRM clicks",
		"SELECT CAST(a AS BIGINT), x::int::text, (a+b)::double precision FROM t WHERE ts > INTERVAL '1' MINUTE EMIT CHANGES LIMIT 5",
		"CREATE STREAM s (a BIGINT, b VARCHAR(20)) WITH (kafka_topic = 't', partitions = 4)",
		"CREATE SINK s WITH (kafka_topic = 'o') AS SELECT page, COUNT(*) FROM c GROUP BY page, TUMBLE(ts, INTERVAL '1' MINUTE);",
		"SELECT 'é;ü' /* c */; SET x = 1; BEGIN; COMMIT",
		"SELECT CASE WHEN a THEN 1 END::text, `b`, \"C\" FROM t",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if !utf8.ValidString(in) {
			return
		}
		max := endPos(in)
		stmts, err := Parse(in)
		if err != nil {
			var e *sqlerr.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not a *sqlerr.Error", err, err)
			}
			if e.Position < 1 || e.Position > max {
				t.Fatalf("error %q at %d outside 1..%d", e.Message, e.Position, max)
			}
			return
		}
		for _, st := range stmts {
			var q *Query
			switch s := st.(type) {
			case *SelectStmt:
				q = s.Query
			case *Explain:
				q = s.Query
			case *CreateSink:
				q = s.Query
			case *CreateStream:
				q = s.Query
			}
			if q != nil {
				q.Select.Accept(&positionChecker{t: t, q: q, max: max})
			}
		}
	})
}
