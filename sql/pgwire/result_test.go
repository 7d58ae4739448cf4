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
