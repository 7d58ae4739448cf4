package exec

import (
	"encoding/binary"
	"math"

	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql/types"
)

// This file holds what every aggregation operator shares: the per-group
// accumulators, how rows fold into them, how results are read out, and how
// groups are encoded for checkpoints. WindowAgg and HashAgg (agg.go) decide
// which group a row belongs to and when results are emitted.

// acc is the running state of one aggregate call for one group.
type acc struct {
	n   int64 // rows counted (COUNT) or non-NULL inputs folded (the others; distinct ones with DISTINCT)
	i   int64 // integer sum
	f   float64
	min types.Value // MIN/MAX so far
	// ext is the extra state of DISTINCT and the extended aggregates
	// (accum_ext.go), nil until the group folds its first value there.
	ext *accExt
}

// group is one group's state: its key values, window and accumulators.
type group struct {
	keys  []types.Value
	start int64 // window start (ms); 0 for non-windowed aggregation
	accs  []acc
}

// groupCodec serialises groups for checkpoints. An aggregate's counters
// are always written; the accExt of DISTINCT and the extended aggregates
// follows them (appendExt), so the encoding of the simple aggregates is the
// same as before those existed.
type groupCodec struct {
	keyTypes []types.Type
	aggs     []planner.AggCall
}

func (c groupCodec) Encode(dst []byte, g *group) []byte {
	for _, k := range g.keys {
		dst = appendValue(dst, k)
	}
	dst = binary.BigEndian.AppendUint64(dst, uint64(g.start))
	for i, a := range g.accs {
		dst = binary.AppendVarint(dst, a.n)
		dst = binary.AppendVarint(dst, a.i)
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(a.f))
		// min is unset (the zero Value) for every aggregate but MIN/MAX,
		// and for those until their first value: write it as NULL, which
		// readValue reads back in one byte (appendValue would write a
		// non-NULL value of type 0 with a payload that readValue does not
		// consume, shifting every later field of the group).
		m := a.min
		if m.Type == types.Unknown {
			m.Null = true
		}
		dst = appendValue(dst, m)
		if needsExt(c.aggs[i]) {
			dst = appendExt(dst, c.aggs[i], a.ext)
		}
	}
	return dst
}

func (c groupCodec) Decode(b []byte) (*group, error) {
	g := &group{keys: make([]types.Value, len(c.keyTypes)), accs: make([]acc, len(c.aggs))}
	var err error
	for i, t := range c.keyTypes {
		if g.keys[i], b, err = readValue(b, t); err != nil {
			return nil, err
		}
	}
	if len(b) < 8 {
		return nil, errCorrupt
	}
	g.start = int64(binary.BigEndian.Uint64(b))
	b = b[8:]
	for i, a := range c.aggs {
		var k int
		if g.accs[i].n, k = binary.Varint(b); k <= 0 {
			return nil, errCorrupt
		}
		b = b[k:]
		if g.accs[i].i, k = binary.Varint(b); k <= 0 {
			return nil, errCorrupt
		}
		b = b[k:]
		if len(b) < 8 {
			return nil, errCorrupt
		}
		g.accs[i].f = math.Float64frombits(binary.BigEndian.Uint64(b))
		b = b[8:]
		if g.accs[i].min, b, err = readValue(b, a.Type); err != nil {
			return nil, err
		}
		if needsExt(a) {
			if g.accs[i].ext, b, err = readExt(b, a); err != nil {
				return nil, err
			}
		}
	}
	return g, nil
}

// aggCore is what WindowAgg and HashAgg share: evaluating keys and
// arguments over a batch, and folding rows into accumulators.
type aggCore struct {
	keys     []evaluator
	keyTypes []types.Type
	args     []evaluator // nil entry for COUNT(*)
	aggs     []planner.AggCall
	kinds    []accKind
	// plain marks the aggregates folded by fold's fast path: a simple
	// kind without DISTINCT.
	plain []bool
	// filters evaluates each aggregate's FILTER condition (nil entry: none).
	filters []evaluator
	// set shares the calls keys, arguments and filters have in common.
	set        *exprSet
	keyCols    []*types.Column
	argCols    []*types.Column
	filterCols []*types.Column
	kbuf       []byte
	vbuf       []byte // scratch for encoding a DISTINCT or APPROX value
	outTypes   []types.Type
	out        *types.Batch
	// spare holds deleted groups for newGroup to reuse: only a window
	// operator whose state is never checkpointed gives them back, since
	// there nothing refers to a group once its window is purged.
	spare []*group
}

func newAggCore(keys []planner.Expr, aggs []planner.AggCall, windowed bool, pol ErrorPolicy) aggCore {
	c := aggCore{aggs: aggs}
	all := append([]planner.Expr(nil), keys...)
	for _, a := range aggs {
		all = append(all, a.Arg, a.Filter)
	}
	c.set = newExprSet(all...)
	for _, k := range keys {
		c.keys = append(c.keys, c.set.compile(k, pol))
		c.keyTypes = append(c.keyTypes, k.Type())
		c.outTypes = append(c.outTypes, k.Type())
	}
	if windowed {
		c.outTypes = append(c.outTypes, types.Timestamp, types.Timestamp)
	}
	for _, a := range aggs {
		if a.Arg == nil {
			c.args = append(c.args, nil)
		} else {
			c.args = append(c.args, c.set.compile(a.Arg, pol))
		}
		var f evaluator
		if a.Filter != nil {
			f = c.set.compile(a.Filter, pol)
		}
		c.filters = append(c.filters, f)
		k := kindOf(a)
		c.kinds = append(c.kinds, k)
		c.plain = append(c.plain, k.simple() && !a.Distinct)
		c.outTypes = append(c.outTypes, a.Type)
	}
	c.keyCols = make([]*types.Column, len(keys))
	c.argCols = make([]*types.Column, len(aggs))
	c.filterCols = make([]*types.Column, len(aggs))
	c.out = types.NewBatch(c.outTypes, 0)
	return c
}

// evalInputs computes the key and argument columns of b.
func (c *aggCore) evalInputs(b *types.Batch) error {
	c.set.next()
	for i, k := range c.keys {
		col, err := k.eval(b)
		if err != nil {
			return err
		}
		c.keyCols[i] = col
	}
	for i, a := range c.args {
		if a == nil {
			continue
		}
		col, err := a.eval(b)
		if err != nil {
			return err
		}
		c.argCols[i] = col
	}
	for i, f := range c.filters {
		if f == nil {
			continue
		}
		col, err := f.eval(b)
		if err != nil {
			return err
		}
		c.filterCols[i] = col
	}
	return nil
}

// rowKey encodes row's group key after prefix into the reused buffer.
func (c *aggCore) rowKey(prefix []byte, row int) []byte {
	c.kbuf = append(c.kbuf[:0], prefix...)
	for _, col := range c.keyCols {
		c.kbuf = appendKeyValue(c.kbuf, col, row)
	}
	return c.kbuf
}

func (c *aggCore) newGroup(row int, start int64) *group {
	var g *group
	if n := len(c.spare); n > 0 {
		g, c.spare[n-1], c.spare = c.spare[n-1], nil, c.spare[:n-1]
		g.start = start
		clear(g.accs)
	} else {
		g = &group{keys: make([]types.Value, len(c.keyCols)), start: start, accs: make([]acc, len(c.aggs))}
	}
	for i, col := range c.keyCols {
		g.keys[i] = col.Value(row)
	}
	return g
}

// fold adds row to g's accumulators. Rows whose FILTER condition is not
// TRUE, and NULL arguments, are skipped. The simple aggregates fold in
// place without allocating; the others go through foldValue.
func (c *aggCore) fold(g *group, row int) {
	for i, k := range c.kinds {
		ac := &g.accs[i]
		if f := c.filterCols[i]; f != nil && (f.Nulls[row] || !f.Bools[row]) {
			continue
		}
		if k == kindCountStar {
			ac.n++
			continue
		}
		col := c.argCols[i]
		if col.Nulls[row] {
			continue
		}
		if !c.plain[i] {
			c.foldValue(ac, i, col.Value(row))
			continue
		}
		ac.n++
		switch k {
		case kindSum, kindAvg:
			if col.Type == types.Double {
				ac.f += col.Floats[row]
			} else {
				ac.i += col.Ints[row]
				ac.f += float64(col.Ints[row])
			}
		case kindMin, kindMax:
			v := col.Value(row)
			if ac.n == 1 {
				ac.min = v
				continue
			}
			cmp := types.Compare(v, ac.min)
			if (k == kindMin && cmp < 0) || (k == kindMax && cmp > 0) {
				ac.min = v
			}
		}
	}
}

// appendResult appends g's output row: keys, [window start and end when
// window is given], aggregates.
func (c *aggCore) appendResult(g *group, window *[2]int64) {
	col := 0
	for _, k := range g.keys {
		c.out.Cols[col].Append(k)
		col++
	}
	if window != nil {
		c.out.Cols[col].Append(types.TimestampValue(window[0]))
		c.out.Cols[col+1].Append(types.TimestampValue(window[1]))
		col += 2
	}
	for i, a := range c.aggs {
		ac := g.accs[i]
		var v types.Value
		switch a.Func {
		case planner.AggCountStar, planner.AggCount:
			v = types.IntValue(ac.n)
		case planner.AggSum:
			switch {
			case ac.n == 0:
				v = types.NullOf(a.Type)
			case a.Type == types.Double:
				v = types.FloatValue(ac.f)
			default:
				v = types.Value{Type: a.Type, I: ac.i}
			}
		case planner.AggAvg:
			if ac.n == 0 {
				v = types.NullOf(types.Double)
			} else {
				v = types.FloatValue(ac.f / float64(ac.n))
			}
		case planner.AggMin, planner.AggMax:
			if ac.n == 0 {
				v = types.NullOf(a.Type)
			} else {
				v = ac.min
			}
		default:
			v = extResult(c.kinds[i], &ac)
		}
		c.out.Cols[col].Append(v)
		col++
	}
}
