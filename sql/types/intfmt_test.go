package types

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestAppendIntMatchesStrconv: every power of ten and its neighbours, the
// extremes and random values format as strconv formats them.
func TestAppendIntMatchesStrconv(t *testing.T) {
	vals := []int64{0, 1, -1, 9, 10, 11, 99, 100, 101, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	for p := int64(1); p <= math.MaxInt64/10; p *= 10 {
		vals = append(vals, p-1, p, p+1, -p+1, -p, -p-1, p*9, p*10-1)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 100000 {
		vals = append(vals, int64(rng.Uint64()), int64(rng.Uint64()>>rng.IntN(64)))
	}
	for _, v := range vals {
		want := strconv.AppendInt([]byte("x"), v, 10)
		if got := AppendInt([]byte("x"), v); string(got) != string(want) {
			t.Fatalf("AppendInt(%d) = %q; want %q", v, got, want)
		}
	}
}

func BenchmarkAppendInt(b *testing.B) {
	vals := []int64{7, 1000, 1001, 17204093, 1795428060123, -42}
	buf := make([]byte, 0, 64)
	b.Run("types", func(b *testing.B) {
		for b.Loop() {
			for _, v := range vals {
				buf = AppendInt(buf[:0], v)
			}
		}
	})
	b.Run("strconv", func(b *testing.B) {
		for b.Loop() {
			for _, v := range vals {
				buf = strconv.AppendInt(buf[:0], v, 10)
			}
		}
	})
}
