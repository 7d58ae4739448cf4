package codec

// The TIMESTAMP text forms JSON input accepts (SEMANTICS.md, "Time"), as one
// fixed layout with optional parts:
//
//	YYYY-MM-DD
//	YYYY-MM-DD{T|t| }HH:MM:SS[.f{1,9}][Z|z|±HH:MM|±HHMM|±HH]
//
// No zone means UTC. Fractional seconds beyond milliseconds are truncated
// (towards the earlier instant, also before 1970). ±HH alone is accepted
// because it is how PostgreSQL prints a timestamptz ("2026-11-23 10:01:00+08").
//
// The parser is hand-rolled rather than built on time.Parse because every
// event goes through it: it reads fixed positions, computes the day number
// arithmetically and never allocates. It accepts nothing outside this layout:
// no leap second (SS=60), no 24:00, no named zones, no surrounding spaces.

const (
	msPerSecond = 1000
	msPerMinute = 60 * msPerSecond
	msPerHour   = 60 * msPerMinute
	msPerDay    = 24 * msPerHour

	// minTimestampMs and maxTimestampMs bound the TIMESTAMPs the codec
	// produces: 0000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z, the
	// instants the encoder can write with a four-digit year. Keeping far-off
	// epoch values out also keeps window arithmetic downstream clear of
	// int64 overflow.
	minTimestampMs = -62167219200000
	maxTimestampMs = 253402300800000 - 1
)

// ParseTimestamp parses the accepted TIMESTAMP text forms to epoch
// milliseconds UTC. The second result is false if s is not exactly one of the
// forms above, names an impossible date or time (2026-02-29, 24:00:00), or
// falls outside years 0000-9999 once its offset is applied.
func ParseTimestamp(s []byte) (int64, bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	year, ok1 := digits4(s[0:4])
	month, ok2 := digits2(s[5:7])
	day, ok3 := digits2(s[8:10])
	if !ok1 || !ok2 || !ok3 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) {
		return 0, false
	}
	ms := daysFromCivil(year, month, day) * msPerDay
	if len(s) == 10 {
		return ms, true // date only: midnight UTC
	}

	if len(s) < 19 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':' {
		return 0, false
	}
	hour, ok1 := digits2(s[11:13])
	minute, ok2 := digits2(s[14:16])
	sec, ok3 := digits2(s[17:19])
	if !ok1 || !ok2 || !ok3 || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	ms += hour*msPerHour + minute*msPerMinute + sec*msPerSecond

	i := 19
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		var frac int64 // the first three digits, as milliseconds
		for i < len(s) && isDigit(s[i]) {
			if i-start < 3 {
				frac = frac*10 + int64(s[i]-'0')
			}
			i++
		}
		n := i - start
		if n < 1 || n > 9 {
			return 0, false
		}
		for ; n < 3; n++ {
			frac *= 10 // ".5" is 500 ms
		}
		ms += frac
	}

	if i < len(s) {
		switch s[i] {
		case 'Z', 'z':
			i++
		case '+', '-':
			off, n, ok := parseOffset(s[i+1:])
			if !ok {
				return 0, false
			}
			// Local time = UTC + offset, so UTC = local - offset.
			if s[i] == '+' {
				ms -= off
			} else {
				ms += off
			}
			i += 1 + n
		default:
			return 0, false
		}
		if i != len(s) {
			return 0, false
		}
	}
	if ms < minTimestampMs || ms > maxTimestampMs {
		return 0, false
	}
	return ms, true
}

// parseOffset parses the part of a zone offset after its sign, which must be
// all of s: HH:MM, HHMM or HH. It returns the offset in milliseconds and how
// many bytes it read.
func parseOffset(s []byte) (off int64, n int, ok bool) {
	var h, m int64
	switch len(s) {
	case 2:
		h, ok = digits2(s)
	case 4:
		var okH, okM bool
		h, okH = digits2(s[0:2])
		m, okM = digits2(s[2:4])
		ok = okH && okM
	case 5:
		var okH, okM bool
		h, okH = digits2(s[0:2])
		m, okM = digits2(s[3:5])
		ok = okH && okM && s[2] == ':'
	}
	if !ok || h > 23 || m > 59 {
		return 0, 0, false
	}
	return h*msPerHour + m*msPerMinute, len(s), true
}

func isDigit(c byte) bool { return c-'0' < 10 }

// digits2 and digits4 read fixed-width decimal fields; the caller guarantees
// the slice length.
func digits2(b []byte) (int64, bool) {
	d0, d1 := b[0]-'0', b[1]-'0'
	if d0 > 9 || d1 > 9 {
		return 0, false
	}
	return int64(d0)*10 + int64(d1), true
}

func digits4(b []byte) (int64, bool) {
	hi, ok1 := digits2(b[0:2])
	lo, ok2 := digits2(b[2:4])
	return hi*100 + lo, ok1 && ok2
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysInMonth(y, m int64) int64 {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the number of days from 1970-01-01 to the proleptic
// Gregorian date y-m-d (negative before 1970). It is Howard Hinnant's
// days_from_civil: shifting the year to start in March puts the leap day last,
// so a day of the year follows from the month by one linear formula, and
// 400-year eras of 146097 days handle the century rules.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400 // [0, 399]
	mp := (m + 9) % 12 // March = 0 ... February = 11
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return era*146097 + doe - 719468
}
