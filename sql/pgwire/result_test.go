package pgwire

import (
	"testing"

	"github.com/streamsql/streamsql/sql/types"
)

var benchCols = []Column{{"id", types.Bigint}, {"name", types.Varchar}, {"price", types.Double}, {"ok", types.Boolean}}

var benchRow = []types.Value{types.IntValue(123456789), types.StringValue("widget"), types.FloatValue(19.99), types.BoolValue(true)}

// TestDataRowAllocs guards the hot path: encoding a row of the common types
// into a buffer with room allocates nothing, in text or binary.
func TestDataRowAllocs(t *testing.T) {
	buf := make([]byte, 0, 1024)
	for _, formats := range [][]int16{nil, {1, 1, 1, 1}} {
		if n := testing.AllocsPerRun(100, func() { buf = appendDataRow(buf[:0], benchCols, formats, benchRow) }); n != 0 {
			t.Errorf("formats %v: %v allocations per row", formats, n)
		}
	}
}

func BenchmarkDataRowText(b *testing.B) {
	buf := make([]byte, 0, 1024)
	for b.Loop() {
		buf = appendDataRow(buf[:0], benchCols, nil, benchRow)
	}
}

// TestColDataRowMatchesDataRow: a DataRow encoded from a batch's columns is
// byte for byte the one encoded from the row's values, for every type,
// NULLs, text and binary.
func TestColDataRowMatchesDataRow(t *testing.T) {
	cols := []Column{{"i", types.Bigint}, {"s", types.Varchar}, {"f", types.Double}, {"b", types.Boolean},
		{"ts", types.Timestamp}, {"iv", types.Interval}}
	b := types.NewBatch([]types.Type{types.Bigint, types.Varchar, types.Double, types.Boolean, types.Timestamp, types.Interval}, 4)
	b.AppendRow([]types.Value{types.IntValue(-42), types.StringValue("héllo"), types.FloatValue(0.908 * 17), types.BoolValue(true),
		types.TimestampValue(1795428060123), types.IntervalValue(90_061_001)})
	b.AppendRow([]types.Value{types.NullOf(types.Bigint), types.StringValue(""), types.FloatValue(-0.0), types.BoolValue(false),
		types.TimestampValue(-1), types.NullOf(types.Interval)})
	b.AppendRow([]types.Value{types.IntValue(1 << 62), types.NullOf(types.Varchar), types.NullOf(types.Double), types.NullOf(types.Boolean),
		types.NullOf(types.Timestamp), types.IntervalValue(-1)})
	b.AppendRow([]types.Value{types.IntValue(0), types.StringValue("x"), types.FloatValue(0.908 * 17204093), types.BoolValue(true),
		types.TimestampValue(1795428060000), types.IntervalValue(0)})
	for _, formats := range [][]int16{nil, {0, 0, 0, 0, 0, 0}, {1, 1, 1, 1, 1, 1}, {1, 0, 1, 0, 1, 0}} {
		for r := range b.Len() {
			want := appendDataRow(nil, cols, formats, b.Row(r))
			got := appendColDataRow(nil, cols, formats, b, r, &types.TimestampFormatter{})
			if string(got) != string(want) {
				t.Errorf("formats %v row %d: %q; want %q", formats, r, got, want)
			}
		}
	}
	// Text values are what types.Value.String says (a DOUBLE of eight
	// digits before the point is not in exponent form, as in PostgreSQL).
	for r := range b.Len() {
		for j, v := range b.Row(r) {
			if v.Null {
				continue
			}
			if got := string(appendText(nil, v)); got != v.String() {
				t.Errorf("row %d column %d: text %q; want %q", r, j, got, v.String())
			}
		}
	}
	if got := string(appendText(nil, types.FloatValue(0.908*17204093))); got != "15621316.444" {
		t.Errorf("DOUBLE text %q; want 15621316.444", got)
	}
}
