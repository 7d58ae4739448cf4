package sql

import (
	"errors"
	"reflect"
	"testing"

	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// TestParseRowAndComputedColumns covers CREATE STREAM's ROW columns (both
// spellings, nested, quoted field names) and computed columns.
func TestParseRowAndComputedColumns(t *testing.T) {
	const in = "CREATE STREAM nexmark (event_type int, " +
		"bid ROW<auction BIGINT, `dateTime` TIMESTAMP(3), \"Extra\" VARCHAR>, " +
		"p ROW(id BIGINT, addr ROW<city VARCHAR, geo ROW<lat DOUBLE>>), " +
		"`dateTime` AS CASE WHEN event_type = 2 THEN bid.`dateTime` ELSE NULL END, " +
		"n AS coalesce(bid.auction, 0) + 1) WITH (timestamp = 'dateTime')"
	stmts, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	cs := stmts[0].(*CreateStream)
	pos := func(sub string, n int) int { return at(t, in, sub, n) }
	want := []ColumnDef{
		{Name: "event_type", Type: types.Bigint, TypeName: "int", Pos: pos("event_type", 1)},
		{Name: "bid", TypeName: "ROW", Pos: pos("bid", 1), Fields: []ColumnDef{
			{Name: "auction", Type: types.Bigint, TypeName: "BIGINT", Pos: pos("auction", 1)},
			{Name: "dateTime", Type: types.Timestamp, TypeName: "TIMESTAMP(3)", Pos: pos("`dateTime`", 1)},
			{Name: "Extra", Type: types.Varchar, TypeName: "VARCHAR", Pos: pos(`"Extra"`, 1)},
		}},
		{Name: "p", TypeName: "ROW", Pos: pos("p ROW", 1), Fields: []ColumnDef{
			{Name: "id", Type: types.Bigint, TypeName: "BIGINT", Pos: pos("id BIGINT", 1)},
			{Name: "addr", TypeName: "ROW", Pos: pos("addr", 1), Fields: []ColumnDef{
				{Name: "city", Type: types.Varchar, TypeName: "VARCHAR", Pos: pos("city", 1)},
				{Name: "geo", TypeName: "ROW", Pos: pos("geo", 1), Fields: []ColumnDef{
					{Name: "lat", Type: types.Double, TypeName: "DOUBLE", Pos: pos("lat", 1)},
				}},
			}},
		}},
		{Name: "dateTime", Pos: pos("`dateTime` AS", 1),
			Expr: "CASE WHEN event_type = 2 THEN bid.`dateTime` ELSE NULL END", ExprPos: pos("CASE", 1)},
		{Name: "n", Pos: pos("n AS", 1), Expr: "coalesce(bid.auction, 0) + 1", ExprPos: pos("coalesce", 1)},
	}
	if !reflect.DeepEqual(cs.Columns, want) {
		t.Errorf("columns:\n got %+v\nwant %+v", cs.Columns, want)
	}
	if v, _ := cs.Options.Get("timestamp"); v != "dateTime" {
		t.Errorf("options: %+v", cs.Options)
	}
}

func TestParseRowAndComputedErrors(t *testing.T) {
	tests := []struct {
		in, code, msg, near string
		n                   int
	}{
		{in: "CREATE STREAM s (a ROW<b INT)", code: sqlerr.SyntaxError, msg: `syntax error at or near ")"`, near: ")"},
		{in: "CREATE STREAM s (a ROW<b INT c INT>)", code: sqlerr.SyntaxError, msg: `syntax error at or near "c"`, near: "c INT"},
		{in: "CREATE STREAM s (a ROW<>)", code: sqlerr.SyntaxError, msg: `syntax error at or near "<>"`, near: "<>"},
		{in: "CREATE STREAM s (a ROW<b INT>>)", code: sqlerr.SyntaxError, msg: `syntax error at or near ">>"`, near: ">>"},
		{in: "CREATE STREAM s (a ROW<b ROW<c INT>>>)", code: sqlerr.SyntaxError, msg: `syntax error at or near ">"`, near: ">)"},
		{in: "CREATE STREAM s (a ROW<b FOO>)", code: sqlerr.UndefinedObject, msg: `type "foo" does not exist`, near: "FOO"},
		{in: "CREATE STREAM s (a ROW(b INT,))", code: sqlerr.SyntaxError, msg: `syntax error at or near ")"`, near: ")"},
		{in: "CREATE STREAM s (a ROW<b INT>, c AS)", code: sqlerr.SyntaxError, msg: `syntax error at or near ")"`, near: ")"},
		{in: "CREATE STREAM s (a INT, c AS , d INT)", code: sqlerr.SyntaxError, msg: `syntax error at or near ","`, near: ",", n: 2},
		{in: "CREATE STREAM s (a INT, c AS a +, d INT)", code: sqlerr.SyntaxError, msg: `syntax error at or near ","`, near: ",", n: 2},
		{in: "CREATE STREAM s (a INT, c AS a + * 2)", code: sqlerr.SyntaxError, msg: `syntax error at or near "*"`, near: "*"},
		{in: "CREATE STREAM s (a INT, c AS a AS b)", code: sqlerr.SyntaxError, msg: "a computed column is one expression: name AS <expression>", near: "a AS b"},
		{in: "CREATE STREAM s (a INT, c AS a FROM t)", code: sqlerr.SyntaxError, msg: "a computed column is one expression: name AS <expression>", near: "a FROM"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(tt.in)
			var e *sqlerr.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse = %v; want a *sqlerr.Error", err)
			}
			n := max(tt.n, 1)
			want := at(t, tt.in, tt.near, n)
			if e.Code != tt.code || e.Message != tt.msg || e.Position != want {
				t.Errorf("got %s %q at %d, want %s %q at %d", e.Code, e.Message, e.Position, tt.code, tt.msg, want)
			}
		})
	}
}
