package planner

import (
	"fmt"
	"math"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/streamsql/streamsql/planner/scalar"
	"github.com/streamsql/streamsql/sql"
	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// scope is what names resolve against while binding: the columns of one
// input, all belonging to one stream (joins come later).
type scope struct {
	table string // the stream name or its alias
	cols  []Column
	// timeCols are the columns windows may be defined on (see timeColumns).
	timeCols map[int]bool
}

func (s *scope) lookup(table, name string) (int, bool) {
	if table != "" && !strings.EqualFold(table, s.table) {
		return -1, false
	}
	for i, c := range s.cols {
		if c.Name == name {
			return i, true
		}
	}
	for i, c := range s.cols {
		if strings.EqualFold(c.Name, name) {
			return i, true
		}
	}
	return -1, false
}

// binder turns TiDB expression nodes into Exprs. It carries the query for
// error positions. When agg is set it binds in the scope of an aggregation's
// output (see aggBinder).
type binder struct {
	q   *sql.Query
	sc  *scope
	agg *aggBinder
	// rank maps a window function call to the column holding its result.
	rank map[ast.Node]Expr
	// now is NOW()'s value in a bounded query, nil in a continuous one.
	now *types.Value
}

func (b *binder) pos(n ast.Node) int {
	if p := b.q.Position(n); p > 0 {
		return p
	}
	return 0
}

func (b *binder) errAt(n ast.Node, err error) error {
	e := sqlerr.As(err)
	if e.Position == 0 {
		return e.At(b.pos(n))
	}
	return e
}

func (b *binder) bind(n ast.ExprNode) (Expr, error) {
	if e, ok := b.rank[unparen(n)]; ok {
		return e, nil
	}
	if b.agg != nil {
		if e, ok, err := b.agg.match(n); ok || err != nil {
			return e, err
		}
	}
	switch n := n.(type) {
	case *ast.ParenthesesExpr:
		return b.bind(n.Expr)
	case *ast.ColumnNameExpr:
		return b.column(n)
	case ast.ValueExpr:
		// TRUE and FALSE arrive as the integers 1 and 0 flagged boolean.
		if tp := n.GetType(); tp != nil && mysql.HasIsBooleanFlag(tp.GetFlag()) {
			if i, ok := n.GetValue().(int64); ok {
				return &Literal{types.BoolValue(i != 0)}, nil
			}
		}
		return literal(n.GetValue())
	case *ast.BinaryOperationExpr:
		return b.binary(n)
	case *ast.UnaryOperationExpr:
		return b.unary(n)
	case *ast.IsNullExpr:
		name := "is_null"
		if n.Not {
			name = "is_not_null"
		}
		return b.call(n, name, name, false, n.Expr)
	case *ast.IsTruthExpr:
		x, err := b.bind(n.Expr)
		if err != nil {
			return nil, err
		}
		want := n.True != 0
		cmp, err := b.apply(n, "=", "IS", true, x, &Literal{types.BoolValue(want)})
		if err != nil {
			return nil, err
		}
		// x IS TRUE is never NULL: coalesce(x = TRUE, FALSE).
		res, err := b.apply(n, "coalesce", "coalesce", false, cmp, &Literal{types.BoolValue(false)})
		return b.negateIf(n, n.Not, res, err)
	case *ast.PatternLikeOrIlikeExpr:
		x, err := b.bind(n.Expr)
		if err != nil {
			return nil, err
		}
		p, err := b.bind(n.Pattern)
		if err != nil {
			return nil, err
		}
		if !n.IsLike {
			if x, err = b.apply(n, "lower", "lower", false, x); err != nil {
				return nil, err
			}
			if p, err = b.apply(n, "lower", "lower", false, p); err != nil {
				return nil, err
			}
		}
		e, err := b.apply(n, "like", "LIKE", true, x, p)
		return b.negateIf(n, n.Not, e, err)
	case *ast.PatternInExpr:
		if n.Sel != nil {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "subqueries are not supported").At(b.pos(n))
		}
		x, err := b.bind(n.Expr)
		if err != nil {
			return nil, err
		}
		var or Expr
		for _, item := range n.List {
			v, err := b.bind(item)
			if err != nil {
				return nil, err
			}
			eq, err := b.apply(item, "=", "=", true, x, v)
			if err != nil {
				return nil, err
			}
			if or == nil {
				or = eq
			} else if or, err = b.apply(n, "or", "OR", true, or, eq); err != nil {
				return nil, err
			}
		}
		return b.negateIf(n, n.Not, or, nil)
	case *ast.BetweenExpr:
		x, err := b.bind(n.Expr)
		if err != nil {
			return nil, err
		}
		lo, err := b.bind(n.Left)
		if err != nil {
			return nil, err
		}
		hi, err := b.bind(n.Right)
		if err != nil {
			return nil, err
		}
		ge, err := b.apply(n, ">=", ">=", true, x, lo)
		if err != nil {
			return nil, err
		}
		le, err := b.apply(n, "<=", "<=", true, x, hi)
		if err != nil {
			return nil, err
		}
		e, err := b.apply(n, "and", "AND", true, ge, le)
		return b.negateIf(n, n.Not, e, err)
	case *ast.CaseExpr:
		return b.caseExpr(n)
	case *ast.FuncCallExpr:
		return b.funcCall(n)
	case *ast.FuncCastExpr:
		x, err := b.bind(n.Expr)
		if err != nil {
			return nil, err
		}
		t, ok := types.ParseType(n.Tp.CompactStr())
		if !ok {
			return nil, sqlerr.New(sqlerr.UndefinedObject, "type %q does not exist", n.Tp.CompactStr()).At(b.pos(n))
		}
		return b.cast(n, x, t)
	case *ast.AggregateFuncExpr:
		return nil, sqlerr.New(sqlerr.GroupingError, "aggregate functions are not allowed here").At(b.pos(n))
	case *ast.SubqueryExpr, *ast.ExistsSubqueryExpr, *ast.CompareSubqueryExpr:
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "subqueries are not supported").At(b.pos(n))
	case *ast.WindowFuncExpr:
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "window functions (OVER) are not supported yet").At(b.pos(n))
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "expression %T is not supported", n).At(b.pos(n))
}

func (b *binder) column(n *ast.ColumnNameExpr) (Expr, error) {
	name := n.Name.Name.O
	table := n.Name.Table.O
	if i, ok := b.sc.lookup(table, name); ok {
		c := b.sc.cols[i]
		return &ColRef{Idx: i, Name: c.Name, T: c.Type}, nil
	}
	// A field of a ROW column: the parser reads `bid.auction` as table bid,
	// column auction, but a stream's ROW column bid is stored as its leaves
	// "bid.auction", .... So are `s.bid.auction` (s the stream or its alias)
	// and, for a ROW in a ROW, `bid.url.host`.
	if table != "" {
		var leaves []string
		if schema := n.Name.Schema.O; schema != "" {
			if strings.EqualFold(schema, b.sc.table) {
				leaves = append(leaves, table+"."+name)
			}
			leaves = append(leaves, schema+"."+table+"."+name)
		} else {
			leaves = append(leaves, table+"."+name)
		}
		for _, leaf := range leaves {
			if i, ok := b.sc.lookup("", leaf); ok {
				c := b.sc.cols[i]
				return &ColRef{Idx: i, Name: c.Name, T: c.Type}, nil
			}
		}
	}
	pos := b.pos(n)
	if pos == 0 {
		pos = b.q.IdentPosition(name)
	}
	if schema := n.Name.Schema.O; schema != "" && !strings.EqualFold(schema, b.sc.table) && len(rowFieldsOf(b.sc, schema)) == 0 {
		return nil, sqlerr.New(sqlerr.UndefinedTable, "missing FROM-clause entry for table %q", schema).At(pos)
	}
	// A whole ROW column (`bid`, or `bid.url` of a ROW in a ROW) is not a
	// value StreamSQL has.
	whole := name
	if table != "" && !strings.EqualFold(table, b.sc.table) {
		whole = table + "." + name
	}
	if fields := rowFieldsOf(b.sc, whole); len(fields) > 0 {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "column %q is a ROW; a whole ROW value is not supported", whole).
			At(pos).WithHint("Select its fields instead: %s.", strings.Join(fields, ", "))
	}
	if table != "" && !strings.EqualFold(table, b.sc.table) {
		if fields := rowFieldsOf(b.sc, table); len(fields) > 0 {
			return nil, sqlerr.New(sqlerr.UndefinedColumn, "column %q does not exist", table+"."+name).
				At(pos).WithHint("The fields of ROW %s are: %s.", table, strings.Join(fields, ", "))
		}
	}
	full := name
	if table != "" {
		full = table + "." + name
		if !strings.EqualFold(table, b.sc.table) {
			return nil, sqlerr.New(sqlerr.UndefinedTable, "missing FROM-clause entry for table %q", table).At(pos)
		}
	}
	return nil, sqlerr.New(sqlerr.UndefinedColumn, "column %q does not exist", full).At(pos)
}

// literal converts a TiDB literal value.
func literal(v any) (Expr, error) {
	switch v := v.(type) {
	case nil:
		return &Literal{types.NullOf(types.Unknown)}, nil
	case int64:
		return &Literal{types.IntValue(v)}, nil
	case uint64:
		if v > math.MaxInt64 {
			return &Literal{types.FloatValue(float64(v))}, nil
		}
		return &Literal{types.IntValue(int64(v))}, nil
	case float64:
		return &Literal{types.FloatValue(v)}, nil
	case float32:
		return &Literal{types.FloatValue(float64(v))}, nil
	case string:
		return &Literal{types.StringValue(v)}, nil
	case []byte:
		return &Literal{types.StringValue(string(v))}, nil
	case fmt.Stringer:
		// Decimal literals such as 0.908 arrive as TiDB's MyDecimal; DOUBLE
		// PRECISION is StreamSQL's only fractional type.
		var f float64
		if _, err := fmt.Sscan(v.String(), &f); err == nil {
			return &Literal{types.FloatValue(f)}, nil
		}
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "literal of type %T is not supported", v)
}

var binaryOps = map[opcode.Op]struct {
	name, display string
}{
	opcode.Plus: {"+", "+"}, opcode.Minus: {"-", "-"}, opcode.Mul: {"*", "*"}, opcode.Div: {"/", "/"},
	opcode.Mod: {"%", "%"}, opcode.IntDiv: {"/", "/"},
	opcode.EQ: {"=", "="}, opcode.NE: {"<>", "<>"}, opcode.LT: {"<", "<"}, opcode.LE: {"<=", "<="},
	opcode.GT: {">", ">"}, opcode.GE: {">=", ">="},
	opcode.LogicAnd: {"and", "AND"}, opcode.LogicOr: {"or", "OR"},
}

func (b *binder) binary(n *ast.BinaryOperationExpr) (Expr, error) {
	op, ok := binaryOps[n.Op]
	if !ok {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "operator %s is not supported", n.Op).At(b.pos(n))
	}
	return b.call(n, op.name, op.display, true, n.L, n.R)
}

func (b *binder) unary(n *ast.UnaryOperationExpr) (Expr, error) {
	switch n.Op {
	case opcode.Minus:
		x, err := b.bind(n.V)
		if err != nil {
			return nil, err
		}
		if l, ok := x.(*Literal); ok && !l.V.Null {
			switch l.V.Type {
			case types.Bigint:
				if l.V.I != math.MinInt64 {
					return &Literal{types.IntValue(-l.V.I)}, nil
				}
			case types.Double:
				return &Literal{types.FloatValue(-l.V.F)}, nil
			}
		}
		return b.applyPrefix(n, "neg", "-", x)
	case opcode.Plus:
		return b.bind(n.V)
	case opcode.Not, opcode.Not2:
		x, err := b.bind(n.V)
		if err != nil {
			return nil, err
		}
		return b.applyPrefix(n, "not", "NOT", x)
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "operator %s is not supported", n.Op).At(b.pos(n))
}

// negateIf wraps e in NOT when not is set (x NOT LIKE p, NOT IN, NOT
// BETWEEN, IS NOT TRUE), passing an earlier error through.
func (b *binder) negateIf(n ast.Node, not bool, e Expr, err error) (Expr, error) {
	if err != nil || !not {
		return e, err
	}
	return b.applyPrefix(n, "not", "NOT", e)
}

// call binds args and applies function name.
func (b *binder) call(n ast.Node, name, display string, infix bool, args ...ast.ExprNode) (Expr, error) {
	bound := make([]Expr, len(args))
	for i, a := range args {
		e, err := b.bind(a)
		if err != nil {
			return nil, err
		}
		bound[i] = e
	}
	return b.apply(n, name, display, infix, bound...)
}

func (b *binder) applyPrefix(n ast.Node, name, display string, x Expr) (Expr, error) {
	e, err := b.apply(n, name, display, false, x)
	if c, ok := e.(*Call); ok {
		c.Prefix = true
	}
	return e, err
}

// apply resolves name over the bound args, inserting implicit casts where
// the resolved signature wants another type, and folds constant calls.
func (b *binder) apply(n ast.Node, name, display string, infix bool, args ...Expr) (Expr, error) {
	ts := make([]types.Type, len(args))
	for i, a := range args {
		ts[i] = a.Type()
	}
	// A string literal compared with or added to a timestamp or interval is
	// read as one, as PostgreSQL does with unknown-typed literals.
	if len(args) == 2 {
		for i := range 2 {
			other := ts[1-i]
			if l, ok := args[i].(*Literal); ok && l.V.Type == types.Varchar && (other == types.Timestamp || other == types.Interval) {
				v, err := scalar.CastValue(l.V, other)
				if err != nil {
					return nil, b.errAt(n, err)
				}
				args[i], ts[i] = &Literal{v}, other
			}
		}
	}
	impl, err := scalar.Resolve(name, ts)
	if err != nil {
		return nil, b.errAt(n, err)
	}
	if err := b.castArgs(n, impl, args); err != nil {
		return nil, err
	}
	return fold(&Call{Impl: impl, Args: args, Display: display, Infix: infix})
}

// castArgs casts args in place to the types impl was resolved for.
func (b *binder) castArgs(n ast.Node, impl *scalar.Impl, args []Expr) error {
	for i, want := range impl.ArgTypes {
		if i < len(args) && args[i].Type() != want {
			c, err := b.cast(n, args[i], want)
			if err != nil {
				return err
			}
			args[i] = c
		}
	}
	return nil
}

func (b *binder) cast(n ast.Node, x Expr, to types.Type) (Expr, error) {
	if x.Type() == to {
		return x, nil
	}
	impl, err := scalar.Cast(x.Type(), to)
	if err != nil {
		return nil, b.errAt(n, err)
	}
	e, err := fold(&Call{Impl: impl, Args: []Expr{x}, Display: "cast"})
	if err != nil {
		return nil, b.errAt(n, err)
	}
	return e, nil
}

// fold evaluates a call whose arguments are all literals, so that constant
// errors (a bad cast of a literal, 1/0) surface at plan time and the executor
// does not recompute constants per row.
func fold(c *Call) (Expr, error) {
	vals := make([]types.Value, len(c.Args))
	for i, a := range c.Args {
		l, ok := a.(*Literal)
		if !ok {
			return c, nil
		}
		vals[i] = l.V
		if l.V.Null && !c.Impl.NullAware {
			return &Literal{types.NullOf(c.Impl.Ret)}, nil
		}
	}
	v, err := c.Impl.Eval(vals)
	if err != nil {
		return nil, err
	}
	if v.Type == types.Unknown {
		v.Type = c.Impl.Ret
	}
	return &Literal{v}, nil
}

func (b *binder) caseExpr(n *ast.CaseExpr) (Expr, error) {
	var subject Expr
	if n.Value != nil {
		s, err := b.bind(n.Value)
		if err != nil {
			return nil, err
		}
		subject = s
	}
	var args []Expr
	for _, w := range n.WhenClauses {
		cond, err := b.bind(w.Expr)
		if err != nil {
			return nil, err
		}
		if subject != nil {
			if cond, err = b.apply(w.Expr, "=", "=", true, subject, cond); err != nil {
				return nil, err
			}
		}
		res, err := b.bind(w.Result)
		if err != nil {
			return nil, err
		}
		args = append(args, cond, res)
	}
	var els Expr = &Literal{types.NullOf(types.Unknown)}
	if n.ElseClause != nil {
		e, err := b.bind(n.ElseClause)
		if err != nil {
			return nil, err
		}
		els = e
	}
	args = append(args, els)
	return b.apply(n, "case", "case", false, args...)
}

// Functions that are window markers or need special binding.
func (b *binder) funcCall(n *ast.FuncCallExpr) (Expr, error) {
	name := n.FnName.L
	args := n.Args
	switch name {
	case "__interval":
		return b.interval(n)
	case "__cast":
		if len(n.Args) != 2 {
			break
		}
		x, err := b.bind(n.Args[0])
		if err != nil {
			return nil, err
		}
		tn := stringArg(n.Args[1])
		t, ok := types.ParseType(tn)
		if !ok {
			return nil, sqlerr.New(sqlerr.UndefinedObject, "type %q does not exist", strings.ToLower(tn)).At(b.pos(n))
		}
		return b.cast(n, x, t)
	case "tumble", "hop", "__session":
		return nil, sqlerr.New(sqlerr.GroupingError, "window function %s is only allowed in GROUP BY", strings.ToUpper(strings.TrimPrefix(name, "__"))).
			At(b.pos(n)).WithHint("Group by the window, e.g. GROUP BY page, TUMBLE(ts, INTERVAL '1' MINUTE), and select TUMBLE_START(...).")
	case "tumble_start", "tumble_end", "tumble_rowtime":
		return nil, sqlerr.New(sqlerr.GroupingError, "%s is only allowed in a query grouped by TUMBLE", strings.ToUpper(name)).At(b.pos(n))
	case "concat":
		if isPipes(n) {
			return b.namedCall(n, "concat_op", "||", true, args)
		}
	case "now", "current_timestamp", "localtimestamp":
		if b.now != nil && len(n.Args) == 0 {
			return &Literal{*b.now}, nil
		}
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "%s() is not supported in a streaming query: results would depend on processing time", name).
			At(b.pos(n)).WithHint("Use the event-time column (or rowtime) instead.")
	case timestampLiteralFunc:
		return b.timestampLiteral(n)
	case "extract":
		if len(args) == 2 {
			if u, ok := args[0].(*ast.TimeUnitExpr); ok {
				return b.extract(n, u, args[1])
			}
		}
	case "trim":
		name, args = trimCall(args)
	}
	return b.namedCall(n, name, name, false, args)
}

// isPipes reports whether a concat call is TiDB's rewriting of the ||
// operator, which yields NULL when either side is NULL, unlike concat(),
// which skips NULLs. The AST does not tell them apart, but a node starts
// where its text starts: the operator's call starts with its left operand,
// while a concat(...) call starts before its first argument.
func isPipes(n *ast.FuncCallExpr) bool {
	if len(n.Args) != 2 {
		return false
	}
	p := n.OriginTextPosition()
	return p > 0 && n.Args[0].OriginTextPosition() == p
}

func stringArg(n ast.ExprNode) string {
	if v, ok := n.(ast.ValueExpr); ok {
		if s, ok := v.GetValue().(string); ok {
			return s
		}
		return fmt.Sprint(v.GetValue())
	}
	return ""
}

func (b *binder) interval(n *ast.FuncCallExpr) (Expr, error) {
	if len(n.Args) != 2 {
		return nil, sqlerr.New(sqlerr.SyntaxError, "malformed interval").At(b.pos(n))
	}
	ms, err := scalar.ParseInterval(stringArg(n.Args[0]), stringArg(n.Args[1]))
	if err != nil {
		return nil, b.errAt(n, err)
	}
	return &Literal{types.IntervalValue(ms)}, nil
}

// constInterval binds n and requires a positive constant interval.
func (b *binder) constInterval(n ast.ExprNode, what string) (int64, error) {
	e, err := b.bind(n)
	if err != nil {
		return 0, err
	}
	l, ok := e.(*Literal)
	if !ok || l.V.Type != types.Interval || l.V.Null {
		return 0, sqlerr.New(sqlerr.DatatypeMismatch, "%s must be a constant INTERVAL", what).At(b.pos(n)).
			WithHint("Write it as INTERVAL '1' MINUTE or INTERVAL '10 seconds'.")
	}
	if l.V.I <= 0 {
		return 0, sqlerr.New(sqlerr.InvalidParameter, "%s must be positive", what).At(b.pos(n))
	}
	return l.V.I, nil
}

// timestampLiteralFunc is how TiDB parses the typed literal TIMESTAMP '...'.
const timestampLiteralFunc = "'tidb`.(timestampliteral"

// timestampLiteral binds TIMESTAMP '2026-11-23 10:00:00' to a constant.
func (b *binder) timestampLiteral(n *ast.FuncCallExpr) (Expr, error) {
	if len(n.Args) != 1 {
		return nil, sqlerr.New(sqlerr.SyntaxError, "malformed TIMESTAMP literal").At(b.pos(n))
	}
	v, err := scalar.CastValue(types.StringValue(stringArg(n.Args[0])), types.Timestamp)
	if err != nil {
		return nil, b.errAt(n, err)
	}
	return &Literal{v}, nil
}

// extract binds EXTRACT(unit FROM x) as date_part('unit', x). TiDB parses
// the units MICROSECOND to YEAR (and composites such as DAY_HOUR, which
// date_part rejects); date_part('epoch', x) and the other PostgreSQL
// fields are reachable by name.
func (b *binder) extract(n *ast.FuncCallExpr, unit *ast.TimeUnitExpr, from ast.ExprNode) (Expr, error) {
	x, err := b.bind(from)
	if err != nil {
		return nil, err
	}
	u := &Literal{types.StringValue(strings.ToLower(unit.Unit.String()))}
	return b.applyNamed(n, "date_part", "date_part", false, []Expr{u, x})
}

// trimCall maps TRIM's SQL forms, which TiDB parses into trim(x),
// trim(x, chars) and trim(x, chars, direction), to trim/btrim/ltrim/rtrim.
// A direction without characters arrives with chars " ", the default.
func trimCall(args []ast.ExprNode) (string, []ast.ExprNode) {
	name := "trim"
	if len(args) == 3 {
		if d, ok := args[2].(*ast.TrimDirectionExpr); ok {
			switch d.Direction {
			case ast.TrimLeading:
				name = "ltrim"
			case ast.TrimTrailing:
				name = "rtrim"
			}
			args = args[:2]
			if v, ok := args[1].(ast.ValueExpr); ok && (v.GetValue() == nil || v.GetValue() == " ") {
				args = args[:1]
			}
		}
	}
	if name == "trim" && len(args) == 2 {
		name = "btrim"
	}
	return name, args
}

// namedCall binds the arguments of a function called by name and applies
// it with applyNamed.
func (b *binder) namedCall(n ast.Node, name, display string, infix bool, args []ast.ExprNode) (Expr, error) {
	bound := make([]Expr, len(args))
	for i, a := range args {
		e, err := b.bind(a)
		if err != nil {
			return nil, err
		}
		bound[i] = e
	}
	return b.applyNamed(n, name, display, infix, bound)
}

// applyNamed is apply for functions called by name. It differs in two ways.
// A string literal is read as a timestamp or interval (as PostgreSQL reads
// an unknown-typed literal) only when the call does not resolve as written,
// so that date_format(ts, 'yyyy-MM-dd') keeps its pattern a string while
// coalesce(ts, '2026-11-23') still works. And the function's Check sees the
// constant arguments, so that a bad unit, pattern or regular expression in
// a literal is an error at plan time, positioned at the call.
func (b *binder) applyNamed(n ast.Node, name, display string, infix bool, args []Expr) (Expr, error) {
	impl, err := scalar.Resolve(name, exprTypes(args))
	if err != nil {
		if alt, ok := timeLiterals(args); ok {
			if altImpl, altErr := scalar.Resolve(name, exprTypes(alt)); altErr == nil {
				impl, err, args = altImpl, nil, alt
			}
		}
	}
	if err != nil {
		return nil, b.errAt(n, err)
	}
	if err := b.castArgs(n, impl, args); err != nil {
		return nil, err
	}
	if impl.Check != nil {
		consts := make([]*types.Value, len(args))
		for i, a := range args {
			if l, ok := a.(*Literal); ok && !l.V.Null {
				consts[i] = &l.V
			}
		}
		if err := impl.Check(consts); err != nil {
			return nil, b.errAt(n, err)
		}
	}
	e, err := fold(&Call{Impl: impl, Args: args, Display: display, Infix: infix})
	if err != nil {
		return nil, b.errAt(n, err)
	}
	return e, nil
}

func exprTypes(args []Expr) []types.Type {
	ts := make([]types.Type, len(args))
	for i, a := range args {
		ts[i] = a.Type()
	}
	return ts
}

// timeLiterals returns args with each string literal read as the type of
// the first TIMESTAMP or INTERVAL argument; ok is false when there is no
// such argument or no literal reads as one.
func timeLiterals(args []Expr) ([]Expr, bool) {
	target := types.Unknown
	for _, a := range args {
		if t := a.Type(); t == types.Timestamp || t == types.Interval {
			target = t
			break
		}
	}
	if target == types.Unknown {
		return nil, false
	}
	out := append([]Expr(nil), args...)
	changed := false
	for i, a := range out {
		if l, ok := a.(*Literal); ok && !l.V.Null && l.V.Type == types.Varchar {
			if v, err := scalar.CastValue(l.V, target); err == nil {
				out[i], changed = &Literal{v}, true
			}
		}
	}
	return out, changed
}
