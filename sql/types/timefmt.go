package types

import "time"

// The TIMESTAMP text forms, written without time.Format: every TIMESTAMP a
// query returns over the wire or a sink writes as JSON goes through here,
// and the layout interpreter measured about 10 times slower. Instants
// outside years 0000-9999 (which no decoder produces) take time.Format.

const (
	msPerDay = 24 * 60 * 60 * 1000
	// minFastMs and maxFastMs are 0000-01-01T00:00:00.000Z and
	// 9999-12-31T23:59:59.999Z.
	minFastMs = -62167219200000
	maxFastMs = 253402300800000 - 1
)

// FormatTimestampSQL renders epoch milliseconds as PostgreSQL's text form of
// TIMESTAMP: "2026-11-23 10:01:00" or "2026-11-23 10:01:00.123".
func FormatTimestampSQL(ms int64) string { return string(AppendTimestampSQL(nil, ms)) }

// AppendTimestampSQL appends the FormatTimestampSQL form to dst.
func AppendTimestampSQL(dst []byte, ms int64) []byte {
	var f TimestampFormatter
	return f.AppendSQL(dst, ms)
}

// FormatTimestampJSON renders epoch milliseconds as the ISO-8601 UTC string
// with milliseconds that JSON output uses: "2026-11-23T10:01:00.000Z".
func FormatTimestampJSON(ms int64) string { return string(AppendTimestampJSON(nil, ms)) }

// AppendTimestampJSON appends the FormatTimestampJSON form to dst.
func AppendTimestampJSON(dst []byte, ms int64) []byte {
	if ms < minFastMs || ms > maxFastMs {
		return time.UnixMilli(ms).UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z")
	}
	days, rem := splitDay(ms)
	dst = appendDate(dst, days)
	dst = appendClock(dst, 'T', rem)
	return append(appendMillis(dst, rem), 'Z')
}

// TimestampFormatter appends TIMESTAMPs in the FormatTimestampSQL form,
// remembering the date text of the last day it formatted: the timestamps
// of a result mostly share their day, and the calendar arithmetic was most
// of the cost. The zero value is ready; it is not safe for concurrent use.
type TimestampFormatter struct {
	day  int64
	date [10]byte // "YYYY-MM-DD" of day, when ok
	ok   bool
}

// AppendSQL appends ms as AppendTimestampSQL does.
func (f *TimestampFormatter) AppendSQL(dst []byte, ms int64) []byte {
	if ms < minFastMs || ms > maxFastMs {
		t := time.UnixMilli(ms).UTC()
		if ms%1000 == 0 {
			return t.AppendFormat(dst, "2006-01-02 15:04:05")
		}
		return t.AppendFormat(dst, "2006-01-02 15:04:05.000")
	}
	days, rem := splitDay(ms)
	if !f.ok || days != f.day {
		appendDate(f.date[:0], days)
		f.day, f.ok = days, true
	}
	dst = appendClock(append(dst, f.date[:]...), ' ', rem)
	if rem%1000 != 0 {
		dst = appendMillis(dst, rem)
	}
	return dst
}

// splitDay splits epoch milliseconds into days since 1970-01-01 and the
// milliseconds into that day.
func splitDay(ms int64) (days, rem int64) {
	days, rem = ms/msPerDay, ms%msPerDay
	if rem < 0 {
		days, rem = days-1, rem+msPerDay
	}
	return days, rem
}

// appendDate appends "YYYY-MM-DD" for a day within years 0000-9999.
func appendDate(dst []byte, days int64) []byte {
	y, mo, d := civilFromDays(days)
	return append(dst,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+mo/10), byte('0'+mo%10), '-',
		byte('0'+d/10), byte('0'+d%10))
}

// appendClock appends sep and "hh:mm:ss" for rem milliseconds into a day.
func appendClock(dst []byte, sep byte, rem int64) []byte {
	secs := rem / 1000
	h, mi, s := secs/3600, secs/60%60, secs%60
	return append(dst, sep,
		byte('0'+h/10), byte('0'+h%10), ':',
		byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+s/10), byte('0'+s%10))
}

// appendMillis appends ".mmm", the milliseconds of rem.
func appendMillis(dst []byte, rem int64) []byte {
	frac := rem % 1000
	return append(dst, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

// civilFromDays turns days since 1970-01-01 into a proleptic Gregorian date
// (Howard Hinnant's civil_from_days).
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365]
	mp := (5*doy + 2) / 153                                // March = 0
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}
