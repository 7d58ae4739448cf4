package scalar

import (
	"math"
	"strconv"
	"strings"

	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// ParseTimestamp parses timestamp text (see types.ParseTimestamp).
func ParseTimestamp(s string) (int64, bool) { return types.ParseTimestamp(strings.TrimSpace(s)) }

var unitMillis = map[string]int64{
	"MILLISECOND": 1, "MS": 1,
	"SECOND": 1000, "S": 1000, "SEC": 1000,
	"MINUTE": 60_000, "MIN": 60_000, "M": 60_000,
	"HOUR": 3_600_000, "H": 3_600_000,
	"DAY": 86_400_000, "D": 86_400_000,
	"WEEK": 7 * 86_400_000,
}

func unitOf(u string) (int64, bool) {
	u = strings.ToUpper(strings.TrimSpace(u))
	if ms, ok := unitMillis[u]; ok {
		return ms, true
	}
	if strings.HasSuffix(u, "S") {
		ms, ok := unitMillis[strings.TrimSuffix(u, "S")]
		return ms, ok
	}
	return 0, false
}

// ParseInterval turns an interval literal into milliseconds. With a unit
// (INTERVAL '1' MINUTE) the quantity is a number; without one it is
// PostgreSQL's form: one or more "<number> <unit>" pairs ('5 seconds',
// '1 hour 30 minutes'), a clock value ('00:01:30', '-01:30:00'), both
// ('1 day 02:00:00', as FormatInterval writes), or compact pairs ('1h30m',
// as EXPLAIN writes). Fractions are rounded to the nearest millisecond.
func ParseInterval(quantity, unit string) (int64, error) {
	bad := func() error {
		return sqlerr.New(sqlerr.InvalidTextRep, "invalid input syntax for type interval: %q", strings.TrimSpace(quantity+" "+unit))
	}
	q := strings.TrimSpace(quantity)
	if unit != "" {
		mul, ok := unitOf(unit)
		if !ok {
			return 0, bad()
		}
		f, err := strconv.ParseFloat(q, 64)
		if err != nil {
			return 0, bad()
		}
		ms, ok := millis(f, mul)
		if !ok {
			return 0, bad()
		}
		return ms, nil
	}
	fields := strings.Fields(q)
	if len(fields) == 0 {
		return 0, bad()
	}
	isNum := func(r rune) bool { return (r >= '0' && r <= '9') || r == '.' }
	// numEnd is the length of the unsigned number at the start of s.
	numEnd := func(s string) int {
		j := strings.IndexFunc(s, func(r rune) bool { return !isNum(r) })
		if j < 0 {
			return len(s)
		}
		return j
	}
	var total int64
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if strings.Contains(f, ":") {
			ms, ok := parseClock(f)
			if !ok {
				return 0, bad()
			}
			total += ms
			continue
		}
		// One or more <number><unit> pairs; the unit of a lone number is
		// the next field ("5 seconds"), otherwise it follows without a
		// space ("5s", "1h30m"). A sign applies to the whole field, so
		// "-1h30m" is minus an hour and a half, as FormatDuration and Go's
		// time.ParseDuration mean it.
		neg := false
		switch {
		case strings.HasPrefix(f, "-"):
			neg, f = true, f[1:]
		case strings.HasPrefix(f, "+"):
			f = f[1:]
		}
		if f == "" {
			return 0, bad()
		}
		var field int64
		for f != "" {
			j := numEnd(f)
			if j == 0 {
				return 0, bad()
			}
			num, u := f[:j], ""
			f = f[j:]
			if f == "" {
				if i+1 >= len(fields) {
					return 0, bad()
				}
				i++
				u = fields[i]
			} else {
				k := strings.IndexFunc(f, isNum)
				if k < 0 {
					k = len(f)
				}
				u, f = f[:k], f[k:]
			}
			n, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, bad()
			}
			mul, ok := unitOf(u)
			if !ok {
				return 0, bad()
			}
			ms, ok := millis(n, mul)
			if !ok {
				return 0, bad()
			}
			field += ms
		}
		if neg {
			field = -field
		}
		total += field
	}
	return total, nil
}

// parseClock reads [-]hh:mm[:ss[.fff]]; a leading sign applies to the whole
// value, as in PostgreSQL ('-01:30:00' is minus an hour and a half).
func parseClock(s string) (int64, bool) {
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	var secs float64
	for _, p := range parts {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || f < 0 || strings.ContainsAny(p, "+-") {
			return 0, false
		}
		secs = secs*60 + f
	}
	if len(parts) == 2 { // hh:mm
		secs *= 60
	}
	ms, ok := millis(secs, 1000)
	if !ok {
		return 0, false
	}
	if neg {
		ms = -ms
	}
	return ms, true
}

// millis converts a quantity of a unit of mul milliseconds, rounding to the
// nearest millisecond so that '1.005' SECOND is 1005 ms, not 1004. ok is
// false for NaN, infinities and amounts beyond about ±292 million years.
func millis(f float64, mul int64) (int64, bool) {
	ms := math.Round(f * float64(mul))
	if math.IsNaN(ms) || ms >= 9.2e18 || ms <= -9.2e18 {
		return 0, false
	}
	return int64(ms), true
}
