package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// This file binds aggregate calls: which aggregate functions exist, their
// argument and result types, and how they are recognised in the AST.

var aggFuncs = map[string]AggFunc{"count": AggCount, "sum": AggSum, "min": AggMin, "max": AggMax, "avg": AggAvg}

func (ab *aggBinder) addAgg(a *ast.AggregateFuncExpr) error {
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

func (ab *aggBinder) bindAgg(a *ast.AggregateFuncExpr) (AggCall, error) {
	q := ab.b.q
	name := strings.ToLower(a.F)
	fn, ok := aggFuncs[name]
	if !ok {
		return AggCall{}, sqlerr.New(sqlerr.FeatureNotSupported, "aggregate function %s is not supported yet", name).At(q.Position(a))
	}
	if a.Distinct {
		return AggCall{}, sqlerr.New(sqlerr.FeatureNotSupported, "%s(DISTINCT ...) is not supported yet", name).At(q.Position(a))
	}
	if len(a.Args) != 1 {
		return AggCall{}, sqlerr.New(sqlerr.UndefinedFunction, "function %s takes exactly one argument", name).At(q.Position(a))
	}
	if inner := firstAggregate(a.Args[0]); inner != nil {
		return AggCall{}, sqlerr.New(sqlerr.GroupingError, "aggregate function calls cannot be nested").At(q.Position(inner))
	}
	if fn == AggCount && isCountStar(a) {
		return AggCall{Func: AggCountStar, Type: types.Bigint}, nil
	}
	arg, err := ab.in.bind(a.Args[0])
	if err != nil {
		return AggCall{}, err
	}
	t := arg.Type()
	call := AggCall{Func: fn, Arg: arg}
	switch fn {
	case AggCount:
		call.Type = types.Bigint
	case AggSum:
		if !t.Numeric() && t != types.Interval {
			return AggCall{}, sqlerr.New(sqlerr.UndefinedFunction, "function sum(%s) does not exist", strings.ToLower(t.String())).At(q.Position(a)).
				WithHint("sum takes a numeric argument.")
		}
		call.Type = t
	case AggAvg:
		if !t.Numeric() {
			return AggCall{}, sqlerr.New(sqlerr.UndefinedFunction, "function avg(%s) does not exist", strings.ToLower(t.String())).At(q.Position(a)).
				WithHint("avg takes a numeric argument.")
		}
		call.Type = types.Double
	case AggMin, AggMax:
		if t == types.Unknown {
			t = types.Varchar
		}
		call.Type = t
	}
	return call, nil
}

// isCountStar reports COUNT(*) (TiDB parses it as COUNT(1)) and COUNT(<constant>).
func isCountStar(a *ast.AggregateFuncExpr) bool {
	v, ok := a.Args[0].(ast.ValueExpr)
	return ok && v.GetValue() != nil
}

