package exec

import (
	"sort"

	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql/types"
)

// WindowRank numbers the rows of each batch per partition in ORDER BY
// order (ROW_NUMBER). It keeps no state: it relies on its input — a
// windowed aggregation running as a single task — delivering every row of
// a window in one batch.
type WindowRank struct {
	stateless
	partition []evaluator
	order     []evaluator
	desc      []bool
	out       *types.Batch
	pcols     []*types.Column
	ocols     []*types.Column
	idx       []int
	kbuf      []byte
	keys      []string
}

var _ Operator = (*WindowRank)(nil)

// NewWindowRank builds the operator.
func NewWindowRank(n *planner.WindowRank, pol ErrorPolicy) *WindowRank {
	r := &WindowRank{}
	for _, e := range n.Partition {
		r.partition = append(r.partition, compile(e, pol))
	}
	for _, k := range n.Order {
		r.order = append(r.order, compile(k.Expr, pol))
		r.desc = append(r.desc, k.Desc)
	}
	var sch []types.Type
	for _, c := range n.Schema() {
		sch = append(sch, c.Type)
	}
	r.out = types.NewBatch(sch, 0)
	r.pcols = make([]*types.Column, len(r.partition))
	r.ocols = make([]*types.Column, len(r.order))
	return r
}

func (r *WindowRank) Process(b *types.Batch, out Collector) error {
	n := b.Len()
	if n == 0 {
		return nil
	}
	for i, e := range r.partition {
		c, err := e.eval(b)
		if err != nil {
			return err
		}
		r.pcols[i] = c
	}
	for i, e := range r.order {
		c, err := e.eval(b)
		if err != nil {
			return err
		}
		r.ocols[i] = c
	}
	r.keys = r.keys[:0]
	r.idx = r.idx[:0]
	for i := 0; i < n; i++ {
		r.kbuf = r.kbuf[:0]
		for _, c := range r.pcols {
			r.kbuf = appendKeyValue(r.kbuf, c, i)
		}
		r.keys = append(r.keys, string(r.kbuf))
		r.idx = append(r.idx, i)
	}
	// Sort by partition, then by the ORDER BY keys (NULLs last ascending,
	// first descending, as in PostgreSQL), ties kept in arrival order.
	sort.SliceStable(r.idx, func(a, b int) bool {
		i, j := r.idx[a], r.idx[b]
		if r.keys[i] != r.keys[j] {
			return r.keys[i] < r.keys[j]
		}
		for k, c := range r.ocols {
			x, y := c.Value(i), c.Value(j)
			var cmp int
			switch {
			case x.Null && y.Null:
			case x.Null:
				cmp = 1
			case y.Null:
				cmp = -1
			default:
				cmp = types.Compare(x, y)
			}
			if r.desc[k] {
				cmp = -cmp
			}
			if cmp != 0 {
				return cmp < 0
			}
		}
		return false
	})
	r.out.Reset()
	nin := len(b.Cols)
	var num int64
	for k, i := range r.idx {
		if k == 0 || r.keys[i] != r.keys[r.idx[k-1]] {
			num = 0
		}
		num++
		for j, c := range b.Cols {
			r.out.Cols[j].Append(c.Value(i))
		}
		r.out.Cols[nin].Append(types.IntValue(num))
	}
	return out.Collect(r.out)
}
