package scalar

import (
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
// '1 hour 30 minutes') or a clock value ('00:01:30').
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
		return int64(f * float64(mul)), nil
	}
	if strings.Contains(q, ":") {
		parts := strings.Split(q, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return 0, bad()
		}
		var ms float64
		for i, p := range parts {
			f, err := strconv.ParseFloat(p, 64)
			if err != nil {
				return 0, bad()
			}
			ms = ms*60 + f
			_ = i
		}
		if len(parts) == 2 {
			ms *= 60
		}
		return int64(ms * 1000), nil
	}
	fields := strings.Fields(q)
	if len(fields) == 0 {
		return 0, bad()
	}
	var total int64
	for i := 0; i < len(fields); i++ {
		num := fields[i]
		u := ""
		// Allow "5s" / "10min" written without a space.
		j := strings.IndexFunc(num, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != '-' && r != '+' })
		if j > 0 {
			num, u = fields[i][:j], fields[i][j:]
		} else if i+1 < len(fields) {
			i++
			u = fields[i]
		} else {
			return 0, bad()
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, bad()
		}
		mul, ok := unitOf(u)
		if !ok {
			return 0, bad()
		}
		total += int64(f * float64(mul))
	}
	return total, nil
}
