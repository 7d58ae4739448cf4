package sql

import (
	"strings"
	"unicode/utf8"

	"github.com/streamsql/streamsql/sql/sqlerr"
)

// This file holds the dialect's own tokenizer. It follows PostgreSQL's lexical
// rules (standard_conforming_strings on): '...' strings with '' escapes and no
// backslash escapes, "..." identifiers with "" escapes, -- and nested /* */
// comments. MySQL backtick identifiers are also recognised so that queries
// written for the TiDB grammar (Nexmark's `dateTime`) keep working.
//
// Every token keeps its byte offsets into the full input, which is what lets
// the rewrite and every error point back at the text the user sent.

type tokenKind uint8

const (
	tokWord     tokenKind = iota // unquoted identifier or keyword
	tokQuoted                    // "double-quoted identifier"
	tokBacktick                  // `backtick identifier`
	tokString                    // 'string literal'
	tokNumber                    // 42, 1.5, .5, 1e3
	tokOp                        // operator or punctuation: ( ) , ; . :: || <= ...
)

// token is one lexical token of the input.
type token struct {
	kind tokenKind
	// text is the exact source text, quotes included.
	text string
	// start and end are byte offsets of the token in the full input.
	start, end int
	// gap is the byte offset where the whitespace and comments before the
	// token begin (the end of the previous token, or 0). gapComment says
	// whether that stretch holds a comment, in which case it cannot be
	// copied into the rewritten text verbatim (TiDB reads comments, e.g.
	// /*! ... */, differently).
	gap        int
	gapComment bool
}

// isWord reports whether t is the unquoted keyword kw (case-insensitive).
func (t token) isWord(kw string) bool {
	return t.kind == tokWord && strings.EqualFold(t.text, kw)
}

// isOp reports whether t is the operator or punctuation op.
func (t token) isOp(op string) bool { return t.kind == tokOp && t.text == op }

// isName reports whether t can name an object or column: any identifier,
// quoted or not, except the reserved words that would make the grammar
// ambiguous.
func (t token) isName() bool {
	switch t.kind {
	case tokQuoted, tokBacktick:
		return true
	case tokWord:
		return !reserved[strings.ToUpper(t.text)]
	}
	return false
}

// name returns the identifier t denotes: unquoted words are folded to lower
// case as PostgreSQL does, quoted ones are kept verbatim with their doubled
// quote characters undone.
func (t token) name() string {
	switch t.kind {
	case tokQuoted:
		return strings.ReplaceAll(t.text[1:len(t.text)-1], `""`, `"`)
	case tokBacktick:
		return strings.ReplaceAll(t.text[1:len(t.text)-1], "``", "`")
	case tokString:
		return unquoteString(t.text)
	}
	return lowerASCII(t.text)
}

// reserved are words that cannot be used unquoted as names: in DDL, and as
// the operand of `::` (so `FROM::int` is an error at the `::`). Non-reserved
// keywords such as TIMESTAMP, KEY or VALUE stay usable as column names.
var reserved = map[string]bool{
	"ALL": true, "AND": true, "ANY": true, "AS": true, "ASC": true, "BETWEEN": true,
	"BY": true, "CASE": true, "CAST": true, "CREATE": true, "CROSS": true,
	"DEFAULT": true, "DESC": true, "DISTINCT": true, "DIV": true, "DROP": true,
	"ELSE": true, "END": true, "EXCEPT": true, "EXISTS": true, "FALSE": true,
	"FROM": true, "FULL": true, "GROUP": true, "HAVING": true, "IN": true,
	"INNER": true, "INTERSECT": true, "INTERVAL": true, "INTO": true, "IS": true,
	"JOIN": true, "LEFT": true, "LIKE": true, "LIMIT": true, "MOD": true,
	"NATURAL": true, "NOT": true, "NULL": true, "OFFSET": true, "ON": true,
	"OR": true, "ORDER": true, "OUTER": true, "OVER": true, "REGEXP": true,
	"RIGHT": true, "RLIKE": true, "SELECT": true, "SOME": true, "TABLE": true,
	"THEN": true, "TO": true, "TRUE": true, "UNION": true, "USING": true,
	"VALUES": true, "WHEN": true, "WHERE": true, "WINDOW": true, "WITH": true,
	"XOR": true,
}

// notFunctions are words that may directly precede a parenthesised
// expression without calling it: the cast rewrite uses them to tell
// `count(x)::int` (cast the call) from `IN (x)::int` (cast the group). Unlike
// reserved, it leaves out keywords that MySQL also uses as function names,
// such as LEFT, RIGHT, MOD and DEFAULT.
var notFunctions = map[string]bool{
	"ALL": true, "AND": true, "ANY": true, "AS": true, "BETWEEN": true, "BY": true,
	"CASE": true, "DISTINCT": true, "DIV": true, "ELSE": true, "END": true,
	"ESCAPE": true, "EXCEPT": true, "FROM": true, "HAVING": true, "IN": true,
	"INTERSECT": true, "IS": true, "JOIN": true, "LIKE": true, "LIMIT": true,
	"NOT": true, "OFFSET": true, "ON": true, "OR": true, "OVER": true,
	"REGEXP": true, "RLIKE": true, "SELECT": true, "SOME": true, "THEN": true,
	"UNION": true, "USING": true, "WHEN": true, "WHERE": true, "XOR": true,
}

// multiCharOps are the operators lexed as one token, longest first so that a
// prefix never wins over the whole operator.
var multiCharOps = []string{"<=>", "->>", "::", "||", "<=", ">=", "<>", "!=", "->", ":=", "&&", "<<", ">>"}

// lex splits the whole input into tokens. Whitespace and comments are not
// tokens; they are recorded in the next token's gap. The only errors are
// unterminated quotes and comments, reported as PostgreSQL does.
func lex(input string) ([]token, error) {
	var toks []token
	gap, gapComment := 0, false
	i := 0
	for i < len(input) {
		c := input[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
			continue
		case c == '-' && strings.HasPrefix(input[i:], "--"):
			if j := strings.IndexByte(input[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(input)
			}
			gapComment = true
			continue
		case c == '/' && strings.HasPrefix(input[i:], "/*"):
			end, ok := blockCommentEnd(input, i)
			if !ok {
				return nil, lexError(input, i, "unterminated /* comment")
			}
			i = end
			gapComment = true
			continue
		}

		start := i
		var kind tokenKind
		switch {
		case c == '\'':
			kind = tokString
			end, ok := quotedEnd(input, i, '\'')
			if !ok {
				return nil, lexError(input, i, "unterminated quoted string")
			}
			i = end
		case c == '"' || c == '`':
			kind = tokQuoted
			if c == '`' {
				kind = tokBacktick
			}
			end, ok := quotedEnd(input, i, c)
			if !ok {
				return nil, lexError(input, i, "unterminated quoted identifier")
			}
			if end-i == 2 {
				return nil, lexError(input, i, "zero-length delimited identifier")
			}
			i = end
		case isDigit(c) || (c == '.' && i+1 < len(input) && isDigit(input[i+1])):
			kind = tokNumber
			i = numberEnd(input, i)
		case isIdentStart(c):
			kind = tokWord
			i++
			for i < len(input) && isIdentPart(input[i]) {
				i++
			}
		default:
			kind = tokOp
			i++
			for _, op := range multiCharOps {
				if strings.HasPrefix(input[start:], op) {
					i = start + len(op)
					break
				}
			}
		}
		toks = append(toks, token{kind: kind, text: input[start:i], start: start, end: i, gap: gap, gapComment: gapComment})
		gap, gapComment = i, false
	}
	return toks, nil
}

// quotedEnd returns the offset just past the quoted token starting at i,
// where a doubled quote character stands for itself.
func quotedEnd(s string, i int, q byte) (int, bool) {
	for j := i + 1; j < len(s); j++ {
		if s[j] == q {
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1, true
		}
	}
	return 0, false
}

// blockCommentEnd returns the offset just past the /* */ comment starting at
// i. Block comments nest, as in PostgreSQL.
func blockCommentEnd(s string, i int) (int, bool) {
	depth := 0
	for j := i; j+1 < len(s); {
		switch {
		case s[j] == '/' && s[j+1] == '*':
			depth++
			j += 2
		case s[j] == '*' && s[j+1] == '/':
			depth--
			j += 2
			if depth == 0 {
				return j, true
			}
		default:
			j++
		}
	}
	return 0, false
}

// numberEnd returns the offset just past the numeric literal starting at i:
// digits, an optional fraction and an optional exponent.
func numberEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			i = j
			for i < len(s) && isDigit(s[i]) {
				i++
			}
		}
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isIdentStart follows PostgreSQL: letters, underscore and any byte of a
// multi-byte character.
func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= utf8.RuneSelf
}

func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }

// lowerASCII folds ASCII letters only, as PostgreSQL folds unquoted
// identifiers; the length in bytes is unchanged, which the rewrite's offset
// map relies on.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// unquoteString returns the value of a '...' literal.
func unquoteString(lit string) string {
	return strings.ReplaceAll(lit[1:len(lit)-1], "''", "'")
}

// quoteString renders s as a '...' literal.
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// charPos converts a byte offset in input to the 1-based character position
// PostgreSQL reports in ErrorResponse.
func charPos(input string, off int) int {
	if off < 0 {
		return 0
	}
	if off > len(input) {
		off = len(input)
	}
	return utf8.RuneCountInString(input[:off]) + 1
}

// lexError reports a lexical error at byte offset i, quoting the rest of the
// input as PostgreSQL does.
func lexError(input string, i int, msg string) error {
	return sqlerr.New(sqlerr.SyntaxError, "%s at or near \"%s\"", msg, input[i:]).At(charPos(input, i))
}
