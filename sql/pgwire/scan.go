package pgwire

import (
	"strings"
	"unicode/utf8"
)

// scanQuery looks at statement text only as far as the wire server must:
// empty reports that it holds no statement at all (only whitespace,
// semicolons and comments), which the protocol answers with
// EmptyQueryResponse; paramPos is the 1-based character position of the
// first $n parameter placeholder, or 0 if there is none.
//
// It follows PostgreSQL's lexical rules for what can hide a '$' or a comment
// marker: -- and nested /* */ comments, '...' strings (with E'...'
// backslash escapes), "..." identifiers and $tag$...$tag$ dollar quoting. A
// '$' inside an identifier (a$1) is part of the name, not a placeholder.
func scanQuery(q string) (empty bool, paramPos int) {
	empty = true
	inIdent := false // the previous byte continues an identifier or number
	for i := 0; i < len(q); {
		ch := q[i]
		switch {
		case ch == '-' && strings.HasPrefix(q[i:], "--"):
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				return empty, 0
			}
			i += end + 1
			inIdent = false
			continue
		case ch == '/' && strings.HasPrefix(q[i:], "/*"):
			i = skipBlockComment(q, i)
			inIdent = false
			continue
		case ch == ';' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v':
			i++
			inIdent = false
			continue
		}
		empty = false
		switch {
		case ch == '\'':
			// E'...' (but not, say, name'...') allows backslash escapes.
			escapes := i > 0 && (q[i-1] == 'e' || q[i-1] == 'E') && (i < 2 || !isIdentByte(q[i-2]))
			i = skipQuoted(q, i, '\'', escapes)
			inIdent = false
		case ch == '"':
			i = skipQuoted(q, i, '"', false)
			inIdent = false
		case ch == '$' && !inIdent:
			if i+1 < len(q) && isDigit(q[i+1]) {
				return false, utf8.RuneCountInString(q[:i]) + 1
			}
			if tag := dollarTag(q[i:]); tag != "" {
				body := i + len(tag)
				end := strings.Index(q[body:], tag)
				if end < 0 {
					return false, 0 // Unterminated: the rest is the string.
				}
				i = body + end + len(tag)
			} else {
				i++
			}
			inIdent = false
		default:
			inIdent = isIdentByte(ch)
			i++
		}
	}
	return empty, 0
}

// skipBlockComment returns the index after the /* */ comment starting at i.
// PostgreSQL block comments nest.
func skipBlockComment(q string, i int) int {
	depth := 0
	for i < len(q) {
		switch {
		case strings.HasPrefix(q[i:], "/*"):
			depth++
			i += 2
		case strings.HasPrefix(q[i:], "*/"):
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return len(q)
}

// skipQuoted returns the index after the quoted token starting at i. A
// doubled quote stands for itself; with backslash set, a backslash escapes
// the next byte.
func skipQuoted(q string, i int, quote byte, backslash bool) int {
	for j := i + 1; j < len(q); j++ {
		switch q[j] {
		case '\\':
			if backslash {
				j++
			}
		case quote:
			if j+1 < len(q) && q[j+1] == quote {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(q)
}

// dollarTag returns the opening delimiter ($$ or $tag$) of a dollar-quoted
// string at the start of s, or "" if s does not start with one. A tag
// follows identifier rules without '$' and cannot start with a digit.
func dollarTag(s string) string {
	if len(s) < 2 {
		return ""
	}
	if s[1] == '$' {
		return "$$"
	}
	if isDigit(s[1]) || !isIdentByte(s[1]) {
		return ""
	}
	for j := 2; j < len(s); j++ {
		switch {
		case s[j] == '$':
			return s[:j+1]
		case !isIdentByte(s[j]):
			return ""
		}
	}
	return ""
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// isIdentByte reports whether b can continue an identifier: letters,
// digits, '_', '$' and any byte of a non-ASCII character.
func isIdentByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || isDigit(b) || b == '_' || b == '$' || b >= 0x80
}
