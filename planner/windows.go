package planner

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// WindowAssign is the window table function (TUMBLE, HOP, CUMULATE in the
// FROM clause): each input row comes out once per window holding it, with
// window_start and window_end appended. A GROUP BY window_start,
// window_end over it is planned as a WindowAgg on its input instead.
type WindowAssign struct {
	Input  Node
	Window Window
}

func (w *WindowAssign) Schema() []Column {
	return append(append([]Column(nil), w.Input.Schema()...),
		Column{"window_start", types.Timestamp}, Column{"window_end", types.Timestamp})
}
func (w *WindowAssign) Children() []Node { return []Node{w.Input} }
func (w *WindowAssign) Props() Props {
	p := w.Input.Props()
	return Props{Kind: p.Kind, TimeCol: p.TimeCol}
}
func (w *WindowAssign) describe() string { return fmt.Sprintf("WindowAssign { window: %s }", w.Window) }

// startCol and endCol are the indexes of window_start and window_end.
func (w *WindowAssign) startCol() int { return len(w.Input.Schema()) }
func (w *WindowAssign) endCol() int   { return len(w.Input.Schema()) + 1 }

// tvfMarker returns the __tvf(...) call of a derived table the SQL front
// made from a window table function, or nil.
func tvfMarker(sel *ast.SelectStmt) *ast.FuncCallExpr {
	fc, ok := sel.Where.(*ast.FuncCallExpr)
	if !ok || fc.FnName.L != "__tvf" {
		return nil
	}
	return fc
}

// windowTVF plans TABLE(KIND(TABLE src, DESCRIPTOR(col), sizes...)).
func (b *builder) windowTVF(sel *ast.SelectStmt, fc *ast.FuncCallExpr) (Node, *Scan, string, error) {
	input, scan, alias, err := b.from(sel.From.TableRefs)
	if err != nil {
		return nil, nil, "", err
	}
	kind := WindowKind(strings.ToUpper(stringArg(fc.Args[0])))
	sc := &scope{table: alias, cols: input.Schema(), timeCols: timeColumns(input)}
	bd := &binder{q: b.q, sc: sc, now: b.now}
	t, err := bd.bind(fc.Args[1])
	if err != nil {
		return nil, nil, "", err
	}
	col, ok := t.(*ColRef)
	if !ok || !sc.timeCols[col.Idx] {
		return nil, nil, "", sqlerr.New(sqlerr.DatatypeMismatch, "DESCRIPTOR of %s must name the event-time column", kind).
			At(b.q.Position(fc.Args[1])).
			WithHint("Windows close when the watermark passes them, and the watermark follows the column named by the stream's timestamp option (or rowtime, the Kafka record time).")
	}
	w := Window{Kind: kind, Time: col}
	switch kind {
	case Tumble:
		if w.Size, err = bd.constInterval(fc.Args[2], "window size"); err != nil {
			return nil, nil, "", err
		}
	case Hop, Cumulate:
		what := "slide"
		if kind == Cumulate {
			what = "step"
		}
		if w.Slide, err = bd.constInterval(fc.Args[2], "window "+what); err != nil {
			return nil, nil, "", err
		}
		if w.Size, err = bd.constInterval(fc.Args[3], "window size"); err != nil {
			return nil, nil, "", err
		}
		if err := checkSlide(b, fc.Args[3], w); err != nil {
			return nil, nil, "", err
		}
	}
	return &WindowAssign{Input: input, Window: w}, scan, alias, nil
}

// checkSlide validates a HOP or CUMULATE window's sizes.
func checkSlide(b *builder, at ast.Node, w Window) error {
	if w.Size%w.Slide != 0 {
		what := "slide"
		if w.Kind == Cumulate {
			what = "step"
		}
		return sqlerr.New(sqlerr.InvalidParameter, "the %s window size (%s) must be a multiple of its %s (%s)",
			w.Kind, FormatDuration(w.Size), what, FormatDuration(w.Slide)).At(b.q.Position(at))
	}
	return nil
}

// groupWindow parses a window function of GROUP BY: TUMBLE(ts, size),
// HOP(ts, slide, size) or SESSION(ts, gap).
func (ab *aggBinder) groupWindow(fc *ast.FuncCallExpr) (*Window, error) {
	q := ab.b.q
	kind := WindowKind(strings.ToUpper(strings.TrimPrefix(fc.FnName.L, "__")))
	if strings.HasPrefix(string(kind), "TUMBLE") {
		kind = Tumble
	} else if strings.HasPrefix(string(kind), "HOP") {
		kind = Hop
	} else if strings.HasPrefix(string(kind), "SESSION") {
		kind = Session
	}
	want := map[WindowKind]int{Tumble: 2, Hop: 3, Session: 2}[kind]
	usage := map[WindowKind]string{Tumble: "TUMBLE(<event-time column>, <size>)", Hop: "HOP(<event-time column>, <slide>, <size>)",
		Session: "SESSION(<event-time column>, <gap>)"}[kind]
	if len(fc.Args) != want {
		return nil, sqlerr.New(sqlerr.UndefinedFunction, "%s takes %d arguments: %s", kind, want, usage).At(q.Position(fc))
	}
	t, err := ab.in.bind(fc.Args[0])
	if err != nil {
		return nil, err
	}
	col, ok := t.(*ColRef)
	if !ok || col.T != types.Timestamp {
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "the first argument of %s must be the stream's event-time column", strings.ToUpper(fc.FnName.O)).
			At(q.Position(fc.Args[0]))
	}
	if !ab.in.sc.timeCols[col.Idx] {
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "%s must use the stream's event-time column, not %q", strings.ToUpper(fc.FnName.O), col.Name).
			At(q.Position(fc.Args[0])).
			WithHint("Windows close when the watermark passes them, and the watermark follows the column named by the stream's timestamp option (or rowtime, the Kafka record time).")
	}
	w := &Window{Kind: kind, Time: col}
	switch kind {
	case Hop:
		if w.Slide, err = ab.in.constInterval(fc.Args[1], "window slide"); err != nil {
			return nil, err
		}
		if w.Size, err = ab.in.constInterval(fc.Args[2], "window size"); err != nil {
			return nil, err
		}
		if err := checkSlide(ab.b, fc.Args[2], *w); err != nil {
			return nil, err
		}
	case Session:
		if w.Size, err = ab.in.constInterval(fc.Args[1], "session gap"); err != nil {
			return nil, err
		}
	default:
		if w.Size, err = ab.in.constInterval(fc.Args[1], "window size"); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// windowBound binds TUMBLE_START/_END/_ROWTIME, HOP_..., SESSION_... over
// the aggregation output; ok is false if fc is none of them.
func (ab *aggBinder) windowBound(fc *ast.FuncCallExpr) (Expr, bool, error) {
	name := fc.FnName.L
	var kind, part string
	for _, k := range []string{"tumble", "hop", "session"} {
		for _, p := range []string{"start", "end", "rowtime"} {
			if name == k+"_"+p {
				kind, part = k, p
			}
		}
	}
	if kind == "" {
		return nil, false, nil
	}
	q := ab.b.q
	upper := strings.ToUpper(fc.FnName.O)
	if ab.window == nil || !strings.EqualFold(string(ab.window.Kind), kind) || ab.tvf {
		return nil, true, sqlerr.New(sqlerr.GroupingError, "%s requires GROUP BY %s(...)", upper, strings.ToUpper(kind)).At(q.Position(fc))
	}
	if want := map[string]int{"tumble": 2, "hop": 3, "session": 2}[kind]; len(fc.Args) != want {
		return nil, true, sqlerr.New(sqlerr.UndefinedFunction, "%s takes %d arguments, like the %s it refers to", upper, want, strings.ToUpper(kind)).At(q.Position(fc))
	}
	w, err := ab.groupWindow(fc)
	if err != nil {
		return nil, true, err
	}
	if w.Size != ab.window.Size || w.Slide != ab.window.Slide || w.Time.Name != ab.window.Time.Name {
		return nil, true, sqlerr.New(sqlerr.GroupingError, "%s must repeat the arguments of the GROUP BY window %s", upper, ab.winText).At(q.Position(fc))
	}
	nk := len(ab.keys)
	switch part {
	case "start":
		return &ColRef{Idx: nk, Name: "window_start", T: types.Timestamp}, true, nil
	case "end":
		return &ColRef{Idx: nk + 1, Name: "window_end", T: types.Timestamp}, true, nil
	}
	// The rowtime of a window result is the last instant inside it.
	end := &ColRef{Idx: nk + 1, Name: "window_end", T: types.Timestamp}
	e, err := (&binder{q: q, sc: &scope{cols: ab.node.Schema()}}).apply(fc, "-", "-", true, end, &Literal{types.IntervalValue(1)})
	return e, true, err
}

// windowAssignOf returns the window table function under a GROUP BY's input
// (directly, or under a WHERE), or nil.
func windowAssignOf(n Node) *WindowAssign {
	switch x := n.(type) {
	case *WindowAssign:
		return x
	case *Filter:
		if wa, ok := x.Input.(*WindowAssign); ok {
			return wa
		}
	}
	return nil
}

// withoutWindowAssign removes the window table function from a GROUP BY's
// input; the aggregation assigns the windows itself.
func withoutWindowAssign(n Node, wa *WindowAssign) (Node, error) {
	if n == Node(wa) {
		return wa.Input, nil
	}
	f := n.(*Filter)
	cols := map[int]bool{}
	columnsOf(f.Cond, cols)
	if cols[wa.startCol()] || cols[wa.endCol()] {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "a WHERE on window_start or window_end of a grouped window table function is not supported").
			WithHint("Filter the windows in HAVING instead.")
	}
	return &Filter{Input: wa.Input, Cond: f.Cond}, nil
}
