package codec

import (
	"strconv"
	"unsafe"
)

// jsonNumber is a number split along the JSON grammar
//
//	-? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?
//
// The slices alias the input. fastjson's parser accepts a looser syntax
// ("1-2", "+5", "01", "NaN", "inf"), so every number the decoder converts is
// split, and thereby checked, here first.
type jsonNumber struct {
	neg  bool
	intg []byte // integer digits, at least one
	frac []byte // fraction digits, possibly none
	exp  int64  // exponent, clamped to ±maxExp
}

// maxExp clamps exponents: far beyond any int64 or float64, small enough that
// exponent arithmetic on message-sized digit counts cannot overflow.
const maxExp = 1 << 30

func splitNumber(s []byte) (n jsonNumber, ok bool) {
	i := 0
	if i < len(s) && s[i] == '-' {
		n.neg = true
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	n.intg = s[start:i]
	if len(n.intg) == 0 || (len(n.intg) > 1 && n.intg[0] == '0') {
		return n, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		n.frac = s[start:i]
		if len(n.frac) == 0 {
			return n, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		start = i
		for i < len(s) && isDigit(s[i]) {
			if n.exp < maxExp {
				n.exp = n.exp*10 + int64(s[i]-'0')
			}
			i++
		}
		if i == start {
			return n, false
		}
		n.exp = min(n.exp, maxExp)
		if eneg {
			n.exp = -n.exp
		}
	}
	return n, i == len(s)
}

// Reasons a number does not convert, used in DecodeError messages.
const (
	reasonInvalidNumber = "invalid JSON number"
	reasonNotInteger    = "not an integer"
	reasonOutOfRange    = "out of range"
)

// parseJSONInt converts the JSON number text s to an int64 exactly. Numbers
// written with a fraction or exponent are accepted when their value is
// integral ("42.0", "4.2e1", "1e3"); the check works on the decimal digits, not
// on a float64, so 9007199254740993.0 stays exact. On failure the string
// says why.
func parseJSONInt(s []byte) (int64, string) {
	if v, ok := parseSmallInt(s); ok {
		return v, ""
	}
	n, ok := splitNumber(s)
	if !ok {
		return 0, reasonInvalidNumber
	}

	// The value is D × 10^e, where D is the digits of intg followed by frac.
	// Trim D to its significant digits [first, last]; each trailing zero moves
	// into e.
	nd := len(n.intg) + len(n.frac)
	digit := func(k int) byte {
		if k < len(n.intg) {
			return n.intg[k]
		}
		return n.frac[k-len(n.intg)]
	}
	first, last := 0, nd-1
	for first < nd && digit(first) == '0' {
		first++
	}
	if first == nd {
		return 0, "" // all zeros, whatever the exponent: 0, -0.0, 0e99
	}
	for digit(last) == '0' {
		last--
	}
	e := n.exp - int64(len(n.frac)) + int64(nd-1-last)
	if e < 0 {
		return 0, reasonNotInteger
	}
	sig := int64(last - first + 1)
	if sig+e > 19 {
		return 0, reasonOutOfRange // at least 10^19 > 2^63
	}
	// Now D × 10^e < 10^19 < 2^64, so uint64 arithmetic is exact.
	var u uint64
	for k := first; k <= last; k++ {
		u = u*10 + uint64(digit(k)-'0')
	}
	for ; e > 0; e-- {
		u *= 10
	}
	if n.neg {
		if u > 1<<63 {
			return 0, reasonOutOfRange
		}
		return int64(-u), "" // -(1<<63) wraps to math.MinInt64, as intended
	}
	if u > 1<<63-1 {
		return 0, reasonOutOfRange
	}
	return int64(u), ""
}

// parseSmallInt is parseJSONInt's fast path: a plain JSON integer of 1 to 18
// digits, which cannot overflow. It reports false for anything else, which
// then takes the general path.
func parseSmallInt(s []byte) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 18 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var v int64
	for _, c := range s {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// parseJSONFloat converts the JSON number text s to the nearest float64.
// Overflow is an error, as PostgreSQL's float8 input makes it; underflow
// rounds to (signed) zero.
func parseJSONFloat(s []byte) (float64, string) {
	if _, ok := splitNumber(s); !ok {
		return 0, reasonInvalidNumber
	}
	// strconv does not retain its argument (its errors copy it), so viewing
	// the bytes as a string without copying is safe.
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(s), len(s)), 64)
	if err != nil {
		return 0, reasonOutOfRange // the syntax was checked above
	}
	return f, ""
}
