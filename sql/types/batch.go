package types

import (
	"bytes"
	"slices"
	"unsafe"
)

// RowKind says what a row means to a consumer of a changelog stream. Append-only
// streams carry only Insert; an upsert stream uses UpdateAfter and Delete (a
// Kafka tombstone). The kinds follow Flink's RowKind and RisingWave's Op so that
// retracting operators fit later without changing the batch layout.
type RowKind uint8

const (
	Insert RowKind = iota
	Delete
	UpdateBefore
	UpdateAfter
)

// Column is one typed vector of a Batch. Only the slice matching Type is used:
// Ints for Bigint, Timestamp and Interval, Floats for Double, Strs for Varchar
// and Bools for Boolean. Nulls[i] marks row i NULL; it is always as long as
// the column so that operators can index it without checks.
type Column struct {
	Type   Type
	Ints   []int64
	Floats []float64
	Strs   []string
	Bools  []bool
	Nulls  []bool
}

// NewColumn returns an empty column of type t with room for capacity rows.
func NewColumn(t Type, capacity int) *Column {
	c := &Column{Type: t, Nulls: make([]bool, 0, capacity)}
	switch t {
	case Double:
		c.Floats = make([]float64, 0, capacity)
	case Varchar:
		c.Strs = make([]string, 0, capacity)
	case Boolean:
		c.Bools = make([]bool, 0, capacity)
	default:
		c.Ints = make([]int64, 0, capacity)
	}
	return c
}

// Len returns the number of rows in the column.
func (c *Column) Len() int { return len(c.Nulls) }

// Reset empties the column, keeping its memory.
func (c *Column) Reset() {
	c.Ints, c.Floats, c.Strs, c.Bools, c.Nulls = c.Ints[:0], c.Floats[:0], c.Strs[:0], c.Bools[:0], c.Nulls[:0]
}

// Append adds v (which must be of the column's type or NULL) as a new row.
func (c *Column) Append(v Value) {
	c.Nulls = append(c.Nulls, v.Null)
	switch c.Type {
	case Double:
		c.Floats = append(c.Floats, v.F)
	case Varchar:
		c.Strs = append(c.Strs, v.S)
	case Boolean:
		c.Bools = append(c.Bools, v.I != 0)
	default:
		c.Ints = append(c.Ints, v.I)
	}
}

// AppendFrom adds row r of src, a column of the same type.
func (c *Column) AppendFrom(src *Column, r int) {
	c.Nulls = append(c.Nulls, src.Nulls[r])
	switch c.Type {
	case Double:
		c.Floats = append(c.Floats, src.Floats[r])
	case Varchar:
		c.Strs = append(c.Strs, src.Strs[r])
	case Boolean:
		c.Bools = append(c.Bools, src.Bools[r])
	default:
		c.Ints = append(c.Ints, src.Ints[r])
	}
}

// AppendNull adds a NULL row.
func (c *Column) AppendNull() {
	c.Nulls = append(c.Nulls, true)
	switch c.Type {
	case Double:
		c.Floats = append(c.Floats, 0)
	case Varchar:
		c.Strs = append(c.Strs, "")
	case Boolean:
		c.Bools = append(c.Bools, false)
	default:
		c.Ints = append(c.Ints, 0)
	}
}

// AppendInt, AppendFloat, AppendString and AppendBool add a non-NULL row to
// a column whose values are held in Ints (BIGINT, TIMESTAMP, INTERVAL),
// Floats, Strs and Bools respectively: the typed form of Append for code
// that produces one type, such as a decoder.
func (c *Column) AppendInt(v int64) {
	c.Nulls = append(c.Nulls, false)
	c.Ints = append(c.Ints, v)
}

func (c *Column) AppendFloat(v float64) {
	c.Nulls = append(c.Nulls, false)
	c.Floats = append(c.Floats, v)
}

func (c *Column) AppendString(v string) {
	c.Nulls = append(c.Nulls, false)
	c.Strs = append(c.Strs, v)
}

func (c *Column) AppendBool(v bool) {
	c.Nulls = append(c.Nulls, false)
	c.Bools = append(c.Bools, v)
}

// Value returns row i as a Value.
func (c *Column) Value(i int) Value {
	if c.Nulls[i] {
		return Value{Type: c.Type, Null: true}
	}
	switch c.Type {
	case Double:
		return Value{Type: Double, F: c.Floats[i]}
	case Varchar:
		return Value{Type: Varchar, S: c.Strs[i]}
	case Boolean:
		return BoolValue(c.Bools[i])
	default:
		return Value{Type: c.Type, I: c.Ints[i]}
	}
}

// gather compacts the column to rows idx (ascending), moving each row at
// most once: rows before the first one dropped stay where they are.
func (c *Column) gather(idx []int32, from int) {
	n := len(idx)
	if allTrue(c.Nulls) {
		// All NULL (a column the query does not read is decoded as NULLs):
		// every kept row is NULL with a zero value, so truncating is
		// compacting.
		c.Truncate(n)
		return
	}
	idx = idx[from:]
	switch c.Type {
	case Double:
		v := c.Floats
		for j, i := range idx {
			v[from+j] = v[i]
		}
		c.Floats = v[:n]
	case Varchar:
		v := c.Strs
		for j, i := range idx {
			v[from+j] = v[i]
		}
		clear(v[n:])
		c.Strs = v[:n]
	case Boolean:
		v := c.Bools
		for j, i := range idx {
			v[from+j] = v[i]
		}
		c.Bools = v[:n]
	default:
		v := c.Ints
		for j, i := range idx {
			v[from+j] = v[i]
		}
		c.Ints = v[:n]
	}
	nulls := c.Nulls
	for j, i := range idx {
		nulls[from+j] = nulls[i]
	}
	c.Nulls = nulls[:n]
}

// Truncate keeps the first n rows.
func (c *Column) Truncate(n int) {
	c.Nulls = c.Nulls[:n]
	switch c.Type {
	case Double:
		c.Floats = c.Floats[:n]
	case Varchar:
		clear(c.Strs[n:])
		c.Strs = c.Strs[:n]
	case Boolean:
		c.Bools = c.Bools[:n]
	default:
		c.Ints = c.Ints[:n]
	}
}

// allTrue reports whether every entry of bs is true.
func allTrue(bs []bool) bool {
	if len(bs) == 0 {
		return true
	}
	// A bool is one byte, 0 or 1: look for a zero byte the fast way.
	return bytes.IndexByte(unsafe.Slice((*byte)(unsafe.Pointer(&bs[0])), len(bs)), 0) < 0
}

// Batch is a set of rows stored column by column: the unit that flows between
// operators. Keys carries each row's Kafka message key (nil entries for none)
// when the pipeline passes source keys through to a sink; it is nil otherwise.
// Kinds is nil for an append-only batch (all Insert).
type Batch struct {
	Cols  []*Column
	Keys  [][]byte
	Kinds []RowKind
	// idx is Keep's scratch: the rows kept.
	idx []int32
}

// NewBatch returns an empty batch with one column per type in schema.
func NewBatch(schema []Type, capacity int) *Batch {
	b := &Batch{Cols: make([]*Column, len(schema))}
	for i, t := range schema {
		b.Cols[i] = NewColumn(t, capacity)
	}
	return b
}

// Len returns the number of rows.
func (b *Batch) Len() int {
	if len(b.Cols) == 0 {
		return len(b.Keys)
	}
	return b.Cols[0].Len()
}

// Reset empties the batch, keeping its memory.
func (b *Batch) Reset() {
	for _, c := range b.Cols {
		c.Reset()
	}
	if b.Keys != nil {
		clear(b.Keys)
		b.Keys = b.Keys[:0]
	}
	if b.Kinds != nil {
		b.Kinds = b.Kinds[:0]
	}
}

// Keep compacts the batch in place to the rows whose sel entry is true. It
// lists the kept rows once, then moves each column's values in one typed
// loop.
func (b *Batch) Keep(sel []bool) { b.KeepLive(sel, nil) }

// KeepLive is Keep for a batch of which only the columns live marks will
// be read again (nil: all of them): the others are cut to the new length
// without being compacted, so their rows no longer line up.
func (b *Batch) KeepLive(sel, live []bool) {
	idx := b.idx[:0]
	for i, ok := range sel {
		if ok {
			idx = append(idx, int32(i))
		}
	}
	b.idx = idx
	from := 0 // rows before the first dropped one stay put
	for from < len(idx) && idx[from] == int32(from) {
		from++
	}
	for j, c := range b.Cols {
		if live == nil || (j < len(live) && live[j]) {
			c.gather(idx, from)
		} else {
			c.Truncate(len(idx))
		}
	}
	if b.Keys != nil {
		for j, i := range idx[from:] {
			b.Keys[from+j] = b.Keys[i]
		}
		clear(b.Keys[len(idx):])
		b.Keys = b.Keys[:len(idx)]
	}
	if b.Kinds != nil {
		for j, i := range idx[from:] {
			b.Kinds[from+j] = b.Kinds[i]
		}
		b.Kinds = b.Kinds[:len(idx)]
	}
}

// Row returns row i as Values (allocates; for tests, results and slow paths).
func (b *Batch) Row(i int) []Value {
	row := make([]Value, len(b.Cols))
	for j, c := range b.Cols {
		row[j] = c.Value(i)
	}
	return row
}

// AppendRow appends a row of Values, one per column.
func (b *Batch) AppendRow(row []Value) {
	for j, c := range b.Cols {
		c.Append(row[j])
	}
}

// ResetNulls makes the column n NULLs, as Reset and ExtendNulls.
func (c *Column) ResetNulls(n int) {
	c.Reset()
	c.ExtendNulls(n)
}

// ExtendNulls adds k NULL rows to a column that nothing reads (a source's
// column no query reads, an exchange column no operator above it reads).
// Such a column is refilled with NULLs batch after batch, and its backing
// arrays keep them: when the k entries past its end already are NULL it
// only reslices, leaving whatever values lie under them. Otherwise it is
// AppendNulls.
func (c *Column) ExtendNulls(k int) {
	n := len(c.Nulls)
	if cap(c.Nulls)-n >= k && allTrue(c.Nulls[n:n+k]) {
		switch c.Type {
		case Double:
			if cap(c.Floats) >= n+k && len(c.Floats) == n {
				c.Nulls, c.Floats = c.Nulls[:n+k], c.Floats[:n+k]
				return
			}
		case Varchar:
			if cap(c.Strs) >= n+k && len(c.Strs) == n {
				c.Nulls, c.Strs = c.Nulls[:n+k], c.Strs[:n+k]
				return
			}
		case Boolean:
			if cap(c.Bools) >= n+k && len(c.Bools) == n {
				c.Nulls, c.Bools = c.Nulls[:n+k], c.Bools[:n+k]
				return
			}
		default:
			if cap(c.Ints) >= n+k && len(c.Ints) == n {
				c.Nulls, c.Ints = c.Nulls[:n+k], c.Ints[:n+k]
				return
			}
		}
	}
	c.AppendNulls(k)
}

// AppendNulls adds k NULL rows.
func (c *Column) AppendNulls(k int) {
	n := len(c.Nulls)
	c.Nulls = slices.Grow(c.Nulls, k)[:n+k]
	for i := range c.Nulls[n:] {
		c.Nulls[n+i] = true
	}
	switch c.Type {
	case Double:
		c.Floats = append(c.Floats, make([]float64, k)...)
	case Varchar:
		c.Strs = append(c.Strs, make([]string, k)...)
	case Boolean:
		c.Bools = append(c.Bools, make([]bool, k)...)
	default:
		c.Ints = append(c.Ints, make([]int64, k)...)
	}
}
