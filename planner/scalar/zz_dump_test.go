package scalar_test

import (
	"fmt"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/streamsql/streamsql/sql"
)

func dumpExpr(e ast.Node, ind string) string {
	out := fmt.Sprintf("%s%T", ind, e)
	switch n := e.(type) {
	case *ast.FuncCallExpr:
		out += fmt.Sprintf(" name=%q type=%v\n", n.FnName.L, n.Tp)
		for _, a := range n.Args {
			out += dumpExpr(a, ind+"  ")
		}
		return out
	case *ast.TimeUnitExpr:
		out += fmt.Sprintf(" unit=%v\n", n.Unit)
	case *ast.TrimDirectionExpr:
		out += fmt.Sprintf(" dir=%v\n", n.Direction)
		return out
	case ast.ValueExpr:
		out += fmt.Sprintf(" val=%#v\n", n.GetValue())
		return out
	case *ast.PatternRegexpExpr:
		out += fmt.Sprintf(" not=%v\n", n.Not)
		return out + dumpExpr(n.Expr, ind+"  ") + dumpExpr(n.Pattern, ind+"  ")
	case *ast.BinaryOperationExpr:
		out += fmt.Sprintf(" op=%v\n", n.Op)
		return out + dumpExpr(n.L, ind+"  ") + dumpExpr(n.R, ind+"  ")
	case *ast.ColumnNameExpr:
		return out + " " + n.Name.Name.O + "\n"
	}
	return out + "\n"
}

func TestDumpAST(t *testing.T) {
	for _, q := range []string{
		"SELECT TRIM('x' FROM a), TRIM(BOTH FROM a), TRIM(LEADING 'xy' FROM a), TRIM(a), TRIM(TRAILING FROM a) FROM t",
		"SELECT EXTRACT(DAY_HOUR FROM ts), EXTRACT(YEAR_MONTH FROM ts) FROM t",
		"SELECT EXTRACT(HOUR FROM ts) FROM t",
		"SELECT EXTRACT(MILLISECOND FROM ts) FROM t",
		"SELECT EXTRACT(DOW FROM ts) FROM t",
		"SELECT EXTRACT(DOY FROM ts) FROM t",
		"SELECT EXTRACT(EPOCH FROM ts) FROM t",
		"SELECT EXTRACT(WEEK FROM ts) FROM t",
		"SELECT EXTRACT(MICROSECOND FROM ts) FROM t",
		"SELECT EXTRACT(QUARTER FROM ts) FROM t",
		"SELECT EXTRACT(DAY FROM ts), EXTRACT(YEAR FROM ts), EXTRACT(MONTH FROM ts), EXTRACT(MINUTE FROM ts), EXTRACT(SECOND FROM ts) FROM t",
		"SELECT HOUR(ts), MINUTE(ts), SECOND(ts), YEAR(ts), MONTH(ts), DAYOFMONTH(ts), DAY(ts), DAYOFWEEK(ts), DAYOFYEAR(ts), WEEK(ts), QUARTER(ts) FROM t",
		"SELECT DATE_FORMAT(ts, 'yyyy-MM-dd'), TO_CHAR(ts, 'YYYY'), DATE_TRUNC('minute', ts) FROM t",
		"SELECT NOW(), CURRENT_TIMESTAMP, CURRENT_TIMESTAMP(), LOCALTIMESTAMP, NOW(3), CURRENT_DATE FROM t",
		"SELECT REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2), REGEXP_REPLACE(a, 'x', 'y'), REGEXP_LIKE(a, 'x'), SPLIT_INDEX(url, '/', 3), COUNT_CHAR(extra, 'c') FROM t",
		"SELECT a REGEXP 'x', a NOT REGEXP 'y', a RLIKE 'z' FROM t",
		"SELECT a ~ 'x' FROM t",
		"SELECT SUBSTRING(a FROM 2 FOR 3), SUBSTRING(a, 2), POSITION('a' IN b), TRIM(BOTH 'x' FROM a), CHAR_LENGTH(a), MOD(a, 2), a DIV 2, a MOD 3 FROM t",
		"SELECT ts + INTERVAL '1' MINUTE, ts - INTERVAL '2' HOUR, 0.908 * price, CEIL(a), CEILING(a), POWER(a,2), POW(a,2) FROM t",
		"SELECT TIMESTAMP '2026-01-01 00:00:00', DATE '2026-01-01' FROM t",
		"SELECT IF(a, 1, 2), IFNULL(a, 1), LEFT(a, 2), RIGHT(a, 2), LPAD(a, 3, 'x') FROM t",
	} {
		qq, err := sql.ParseSelect(q)
		if err != nil {
			t.Logf("%s\n  ERR %v", q, err)
			continue
		}
		out := q + "\n  rewritten: " + qq.Rewritten + "\n"
		for _, f := range qq.Select.Fields.Fields {
			out += dumpExpr(f.Expr, "  ")
		}
		t.Log(out)
	}
}
