package scalar

import (
	"strconv"
	"strings"

	"github.com/streamsql/streamsql/sql/sqlerr"
)

// A date format (DATE_FORMAT's Java pattern or TO_CHAR's PostgreSQL
// template) is compiled once into fmtParts, and rendering walks them.

type fmtField int

const (
	fmtLiteral     fmtField = iota
	fmtYear                 // the year, zero-padded to width
	fmtYearLast             // the last digits digits of the year
	fmtIsoYear              // the ISO 8601 week-numbering year
	fmtMonth                // 1-12
	fmtMonthName            // January
	fmtMonthAbbr            // Jan
	fmtDay                  // day of the month
	fmtDoy                  // day of the year
	fmtHour24               // 0-23
	fmtHour12               // 1-12
	fmtHour1to24            // 1-24 (Java's k)
	fmtHour0to11            // 0-11 (Java's K)
	fmtMinute               // 0-59
	fmtSecond               // 0-59
	fmtSecondOfDay          // 0-86399
	fmtFraction             // the fraction of the second to width digits
	fmtMillis               // 000-999
	fmtMicros               // 000000-999000
	fmtAmPm                 // AM or PM
	fmtAmPmDots             // A.M. or P.M.
	fmtDayName              // Monday
	fmtDayAbbr              // Mon
	fmtDowSunday1           // day of the week, Sunday = 1
	fmtIsoDow               // day of the week, Monday = 1
	fmtIsoWeek              // ISO 8601 week, 1-53
	fmtQuarter              // 1-4
	fmtZoneOffset           // +0000 (TIMESTAMPs are UTC)
	fmtZoneZ                // Z
)

// Letter case of a name or AM/PM marker.
const (
	caseAsIs = iota // January, Monday
	caseUpper
	caseLower
)

type fmtPart struct {
	field  fmtField
	lit    string // the text of a fmtLiteral
	width  int    // numbers: zero-pad to width (fmtFraction: exactly width digits)
	digits int    // fmtYearLast: how many digits of the year
	cas    int    // names and markers
	pad    int    // names: pad with spaces to pad characters
}

// appendLit adds literal text, merging it into a preceding literal.
func appendLit(parts []fmtPart, s string) []fmtPart {
	if s == "" {
		return parts
	}
	if n := len(parts); n > 0 && parts[n-1].field == fmtLiteral {
		parts[n-1].lit += s
		return parts
	}
	return append(parts, fmtPart{field: fmtLiteral, lit: s})
}

// compileJavaFormat compiles a java.time/SimpleDateFormat pattern, the
// language of Flink's DATE_FORMAT. Supported letters:
//
//	y    year (yy: last two digits; yyyy: four)   M    month (MM 01; MMM Jan; MMMM January)
//	d    day of month    D  day of year           E    day name (EEE Mon; EEEE Monday)
//	H    hour 0-23       h  hour 1-12             k    hour 1-24       K  hour 0-11
//	m    minute          s  second                S    fraction of second (SSS: milliseconds)
//	a    AM/PM           Z  +0000                 X    Z
//
// A repeated letter pads a number with zeros to that width. Text in single
// quotes is literal and ” is a quote; other characters that are not
// letters are literal. Another letter is an error, as in Java.
func compileJavaFormat(p string) ([]fmtPart, error) {
	var parts []fmtPart
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			if i+1 < len(p) && p[i+1] == '\'' {
				parts = appendLit(parts, "'")
				i += 2
				continue
			}
			// Quoted text runs to the next lone quote; '' inside is a quote.
			j := i + 1
			var text strings.Builder
			for {
				k := strings.IndexByte(p[j:], '\'')
				if k < 0 {
					return nil, badFormat("date_format", p, "unterminated quoted text")
				}
				text.WriteString(p[j : j+k])
				j += k + 1
				if j < len(p) && p[j] == '\'' {
					text.WriteByte('\'')
					j++
					continue
				}
				break
			}
			parts = appendLit(parts, text.String())
			i = j
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			n := 1
			for i+n < len(p) && p[i+n] == c {
				n++
			}
			part, ok := javaField(c, n)
			if !ok {
				return nil, badFormat("date_format", p, "pattern letter '"+string(c)+"' is not supported").
					WithHint("Supported letters: y M d D E H h k K m s S a Z X. Quote literal text: 'T'.")
			}
			parts = append(parts, part)
			i += n
		default:
			j := i + 1
			for j < len(p) && p[j] != '\'' && !(p[j] >= 'a' && p[j] <= 'z' || p[j] >= 'A' && p[j] <= 'Z') {
				j++
			}
			parts = appendLit(parts, p[i:j])
			i = j
		}
	}
	return parts, nil
}

func javaField(c byte, n int) (fmtPart, bool) {
	num := func(f fmtField) (fmtPart, bool) { return fmtPart{field: f, width: n}, true }
	switch c {
	case 'y':
		if n == 2 {
			return fmtPart{field: fmtYearLast, digits: 2, width: 2}, true
		}
		return num(fmtYear)
	case 'M':
		switch {
		case n >= 4:
			return fmtPart{field: fmtMonthName}, true
		case n == 3:
			return fmtPart{field: fmtMonthAbbr}, true
		}
		return num(fmtMonth)
	case 'd':
		return num(fmtDay)
	case 'D':
		return num(fmtDoy)
	case 'E':
		if n >= 4 {
			return fmtPart{field: fmtDayName}, true
		}
		return fmtPart{field: fmtDayAbbr}, true
	case 'H':
		return num(fmtHour24)
	case 'h':
		return num(fmtHour12)
	case 'k':
		return num(fmtHour1to24)
	case 'K':
		return num(fmtHour0to11)
	case 'm':
		return num(fmtMinute)
	case 's':
		return num(fmtSecond)
	case 'S':
		return num(fmtFraction)
	case 'a':
		return fmtPart{field: fmtAmPm, cas: caseUpper}, true
	case 'Z':
		return fmtPart{field: fmtZoneOffset}, true
	case 'X':
		return fmtPart{field: fmtZoneZ}, true
	}
	return fmtPart{}, false
}

// pgPattern is one template pattern of PostgreSQL's to_char.
type pgPattern struct {
	text string
	part fmtPart
}

// pgPatterns are the to_char template patterns supported. Most are
// accepted in upper or lower case; for names and AM/PM the case of the
// pattern is the case of the output (Month → November, MONTH → NOVEMBER).
var pgPatterns = func() []pgPattern {
	var ps []pgPattern
	both := func(text string, part fmtPart) {
		ps = append(ps, pgPattern{text, part}, pgPattern{strings.ToLower(text), part})
	}
	cased := func(upper string, part fmtPart) {
		part.cas = caseUpper
		ps = append(ps, pgPattern{upper, part})
		part.cas = caseAsIs
		ps = append(ps, pgPattern{upper[:1] + strings.ToLower(upper[1:]), part})
		part.cas = caseLower
		ps = append(ps, pgPattern{strings.ToLower(upper), part})
	}
	both("HH24", fmtPart{field: fmtHour24, width: 2})
	both("HH12", fmtPart{field: fmtHour12, width: 2})
	both("HH", fmtPart{field: fmtHour12, width: 2})
	both("MI", fmtPart{field: fmtMinute, width: 2})
	both("SSSS", fmtPart{field: fmtSecondOfDay})
	both("SS", fmtPart{field: fmtSecond, width: 2})
	both("MS", fmtPart{field: fmtMillis, width: 3})
	both("US", fmtPart{field: fmtMicros, width: 6})
	for _, m := range []string{"AM", "PM"} {
		ps = append(ps, pgPattern{m, fmtPart{field: fmtAmPm, cas: caseUpper}},
			pgPattern{strings.ToLower(m), fmtPart{field: fmtAmPm, cas: caseLower}})
	}
	for _, m := range []string{"A.M.", "P.M."} {
		ps = append(ps, pgPattern{m, fmtPart{field: fmtAmPmDots, cas: caseUpper}},
			pgPattern{strings.ToLower(m), fmtPart{field: fmtAmPmDots, cas: caseLower}})
	}
	both("IYYY", fmtPart{field: fmtIsoYear, width: 4})
	both("YYYY", fmtPart{field: fmtYear, width: 4})
	both("YYY", fmtPart{field: fmtYearLast, digits: 3, width: 3})
	both("YY", fmtPart{field: fmtYearLast, digits: 2, width: 2})
	both("Y", fmtPart{field: fmtYearLast, digits: 1, width: 1})
	cased("MONTH", fmtPart{field: fmtMonthName, pad: 9})
	cased("MON", fmtPart{field: fmtMonthAbbr})
	both("MM", fmtPart{field: fmtMonth, width: 2})
	cased("DAY", fmtPart{field: fmtDayName, pad: 9})
	cased("DY", fmtPart{field: fmtDayAbbr})
	both("DDD", fmtPart{field: fmtDoy, width: 3})
	both("DD", fmtPart{field: fmtDay, width: 2})
	both("D", fmtPart{field: fmtDowSunday1, width: 1})
	both("ID", fmtPart{field: fmtIsoDow, width: 1})
	both("IW", fmtPart{field: fmtIsoWeek, width: 2})
	both("Q", fmtPart{field: fmtQuarter, width: 1})
	return ps
}()

// compilePGFormat compiles a PostgreSQL to_char template: YYYY YYY YY Y
// IYYY, MM Month MONTH month Mon MON mon, DD DDD D ID IW Q, Day DAY day Dy
// DY dy, HH24 HH12 HH MI SS SSSS MS US, AM PM am pm A.M. P.M. The FM prefix
// drops a pattern's padding (FMMM → 1, FMMonth → May). Text in double
// quotes is literal (backslash escapes a quote), and so is any other text.
func compilePGFormat(p string) ([]fmtPart, error) {
	var parts []fmtPart
	fill := false
	for i := 0; i < len(p); {
		if p[i] == '"' {
			var text strings.Builder
			j := i + 1
			for j < len(p) && p[j] != '"' {
				if p[j] == '\\' && j+1 < len(p) {
					j++
				}
				text.WriteByte(p[j])
				j++
			}
			parts = appendLit(parts, text.String())
			i = j + 1
			continue
		}
		if strings.HasPrefix(p[i:], "FM") || strings.HasPrefix(p[i:], "fm") {
			fill = true
			i += 2
			continue
		}
		best := -1
		for k, pat := range pgPatterns {
			if strings.HasPrefix(p[i:], pat.text) && (best < 0 || len(pat.text) > len(pgPatterns[best].text)) {
				best = k
			}
		}
		if best < 0 {
			if p[i] == '\\' && i+1 < len(p) && p[i+1] == '"' {
				i++
			}
			parts = appendLit(parts, p[i:i+1])
			i++
			fill = false
			continue
		}
		part := pgPatterns[best].part
		if fill {
			part.width, part.pad = 0, 0
		}
		parts = append(parts, part)
		i += len(pgPatterns[best].text)
		fill = false
	}
	return parts, nil
}

func badFormat(fn, p, why string) *sqlerr.Error {
	return sqlerr.New(sqlerr.InvalidParameter, "invalid %s pattern %q: %s", fn, p, why)
}

// appendNum appends v zero-padded to width digits.
func appendNum(buf []byte, v int64, width int) []byte {
	if v < 0 {
		buf = append(buf, '-')
		v = -v
	}
	var tmp [20]byte
	digits := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(digits); i < width; i++ {
		buf = append(buf, '0')
	}
	return append(buf, digits...)
}

func appendName(buf []byte, name string, p fmtPart) []byte {
	switch p.cas {
	case caseUpper:
		name = strings.ToUpper(name)
	case caseLower:
		name = strings.ToLower(name)
	}
	buf = append(buf, name...)
	for i := len(name); i < p.pad; i++ {
		buf = append(buf, ' ')
	}
	return buf
}

// renderTime formats the timestamp ms (UTC) with compiled parts.
func renderTime(parts []fmtPart, ms int64) string {
	t := utc(ms)
	frac := floorMod(ms, 1000)
	buf := make([]byte, 0, 32)
	for _, p := range parts {
		switch p.field {
		case fmtLiteral:
			buf = append(buf, p.lit...)
		case fmtYear:
			buf = appendNum(buf, int64(t.Year()), p.width)
		case fmtYearLast:
			y := int64(t.Year())
			if y < 0 {
				y = -y
			}
			mod := int64(1)
			for range p.digits {
				mod *= 10
			}
			buf = appendNum(buf, y%mod, p.width)
		case fmtIsoYear:
			y, _ := t.ISOWeek()
			buf = appendNum(buf, int64(y), p.width)
		case fmtMonth:
			buf = appendNum(buf, int64(t.Month()), p.width)
		case fmtMonthName:
			buf = appendName(buf, t.Month().String(), p)
		case fmtMonthAbbr:
			buf = appendName(buf, t.Month().String()[:3], p)
		case fmtDay:
			buf = appendNum(buf, int64(t.Day()), p.width)
		case fmtDoy:
			buf = appendNum(buf, int64(t.YearDay()), p.width)
		case fmtHour24:
			buf = appendNum(buf, int64(t.Hour()), p.width)
		case fmtHour12:
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			buf = appendNum(buf, int64(h), p.width)
		case fmtHour1to24:
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			buf = appendNum(buf, int64(h), p.width)
		case fmtHour0to11:
			buf = appendNum(buf, int64(t.Hour()%12), p.width)
		case fmtMinute:
			buf = appendNum(buf, int64(t.Minute()), p.width)
		case fmtSecond:
			buf = appendNum(buf, int64(t.Second()), p.width)
		case fmtSecondOfDay:
			buf = appendNum(buf, floorMod(ms, msPerDay)/1000, p.width)
		case fmtFraction:
			// Milliseconds are the finest digits a TIMESTAMP holds.
			d := appendNum(nil, frac, 3)
			for i := range p.width {
				if i < len(d) {
					buf = append(buf, d[i])
				} else {
					buf = append(buf, '0')
				}
			}
		case fmtMillis:
			buf = appendNum(buf, frac, p.width)
		case fmtMicros:
			buf = appendNum(buf, frac*1000, p.width)
		case fmtAmPm, fmtAmPmDots:
			m := "AM"
			if t.Hour() >= 12 {
				m = "PM"
			}
			if p.field == fmtAmPmDots {
				m = m[:1] + "." + m[1:] + "."
			}
			buf = appendName(buf, m, p)
		case fmtDayName:
			buf = appendName(buf, t.Weekday().String(), p)
		case fmtDayAbbr:
			buf = appendName(buf, t.Weekday().String()[:3], p)
		case fmtDowSunday1:
			buf = appendNum(buf, int64(t.Weekday())+1, p.width)
		case fmtIsoDow:
			d := int64(t.Weekday())
			if d == 0 {
				d = 7
			}
			buf = appendNum(buf, d, p.width)
		case fmtIsoWeek:
			_, w := t.ISOWeek()
			buf = appendNum(buf, int64(w), p.width)
		case fmtQuarter:
			buf = appendNum(buf, int64(t.Month()-1)/3+1, p.width)
		case fmtZoneOffset:
			buf = append(buf, "+0000"...)
		case fmtZoneZ:
			buf = append(buf, 'Z')
		}
	}
	return string(buf)
}
