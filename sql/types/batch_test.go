package types

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBatchKeep: Keep leaves exactly the selected rows, in order, in every
// column type, the keys and the kinds; whether nothing, everything, a
// prefix or scattered rows are dropped.
func TestBatchKeep(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	schema := []Type{Bigint, Double, Varchar, Boolean, Timestamp, Varchar} // the last all NULL
	for trial := range 200 {
		n := rng.IntN(40)
		b := NewBatch(schema, 0)
		b.Keys, b.Kinds = [][]byte{}, []RowKind{}
		var rows [][]Value
		for i := range n {
			row := []Value{IntValue(int64(i)), FloatValue(float64(i) / 2), StringValue(string(rune('a' + i%26))),
				BoolValue(i%3 == 0), TimestampValue(int64(i) * 1000), NullOf(Varchar)}
			if i%5 == 0 {
				row[rng.IntN(len(row)-1)].Null = true
			}
			b.AppendRow(row)
			b.Keys = append(b.Keys, []byte{byte(i)})
			b.Kinds = append(b.Kinds, RowKind(i%2))
			rows = append(rows, b.Row(i))
		}
		sel := make([]bool, n)
		mode := trial % 4
		for i := range sel {
			switch mode {
			case 0:
				sel[i] = true
			case 1:
				sel[i] = false
			case 2:
				sel[i] = i < n/2
			default:
				sel[i] = rng.IntN(3) > 0
			}
		}
		// Every third trial only some columns are live (the mask may be
		// shorter than the schema: the rest are dead).
		var live []bool
		if trial%3 == 1 {
			live = make([]bool, rng.IntN(len(schema)+1))
			for j := range live {
				live[j] = rng.IntN(2) == 0
			}
			b.KeepLive(sel, live)
		} else {
			b.Keep(sel)
		}
		var want []int
		for i, ok := range sel {
			if ok {
				want = append(want, i)
			}
		}
		if b.Len() != len(want) || len(b.Keys) != len(want) || len(b.Kinds) != len(want) {
			t.Fatalf("trial %d: %d rows, %d keys, %d kinds; want %d", trial, b.Len(), len(b.Keys), len(b.Kinds), len(want))
		}
		for k, c := range b.Cols {
			if c.Len() != len(want) {
				t.Fatalf("trial %d: column %d has %d rows; want %d", trial, k, c.Len(), len(want))
			}
		}
		for j, i := range want {
			got := b.Row(j)
			for k := range got {
				if live != nil && (k >= len(live) || !live[k]) {
					got[k] = rows[i][k] // a dead column: not compacted
				}
			}
			if !slices.Equal(got, rows[i]) {
				t.Fatalf("trial %d: row %d = %v; want row %d %v", trial, j, got, i, rows[i])
			}
			if b.Keys[j][0] != byte(i) || b.Kinds[j] != RowKind(i%2) {
				t.Fatalf("trial %d: row %d has key %v kind %v; want row %d's", trial, j, b.Keys[j], b.Kinds[j], i)
			}
		}
	}
}

// BenchmarkBatchKeep: a source-shaped batch (7 decoded columns, 20 the
// query does not read, all NULL) of 4096 rows losing every tenth row.
func BenchmarkBatchKeep(b *testing.B) {
	const n = 4096
	var schema []Type
	for i := range 27 {
		schema = append(schema, []Type{Bigint, Varchar, Timestamp}[i%3])
	}
	src := NewBatch(schema, n)
	for r := range n {
		row := make([]Value, len(schema))
		for j, t := range schema {
			row[j] = Value{Type: t, I: int64(r), S: "x", Null: j >= 7}
		}
		src.AppendRow(row)
	}
	sel := make([]bool, n)
	for i := range sel {
		sel[i] = i%10 != 3
	}
	work := NewBatch(schema, n)
	b.ReportAllocs()
	for b.Loop() {
		for j, c := range src.Cols {
			w := work.Cols[j]
			w.Ints, w.Strs, w.Nulls = append(w.Ints[:0], c.Ints...), append(w.Strs[:0], c.Strs...), append(w.Nulls[:0], c.Nulls...)
		}
		work.Keep(sel)
	}
}

// TestResetNulls: a column made NULLs again and again reuses what its
// backing arrays hold, but never shows a value left there by other use.
func TestResetNulls(t *testing.T) {
	for _, typ := range []Type{Bigint, Double, Varchar, Boolean, Timestamp} {
		c := NewColumn(typ, 0)
		check := func(step string, n int) {
			t.Helper()
			if c.Len() != n {
				t.Fatalf("%v %s: %d rows; want %d", typ, step, c.Len(), n)
			}
			for i := range n {
				if v := c.Value(i); !v.Null {
					t.Fatalf("%v %s: row %d = %v; want NULL", typ, step, i, v)
				}
			}
		}
		c.ResetNulls(100)
		check("first fill", 100)
		c.Reset()
		c.ResetNulls(60) // within what the arrays hold
		check("refill", 60)
		c.Reset()
		c.Append(Value{Type: typ, I: 1, F: 1, S: "x"}) // a value in the backing arrays
		c.Reset()
		c.ResetNulls(80)
		check("after a value", 80)
		c.Reset()
		c.ResetNulls(500) // more than they hold
		check("grown", 500)
		c.Reset()
		c.ExtendNulls(30)
		c.ExtendNulls(40) // appended to, within what the arrays hold
		check("extended", 70)
		c.Append(Value{Type: typ, I: 1, F: 1, S: "x"})
		c.Reset()
		c.ExtendNulls(20)
		check("extended after a value", 20)
	}
}
