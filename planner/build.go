package planner

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/streamsql/streamsql/catalog"
	"github.com/streamsql/streamsql/sql"
	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// Mode says how a plan will run.
type Mode int

const (
	// Bounded: a plain SELECT over the topics' current contents; ORDER BY and
	// LIMIT are allowed and non-windowed aggregates emit once at the end.
	Bounded Mode = iota
	// Continuous: a sink or derived stream that runs until dropped.
	Continuous
)

// Catalog is what the planner needs to know about streams.
type Catalog interface {
	Stream(name string) (*catalog.Stream, bool)
}

// Plan is a planned query.
type Plan struct {
	Root Node
	// Scan is the plan's single source.
	Scan *Scan
	// Names and Types describe the output columns.
	Columns []Column
	// KeyCols are the output columns forming the Kafka key (the GROUP BY
	// key); nil means the source record's key is passed through.
	KeyCols []int
	// KeyNames name the key fields in the JSON key object.
	KeyNames []string
	Mode     Mode
	// EmitChanges is set for SELECT ... EMIT CHANGES.
	EmitChanges bool
}

// Explain renders the plan.
func (p *Plan) Explain() []string { return Explain(p.Root) }

// Build plans q against cat.
func Build(q *sql.Query, cat Catalog, mode Mode) (*Plan, error) {
	b := &builder{q: q, cat: cat, mode: mode}
	return b.build()
}

type builder struct {
	q    *sql.Query
	cat  Catalog
	mode Mode
	// eventTime names the scanned stream's event-time column ("" when it
	// is the Kafka timestamp; rowtime always works).
	eventTime string
}

func (b *builder) unsupported(n ast.Node, format string, args ...any) *sqlerr.Error {
	return sqlerr.New(sqlerr.FeatureNotSupported, format, args...).At(b.q.Position(n))
}

func (b *builder) build() (*Plan, error) {
	sel := b.q.Select
	if sel.With != nil {
		return nil, b.unsupported(sel, "WITH queries are not supported")
	}
	if sel.From == nil || sel.From.TableRefs == nil {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "a query must read FROM a stream").
			WithHint("SELECT ... FROM <stream>; SHOW STREAMS lists them.")
	}
	scan, alias, err := b.from(sel.From.TableRefs)
	if err != nil {
		return nil, err
	}
	sc := &scope{table: alias, cols: scan.Schema()}
	bd := &binder{q: b.q, sc: sc}
	var node Node = scan
	if sel.Where != nil {
		if agg := firstAggregate(sel.Where); agg != nil {
			return nil, sqlerr.New(sqlerr.GroupingError, "aggregate functions are not allowed in WHERE").At(b.q.Position(agg))
		}
		cond, err := bd.bind(sel.Where)
		if err != nil {
			return nil, err
		}
		if cond.Type() != types.Boolean && cond.Type() != types.Unknown {
			return nil, sqlerr.New(sqlerr.DatatypeMismatch, "argument of WHERE must be type boolean, not type %s",
				strings.ToLower(cond.Type().String())).At(b.q.Position(sel.Where))
		}
		node = &Filter{Input: node, Cond: cond}
	}

	fields, err := b.expandStar(sel.Fields, sc)
	if err != nil {
		return nil, err
	}
	grouped := sel.GroupBy != nil || sel.Having != nil || sel.Distinct
	aggregates := false
	for _, f := range fields {
		if hasAggregate(f.Expr) {
			grouped, aggregates = true, true
		}
	}
	if sel.Distinct && (sel.GroupBy != nil || sel.Having != nil || aggregates) {
		// DISTINCT is planned as a GROUP BY of the select list; on top of
		// another grouping it would need a second aggregation, and merging
		// its keys into the first one returns duplicates.
		return nil, b.unsupported(sel, "SELECT DISTINCT cannot be combined with GROUP BY, HAVING or aggregate functions yet").
			At(b.q.IdentPosition("distinct")).
			WithHint("Drop DISTINCT: the rows of a GROUP BY are already distinct when every group key is selected.")
	}

	plan := &Plan{Scan: scan, Mode: b.mode, EmitChanges: b.q.EmitChanges}
	var exprs []Expr
	var names []string
	props := node.Props()
	if grouped {
		ab, aggNode, err := b.aggregate(sel, fields, bd, node)
		if err != nil {
			return nil, err
		}
		node = aggNode
		pb := &binder{q: b.q, sc: &scope{cols: aggNode.Schema()}, agg: ab}
		for _, f := range fields {
			e, err := pb.bind(f.Expr)
			if err != nil {
				return nil, err
			}
			exprs = append(exprs, outputExpr(e))
			names = append(names, fieldName(f))
		}
		if sel.Having != nil {
			cond, err := pb.bind(sel.Having.Expr)
			if err != nil {
				return nil, err
			}
			if cond.Type() != types.Boolean {
				return nil, sqlerr.New(sqlerr.DatatypeMismatch, "argument of HAVING must be type boolean, not type %s",
					strings.ToLower(cond.Type().String())).At(b.q.Position(sel.Having.Expr))
			}
			node = &Filter{Input: node, Cond: cond}
		}
		// The Kafka key is the non-window group key, named after the output
		// column that shows it where there is one.
		nkeys := len(ab.keys)
		for k := 0; k < nkeys; k++ {
			plan.KeyNames = append(plan.KeyNames, defaultName(ab.keys[k]))
			for i, e := range exprs {
				if c, ok := e.(*ColRef); ok && c.Idx == k {
					plan.KeyNames[k] = names[i]
					break
				}
			}
		}
		props = node.Props()
		plan.KeyCols = nil
		proj := &Project{Input: node, Exprs: exprs, Names: names}
		proj.props = Props{Kind: props.Kind, TimeCol: -1}
		for i, e := range exprs {
			if c, ok := e.(*ColRef); ok && c.Idx == props.TimeCol {
				proj.props.TimeCol = i
			}
		}
		node = proj
		// Key values are computed from the aggregation output, before the
		// projection; remember their input columns.
		plan.KeyCols = seq(nkeys)
	} else {
		for _, f := range fields {
			e, err := bd.bind(f.Expr)
			if err != nil {
				return nil, err
			}
			exprs = append(exprs, outputExpr(e))
			names = append(names, fieldName(f))
		}
		proj := &Project{Input: node, Exprs: exprs, Names: names, props: Props{Kind: AppendOnly, TimeCol: -1}}
		for i, e := range exprs {
			if c, ok := e.(*ColRef); ok && c.Idx == props.TimeCol {
				proj.props.TimeCol = i
			}
		}
		node = proj
	}
	plan.Columns = node.Schema()

	if sel.OrderBy != nil {
		if b.mode == Continuous || b.q.EmitChanges {
			return nil, b.unsupported(sel.OrderBy, "ORDER BY is not supported in a continuous query").
				WithHint("A stream has no end to sort; order the results where you read them.")
		}
		var keys []SortKey
		for _, item := range sel.OrderBy.Items {
			col, err := b.orderColumn(item.Expr, exprs, names)
			if err != nil {
				return nil, err
			}
			keys = append(keys, SortKey{Col: col, Desc: item.Desc})
		}
		node = &Sort{Input: node, Keys: keys}
	}
	if sel.Limit != nil {
		if b.mode == Continuous {
			return nil, b.unsupported(sel.Limit, "LIMIT is not supported in a sink")
		}
		n, err := b.constInt(sel.Limit.Count)
		if err != nil {
			return nil, err
		}
		var off int64
		if sel.Limit.Offset != nil {
			if off, err = b.constInt(sel.Limit.Offset); err != nil {
				return nil, err
			}
		}
		node = &Limit{Input: node, Count: n, Offset: off}
	}
	plan.Root = node
	return plan, nil
}

func (b *builder) from(refs *ast.Join) (*Scan, string, error) {
	if refs.Right != nil {
		return nil, "", b.unsupported(refs, "joins are not supported yet")
	}
	ts, ok := refs.Left.(*ast.TableSource)
	if !ok {
		return nil, "", b.unsupported(refs, "this FROM clause is not supported")
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok {
		return nil, "", b.unsupported(ts, "subqueries in FROM are not supported yet")
	}
	name := tn.Name.O
	st, ok := b.cat.Stream(name)
	if !ok {
		st, ok = b.cat.Stream(strings.ToLower(name))
	}
	if !ok {
		return nil, "", sqlerr.New(sqlerr.UndefinedTable, "stream %q does not exist", name).
			At(b.q.IdentPosition(name)).WithHint("SHOW STREAMS lists the streams; CREATE STREAM declares one over a topic.")
	}
	alias := st.Name
	if ts.AsName.O != "" {
		alias = ts.AsName.O
	}
	scan := &Scan{Stream: st, TimeCol: -1}
	if st.Timestamp != "" {
		scan.TimeCol = st.Column(st.Timestamp)
		b.eventTime = st.Timestamp
	}
	return scan, alias, nil
}

// expandStar replaces SELECT * with one field per stream column (rowtime is
// a pseudo-column and is not part of *).
func (b *builder) expandStar(fl *ast.FieldList, sc *scope) ([]*ast.SelectField, error) {
	var out []*ast.SelectField
	for _, f := range fl.Fields {
		if f.WildCard == nil {
			out = append(out, f)
			continue
		}
		for _, c := range sc.cols {
			if c.Name == RowtimeName {
				continue
			}
			out = append(out, &ast.SelectField{Expr: &ast.ColumnNameExpr{Name: &ast.ColumnName{Name: ast.NewCIStr(c.Name)}}})
		}
	}
	return out, nil
}

// outputExpr resolves a select item of unknown type (a bare NULL) to
// VARCHAR, as PostgreSQL resolves unknown output columns to text, so that no
// result or derived-stream column has type UNKNOWN.
func outputExpr(e Expr) Expr {
	if l, ok := e.(*Literal); ok && l.V.Null && l.V.Type == types.Unknown {
		return &Literal{types.NullOf(types.Varchar)}
	}
	return e
}

// fieldName is the output name PostgreSQL would give a select item.
func fieldName(f *ast.SelectField) string {
	if f.AsName.O != "" {
		return f.AsName.O
	}
	switch e := unparen(f.Expr).(type) {
	case *ast.ColumnNameExpr:
		return e.Name.Name.O
	case *ast.AggregateFuncExpr:
		return strings.ToLower(e.F)
	case *ast.FuncCallExpr:
		switch e.FnName.L {
		case "__cast":
			if len(e.Args) == 2 {
				if inner, ok := unparen(e.Args[0]).(*ast.ColumnNameExpr); ok {
					return inner.Name.Name.O
				}
				t, _ := types.ParseType(stringArg(e.Args[1]))
				return strings.ToLower(strings.Fields(t.String())[0])
			}
		case "__interval":
			return "interval"
		}
		return e.FnName.L
	case *ast.CaseExpr:
		return "case"
	}
	return "?column?"
}

func unparen(e ast.ExprNode) ast.ExprNode {
	for {
		p, ok := e.(*ast.ParenthesesExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

func (b *builder) orderColumn(e ast.ExprNode, exprs []Expr, names []string) (int, error) {
	if p, ok := e.(*ast.PositionExpr); ok && p.P == nil {
		if p.N < 1 || p.N > len(exprs) {
			return 0, sqlerr.New(sqlerr.InvalidColumnRef, "ORDER BY position %d is not in select list", p.N).At(b.q.Position(e))
		}
		return p.N - 1, nil
	}
	if v, ok := e.(ast.ValueExpr); ok {
		if n, ok := v.GetValue().(int64); ok {
			if n < 1 || int(n) > len(exprs) {
				return 0, sqlerr.New(sqlerr.InvalidColumnRef, "ORDER BY position %d is not in select list", n).At(b.q.Position(e))
			}
			return int(n - 1), nil
		}
	}
	if c, ok := e.(*ast.ColumnNameExpr); ok && c.Name.Table.O == "" {
		for i, n := range names {
			if n == c.Name.Name.O || strings.EqualFold(n, c.Name.Name.O) {
				return i, nil
			}
		}
	}
	return 0, b.unsupported(e, "ORDER BY must name an output column or position").
		WithHint("Add the expression to the select list with an alias and order by the alias.")
}

func (b *builder) constInt(e ast.ExprNode) (int64, error) {
	if v, ok := e.(ast.ValueExpr); ok {
		switch n := v.GetValue().(type) {
		case int64:
			return n, nil
		case uint64:
			return int64(n), nil
		}
	}
	return 0, sqlerr.New(sqlerr.InvalidParameter, "LIMIT and OFFSET must be integer constants").At(b.q.Position(e))
}

// hasAggregate reports whether e contains an aggregate call.
func hasAggregate(e ast.Node) bool { return firstAggregate(e) != nil }

// firstAggregate returns the first aggregate call in e, or nil; errors
// about a misplaced aggregate point at it.
func firstAggregate(e ast.Node) *ast.AggregateFuncExpr {
	v := &aggFinder{}
	e.Accept(v)
	return v.found
}

type aggFinder struct{ found *ast.AggregateFuncExpr }

func (v *aggFinder) Enter(n ast.Node) (ast.Node, bool) {
	if v.found != nil {
		return n, true
	}
	if a, ok := n.(*ast.AggregateFuncExpr); ok {
		v.found = a
		return n, true
	}
	return n, false
}
func (v *aggFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// aggregate plans GROUP BY: it finds the window, the keys and the
// aggregate calls, and returns the aggregation node (behind an exchange)
// with an aggBinder that maps select items onto its output.
func (b *builder) aggregate(sel *ast.SelectStmt, fields []*ast.SelectField, bd *binder, input Node) (*aggBinder, Node, error) {
	ab := &aggBinder{b: b, in: bd}
	if sel.GroupBy != nil {
		for _, item := range sel.GroupBy.Items {
			if fc, ok := unparen(item.Expr).(*ast.FuncCallExpr); ok && isWindowFunc(fc.FnName.L) {
				if err := ab.setWindow(fc); err != nil {
					return nil, nil, err
				}
				continue
			}
			if agg := firstAggregate(item.Expr); agg != nil {
				return nil, nil, sqlerr.New(sqlerr.GroupingError, "aggregate functions are not allowed in GROUP BY").At(b.q.Position(agg))
			}
			e, err := b.groupItem(item.Expr, fields, bd)
			if err != nil {
				return nil, nil, err
			}
			ab.keys = append(ab.keys, e)
			ab.keyText = append(ab.keyText, b.q.Snippet(item.Expr))
		}
	}
	if sel.Distinct {
		// SELECT DISTINCT a, b is GROUP BY a, b.
		for _, f := range fields {
			e, err := bd.bind(f.Expr)
			if err != nil {
				return nil, nil, err
			}
			ab.keys = append(ab.keys, e)
		}
	}
	// Collect aggregate calls from the select list and HAVING, in order.
	collect := func(n ast.Node) error {
		c := &aggCollector{}
		n.Accept(c)
		for _, a := range c.calls {
			if err := ab.addAgg(a); err != nil {
				return err
			}
		}
		return nil
	}
	for _, f := range fields {
		if err := collect(f.Expr); err != nil {
			return nil, nil, err
		}
	}
	if sel.Having != nil {
		if err := collect(sel.Having.Expr); err != nil {
			return nil, nil, err
		}
	}
	ab.keyStr = make([]string, len(ab.keys))
	for i, k := range ab.keys {
		ab.keyStr[i] = k.String()
	}
	ex := &Exchange{Input: input, Keys: ab.keys}
	if ab.window != nil {
		ab.node = &WindowAgg{Input: ex, Window: *ab.window, Keys: ab.keys, Aggs: ab.aggs}
	} else {
		ab.node = &HashAgg{Input: ex, Keys: ab.keys, Aggs: ab.aggs}
	}
	return ab, ab.node, nil
}

// groupItem binds a GROUP BY item: an expression over the input, or the
// name or position of a select item (as PostgreSQL allows).
func (b *builder) groupItem(e ast.ExprNode, fields []*ast.SelectField, bd *binder) (Expr, error) {
	if p, ok := e.(*ast.PositionExpr); ok && p.P == nil {
		if p.N < 1 || p.N > len(fields) {
			return nil, sqlerr.New(sqlerr.InvalidColumnRef, "GROUP BY position %d is not in select list", p.N).At(b.q.Position(e))
		}
		return bd.bind(fields[p.N-1].Expr)
	}
	if v, ok := e.(ast.ValueExpr); ok {
		if n, ok := v.GetValue().(int64); ok {
			if n < 1 || int(n) > len(fields) {
				return nil, sqlerr.New(sqlerr.InvalidColumnRef, "GROUP BY position %d is not in select list", n).At(b.q.Position(e))
			}
			return bd.bind(fields[n-1].Expr)
		}
	}
	bound, err := bd.bind(e)
	if err == nil {
		return bound, nil
	}
	if c, ok := e.(*ast.ColumnNameExpr); ok && c.Name.Table.O == "" {
		for _, f := range fields {
			if f.AsName.O != "" && strings.EqualFold(f.AsName.O, c.Name.Name.O) && !hasAggregate(f.Expr) {
				return bd.bind(f.Expr)
			}
		}
	}
	return nil, err
}

func isWindowFunc(name string) bool { return name == "tumble" || name == "hop" || name == "session" }

type aggCollector struct{ calls []*ast.AggregateFuncExpr }

func (v *aggCollector) Enter(n ast.Node) (ast.Node, bool) {
	if a, ok := n.(*ast.AggregateFuncExpr); ok {
		v.calls = append(v.calls, a)
		return n, true
	}
	return n, false
}
func (v *aggCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// aggBinder binds expressions over an aggregation's output: group keys,
// aggregate calls and window bounds become column references; anything else
// must be built from those.
type aggBinder struct {
	b       *builder
	in      *binder // binds over the aggregation's input
	keys    []Expr
	keyStr  []string
	keyText []string // GROUP BY items as the user wrote them, for hints
	window  *Window
	winText string
	aggs    []AggCall
	node    Node
}

func (ab *aggBinder) setWindow(fc *ast.FuncCallExpr) error {
	q := ab.b.q
	if ab.window != nil {
		return sqlerr.New(sqlerr.GroupingError, "only one window is allowed in GROUP BY").At(q.Position(fc))
	}
	name := strings.ToUpper(fc.FnName.O)
	if fc.FnName.L != "tumble" {
		return sqlerr.New(sqlerr.FeatureNotSupported, "%s windows are not supported yet; TUMBLE is", name).At(q.Position(fc))
	}
	if len(fc.Args) != 2 {
		return sqlerr.New(sqlerr.UndefinedFunction, "TUMBLE takes two arguments: TUMBLE(<event-time column>, <size>)").At(q.Position(fc))
	}
	w, err := ab.windowArgs(fc)
	if err != nil {
		return err
	}
	ab.window = w
	ab.winText = q.Snippet(fc)
	ab.keyText = append(ab.keyText, ab.winText)
	return nil
}

func (ab *aggBinder) windowArgs(fc *ast.FuncCallExpr) (*Window, error) {
	q := ab.b.q
	t, err := ab.in.bind(fc.Args[0])
	if err != nil {
		return nil, err
	}
	col, ok := t.(*ColRef)
	timeCol := len(ab.in.sc.cols) - 1 // rowtime
	if !ok || col.T != types.Timestamp {
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "the first argument of %s must be the stream's event-time column", strings.ToUpper(fc.FnName.O)).
			At(q.Position(fc.Args[0]))
	}
	if col.Idx != timeCol && !strings.EqualFold(col.Name, ab.b.eventTime) {
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "%s must use the stream's event-time column, not %q", strings.ToUpper(fc.FnName.O), col.Name).
			At(q.Position(fc.Args[0])).
			WithHint("Windows close when the watermark passes them, and the watermark follows the column named by the stream's timestamp option (or rowtime, the Kafka record time).")
	}
	size, err := ab.in.constInterval(fc.Args[1], "window size")
	if err != nil {
		return nil, err
	}
	return &Window{Kind: Tumble, Time: col, Size: size}, nil
}

// match binds n over the aggregation output if n is a group key, an
// aggregate or a window bound. ok is false if n is none of these; the
// caller then binds n's parts.
func (ab *aggBinder) match(n ast.ExprNode) (Expr, bool, error) {
	q := ab.b.q
	sch := ab.node.Schema()
	nk := len(ab.keys)
	switch x := unparen(n).(type) {
	case *ast.AggregateFuncExpr:
		call, err := ab.bindAgg(x)
		if err != nil {
			return nil, true, err
		}
		base := nk
		if ab.window != nil {
			base += 2
		}
		for i, a := range ab.aggs {
			if a.String() == call.String() {
				return &ColRef{Idx: base + i, Name: a.String(), T: a.Type}, true, nil
			}
		}
		return nil, true, fmt.Errorf("planner: aggregate %s not collected", call)
	case *ast.FuncCallExpr:
		switch x.FnName.L {
		case "tumble_start", "tumble_end", "tumble_rowtime":
			if ab.window == nil {
				return nil, true, sqlerr.New(sqlerr.GroupingError, "%s requires GROUP BY TUMBLE(...)", strings.ToUpper(x.FnName.O)).At(q.Position(x))
			}
			if len(x.Args) != 2 {
				return nil, true, sqlerr.New(sqlerr.UndefinedFunction, "%s takes two arguments, like the TUMBLE it refers to", strings.ToUpper(x.FnName.O)).At(q.Position(x))
			}
			w, err := ab.windowArgs(x)
			if err != nil {
				return nil, true, err
			}
			if w.Size != ab.window.Size || w.Time.Name != ab.window.Time.Name {
				return nil, true, sqlerr.New(sqlerr.GroupingError, "%s must repeat the arguments of the GROUP BY window %s", strings.ToUpper(x.FnName.O), ab.winText).At(q.Position(x))
			}
			if x.FnName.L == "tumble_start" {
				return &ColRef{Idx: nk, Name: "window_start", T: types.Timestamp}, true, nil
			}
			if x.FnName.L == "tumble_end" {
				return &ColRef{Idx: nk + 1, Name: "window_end", T: types.Timestamp}, true, nil
			}
			// The rowtime of a window result is the last instant inside it.
			end := &ColRef{Idx: nk + 1, Name: "window_end", T: types.Timestamp}
			e, err := (&binder{q: q, sc: &scope{cols: sch}}).apply(x, "-", "-", true, end, &Literal{types.IntervalValue(1)})
			return e, true, err
		}
	}
	// Does n, bound over the input, equal a group key?
	if len(ab.keys) > 0 {
		if e, err := ab.in.bind(n); err == nil {
			s := e.String()
			for i, k := range ab.keyStr {
				if k == s {
					return &ColRef{Idx: i, Name: sch[i].Name, T: sch[i].Type}, true, nil
				}
			}
			if _, isLit := e.(*Literal); isLit {
				return e, true, nil
			}
		}
	}
	if c, ok := unparen(n).(*ast.ColumnNameExpr); ok {
		if _, err := ab.in.bind(c); err != nil {
			return nil, true, err
		}
		return nil, true, ab.groupingError(c)
	}
	return nil, false, nil
}

// groupingError is PostgreSQL's 42803 with a hint that shows the GROUP BY
// clause that would make the query valid.
func (ab *aggBinder) groupingError(c *ast.ColumnNameExpr) error {
	q := ab.b.q
	name := c.Name.Name.O
	qual := name
	if c.Name.Table.O == "" {
		qual = ab.in.sc.table + "." + name
	} else {
		qual = c.Name.Table.O + "." + name
	}
	pos := q.Position(c)
	if pos == 0 {
		pos = q.IdentPosition(name)
	}
	items := append([]string{name}, ab.keyText...)
	return sqlerr.New(sqlerr.GroupingError, "column %q must appear in the GROUP BY clause or be used in an aggregate function", qual).
		At(pos).WithHint("Group by it as well: GROUP BY %s", strings.Join(items, ", "))
}
