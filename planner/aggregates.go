package planner

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/streamsql/streamsql/sql"
	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// This file binds aggregate calls: which aggregate functions exist, their
// argument and result types, and how they are recognised in the AST.
//
// Semantics, as in PostgreSQL and Flink:
//   - COUNT, SUM, AVG, MIN, MAX skip NULLs; SUM/AVG/MIN/MAX of no values is NULL.
//   - agg(DISTINCT x) folds each distinct non-NULL value once (exact: the
//     group keeps the set of values seen). MIN/MAX ignore DISTINCT.
//   - STDDEV and VARIANCE are the sample versions (STDDEV_SAMP, VAR_SAMP);
//     the sql front rewrites them, because TiDB reads them as the population
//     ones. STD stays MySQL's STDDEV_POP. Sample versions of fewer than two
//     values are NULL, population versions of none are NULL. DOUBLE PRECISION.
//   - APPROX_COUNT_DISTINCT(x) is a HyperLogLog estimate of COUNT(DISTINCT x).
//   - LISTAGG(x [, sep]) (default ','), STRING_AGG(x, sep) and MySQL's
//     GROUP_CONCAT(x [SEPARATOR sep]) (default ',') concatenate the non-NULL
//     values in the order they reach the group; sep must be a constant.
//   - agg(...) FILTER (WHERE cond): rows for which cond is not TRUE are
//     skipped by that aggregate only. The sql front rewrites it to
//     __agg_filter(agg(...), cond), which TiDB parses.
//
// TiDB parses most aggregates as ast.AggregateFuncExpr, but STRING_AGG and
// LISTAGG (which MySQL lacks) and the FILTER wrapper as ast.FuncCallExpr;
// isAggregate recognises all of them.

var aggFuncs = map[string]AggFunc{
	"count": AggCount, "sum": AggSum, "min": AggMin, "max": AggMax, "avg": AggAvg,
	"stddev_pop": AggStddevPop, "stddev_samp": AggStddevSamp, "var_pop": AggVarPop, "var_samp": AggVarSamp,
	"approx_count_distinct": AggApproxCountDistinct,
	"listagg":               AggListagg, "string_agg": AggStringAgg, "group_concat": AggStringAgg,
}

// aggFilterFunc is the call the sql front writes for agg(...) FILTER (WHERE cond).
const aggFilterFunc = "__agg_filter"

// callAggregates are the aggregates TiDB parses as plain function calls.
var callAggregates = map[string]bool{"string_agg": true, "listagg": true, aggFilterFunc: true}

// isAggregate reports whether n is an aggregate call in any of the forms
// TiDB gives one.
func isAggregate(n ast.Node) bool {
	switch x := n.(type) {
	case *ast.AggregateFuncExpr:
		return true
	case *ast.FuncCallExpr:
		return callAggregates[x.FnName.L]
	}
	return false
}

// aggSyntax is an aggregate call as written, whatever its AST form.
type aggSyntax struct {
	node     ast.ExprNode // the call, for positions
	name     string       // TiDB's lower-case name (stddev is already stddev_samp)
	args     []ast.ExprNode
	distinct bool
	ordered  bool         // GROUP_CONCAT(... ORDER BY ...)
	filter   ast.ExprNode // the FILTER condition, or nil
}

func (ab *aggBinder) syntax(n ast.ExprNode) (aggSyntax, error) {
	q := ab.b.q
	n = unparen(n)
	var filter ast.ExprNode
	if fc, ok := n.(*ast.FuncCallExpr); ok && fc.FnName.L == aggFilterFunc {
		if len(fc.Args) != 2 {
			return aggSyntax{}, sqlerr.New(sqlerr.SyntaxError, "malformed FILTER clause").At(q.Position(fc))
		}
		n, filter = unparen(fc.Args[0]), fc.Args[1]
		if !isAggregate(n) || isFilter(n) {
			what := "this expression"
			if inner, ok := n.(*ast.FuncCallExpr); ok {
				what = writtenName(q, inner, inner.FnName.L)
			}
			return aggSyntax{}, sqlerr.New(sqlerr.WrongObjectType, "FILTER specified, but %s is not an aggregate function", what).At(q.Position(n))
		}
	}
	s := aggSyntax{node: n, filter: filter}
	switch x := n.(type) {
	case *ast.AggregateFuncExpr:
		s.name, s.args, s.distinct, s.ordered = strings.ToLower(x.F), x.Args, x.Distinct, x.Order != nil
	case *ast.FuncCallExpr:
		s.name, s.args = x.FnName.L, x.Args
	default:
		return aggSyntax{}, fmt.Errorf("planner: %T is not an aggregate", n)
	}
	return s, nil
}

func isFilter(n ast.Node) bool {
	fc, ok := n.(*ast.FuncCallExpr)
	return ok && fc.FnName.L == aggFilterFunc
}

func (ab *aggBinder) addAgg(a ast.ExprNode) error {
	call, err := ab.bindAgg(a)
	if err != nil {
		return err
	}
	for _, x := range ab.aggs {
		if x.String() == call.String() {
			return nil
		}
	}
	ab.aggs = append(ab.aggs, call)
	return nil
}

// aggColumn binds an aggregate call in the aggregation's output scope: the
// column of the aggregation node that computes it.
func (ab *aggBinder) aggColumn(n ast.ExprNode) (Expr, bool, error) {
	call, err := ab.bindAgg(n)
	if err != nil {
		return nil, true, err
	}
	base := len(ab.keys)
	if ab.window != nil {
		base += 2
	}
	s := call.String()
	for i, a := range ab.aggs {
		if a.String() == s {
			return &ColRef{Idx: base + i, Name: s, T: a.Type}, true, nil
		}
	}
	return nil, true, fmt.Errorf("planner: aggregate %s not collected", s)
}

func (ab *aggBinder) bindAgg(n ast.ExprNode) (AggCall, error) {
	q := ab.b.q
	s, err := ab.syntax(n)
	if err != nil {
		return AggCall{}, err
	}
	pos := q.Position(s.node)
	written := writtenName(q, s.node, s.name)
	fn, ok := aggFuncs[s.name]
	if !ok {
		return AggCall{}, sqlerr.New(sqlerr.FeatureNotSupported, "aggregate function %s is not supported yet", written).At(pos).
			WithHint("The aggregate functions are count, sum, avg, min, max, stddev, stddev_pop, stddev_samp, variance, var_pop, var_samp, approx_count_distinct, listagg, string_agg and group_concat.")
	}
	args := s.args
	// GROUP_CONCAT arrives with its separator (',' by default) as the
	// last argument.
	if s.name == "group_concat" {
		if s.ordered {
			return AggCall{}, sqlerr.New(sqlerr.FeatureNotSupported, "ORDER BY inside %s is not supported", written).At(pos).
				WithHint("Values are concatenated in the order they arrive.")
		}
		if len(args) != 2 {
			return AggCall{}, sqlerr.New(sqlerr.FeatureNotSupported, "%s of more than one expression is not supported", written).At(pos).
				WithHint("Concatenate them first: group_concat(a || b).")
		}
	}
	switch {
	case fn == AggListagg && (len(args) == 1 || len(args) == 2):
	case fn == AggStringAgg && len(args) == 2:
	case len(args) != 1 || s.name == "string_agg":
		want := "exactly one argument"
		if fn == AggListagg {
			want = "one or two arguments: listagg(value [, separator])"
		} else if fn == AggStringAgg {
			want = "two arguments: string_agg(value, separator)"
		}
		return AggCall{}, sqlerr.New(sqlerr.UndefinedFunction, "function %s takes %s", written, want).At(pos)
	}
	for _, a := range args {
		if inner := firstAggregate(a); inner != nil {
			return AggCall{}, sqlerr.New(sqlerr.GroupingError, "aggregate function calls cannot be nested").At(q.Position(inner))
		}
	}
	filter, err := ab.bindFilter(s.filter)
	if err != nil {
		return AggCall{}, err
	}
	if fn == AggCount && !s.distinct && isCountStar(args[0]) {
		return AggCall{Func: AggCountStar, Type: types.Bigint, Filter: filter}, nil
	}
	arg, err := ab.in.bind(args[0])
	if err != nil {
		return AggCall{}, err
	}
	t := arg.Type()
	call := AggCall{Func: fn, Arg: arg, Distinct: s.distinct, Filter: filter}
	typeErr := func(hint string) error {
		return sqlerr.New(sqlerr.UndefinedFunction, "function %s(%s) does not exist", written, strings.ToLower(t.String())).At(pos).
			WithHint("%s", hint)
	}
	switch fn {
	case AggCount, AggApproxCountDistinct:
		call.Type = types.Bigint
	case AggSum:
		if !t.Numeric() && t != types.Interval {
			return AggCall{}, typeErr(written + " takes a numeric argument.")
		}
		call.Type = t
	case AggAvg:
		if !t.Numeric() {
			return AggCall{}, typeErr(written + " takes a numeric argument.")
		}
		call.Type = types.Double
	case AggStddevPop, AggStddevSamp, AggVarPop, AggVarSamp:
		if !t.Numeric() {
			return AggCall{}, typeErr(written + " takes a numeric argument.")
		}
		call.Type = types.Double
	case AggMin, AggMax:
		if t == types.Unknown {
			t = types.Varchar
		}
		call.Type = t
		// The extreme of the distinct values is the extreme of all.
		call.Distinct = false
	case AggListagg, AggStringAgg:
		if err := ab.bindConcat(&call, s, written, args); err != nil {
			return AggCall{}, err
		}
	}
	return call, nil
}

// bindConcat checks LISTAGG / STRING_AGG / GROUP_CONCAT: a varchar value
// and a constant varchar separator.
func (ab *aggBinder) bindConcat(call *AggCall, s aggSyntax, written string, args []ast.ExprNode) error {
	q := ab.b.q
	pos := q.Position(s.node)
	call.Type = types.Varchar
	call.Sep = ","
	sepType := ""
	if len(args) == 2 {
		sep, err := ab.in.bind(args[1])
		if err != nil {
			return err
		}
		l, isConst := sep.(*Literal)
		if !isConst {
			return sqlerr.New(sqlerr.FeatureNotSupported, "the separator of %s must be a constant", written).At(q.Position(args[1])).
				WithHint("Write it as a string literal, e.g. %s(x, ', ').", written)
		}
		switch {
		case l.V.Null:
			// As in PostgreSQL, a NULL separator joins without one.
			call.Sep = ""
			sepType = ", unknown"
		case l.V.Type == types.Varchar:
			call.Sep = l.V.S
			sepType = ", unknown"
		default:
			sepType = ", " + strings.ToLower(l.V.Type.String())
		}
	}
	t := call.Arg.Type()
	if t == types.Unknown {
		// A bare NULL: nothing to concatenate, whatever its type.
		call.Arg = &Literal{types.NullOf(types.Varchar)}
		t = types.Varchar
	}
	if t != types.Varchar || (sepType != "" && sepType != ", unknown") {
		if s.name == "group_concat" {
			sepType = "" // its separator is always a string
		}
		return sqlerr.New(sqlerr.UndefinedFunction, "function %s(%s%s) does not exist", written, strings.ToLower(t.String()), sepType).At(pos).
			WithHint("%s concatenates varchar values with a constant varchar separator; cast other types, e.g. %s(CAST(x AS VARCHAR), ',').", written, written)
	}
	return nil
}

// bindFilter binds a FILTER condition over the aggregation's input. A
// constant TRUE is no filter; NULL and FALSE keep every row out.
func (ab *aggBinder) bindFilter(f ast.ExprNode) (Expr, error) {
	if f == nil {
		return nil, nil
	}
	q := ab.b.q
	if inner := firstAggregate(f); inner != nil {
		return nil, sqlerr.New(sqlerr.GroupingError, "aggregate functions are not allowed in FILTER").At(q.Position(inner))
	}
	cond, err := ab.in.bind(f)
	if err != nil {
		return nil, err
	}
	switch cond.Type() {
	case types.Boolean:
	case types.Unknown:
		cond = &Literal{types.NullOf(types.Boolean)}
	default:
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "argument of FILTER must be type boolean, not type %s",
			strings.ToLower(cond.Type().String())).At(q.Position(f))
	}
	if l, ok := cond.(*Literal); ok && !l.V.Null && l.V.Bool() {
		return nil, nil
	}
	return cond, nil
}

// isCountStar reports COUNT(*) (TiDB parses it as COUNT(1)) and COUNT(<constant>).
func isCountStar(arg ast.ExprNode) bool {
	v, ok := arg.(ast.ValueExpr)
	return ok && v.GetValue() != nil
}

// writtenName returns the function name as the user wrote it at n (so that
// errors say stddev where the front rewrote it to stddev_samp), or def when
// the text there is not a plain name.
func writtenName(q *sql.Query, n ast.Node, def string) string {
	pos := q.Position(n)
	in := q.Input()
	if pos <= 0 {
		return def
	}
	off := 0
	for i := 1; i < pos && off < len(in); i++ {
		_, w := utf8.DecodeRuneInString(in[off:])
		off += w
	}
	end := off
	for end < len(in) {
		c := in[end]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || end > off && c >= '0' && c <= '9' {
			end++
			continue
		}
		break
	}
	if end == off {
		return def
	}
	return strings.ToLower(in[off:end])
}

// string renders an aggregate call for EXPLAIN; it is also the call's
// identity when the same aggregate appears twice in a query.
func (a AggCall) string() string {
	var b strings.Builder
	if a.Func == AggCountStar {
		b.WriteString("count(*)")
	} else {
		b.WriteString(string(a.Func))
		b.WriteByte('(')
		if a.Distinct {
			b.WriteString("DISTINCT ")
		}
		b.WriteString(a.Arg.String())
		if a.Func == AggListagg || a.Func == AggStringAgg {
			b.WriteString(", ")
			b.WriteString((&Literal{types.StringValue(a.Sep)}).String())
		}
		b.WriteByte(')')
	}
	if a.Filter != nil {
		fmt.Fprintf(&b, " FILTER (WHERE %s)", a.Filter)
	}
	return b.String()
}
