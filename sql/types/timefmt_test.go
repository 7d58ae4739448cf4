package types

import (
	"math"
	"testing"
	"time"
)

// TestTimestampFormatsMatchTime checks both text forms against package time
// for every day of years 0000-9999 (each at a different time of day), the
// edges of that range and instants beyond it.
func TestTimestampFormatsMatchTime(t *testing.T) {
	var f TimestampFormatter // carries its day from one check to the next
	check := func(ms int64) {
		t.Helper()
		tm := time.UnixMilli(ms).UTC()
		sql := tm.Format("2006-01-02 15:04:05.000")
		if ms%1000 == 0 {
			sql = tm.Format("2006-01-02 15:04:05")
		}
		if got := string(AppendTimestampSQL([]byte("x"), ms)); got != "x"+sql {
			t.Fatalf("AppendTimestampSQL(%d) = %s; want x%s", ms, got, sql)
		}
		if got := string(f.AppendSQL([]byte("x"), ms)); got != "x"+sql {
			t.Fatalf("TimestampFormatter.AppendSQL(%d) = %s; want x%s", ms, got, sql)
		}
		json := tm.Format("2006-01-02T15:04:05.000Z")
		if got := string(AppendTimestampJSON([]byte("x"), ms)); got != "x"+json {
			t.Fatalf("AppendTimestampJSON(%d) = %s; want x%s", ms, got, json)
		}
	}
	for _, ms := range []int64{
		0, -1, 1, 999, -999, -1000, -1001, msPerDay - 1, -msPerDay, -msPerDay - 1,
		minFastMs, minFastMs - 1, maxFastMs, maxFastMs + 1, 1795428060000, 1795428060123,
		math.MinInt64 / 2, math.MaxInt64 / 2,
	} {
		check(ms)
	}
	step := int64(msPerDay)
	if testing.Short() {
		step = 97 * msPerDay
	}
	for day := int64(0); ; day++ {
		ms := minFastMs + day*step + (day*7919_123)%msPerDay
		if ms > maxFastMs {
			break
		}
		check(ms)
		check(ms - ms%1000) // whole seconds: no fraction in the SQL form
		check(ms + 1)       // the same day again, or the next one
	}
}

func BenchmarkAppendTimestampSQL(b *testing.B) {
	dst := make([]byte, 0, 32)
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			dst = AppendTimestampSQL(dst[:0], 1795428060123)
		}
	})
	b.Run("time.Format", func(b *testing.B) {
		for b.Loop() {
			dst = time.UnixMilli(1795428060123).UTC().AppendFormat(dst[:0], "2006-01-02 15:04:05.000")
		}
	})
}
