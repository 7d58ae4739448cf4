package types

import (
	"strconv"
	"time"
)

var timestampLayouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// ParseTimestamp parses the TIMESTAMP text forms of SEMANTICS.md (ISO-8601
// with or without a zone, SQL-style, or epoch milliseconds as digits) into
// epoch milliseconds UTC.
func ParseTimestamp(s string) (int64, bool) {
	for _, l := range timestampLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UnixMilli(), true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	return 0, false
}
