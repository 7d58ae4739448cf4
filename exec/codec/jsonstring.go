package codec

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// unescapeJSON decodes the body of a JSON string (the bytes between its
// quotes, escapes intact) and reports whether it is well formed.
//
// If the body needs no decoding (no escapes, no control characters, valid
// UTF-8 — the common case) it is returned as is, aliasing body. Otherwise the
// decoded text is appended to scratch[:0] and returned; the caller keeps the
// grown scratch for the next call. The result is always valid UTF-8: invalid
// bytes and unpaired surrogate escapes become U+FFFD, as in encoding/json.
// Unescaped control characters and unknown escapes are errors.
//
// fastjson's own unescaping is not used because it is best effort: it keeps
// invalid escapes and unpaired surrogates as literal text.
func unescapeJSON(body, scratch []byte) (out, grown []byte, ok bool) {
	i := plainASCIIPrefix(body)
	if i == len(body) {
		return body, scratch, true
	}
	if body[i] >= utf8.RuneSelf && !hasSpecialASCII(body[i:]) && utf8.Valid(body[i:]) {
		return body, scratch, true // non-ASCII text without escapes
	}

	b := append(scratch[:0], body[:i]...)
	for i < len(body) {
		c := body[i]
		switch {
		case c < 0x20:
			return nil, b, false
		case c < utf8.RuneSelf && c != '\\':
			b = append(b, c)
			i++
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, body[i:i+size]...)
			}
			i += size
		default: // backslash
			if i+1 >= len(body) {
				return nil, b, false
			}
			switch body[i+1] {
			case '"', '\\', '/':
				b = append(b, body[i+1])
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := hex4(body[i+2:])
				if !ok {
					return nil, b, false
				}
				i += 6
				if utf16.IsSurrogate(r) {
					// A high surrogate followed by an escaped low one is one
					// rune; anything else is unpaired.
					if i+1 < len(body) && body[i] == '\\' && body[i+1] == 'u' {
						if r2, ok := hex4(body[i+2:]); ok {
							if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
								b = utf8.AppendRune(b, dec)
								i += 6
								continue
							}
						}
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				return nil, b, false
			}
			i += 2
		}
	}
	return b, b, true
}

// plainASCIIPrefix returns the length of body's longest prefix of bytes
// that stand for themselves (jsonPlain), looking at eight bytes at a time.
func plainASCIIPrefix(body []byte) int {
	i := 0
	for ; i+8 <= len(body); i += 8 {
		x := binary.LittleEndian.Uint64(body[i:])
		bs := x ^ (lsb * '\\')
		// A backslash, a control character or a byte >= 0x80 sets the
		// high bit of its byte; the lowest such bit is exact.
		m := ((bs - lsb) &^ bs) | ((x - lsb*0x20) &^ x) | x
		if m &= msb; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for i < len(body) && jsonPlain[body[i]] {
		i++
	}
	return i
}

// hasSpecialASCII reports whether s holds a control character or a backslash.
func hasSpecialASCII(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c == '\\' {
			return true
		}
	}
	return false
}

// hex4 reads four hex digits at the start of s.
func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// jsonPlain[c] is true for the bytes that stand for themselves in the body of
// a JSON string: printable ASCII other than the backslash. (A quote cannot
// occur unescaped in a body.)
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '\\'
	}
	return t
}()

// jsonSafe[c] is true for the ASCII bytes that appear unescaped inside a JSON
// string the encoder writes.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a quoted JSON string. Quotes, backslashes and
// control characters are escaped (the short forms where JSON has them), as
// are U+2028 and U+2029 so that the output is also valid JavaScript; invalid
// UTF-8 becomes \ufffd. Everything else is written as is, so a value decodes
// back to the same string.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0 // s[start:i] is pending, safe to copy as is
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
