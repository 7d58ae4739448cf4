package planner

import (
	"fmt"
	"strings"
	"time"

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

// ViewCatalog is a Catalog that also has views (named queries expanded
// where they are read).
type ViewCatalog interface {
	Catalog
	View(name string) (*catalog.View, bool)
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
	// SingleTask asks for one aggregation task: an operator above the
	// aggregation (WindowRank) needs each window's rows together.
	SingleTask bool
	// Sources names every stream and view the query reads.
	Sources []string
}

// Explain renders the plan.
func (p *Plan) Explain() []string { return Explain(p.Root) }

// Build plans q against cat.
func Build(q *sql.Query, cat Catalog, mode Mode) (*Plan, error) {
	b := &builder{q: q, cat: cat, mode: mode}
	if mode == Bounded {
		// NOW() in a bounded query is the moment the statement began, as
		// in PostgreSQL; a continuous query refuses it (processing time).
		now := types.TimestampValue(time.Now().UnixMilli())
		b.now = &now
	}
	return b.build()
}

type builder struct {
	q    *sql.Query
	cat  Catalog
	mode Mode
	// singleTask is set when a nested query needs one aggregation task.
	singleTask bool
	// sources collects the streams and views the query reads.
	sources *[]string
	// now is NOW()'s value in a bounded query; nil in a continuous one.
	now *types.Value
}

func (b *builder) unsupported(n ast.Node, format string, args ...any) *sqlerr.Error {
	return sqlerr.New(sqlerr.FeatureNotSupported, format, args...).At(b.q.Position(n))
}

func (b *builder) build() (*Plan, error) {
	var sources []string
	b.sources = &sources
	p, err := b.buildSelect(b.q.Select, true)
	if err != nil {
		return nil, err
	}
	p.Sources = sources
	return p, nil
}

// buildSelect plans one SELECT; top is false for a derived table or view,
// whose plan becomes the input of the query around it.
func (b *builder) buildSelect(sel *ast.SelectStmt, top bool) (*Plan, error) {
	if sel.With != nil {
		return nil, b.unsupported(sel, "WITH queries are not supported")
	}
	if sel.From == nil || sel.From.TableRefs == nil {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "a query must read FROM a stream").
			WithHint("SELECT ... FROM <stream>; SHOW STREAMS lists them.")
	}
	input, scan, alias, err := b.from(sel.From.TableRefs)
	if err != nil {
		return nil, err
	}
	sc := &scope{table: alias, cols: input.Schema(), timeCols: timeColumns(input)}
	bd := &binder{q: b.q, sc: sc, now: b.now}
	node := input
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
		pb := &binder{q: b.q, sc: &scope{cols: aggNode.Schema()}, agg: ab, now: b.now}
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
				proj.props.TimeCol, proj.props.TimeIsEnd = i, props.TimeIsEnd
			}
		}
		node = proj
		// Key values are computed from the aggregation output, before the
		// projection; remember their input columns.
		plan.KeyCols = seq(nkeys)
	} else {
		if wf, field := windowFunc(fields); wf != nil {
			r, err := b.rank(wf, field, node, bd)
			if err != nil {
				return nil, err
			}
			node = r
			plan.SingleTask = true
			rc := &ColRef{Idx: len(r.Schema()) - 1, Name: r.Name, T: types.Bigint}
			bd = &binder{q: b.q, sc: &scope{table: sc.table, cols: r.Schema(), timeCols: sc.timeCols}, rank: map[ast.Node]Expr{wf: rc}, now: b.now}
		}
		for _, f := range fields {
			e, err := bd.bind(f.Expr)
			if err != nil {
				return nil, err
			}
			exprs = append(exprs, outputExpr(e))
			names = append(names, fieldName(f))
		}
		proj := &Project{Input: node, Exprs: exprs, Names: names, props: Props{Kind: props.Kind, TimeCol: -1}}
		for i, e := range exprs {
			if c, ok := e.(*ColRef); ok && c.Idx == props.TimeCol {
				proj.props.TimeCol, proj.props.TimeIsEnd = i, props.TimeIsEnd
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
	if sel.Limit != nil && !top {
		return nil, b.unsupported(sel.Limit, "LIMIT in a subquery is not supported")
	}
	if sel.OrderBy != nil && !top {
		return nil, b.unsupported(sel.OrderBy, "ORDER BY in a subquery is not supported")
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
	plan.SingleTask = plan.SingleTask || b.singleTask
	return plan, nil
}

// from plans the FROM clause: a stream, a view, a window table function
// or a derived table. It returns the input node, the scan at its bottom and
// the name the input's columns are qualified with.
func (b *builder) from(refs *ast.Join) (Node, *Scan, string, error) {
	if refs.Right != nil {
		return nil, nil, "", b.unsupported(refs, "joins are not supported yet")
	}
	ts, ok := refs.Left.(*ast.TableSource)
	if !ok {
		return nil, nil, "", b.unsupported(refs, "this FROM clause is not supported")
	}
	var node Node
	var scan *Scan
	var alias string
	var err error
	switch src := ts.Source.(type) {
	case *ast.TableName:
		node, scan, alias, err = b.named(src.Name.O)
	case *ast.SelectStmt:
		if tvf := tvfMarker(src); tvf != nil {
			node, scan, alias, err = b.windowTVF(src, tvf)
		} else {
			var sub *Plan
			if sub, err = b.buildSelect(src, false); err == nil {
				node, scan = sub.Root, sub.Scan
				b.singleTask = b.singleTask || sub.SingleTask
			}
		}
	default:
		return nil, nil, "", b.unsupported(ts, "this FROM clause is not supported")
	}
	if err != nil {
		return nil, nil, "", err
	}
	if ts.AsName.O != "" {
		alias = ts.AsName.O
	}
	return node, scan, alias, nil
}

// named plans a stream or a view by name.
func (b *builder) named(name string) (Node, *Scan, string, error) {
	if v, ok := b.view(name); ok {
		b.addSource(v.Name)
		q, err := sql.ParseSelect(v.Query)
		if err != nil {
			return nil, nil, "", fmt.Errorf("view %s: %w", v.Name, err)
		}
		sub, err := (&builder{q: q, cat: b.cat, mode: b.mode, sources: b.sources, now: b.now}).buildSelect(q.Select, false)
		if err != nil {
			return nil, nil, "", fmt.Errorf("view %s no longer plans: %w", v.Name, err)
		}
		return sub.Root, sub.Scan, v.Name, nil
	}
	st, ok := b.cat.Stream(name)
	if !ok {
		st, ok = b.cat.Stream(strings.ToLower(name))
	}
	if !ok {
		return nil, nil, "", sqlerr.New(sqlerr.UndefinedTable, "stream %q does not exist", name).
			At(b.q.IdentPosition(name)).WithHint("SHOW STREAMS lists the streams; CREATE STREAM declares one over a topic.")
	}
	b.addSource(st.Name)
	scan := &Scan{Stream: st, TimeCol: -1}
	if st.Timestamp != "" {
		scan.TimeCol = st.Column(st.Timestamp)
	}
	computed, err := BindComputed(st)
	if err != nil {
		return nil, nil, "", computedScanError(st, err)
	}
	scan.Computed = computed
	return scan, scan, st.Name, nil
}

func (b *builder) addSource(name string) {
	if b.sources == nil {
		return
	}
	for _, s := range *b.sources {
		if s == name {
			return
		}
	}
	*b.sources = append(*b.sources, name)
}

// view looks name up among the catalog's views, if the catalog has any.
func (b *builder) view(name string) (*catalog.View, bool) {
	vc, ok := b.cat.(ViewCatalog)
	if !ok {
		return nil, false
	}
	if v, ok := vc.View(name); ok {
		return v, true
	}
	return vc.View(strings.ToLower(name))
}

// timeColumns are the input columns a window may be defined on: the column
// carrying event time, and rowtime straight off a scan.
func timeColumns(n Node) map[int]bool {
	out := map[int]bool{}
	if tc := n.Props().TimeCol; tc >= 0 {
		out[tc] = true
	}
	if s, ok := n.(*Scan); ok {
		out[s.RowtimeCol()] = true
	}
	return out
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
		case "__agg_filter":
			if len(e.Args) == 2 {
				return fieldName(&ast.SelectField{Expr: e.Args[0]})
			}
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
func firstAggregate(e ast.Node) ast.ExprNode {
	v := &aggFinder{}
	e.Accept(v)
	return v.found
}

type aggFinder struct{ found ast.ExprNode }

func (v *aggFinder) Enter(n ast.Node) (ast.Node, bool) {
	if v.found != nil {
		return n, true
	}
	if isAggregate(n) {
		v.found = n.(ast.ExprNode)
		return n, true
	}
	return n, false
}
func (v *aggFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// aggregate plans GROUP BY: it finds the window, the keys and the
// aggregate calls, and returns the aggregation node (behind an exchange)
// with an aggBinder that maps select items onto its output.
func (b *builder) aggregate(sel *ast.SelectStmt, fields []*ast.SelectField, bd *binder, input Node) (*aggBinder, Node, error) {
	ab := &aggBinder{b: b, in: bd, waStart: -1, waEnd: -1}
	wa := windowAssignOf(input)
	if wa != nil {
		ab.waStart, ab.waEnd = wa.startCol(), wa.endCol()
	}
	if sel.GroupBy != nil {
		for _, item := range sel.GroupBy.Items {
			if fc, ok := unparen(item.Expr).(*ast.FuncCallExpr); ok && isWindowFunc(fc.FnName.L) {
				if err := ab.setWindow(fc); err != nil {
					return nil, nil, err
				}
				continue
			}
			if wa != nil {
				// GROUP BY window_start, window_end of a window table function.
				if e, err := bd.bind(item.Expr); err == nil {
					if c, ok := e.(*ColRef); ok && (c.Idx == ab.waStart || c.Idx == ab.waEnd) {
						ab.window, ab.tvf = &wa.Window, true
						continue
					}
				}
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
	if wa != nil {
		if !ab.tvf {
			return nil, nil, sqlerr.New(sqlerr.GroupingError, "an aggregation over a window table function must GROUP BY window_start, window_end").
				At(b.q.Position(sel.GroupBy)).WithHint("Add window_start, window_end to the GROUP BY clause.")
		}
		for _, k := range ab.keys {
			if refsWindowCols(k, ab) {
				return nil, nil, b.unsupported(sel.GroupBy, "window_start and window_end can only be grouped on directly")
			}
		}
		for _, a := range ab.aggs {
			if (a.Arg != nil && refsWindowCols(a.Arg, ab)) || (a.Filter != nil && refsWindowCols(a.Filter, ab)) {
				return nil, nil, b.unsupported(sel, "aggregating window_start or window_end is not supported")
			}
		}
		var err error
		if input, err = withoutWindowAssign(input, wa); err != nil {
			return nil, nil, err
		}
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

func isWindowFunc(name string) bool { return name == "tumble" || name == "hop" || name == "__session" }

type aggCollector struct{ calls []ast.ExprNode }

func (v *aggCollector) Enter(n ast.Node) (ast.Node, bool) {
	if isAggregate(n) {
		v.calls = append(v.calls, n.(ast.ExprNode))
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
	// tvf is set when the window comes from a window table function in
	// FROM, whose window_start and window_end columns are waStart, waEnd.
	tvf            bool
	waStart, waEnd int
	aggs           []AggCall
	node           Node
}

func (ab *aggBinder) setWindow(fc *ast.FuncCallExpr) error {
	q := ab.b.q
	if ab.window != nil {
		return sqlerr.New(sqlerr.GroupingError, "only one window is allowed in GROUP BY").At(q.Position(fc))
	}
	w, err := ab.groupWindow(fc)
	if err != nil {
		return err
	}
	ab.window = w
	ab.winText = q.Snippet(fc)
	ab.keyText = append(ab.keyText, ab.winText)
	return nil
}

// refsWindowCols reports whether e reads the window table function's
// window_start or window_end.
func refsWindowCols(e Expr, ab *aggBinder) bool {
	cols := map[int]bool{}
	columnsOf(e, cols)
	return cols[ab.waStart] || cols[ab.waEnd]
}

// match binds n over the aggregation output if n is a group key, an
// aggregate or a window bound. ok is false if n is none of these; the
// caller then binds n's parts.
func (ab *aggBinder) match(n ast.ExprNode) (Expr, bool, error) {
	sch := ab.node.Schema()
	nk := len(ab.keys)
	if isAggregate(unparen(n)) {
		return ab.aggColumn(n)
	}
	switch x := unparen(n).(type) {
	case *ast.FuncCallExpr:
		if e, ok, err := ab.windowBound(x); ok || err != nil {
			return e, true, err
		}
	}
	if ab.tvf {
		if e, err := ab.in.bind(n); err == nil {
			if c, ok := e.(*ColRef); ok && c.Idx == ab.waStart {
				return &ColRef{Idx: nk, Name: "window_start", T: types.Timestamp}, true, nil
			}
			if c, ok := e.(*ColRef); ok && c.Idx == ab.waEnd {
				return &ColRef{Idx: nk + 1, Name: "window_end", T: types.Timestamp}, true, nil
			}
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
