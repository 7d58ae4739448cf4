package exec

import (
	"encoding/binary"
	"maps"
	"math"
	"slices"

	"github.com/axiomhq/hyperloglog"

	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql/types"
)

// This file holds the state of the aggregates that need more than acc's
// counters (planner/aggregates.go gives their semantics): DISTINCT,
// STDDEV/VARIANCE, APPROX_COUNT_DISTINCT and LISTAGG/STRING_AGG. Their state
// lives in an accExt that a group allocates the first time such an
// aggregate folds a value, so the simple aggregates neither pay for it nor
// allocate per row.

// accKind is an aggregate function resolved once per operator, so that the
// per-row loop switches on a small integer.
type accKind uint8

const (
	kindCountStar accKind = iota
	kindCount
	kindSum
	kindAvg
	kindMin
	kindMax
	kindVarPop
	kindVarSamp
	kindStddevPop
	kindStddevSamp
	kindApprox
	kindConcat
)

var accKinds = map[planner.AggFunc]accKind{
	planner.AggCountStar: kindCountStar, planner.AggCount: kindCount, planner.AggSum: kindSum,
	planner.AggAvg: kindAvg, planner.AggMin: kindMin, planner.AggMax: kindMax,
	planner.AggVarPop: kindVarPop, planner.AggVarSamp: kindVarSamp,
	planner.AggStddevPop: kindStddevPop, planner.AggStddevSamp: kindStddevSamp,
	planner.AggApproxCountDistinct: kindApprox,
	planner.AggListagg:             kindConcat, planner.AggStringAgg: kindConcat,
}

func kindOf(a planner.AggCall) accKind {
	k, ok := accKinds[a.Func]
	if !ok {
		panic("exec: unknown aggregate " + string(a.Func))
	}
	return k
}

// simple reports whether k keeps all its state in acc's counters.
func (k accKind) simple() bool { return k <= kindMax }

func (k accKind) variance() bool { return k >= kindVarPop && k <= kindStddevSamp }

// needsExt reports whether an aggregate call keeps an accExt.
func needsExt(a planner.AggCall) bool { return a.Distinct || !kindOf(a).simple() }

// accExt is the extra state of one aggregate call for one group. Which
// fields are used depends on the call.
type accExt struct {
	// seen holds the distinct values folded so far, each encoded with
	// appendValue (DISTINCT).
	seen map[string]struct{}
	// mean and m2 are Welford's running mean and sum of squared
	// deviations (STDDEV and VARIANCE; the count is acc.n).
	mean, m2 float64
	// hll estimates the distinct count (APPROX_COUNT_DISTINCT).
	hll *hyperloglog.Sketch
	// buf is the concatenation so far (LISTAGG, STRING_AGG).
	buf []byte
}

func (ac *acc) extState() *accExt {
	if ac.ext == nil {
		ac.ext = &accExt{}
	}
	return ac.ext
}

// foldValue folds the non-NULL value v into aggregate i's accumulator: the
// general path, for DISTINCT and the extended aggregates.
func (c *aggCore) foldValue(ac *acc, i int, v types.Value) {
	if c.aggs[i].Distinct {
		e := ac.extState()
		if e.seen == nil {
			e.seen = map[string]struct{}{}
		}
		c.vbuf = appendValue(c.vbuf[:0], v)
		if _, dup := e.seen[string(c.vbuf)]; dup {
			return
		}
		e.seen[string(c.vbuf)] = struct{}{}
	}
	c.addValue(ac, i, v)
}

// addValue adds one non-NULL value, after DISTINCT has let it through.
func (c *aggCore) addValue(ac *acc, i int, v types.Value) {
	k := c.kinds[i]
	ac.n++
	switch {
	case k == kindSum || k == kindAvg:
		if v.Type == types.Double {
			ac.f += v.F
		} else {
			ac.i += v.I
			ac.f += float64(v.I)
		}
	case k == kindMin || k == kindMax:
		if ac.n == 1 {
			ac.min = v
			return
		}
		cmp := types.Compare(v, ac.min)
		if (k == kindMin && cmp < 0) || (k == kindMax && cmp > 0) {
			ac.min = v
		}
	case k.variance():
		x := v.F
		if v.Type != types.Double {
			x = float64(v.I)
		}
		// Welford's update: stable where the naive sum of squares
		// cancels catastrophically (large values, small spread).
		e := ac.extState()
		d := x - e.mean
		e.mean += d / float64(ac.n)
		e.m2 += d * (x - e.mean)
	case k == kindApprox:
		e := ac.extState()
		if e.hll == nil {
			e.hll = hyperloglog.New()
		}
		c.vbuf = appendValue(c.vbuf[:0], v)
		e.hll.Insert(c.vbuf)
	case k == kindConcat:
		e := ac.extState()
		if ac.n > 1 {
			e.buf = append(e.buf, c.aggs[i].Sep...)
		}
		e.buf = append(e.buf, v.S...)
	}
}

// extResult is the result of an extended aggregate (a non-simple kind).
func extResult(k accKind, ac *acc) types.Value {
	switch {
	case k.variance():
		pop := k == kindVarPop || k == kindStddevPop
		if ac.n == 0 || (!pop && ac.n < 2) || ac.ext == nil {
			return types.NullOf(types.Double)
		}
		d := float64(ac.n)
		if !pop {
			d--
		}
		v := ac.ext.m2 / d
		if k == kindStddevPop || k == kindStddevSamp {
			v = math.Sqrt(v)
		}
		return types.FloatValue(v)
	case k == kindApprox:
		if ac.ext == nil || ac.ext.hll == nil {
			return types.IntValue(0)
		}
		return types.IntValue(int64(ac.ext.hll.Estimate()))
	case k == kindConcat:
		if ac.n == 0 || ac.ext == nil {
			return types.NullOf(types.Varchar)
		}
		return types.StringValue(string(ac.ext.buf))
	}
	panic("exec: not an extended aggregate")
}

// mergeGroups folds src's accumulators into dst's, as if dst had also seen
// src's rows (after them): session windows merge this way when an event
// bridges two sessions. DISTINCT values of src new to dst are folded one by
// one, so a DISTINCT aggregate stays exact.
func (c *aggCore) mergeGroups(dst, src *group) error {
	for i := range c.aggs {
		if err := c.mergeAcc(&dst.accs[i], &src.accs[i], i); err != nil {
			return err
		}
	}
	dst.start = min(dst.start, src.start)
	return nil
}

func (c *aggCore) mergeAcc(d, s *acc, i int) error {
	a := &c.aggs[i]
	if a.Distinct {
		if s.ext == nil {
			return nil
		}
		// In a deterministic order: the set does not remember arrival
		// order, which only LISTAGG(DISTINCT ...) would show.
		for _, key := range slices.Sorted(maps.Keys(s.ext.seen)) {
			v, _, err := readValue([]byte(key), a.Arg.Type())
			if err != nil {
				return err
			}
			c.foldValue(d, i, v)
		}
		return nil
	}
	k := c.kinds[i]
	if s.n == 0 {
		return nil
	}
	switch {
	case k == kindCountStar || k == kindCount:
	case k == kindSum || k == kindAvg:
		d.i += s.i
		d.f += s.f
	case k == kindMin || k == kindMax:
		if d.n == 0 {
			d.min = s.min
		} else if cmp := types.Compare(s.min, d.min); (k == kindMin && cmp < 0) || (k == kindMax && cmp > 0) {
			d.min = s.min
		}
	case k.variance():
		// Chan et al.'s pairwise combination of Welford states.
		de, se := d.extState(), s.ext
		n := float64(d.n + s.n)
		delta := se.mean - de.mean
		de.m2 += se.m2 + delta*delta*float64(d.n)*float64(s.n)/n
		de.mean += delta * float64(s.n) / n
	case k == kindApprox:
		de := d.extState()
		if de.hll == nil {
			de.hll = hyperloglog.New()
		}
		if err := de.hll.Merge(s.ext.hll); err != nil {
			return err
		}
	case k == kindConcat:
		de := d.extState()
		if d.n > 0 {
			de.buf = append(de.buf, a.Sep...)
		}
		de.buf = append(de.buf, s.ext.buf...)
	}
	d.n += s.n
	return nil
}

// appendExt encodes an extended accumulator's accExt after its counters:
// a presence byte, then the DISTINCT set (count, then each value
// length-prefixed) and the function's own state.
func appendExt(dst []byte, a planner.AggCall, e *accExt) []byte {
	if e == nil {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	if a.Distinct {
		dst = binary.AppendUvarint(dst, uint64(len(e.seen)))
		for v := range e.seen {
			dst = binary.AppendUvarint(dst, uint64(len(v)))
			dst = append(dst, v...)
		}
	}
	switch k := kindOf(a); {
	case k.variance():
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(e.mean))
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(e.m2))
	case k == kindApprox:
		var b []byte
		if e.hll != nil {
			// MarshalBinary cannot fail; an empty payload means no sketch.
			b, _ = e.hll.MarshalBinary()
		}
		dst = binary.AppendUvarint(dst, uint64(len(b)))
		dst = append(dst, b...)
	case k == kindConcat:
		dst = binary.AppendUvarint(dst, uint64(len(e.buf)))
		dst = append(dst, e.buf...)
	}
	return dst
}

// readExt decodes what appendExt wrote.
func readExt(b []byte, a planner.AggCall) (*accExt, []byte, error) {
	if len(b) == 0 {
		return nil, nil, errCorrupt
	}
	present := b[0]
	b = b[1:]
	if present == 0 {
		return nil, b, nil
	}
	e := &accExt{}
	bytesField := func() ([]byte, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return nil, errCorrupt
		}
		v := b[k : k+int(n)]
		b = b[k+int(n):]
		return v, nil
	}
	if a.Distinct {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)) {
			return nil, nil, errCorrupt
		}
		b = b[k:]
		e.seen = make(map[string]struct{}, n)
		for range n {
			v, err := bytesField()
			if err != nil {
				return nil, nil, err
			}
			e.seen[string(v)] = struct{}{}
		}
	}
	switch k := kindOf(a); {
	case k.variance():
		if len(b) < 16 {
			return nil, nil, errCorrupt
		}
		e.mean = math.Float64frombits(binary.BigEndian.Uint64(b))
		e.m2 = math.Float64frombits(binary.BigEndian.Uint64(b[8:]))
		b = b[16:]
	case k == kindApprox:
		v, err := bytesField()
		if err != nil {
			return nil, nil, err
		}
		if len(v) > 0 {
			e.hll = hyperloglog.New()
			if err := e.hll.UnmarshalBinary(v); err != nil {
				return nil, nil, errCorrupt
			}
		}
	case k == kindConcat:
		v, err := bytesField()
		if err != nil {
			return nil, nil, err
		}
		e.buf = append([]byte(nil), v...)
	}
	return e, b, nil
}
