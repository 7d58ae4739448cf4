package sql

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// Snippet returns the user's original text of node n, for hints and
// messages: a name, a literal, or a call up to its closing parenthesis
// (TiDB records where a node starts, not where it ends). It returns the
// node's restored text if the start is unknown.
func (q *Query) Snippet(n ast.Node) string {
	off := -1
	if q.posMap != nil {
		if p := n.OriginTextPosition(); p >= 0 && p < len(q.Rewritten) {
			off = q.posMap(p)
		}
	}
	if off < 0 || off >= len(q.Original) {
		return n.Text()
	}
	s := q.Original[off:]
	i := 0
	// A (possibly qualified or quoted) name or a literal token.
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return strings.TrimSpace(s)
			}
			i += j + 2
		case c == '_' || c == '.' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
			i++
		default:
			goto name
		}
	}
name:
	j := i
	for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r') {
		j++
	}
	if j < len(s) && s[j] == '(' {
		depth := 0
		for k := j; k < len(s); k++ {
			switch s[k] {
			case '\'':
				if e := strings.IndexByte(s[k+1:], '\''); e >= 0 {
					k += e + 1
				}
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					return s[:k+1]
				}
			}
		}
	}
	if i == 0 {
		return n.Text()
	}
	return s[:i]
}
