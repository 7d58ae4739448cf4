package sql

import (
	"regexp"
	"strings"
	"sync"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	// The parser builds literal nodes through constructors a "driver"
	// registers (ast.NewValueExpr and friends); parser.New panics without
	// one. test_driver is the parser module's own self-contained driver,
	// which avoids depending on the whole of TiDB for its types.
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/streamsql/streamsql/sql/sqlerr"
)

// sqlMode makes TiDB read the rewritten text the PostgreSQL way: "x" is an
// identifier, || concatenates, and a backslash inside '...' is an ordinary
// character (standard_conforming_strings), which is also how our own lexer
// found the end of every string.
const sqlMode = mysql.ModeANSIQuotes | mysql.ModePipesAsConcat | mysql.ModeNoBackslashEscapes

// parsers pools TiDB parsers: one is not safe for concurrent use, and making
// one per statement would allocate its tables again each time.
var parsers = sync.Pool{New: func() any {
	p := parser.New()
	p.SetSQLMode(sqlMode)
	return p
}}

// parseQuery rewrites and parses a SELECT made of nodes, which run to the end
// of the statement and start with the SELECT keyword.
func parseQuery(p *stmtParser, nodes []node) (*Query, error) {
	base, end := nodes[0].start(), nodes[len(nodes)-1].end()
	q := &Query{Original: p.input[base:end], base: base, input: p.input}
	nodes, q.EmitChanges = stripEmitChanges(nodes)

	r := &rewriter{p: p}
	items, err := r.seq(nodes, nil)
	if err != nil {
		return nil, err
	}
	// The statement's own leading whitespace is not part of Original.
	segs := append([]seg(nil), items[0].body...)
	segs = appendItems(segs, items[1:])
	var m offsetMap
	q.Rewritten, m = render(segs, base, len(q.Original))
	q.posMap = m.lookup

	tp := parsers.Get().(*parser.Parser)
	stmt, err := tp.ParseOneStmt(q.Rewritten, "", "")
	parsers.Put(tp)
	if err != nil {
		return nil, q.syntaxError(p, err)
	}
	switch s := stmt.(type) {
	case *ast.SelectStmt:
		q.Select = s
		return q, nil
	case *ast.SetOprStmt:
		pos := q.StartPosition()
		for _, n := range nodes {
			if n.isWord("UNION") || n.isWord("INTERSECT") || n.isWord("EXCEPT") {
				pos = charPos(p.input, n.start())
				break
			}
		}
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "UNION, INTERSECT and EXCEPT are not supported").At(pos)
	}
	return nil, p.errNear(nodes[0].tok)
}

// tidbNear finds the location in TiDB's syntax error messages, which read
// `line L column C near "REST"...` where REST is the parser's input from the
// token it failed on to the end (cut at 2048 bytes).
var tidbNear = regexp.MustCompile(`line \d+ column \d+ near "`)

// tidbNearLimit is how much of the remaining input TiDB quotes.
const tidbNearLimit = 2048

// syntaxError turns a TiDB parse error into PostgreSQL's syntax error at the
// corresponding token of the original text. TiDB's line and column count
// bytes after its lookahead, so the offset is recovered from the quoted
// remainder instead: it is the shortest suffix of the rewritten text that
// the message quotes. When the message cannot be matched the error points at
// the start of the statement.
func (q *Query) syntaxError(p *stmtParser, err error) error {
	toks, lexErr := lex(q.Original) // relexing text that lexed before cannot fail
	if lexErr != nil || len(toks) == 0 {
		return sqlerr.New(sqlerr.SyntaxError, "syntax error").At(q.StartPosition())
	}
	for i := range toks {
		toks[i].start += q.base
		toks[i].end += q.base
	}
	off, ok := nearOffset(err.Error(), q.Rewritten)
	if !ok {
		return p.errNear(toks[0])
	}
	if off >= len(q.Rewritten) {
		return p.errEnd()
	}
	abs := q.base + q.posMap(off)
	for _, t := range toks {
		if t.end > abs {
			return p.errNear(t)
		}
	}
	return p.errEnd()
}

// nearOffset returns the byte offset in src that TiDB's message msg points
// at, if msg has TiDB's location format.
func nearOffset(msg, src string) (int, bool) {
	loc := tidbNear.FindStringIndex(msg)
	if loc == nil {
		return 0, false
	}
	rest := msg[loc[1]:]
	for off := 0; off <= len(src); off++ {
		s := src[off:]
		if len(s) > tidbNearLimit {
			s = s[:tidbNearLimit]
		}
		if len(rest) > len(s) && rest[len(s)] == '"' && strings.HasPrefix(rest, s) {
			return off, true
		}
	}
	return 0, false
}

// SQL returns the query's original text.
func (q *Query) SQL() string { return q.Original }

// Input returns the full text the client sent, which positions count into.
func (q *Query) Input() string { return q.input }

// StartPosition returns the 1-based character position of the query's first
// character (its SELECT) in the full input: the fallback for errors about
// the query as a whole.
func (q *Query) StartPosition() int { return charPos(q.input, q.base) }

// Position returns the 1-based character position in the full input of node
// n, or 0 when it is unknown. TiDB records the start of every expression node
// (n.OriginTextPosition(), a byte offset into Rewritten); other nodes, such
// as ast.ColumnName or ast.TableName, carry none — use the enclosing
// expression or IdentPosition. A rewritten call maps to the construct it
// replaced: __cast(x, 'T') to x for `x::T` and to CAST for CAST(...),
// __interval(...) to INTERVAL, and its type or unit literal argument to the
// type or unit as written.
func (q *Query) Position(n ast.Node) int {
	if q == nil || n == nil || q.posMap == nil {
		return 0
	}
	off := n.OriginTextPosition()
	// Offset 0 is TiDB's "unset"; the SELECT keyword is there and no
	// expression can start at it.
	if off <= 0 || off > len(q.Rewritten) {
		return 0
	}
	return charPos(q.input, q.base+q.posMap(off))
}

// IdentPosition returns the 1-based character position in the full input of
// the first token of the query that is the identifier name, or 0 if there is
// none. Unquoted words match case-insensitively, quoted ones exactly; string
// literals and comments are never matched.
func (q *Query) IdentPosition(name string) int {
	if q == nil {
		return 0
	}
	toks, err := lex(q.Original)
	if err != nil {
		return 0
	}
	for _, t := range toks {
		switch t.kind {
		case tokWord:
			if strings.EqualFold(t.text, name) {
				return charPos(q.input, q.base+t.start)
			}
		case tokQuoted, tokBacktick:
			if t.name() == name {
				return charPos(q.input, q.base+t.start)
			}
		}
	}
	return 0
}
