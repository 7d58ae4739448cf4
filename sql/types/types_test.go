package types

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestFormatFloatLikePostgres(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{
		{0, "0"}, {1, "1"}, {-2.5, "-2.5"}, {1000025, "1000025"}, {1e6, "1000000"}, {0.1, "0.1"},
		{0.0001, "0.0001"}, {0.00001, "1e-05"}, {123456789012345, "123456789012345"},
		{1e15, "1e+15"}, {1.2345678901234568e17, "1.2345678901234568e+17"}, {666899.6666666666, "666899.6666666666"},
		{math.Inf(1), "Infinity"}, {math.Inf(-1), "-Infinity"}, {math.NaN(), "NaN"},
	} {
		if got := FormatFloat(c.f); got != c.want {
			t.Errorf("FormatFloat(%v) = %q, want %q", c.f, got, c.want)
		}
	}
}

// formatFloatRef is FormatFloat as it was first written: two conversions,
// the exponent form and, inside PostgreSQL's range for it, the plain one.
func formatFloatRef(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.LastIndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 15 {
		return e
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// TestAppendFloatMatchesReference: PostgreSQL's DOUBLE text, built from one
// conversion, equals the two-conversion reference for the edges of the
// plain range, signed zeros, specials and a million random values.
func TestAppendFloatMatchesReference(t *testing.T) {
	vals := []float64{0, math.Copysign(0, -1), 1, -1, 0.908 * 17204093, 1e6, 1e14, 1e15, 999999999999999.9, 1e-4, 1e-5,
		0.00012345, -0.0001, 123456789012345.6, 5e-324, math.MaxFloat64, math.Inf(1), math.Inf(-1), math.NaN(), 100, 1.5e300}
	rng := rand.New(rand.NewPCG(11, 12))
	for range 1_000_000 {
		vals = append(vals, math.Float64frombits(rng.Uint64()), (rng.Float64()-0.5)*math.Pow(10, float64(rng.IntN(24)-6)),
			float64(rng.Int64N(1e9))/1000)
	}
	// Decimals of every size up to where the fast path stops (r < 2^50,
	// |f| < 1e14): short ones it takes, and near-misses it must hand on.
	pow10 := []float64{1, 10, 100, 1e3, 1e4, 1e5, 1e6}
	for range 1_000_000 {
		k := rng.IntN(len(pow10))
		n := rng.Int64N(1 << uint(1+rng.IntN(53)))
		d := float64(n) / pow10[k]
		vals = append(vals, d, -d, 0.908*float64(rng.Int64N(1e9)), math.Nextafter(d, math.Inf(1)), d*1.0000000000000002)
	}
	for _, edge := range []float64{1e-3, 1e14, float64(1<<50) / 1e4, float64(1<<50) / 1e3, float64(1<<50) / 10} {
		for _, f := range []float64{edge, math.Nextafter(edge, 0), math.Nextafter(edge, math.Inf(1))} {
			vals = append(vals, f, -f)
		}
	}
	for _, f := range vals {
		want := formatFloatRef(f)
		if got := AppendFloat([]byte("x"), f); string(got) != "x"+want {
			t.Fatalf("AppendFloat(%v) = %q; want x%s", f, got, want)
		}
	}
	dst := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { dst = AppendFloat(dst[:0], 15621316.444) }); n != 0 {
		t.Errorf("AppendFloat allocates %v times", n)
	}
}

func BenchmarkAppendFloat(b *testing.B) {
	for _, c := range []struct {
		name string
		f    float64
	}{{"decimal", 0.908 * 17204093}, {"integer", 17204093}, {"third", 1.0 / 3}, {"large", 1.5e300}} {
		b.Run(c.name, func(b *testing.B) {
			dst := make([]byte, 0, 64)
			for range b.N {
				dst = AppendFloat(dst[:0], c.f)
			}
		})
	}
}
