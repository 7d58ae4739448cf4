package codec

import (
	"testing"
	"time"
)

// utcMs is the expected value of a test case, computed with package time.
func utcMs(y int, mo time.Month, d, h, mi, s, ms int) int64 {
	return time.Date(y, mo, d, h, mi, s, ms*int(time.Millisecond), time.UTC).UnixMilli()
}

func TestParseTimestamp(t *testing.T) {
	base := utcMs(2026, 11, 23, 10, 1, 0, 0)
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		// ISO-8601 with and without zone, either case of T and Z.
		{"2026-11-23T10:01:00Z", base, true},
		{"2026-11-23t10:01:00z", base, true},
		{"2026-11-23T10:01:00", base, true},
		{"2026-11-23T10:01:00+00:00", base, true},
		{"2026-11-23T10:01:00-00:00", base, true},
		// SQL style.
		{"2026-11-23 10:01:00", base, true},
		{"2026-11-23 10:01:00.123", base + 123, true},
		{"2026-11-23 10:01:00Z", base, true},
		{"2026-11-23 10:01:00+08", base - 8*3600_000, true},
		// Date only is midnight UTC.
		{"2026-11-23", utcMs(2026, 11, 23, 0, 0, 0, 0), true},
		{"1970-01-01", 0, true},
		{"1970-01-01T00:00:00Z", 0, true},

		// Offsets, including ones that cross midnight, a month and a year.
		{"2026-11-23T10:01:00.123+08:00", utcMs(2026, 11, 23, 2, 1, 0, 123), true},
		{"2026-11-23T10:01:00+0530", utcMs(2026, 11, 23, 4, 31, 0, 0), true},
		{"2026-11-23T01:00:00+08:00", utcMs(2026, 11, 22, 17, 0, 0, 0), true},
		{"2026-11-23T23:30:00-05:00", utcMs(2026, 11, 24, 4, 30, 0, 0), true},
		{"2026-12-31T23:30:00-01:00", utcMs(2027, 1, 1, 0, 30, 0, 0), true},
		{"2026-03-01T00:00:00+00:01", utcMs(2026, 2, 28, 23, 59, 0, 0), true},
		{"2024-03-01T00:00:00+23:59", utcMs(2024, 2, 29, 0, 1, 0, 0), true},

		// Fractional seconds: 1-9 digits, truncated to milliseconds.
		{"2026-11-23T10:01:00.1Z", base + 100, true},
		{"2026-11-23T10:01:00.12Z", base + 120, true},
		{"2026-11-23T10:01:00.123Z", base + 123, true},
		{"2026-11-23T10:01:00.1239Z", base + 123, true},
		{"2026-11-23T10:01:00.12345Z", base + 123, true},
		{"2026-11-23T10:01:00.123456Z", base + 123, true},
		{"2026-11-23T10:01:00.1234567Z", base + 123, true},
		{"2026-11-23T10:01:00.12345678Z", base + 123, true},
		{"2026-11-23T10:01:00.999999999Z", base + 999, true},
		{"2026-11-23T10:01:00.000000001", base, true},
		{"2026-11-23T10:01:00.1234567891Z", 0, false},
		{"2026-11-23T10:01:00.Z", 0, false},
		{"2026-11-23T10:01:00.", 0, false},

		// Leap years.
		{"2024-02-29T12:00:00Z", utcMs(2024, 2, 29, 12, 0, 0, 0), true},
		{"2000-02-29", utcMs(2000, 2, 29, 0, 0, 0, 0), true},
		{"2026-02-28", utcMs(2026, 2, 28, 0, 0, 0, 0), true},
		{"2026-02-29", 0, false},
		{"1900-02-29", 0, false},
		{"2100-02-29", 0, false},
		{"2024-02-30", 0, false},

		// Before 1970 and the ends of the range.
		{"1969-12-31T23:59:59.999Z", -1, true},
		{"1969-12-31T23:59:59.9999Z", -1, true},
		{"1969-12-31T23:59:59Z", -1000, true},
		{"1900-01-01T00:00:00Z", utcMs(1900, 1, 1, 0, 0, 0, 0), true},
		{"0000-01-01T00:00:00Z", minTimestampMs, true},
		{"0000-03-01", utcMs(0, 3, 1, 0, 0, 0, 0), true},
		{"9999-12-31T23:59:59.999Z", maxTimestampMs, true},
		{"0000-01-01T00:30:00+01:00", 0, false},
		{"9999-12-31T23:30:00-01:00", 0, false},

		// Impossible dates and times.
		{"2026-13-01", 0, false},
		{"2026-00-10", 0, false},
		{"2026-04-31", 0, false},
		{"2026-11-00", 0, false},
		{"2026-11-32", 0, false},
		{"2026-11-23T24:00:00Z", 0, false},
		{"2026-11-23T10:60:00Z", 0, false},
		{"2026-11-23T10:01:60Z", 0, false},
		{"2026-11-23T10:01:00+24:00", 0, false},
		{"2026-11-23T10:01:00+08:60", 0, false},

		// Anything off the layout.
		{"", 0, false},
		{"abc", 0, false},
		{"2026-11-2", 0, false},
		{"2026/11/23", 0, false},
		{"26-11-23", 0, false},
		{"+2026-11-23", 0, false},
		{" 2026-11-23", 0, false},
		{"2026-11-23 ", 0, false},
		{"2026-11-23T", 0, false},
		{"2026-11-23X10:01:00", 0, false},
		{"2026-11-23T10:01Z", 0, false},
		{"2026-11-23T10:01", 0, false},
		{"2026-11-23T1a:01:00Z", 0, false},
		{"2026-11-23T10-01-00Z", 0, false},
		{"2026-11-23T10:01:00ZZ", 0, false},
		{"2026-11-23T10:01:00 Z", 0, false},
		{"2026-11-23T10:01:00 +08:00", 0, false},
		{"2026-11-23T10:01:00+8:00", 0, false},
		{"2026-11-23T10:01:00+08:0", 0, false},
		{"2026-11-23T10:01:00+08:00:00", 0, false},
		{"2026-11-23T10:01:00+08:00Z", 0, false},
		{"2026-11-23T10:01:00+", 0, false},
		{"2026-11-23T10:01:00+0800 ", 0, false},
		{"2026-11-23T10:01:00+08.00", 0, false},
		{"2026-11-23T10:01:00UTC", 0, false},
		{"2026-11-23T10:01:00.123.456Z", 0, false},
		{"2026-1a-23", 0, false},
		{"1732356060000", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseTimestamp([]byte(tt.in))
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseTimestamp(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestParseTimestampEveryDay checks the calendar arithmetic of both
// directions against package time for every day of years 0000-9999, each at a
// different time of day.
func TestParseTimestampEveryDay(t *testing.T) {
	step := int64(msPerDay)
	if testing.Short() {
		step = 97 * msPerDay
	}
	var buf []byte
	for day := int64(0); ; day++ {
		ms := minTimestampMs + day*step + (day*7919_123)%msPerDay
		if ms > maxTimestampMs {
			break
		}
		tm := time.UnixMilli(ms).UTC()
		buf = tm.AppendFormat(buf[:0], "2006-01-02T15:04:05.000Z")
		if got, ok := ParseTimestamp(buf); !ok || got != ms {
			t.Fatalf("ParseTimestamp(%q) = %d, %v; want %d", buf, got, ok, ms)
		}
		buf = tm.AppendFormat(buf[:0], "2006-01-02")
		if got, ok := ParseTimestamp(buf); !ok || got != ms-ms%msPerDay-boolInt(ms%msPerDay < 0)*msPerDay {
			t.Fatalf("ParseTimestamp(%q) = %d, %v", buf, got, ok)
		}
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func TestParseTimestampNoAlloc(t *testing.T) {
	in := []byte("2026-11-23T10:01:00.123+08:00")
	if n := testing.AllocsPerRun(100, func() { ParseTimestamp(in) }); n != 0 {
		t.Errorf("ParseTimestamp allocates %v times per call", n)
	}
}

// FuzzParseTimestamp checks ParseTimestamp against time.Parse: whenever both
// accept an input they must agree, and ParseTimestamp must never panic.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{
		"2026-11-23T10:01:00Z", "2026-11-23T10:01:00.123+08:00", "2026-11-23 10:01:00.5",
		"2024-02-29", "1969-12-31T23:59:59.999999999-23:59", "0000-01-01T00:00:00Z",
		"9999-12-31T23:59:59.999Z", "2026-11-23T10:01:00+0530",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseTimestamp([]byte(s))
		if !ok {
			return
		}
		if got < minTimestampMs || got > maxTimestampMs {
			t.Fatalf("ParseTimestamp(%q) = %d, out of range", s, got)
		}
		if tm, err := time.Parse(time.RFC3339Nano, s); err == nil {
			want := tm.Unix()*1000 + int64(tm.Nanosecond()/1e6) // truncated to ms
			if got != want {
				t.Fatalf("ParseTimestamp(%q) = %d, time.Parse gives %d", s, got, want)
			}
		}
	})
}
