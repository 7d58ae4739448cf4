package exec

import (
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql/types"
)

// WindowAssign is the window table function: it emits each input row once
// per window holding its event time, with window_start and window_end
// appended. It keeps no state; rows of windows the watermark has passed are
// still emitted (only aggregations drop late rows).
type WindowAssign struct {
	stateless
	spec    windowSpec
	timeCol evaluator
	out     *types.Batch
	wins    [][2]int64
}

var _ Operator = (*WindowAssign)(nil)

// NewWindowAssign builds the operator.
func NewWindowAssign(n *planner.WindowAssign, pol ErrorPolicy) *WindowAssign {
	var sch []types.Type
	for _, c := range n.Schema() {
		sch = append(sch, c.Type)
	}
	return &WindowAssign{
		spec:    windowSpec{kind: n.Window.Kind, size: n.Window.Size, slide: n.Window.Slide},
		timeCol: compile(n.Window.Time, pol),
		out:     types.NewBatch(sch, 0),
	}
}

func (w *WindowAssign) Process(b *types.Batch, out Collector) error {
	tc, err := w.timeCol.eval(b)
	if err != nil {
		return err
	}
	w.out.Reset()
	if b.Keys != nil && w.out.Keys == nil {
		w.out.Keys = [][]byte{}
	}
	nin := len(b.Cols)
	for r := 0; r < b.Len(); r++ {
		if tc.Nulls[r] {
			continue
		}
		w.wins = w.spec.assign(tc.Ints[r], w.wins[:0])
		for _, win := range w.wins {
			for j, c := range b.Cols {
				w.out.Cols[j].Append(c.Value(r))
			}
			w.out.Cols[nin].Append(types.TimestampValue(win[0]))
			w.out.Cols[nin+1].Append(types.TimestampValue(win[1]))
			if b.Keys != nil {
				w.out.Keys = append(w.out.Keys, b.Keys[r])
			}
		}
	}
	if w.out.Len() == 0 {
		return nil
	}
	return out.Collect(w.out)
}
