package planner

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// RankKey is one ORDER BY item of a window function.
type RankKey struct {
	Expr Expr
	Desc bool
}

// WindowRank numbers the rows of each window's result: ROW_NUMBER() OVER
// (PARTITION BY window_start, ... ORDER BY ...), Flink's Window Top-N when
// the query around it keeps the rows with the number <= N. It needs every
// row of a window at once, so it sits on a windowed aggregation, which emits
// whole windows, and the plan runs that aggregation in a single task.
// Output: the input columns and the row number.
type WindowRank struct {
	Input     Node
	Partition []Expr
	Order     []RankKey
	Name      string
}

func (w *WindowRank) Schema() []Column {
	return append(append([]Column(nil), w.Input.Schema()...), Column{w.Name, types.Bigint})
}
func (w *WindowRank) Children() []Node { return []Node{w.Input} }
func (w *WindowRank) Props() Props     { return w.Input.Props() }
func (w *WindowRank) describe() string {
	order := make([]string, len(w.Order))
	for i, k := range w.Order {
		order[i] = k.Expr.String()
		if k.Desc {
			order[i] += " DESC"
		}
	}
	return fmt.Sprintf("WindowRank { row_number: %s, partition: [%s], order: [%s] }", w.Name, exprList(w.Partition), strings.Join(order, ", "))
}

// windowFunc returns the select items' window function call, if any.
func windowFunc(fields []*ast.SelectField) (*ast.WindowFuncExpr, *ast.SelectField) {
	for _, f := range fields {
		if wf, ok := unparen(f.Expr).(*ast.WindowFuncExpr); ok {
			return wf, f
		}
	}
	return nil, nil
}

// rank plans ROW_NUMBER() OVER (...) over input: the window function must
// be a select item of its own, and input a windowed aggregation's result
// partitioned by its window.
func (b *builder) rank(wf *ast.WindowFuncExpr, field *ast.SelectField, input Node, bd *binder) (*WindowRank, error) {
	q := b.q
	if !strings.EqualFold(wf.Name, "row_number") {
		return nil, b.unsupported(wf, "window function %s is not supported; ROW_NUMBER() is", strings.ToUpper(wf.Name))
	}
	if wf.Spec.Name.O != "" || wf.Spec.Ref.O != "" || wf.Spec.Frame != nil {
		return nil, b.unsupported(wf, "named windows and window frames are not supported")
	}
	if !windowedBelow(input) {
		return nil, b.unsupported(wf, "ROW_NUMBER() is supported over the result of a windowed aggregation (Window Top-N)").
			WithHint("Number the rows of each window: SELECT ... FROM (SELECT ..., ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY c DESC) AS rn FROM (<windowed aggregation>)) WHERE rn <= 3")
	}
	r := &WindowRank{Input: input, Name: fieldName(field)}
	if r.Name == "?column?" || r.Name == "row_number" {
		r.Name = "row_number"
	}
	byWindow := false
	if wf.Spec.PartitionBy != nil {
		for _, item := range wf.Spec.PartitionBy.Items {
			e, err := bd.bind(item.Expr)
			if err != nil {
				return nil, err
			}
			if c, ok := e.(*ColRef); ok && (c.Name == "window_start" || c.Name == "window_end") {
				byWindow = true
			}
			r.Partition = append(r.Partition, e)
		}
	}
	if !byWindow {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "ROW_NUMBER() over a windowed aggregation must be PARTITION BY window_start or window_end").
			At(q.Position(wf)).WithHint("Add window_start, window_end to PARTITION BY.")
	}
	if wf.Spec.OrderBy == nil {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "ROW_NUMBER() needs an ORDER BY").At(q.Position(wf))
	}
	for _, item := range wf.Spec.OrderBy.Items {
		e, err := bd.bind(item.Expr)
		if err != nil {
			return nil, err
		}
		r.Order = append(r.Order, RankKey{Expr: e, Desc: item.Desc})
	}
	return r, nil
}

// windowedBelow reports whether n is (a projection or filter of) a
// windowed aggregation's result.
func windowedBelow(n Node) bool {
	for n != nil {
		switch x := n.(type) {
		case *WindowAgg:
			return true
		case *Project, *Filter:
			n = x.Children()[0]
		default:
			return false
		}
	}
	return false
}
