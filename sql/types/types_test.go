package types

import (
	"math"
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
