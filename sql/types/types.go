// Package types holds the value model shared by every layer of StreamSQL:
// SQL types, scalar values, typed column vectors and the batches of rows that
// flow between operators.
//
// It is a leaf: it imports nothing else of the project, so the SQL front, the
// planner, the executor and the services beneath can all depend on it without
// cycles. It knows nothing about parsing, planning or Kafka.
package types

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Type is a SQL column type. The set is small on purpose: every type has one
// Go representation in a Column and one in a Value.
type Type uint8

const (
	// Unknown is the type of a NULL literal before it is coerced.
	Unknown Type = iota
	// Bigint is a 64-bit signed integer (BIGINT, INT, INTEGER, SMALLINT).
	Bigint
	// Double is a 64-bit IEEE float (DOUBLE PRECISION, FLOAT, REAL).
	Double
	// Varchar is a UTF-8 string (VARCHAR, TEXT, STRING).
	Varchar
	// Boolean is true/false.
	Boolean
	// Timestamp is an instant in UTC with millisecond precision, stored as
	// milliseconds since the Unix epoch.
	Timestamp
	// Interval is a duration in milliseconds. It exists only in expressions
	// (window sizes, timestamp arithmetic); streams cannot declare it.
	Interval
)

// String returns the PostgreSQL spelling of the type, as DESCRIBE shows it.
func (t Type) String() string {
	switch t {
	case Bigint:
		return "BIGINT"
	case Double:
		return "DOUBLE PRECISION"
	case Varchar:
		return "VARCHAR"
	case Boolean:
		return "BOOLEAN"
	case Timestamp:
		return "TIMESTAMP"
	case Interval:
		return "INTERVAL"
	default:
		return "UNKNOWN"
	}
}

// Numeric reports whether arithmetic applies to the type.
func (t Type) Numeric() bool { return t == Bigint || t == Double }

// ParseType maps a PostgreSQL (or common SQL) type name to a Type. Length and
// precision modifiers such as VARCHAR(20) or TIMESTAMP(3) are accepted and
// ignored. The second result is false for names StreamSQL does not support.
func ParseType(name string) (Type, bool) {
	n := strings.ToUpper(strings.TrimSpace(name))
	if i := strings.IndexByte(n, '('); i >= 0 {
		n = strings.TrimSpace(n[:i])
	}
	n = strings.Join(strings.Fields(n), " ")
	switch n {
	case "BIGINT", "INT", "INTEGER", "INT8", "INT4", "INT2", "SMALLINT", "TINYINT", "SIGNED", "LONG":
		return Bigint, true
	case "DOUBLE", "DOUBLE PRECISION", "FLOAT", "FLOAT8", "FLOAT4", "REAL", "DECIMAL", "NUMERIC":
		return Double, true
	case "VARCHAR", "TEXT", "STRING", "CHAR", "CHARACTER VARYING", "CHARACTER":
		return Varchar, true
	case "BOOLEAN", "BOOL":
		return Boolean, true
	case "TIMESTAMP", "DATETIME", "TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE",
		"TIMESTAMP(3)", "TIMESTAMP_LTZ":
		return Timestamp, true
	case "INTERVAL":
		return Interval, true
	}
	return Unknown, false
}

// Value is one scalar SQL value. Exactly one payload field is meaningful,
// chosen by Type; Null overrides it. Values are small and passed by value.
type Value struct {
	Type Type
	Null bool
	I    int64 // Bigint, Timestamp (epoch ms), Interval (ms), Boolean (0/1)
	F    float64
	S    string
}

// Constructors for Values.
func NullOf(t Type) Value           { return Value{Type: t, Null: true} }
func IntValue(v int64) Value        { return Value{Type: Bigint, I: v} }
func FloatValue(v float64) Value    { return Value{Type: Double, F: v} }
func StringValue(v string) Value    { return Value{Type: Varchar, S: v} }
func TimestampValue(ms int64) Value { return Value{Type: Timestamp, I: ms} }
func IntervalValue(ms int64) Value  { return Value{Type: Interval, I: ms} }
func BoolValue(v bool) Value {
	if v {
		return Value{Type: Boolean, I: 1}
	}
	return Value{Type: Boolean}
}

// Bool returns the boolean payload.
func (v Value) Bool() bool { return v.I != 0 }

// String renders the value as PostgreSQL's text format does: what psql shows.
// NULL renders as the empty string; callers that must tell NULL apart check
// Null first.
func (v Value) String() string {
	if v.Null {
		return ""
	}
	switch v.Type {
	case Bigint:
		return strconv.FormatInt(v.I, 10)
	case Double:
		return FormatFloat(v.F)
	case Varchar:
		return v.S
	case Boolean:
		if v.I != 0 {
			return "t"
		}
		return "f"
	case Timestamp:
		return FormatTimestampSQL(v.I)
	case Interval:
		return FormatInterval(v.I)
	}
	return ""
}

// FormatFloat prints a float the way PostgreSQL does in text output: the
// shortest representation that round-trips, with Infinity/NaN spelled out.
func FormatFloat(f float64) string { return string(AppendFloat(nil, f)) }

// AppendFloat appends f as FormatFloat renders it. PostgreSQL prints the
// shortest exact digits, in exponent form only when the decimal exponent is
// below -4 or at least 15 (Go's 'g' uses the exponent form from 1e+06 on
// for shortest output). The digits come from one shortest conversion, placed
// around the decimal point here.
func AppendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	}
	if out, ok := appendShortDecimal(dst, f); ok {
		return out
	}
	var buf [64]byte                                  // the exponent form, then its digits run together
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // [-]d[.ddd]e±dd[d]
	at := len(e) - 1
	for e[at] != 'e' {
		at--
	}
	exp := 0
	for _, c := range e[at+2:] {
		exp = exp*10 + int(c-'0')
	}
	if e[at+1] == '-' {
		exp = -exp
	}
	if exp < -4 || exp >= 15 {
		return append(dst, e...)
	}
	mant := e[:at]
	if mant[0] == '-' {
		dst = append(dst, '-')
		mant = mant[1:]
	}
	digits := mant[:1]
	if len(mant) > 2 {
		// Join the digits before and after the point in buf's tail.
		digits = append(append(buf[len(e):len(e)], mant[0]), mant[2:]...)
	}
	if exp < 0 {
		dst = append(dst, '0', '.')
		for range -exp - 1 {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	if len(digits) <= exp+1 {
		dst = append(dst, digits...)
		for range exp + 1 - len(digits) {
			dst = append(dst, '0')
		}
		return dst
	}
	dst = append(dst, digits[:exp+1]...)
	dst = append(dst, '.')
	return append(dst, digits[exp+1:]...)
}

// appendShortDecimal is AppendFloat's fast path for the values results are
// mostly made of: those that are exactly what a decimal with at most
// maxShortDecimals fractional digits parses to, such as 0.908 * price or a
// sum of cents. It looks for the fewest fractional digits k such that the
// integer r nearest to |f|*10^k gives back f as r/10^k: that decimal is
// the shortest that round-trips, which is what the shortest conversion
// prints. r is kept below 2^50, where f*10^k is within 1/8 of its exact
// value and at most one integer can round-trip, so r is that integer; and
// |f| is kept within [1e-3, 1e14), well inside PostgreSQL's plain range.
// Zero (whose sign PostgreSQL prints) and everything else take the
// shortest conversion.
func appendShortDecimal(dst []byte, f float64) ([]byte, bool) {
	a := math.Abs(f)
	if !(a >= 1e-3 && a < 1e14) {
		return dst, false
	}
	for k, p := range shortDecimalPow10 {
		m := a * p
		if m >= 1<<50 {
			return dst, false
		}
		r := math.Round(m)
		if r/p != a {
			continue
		}
		if f < 0 {
			dst = append(dst, '-')
		}
		var buf [24]byte
		digits := AppendInt(buf[:0], int64(r))
		switch {
		case k == 0:
			return append(dst, digits...), true
		case len(digits) > k:
			dst = append(dst, digits[:len(digits)-k]...)
			dst = append(dst, '.')
			return append(dst, digits[len(digits)-k:]...), true
		}
		dst = append(dst, '0', '.')
		for range k - len(digits) {
			dst = append(dst, '0')
		}
		return append(dst, digits...), true
	}
	return dst, false
}

// maxShortDecimals is how many fractional digits appendShortDecimal tries.
const maxShortDecimals = 4

var shortDecimalPow10 = [maxShortDecimals + 1]float64{1, 10, 100, 1000, 10000}

// FormatInterval renders milliseconds as PostgreSQL's interval text, e.g.
// "00:01:00" or "1 day 02:00:00.5".
func FormatInterval(ms int64) string {
	neg := ms < 0
	if neg {
		ms = -ms
	}
	days := ms / 86_400_000
	rest := ms % 86_400_000
	h, m, s, frac := rest/3_600_000, rest/60_000%60, rest/1000%60, rest%1000
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	if days > 0 {
		fmt.Fprintf(&b, "%d day", days)
		if days > 1 {
			b.WriteByte('s')
		}
		b.WriteByte(' ')
	}
	fmt.Fprintf(&b, "%02d:%02d:%02d", h, m, s)
	if frac > 0 {
		fmt.Fprintf(&b, ".%03d", frac)
		return strings.TrimRight(b.String(), "0")
	}
	return b.String()
}

// Compare orders two non-NULL values of the same type: -1, 0 or +1.
func Compare(a, b Value) int {
	switch a.Type {
	case Double:
		af, bf := a.F, b.F
		if b.Type == Bigint {
			bf = float64(b.I)
		}
		switch {
		case af < bf:
			return -1
		case af > bf:
			return 1
		}
		return 0
	case Varchar:
		return strings.Compare(a.S, b.S)
	default:
		if b.Type == Double {
			return -Compare(b, a)
		}
		switch {
		case a.I < b.I:
			return -1
		case a.I > b.I:
			return 1
		}
		return 0
	}
}
