package sql

import (
	"sort"
	"strings"

	"github.com/streamsql/streamsql/sql/sqlerr"
)

// This file rewrites a SELECT from StreamSQL's dialect into text the TiDB
// parser accepts (see the contract on Query):
//
//	INTERVAL '1' MINUTE, INTERVAL 1 MINUTE  → __interval('1', 'MINUTE')
//	INTERVAL '5 seconds'                    → __interval('5 seconds', '')
//	CAST(x AS BIGINT), x::bigint            → __cast(x, 'BIGINT'), __cast(x, 'bigint')
//	... EMIT CHANGES [LIMIT n]              → ... [LIMIT n]
//	agg(...) FILTER (WHERE cond)            → __agg_filter(agg(...), cond)
//	STDDEV(x), VARIANCE(x)                  → stddev_samp(x), var_samp(x)
//
// TiDB reads STDDEV and VARIANCE as MySQL does, as the population versions;
// in PostgreSQL and Flink they are the sample versions, which StreamSQL
// follows. STD keeps MySQL's meaning (STDDEV_POP).
//
// Besides, unquoted identifiers are folded to lower case, as PostgreSQL folds
// them, so that ast.CIStr.O of a name is its PostgreSQL meaning: `Page` and
// `page` are the column page, "Page" is the column Page, `Page` (backticks)
// is kept for TiDB-style queries. Comments are replaced by a space so TiDB
// never interprets them (/*! ... */ is code to MySQL).
//
// The rewrite works on the token tree, not on a string: each piece of output
// remembers where in the original it came from, which yields the offset map
// that turns TiDB's positions (offsets in the rewritten text) into positions
// in the text the user sent.

// seg is one piece of rewritten text. A verbatim piece is the original text
// at orig (possibly with ASCII letters folded, which keeps byte lengths), so
// every offset inside it maps one to one; a synthetic piece maps wholly to
// its anchor orig. orig is a byte offset in the full input.
type seg struct {
	text     string
	orig     int
	verbatim bool
}

type itemKind uint8

const (
	itemWord    itemKind = iota // unquoted word: keyword, function or column name
	itemName                    // quoted or backtick identifier
	itemLiteral                 // string or number
	itemGroup                   // (...)
	itemCall                    // a rewritten __cast(...) or __interval(...)
	itemOther                   // operators and punctuation
)

// item is one primary-level unit of rewritten output: a token, a
// parenthesised group or a rewritten call. The cast rewrite looks back over
// items to find the operand of `::`.
type item struct {
	kind itemKind
	tok  token // the first token
	gap  []seg // whitespace before the item
	body []seg
}

// rewriter rewrites one SELECT.
type rewriter struct {
	p *stmtParser
}

// gapOf returns the segments for the whitespace before t: verbatim when it
// is plain whitespace, one space when it holds a comment.
func gapOf(t token, input string) []seg {
	switch {
	case t.gap == t.start:
		return nil
	case t.gapComment:
		return []seg{{text: " ", orig: t.gap}}
	}
	return []seg{{text: input[t.gap:t.start], orig: t.gap, verbatim: true}}
}

// leaf returns the item for a plain token.
func (r *rewriter) leaf(t token) item {
	it := item{tok: t, gap: gapOf(t, r.p.input)}
	text := t.text
	switch t.kind {
	case tokWord:
		it.kind = itemWord
		text = lowerASCII(text)
	case tokQuoted, tokBacktick:
		it.kind = itemName
	case tokString, tokNumber:
		it.kind = itemLiteral
	default:
		it.kind = itemOther
	}
	it.body = []seg{{text: text, orig: t.start, verbatim: true}}
	return it
}

// seq rewrites one level of nodes; end is the token after the level (see
// cursor.end), where errors about a missing last part point.
func (r *rewriter) seq(nodes []node, end *token) ([]item, error) {
	var out []item
	for i := 0; i < len(nodes); i++ {
		n := nodes[i]
		switch {
		case n.group:
			it, err := r.group(n)
			if err != nil {
				return nil, err
			}
			out = append(out, it)
		case n.tok.isWord("SESSION") && i+1 < len(nodes) && nodes[i+1].group:
			// SESSION is a keyword to TiDB; the session window function
			// is __session(...) to the planner.
			out = append(out, item{kind: itemWord, tok: n.tok, gap: gapOf(n.tok, r.p.input),
				body: []seg{{text: "__session", orig: n.tok.start}}})
		case n.tok.isWord("TABLE") && i+1 < len(nodes) && nodes[i+1].group:
			it, ok, err := r.tvf(nodes, i)
			if err != nil {
				return nil, err
			}
			if !ok {
				out = append(out, r.leaf(n.tok))
				continue
			}
			out = append(out, it)
			i++
		case sampleAggregates[strings.ToUpper(n.tok.text)] != "" && n.tok.kind == tokWord &&
			i+1 < len(nodes) && nodes[i+1].group && !afterDot(out):
			it := r.leaf(n.tok)
			it.body = []seg{{text: sampleAggregates[strings.ToUpper(n.tok.text)], orig: n.tok.start}}
			out = append(out, it)
		case n.tok.isWord("FILTER") && i+1 < len(nodes) && nodes[i+1].group &&
			len(nodes[i+1].kids) > 0 && nodes[i+1].kids[0].isWord("WHERE"):
			var err error
			if out, err = r.filter(out, n.tok, nodes[i+1]); err != nil {
				return nil, err
			}
			i++
		case n.tok.isWord("INTERVAL"):
			it, next, err := r.interval(nodes, i, end)
			if err != nil {
				return nil, err
			}
			out = append(out, it)
			i = next - 1
		case n.tok.isWord("CAST") && i+1 < len(nodes) && nodes[i+1].group:
			it, err := r.cast(n.tok, nodes[i+1])
			if err != nil {
				return nil, err
			}
			out = append(out, it)
			i++
		case n.tok.isOp("::"):
			operand, rest := castOperand(out)
			if operand == nil {
				return nil, r.p.errNear(n.tok)
			}
			c := &cursor{p: r.p, nodes: nodes, i: i + 1, end: end}
			typ, err := typeName(c)
			if err != nil {
				return nil, err
			}
			body := append([]seg{{text: "__cast(", orig: operand[0].tok.start}}, operand[0].body...)
			for _, it := range operand[1:] {
				body = append(body, it.gap...)
				body = append(body, it.body...)
			}
			body = append(body,
				seg{text: ", ", orig: n.tok.start},
				seg{text: quoteString(typ.text), orig: typ.tok.start},
				seg{text: ")", orig: n.tok.start})
			out = append(rest, item{kind: itemCall, tok: operand[0].tok, gap: operand[0].gap, body: body})
			i = c.i - 1
		case n.tok.isOp("#"):
			// MySQL reads # as a comment; PostgreSQL as an operator we do
			// not support. Refuse it rather than let TiDB drop text.
			return nil, r.p.errNear(n.tok)
		default:
			out = append(out, r.leaf(n.tok))
		}
	}
	return out, nil
}

// group rewrites a parenthesised group.
func (r *rewriter) group(n node) (item, error) {
	kids, err := r.seq(n.kids, &n.close)
	if err != nil {
		return item{}, err
	}
	body := []seg{{text: "(", orig: n.tok.start, verbatim: true}}
	body = appendItems(body, kids)
	body = append(body, gapOf(n.close, r.p.input)...)
	body = append(body, seg{text: ")", orig: n.close.start, verbatim: true})
	return item{kind: itemGroup, tok: n.tok, gap: gapOf(n.tok, r.p.input), body: body}, nil
}

// castOperand splits off the operand of a `::` from the items before it: a
// literal, a (qualified) name, a parenthesised expression, a function call
// f(...) or s.f(...), a CASE ... END, or an earlier rewritten call (so
// x::int::text chains). It returns nil when no operand precedes.
func castOperand(out []item) (operand, rest []item) {
	n := len(out)
	if n == 0 {
		return nil, out
	}
	isName := func(it item) bool {
		return it.kind == itemName || (it.kind == itemWord && !reserved[strings.ToUpper(it.tok.text)])
	}
	isFunc := func(it item) bool {
		return it.kind == itemName || (it.kind == itemWord && !notFunctions[strings.ToUpper(it.tok.text)])
	}
	start := n - 1
	switch last := out[n-1]; last.kind {
	case itemLiteral, itemCall:
		return out[start:], out[:start]
	case itemWord:
		if !isName(last) {
			switch strings.ToUpper(last.tok.text) {
			case "TRUE", "FALSE", "NULL":
				return out[start:], out[:start]
			case "END":
				// CASE ... END: find the CASE that this END closes.
				// Both are at this level, since CASE cannot span a
				// parenthesis.
				depth := 0
				for j := n - 1; j >= 0; j-- {
					switch {
					case out[j].kind != itemWord:
					case out[j].tok.isWord("END"):
						depth++
					case out[j].tok.isWord("CASE"):
						if depth--; depth == 0 {
							return out[j:], out[:j]
						}
					}
				}
			}
			return nil, out
		}
	case itemName:
	case itemGroup:
		if n >= 2 && isFunc(out[n-2]) {
			start = n - 2 // a function call
		} else {
			return out[start:], out[:start]
		}
	default:
		return nil, out
	}
	// Extend over a qualifier chain: a.b.c or s.f(...).
	for start >= 2 && out[start-1].kind == itemOther && out[start-1].tok.isOp(".") && isName(out[start-2]) {
		start -= 2
	}
	return out[start:], out[:start]
}

// appendItems appends the items' text, each with its leading whitespace.
func appendItems(body []seg, items []item) []seg {
	for _, it := range items {
		body = append(body, it.gap...)
		body = append(body, it.body...)
	}
	return body
}

// cast rewrites CAST(expr AS type) into __cast(expr, 'type'). The type is
// split off before the expression is rewritten, so a type name such as
// INTERVAL is never taken for the start of a literal.
func (r *rewriter) cast(kw token, args node) (item, error) {
	as := -1
	for i, k := range args.kids {
		if k.isWord("AS") {
			as = i
			break
		}
	}
	if as < 0 {
		c := &cursor{p: r.p, nodes: args.kids, i: len(args.kids), end: &args.close}
		return item{}, c.err()
	}
	if as == 0 {
		return item{}, r.p.errNear(args.kids[0].tok)
	}
	expr, err := r.seq(args.kids[:as], &args.kids[as].tok)
	if err != nil {
		return item{}, err
	}
	c := &cursor{p: r.p, nodes: args.kids, i: as + 1, end: &args.close}
	typ, err := typeName(c)
	if err != nil {
		return item{}, err
	}
	if err := c.done(); err != nil {
		return item{}, err
	}
	body := []seg{{text: "__cast(", orig: kw.start}}
	body = appendItems(body, expr)
	body = append(body,
		seg{text: ", ", orig: args.kids[as].tok.start},
		seg{text: quoteString(typ.text), orig: typ.tok.start},
		seg{text: ")", orig: args.close.start})
	return item{kind: itemCall, tok: kw, gap: gapOf(kw, r.p.input), body: body}, nil
}

// intervalUnits maps the units an interval literal may name, singular or
// plural, to the contract's singular upper-case spelling.
var intervalUnits = map[string]string{
	"MILLISECOND": "MILLISECOND", "MILLISECONDS": "MILLISECOND",
	"SECOND": "SECOND", "SECONDS": "SECOND",
	"MINUTE": "MINUTE", "MINUTES": "MINUTE",
	"HOUR": "HOUR", "HOURS": "HOUR",
	"DAY": "DAY", "DAYS": "DAY",
	"WEEK": "WEEK", "WEEKS": "WEEK",
}

// unsupportedUnits are interval units of PostgreSQL or MySQL that have no
// fixed length in milliseconds or that StreamSQL does not support; naming
// one is a clear error instead of a puzzling syntax error.
var unsupportedUnits = map[string]bool{
	"MICROSECOND": true, "MICROSECONDS": true, "MONTH": true, "MONTHS": true,
	"QUARTER": true, "QUARTERS": true, "YEAR": true, "YEARS": true,
	"DECADE": true, "CENTURY": true, "MILLENNIUM": true,
	"SECOND_MICROSECOND": true, "MINUTE_MICROSECOND": true, "MINUTE_SECOND": true,
	"HOUR_MICROSECOND": true, "HOUR_SECOND": true, "HOUR_MINUTE": true,
	"DAY_MICROSECOND": true, "DAY_SECOND": true, "DAY_MINUTE": true, "DAY_HOUR": true,
	"YEAR_MONTH": true,
}

// interval rewrites the INTERVAL literal starting at nodes[i] and returns the
// index of the first node after it. The quantity is a string or a signed
// number; the unit is optional after a string (INTERVAL '5 seconds') and
// required after a number.
func (r *rewriter) interval(nodes []node, i int, end *token) (item, int, error) {
	kw := nodes[i].tok
	c := &cursor{p: r.p, nodes: nodes, i: i + 1, end: end}
	n := c.peek()
	if n == nil || n.group {
		return item{}, 0, c.err()
	}
	var qty seg
	switch t := n.tok; {
	case t.kind == tokString:
		qty = seg{text: t.text, orig: t.start, verbatim: true}
		c.i++
	case t.kind == tokNumber:
		qty = seg{text: quoteString(t.text), orig: t.start}
		c.i++
	case (t.isOp("-") || t.isOp("+")) && c.i+1 < len(nodes) && !nodes[c.i+1].group && nodes[c.i+1].tok.kind == tokNumber:
		sign := strings.TrimPrefix(t.text, "+")
		qty = seg{text: quoteString(sign + nodes[c.i+1].tok.text), orig: t.start}
		c.i += 2
	default:
		return item{}, 0, c.err()
	}
	numeric := n.tok.kind != tokString
	unit := seg{text: "''", orig: kw.start}
	if u := c.peek(); u != nil && !u.group && u.tok.kind == tokWord {
		up := strings.ToUpper(u.tok.text)
		if name, ok := intervalUnits[up]; ok {
			unit = seg{text: quoteString(name), orig: u.tok.start}
			c.i++
			numeric = false
		} else if unsupportedUnits[up] {
			return item{}, 0, sqlerr.New(sqlerr.FeatureNotSupported, "interval unit %s is not supported", up).
				At(charPos(r.p.input, u.tok.start)).
				WithHint("Use MILLISECOND, SECOND, MINUTE, HOUR, DAY or WEEK.")
		}
	}
	if numeric { // a bare number needs a unit
		return item{}, 0, c.err()
	}
	body := []seg{{text: "__interval(", orig: kw.start}, qty, {text: ", ", orig: kw.start}, unit, {text: ")", orig: kw.start}}
	return item{kind: itemCall, tok: kw, gap: gapOf(kw, r.p.input), body: body}, c.i, nil
}

// sampleAggregates maps the aggregates that PostgreSQL reads as sample
// statistics, and TiDB as population ones, to their unambiguous names.
var sampleAggregates = map[string]string{"STDDEV": "stddev_samp", "VARIANCE": "var_samp"}

// afterDot reports whether the next item is qualified (s.f(...)), and so
// not one of our built-in functions.
func afterDot(out []item) bool {
	n := len(out)
	return n > 0 && out[n-1].kind == itemOther && out[n-1].tok.isOp(".")
}

// filter rewrites `agg(...) FILTER (WHERE cond)`, whose call is the last two
// items of out, into __agg_filter(agg(...), cond) and returns the new out.
// The call keeps its offsets, so the planner's errors about the aggregate
// and about cond point at the text as written; the wrapper maps to the
// aggregate's name.
func (r *rewriter) filter(out []item, kw token, clause node) ([]item, error) {
	n := len(out)
	if n < 2 || out[n-1].kind != itemGroup ||
		!(out[n-2].kind == itemName || out[n-2].kind == itemWord && !notFunctions[strings.ToUpper(out[n-2].tok.text)]) ||
		afterDot(out[:n-2]) {
		return nil, r.p.errNear(kw)
	}
	if len(clause.kids) == 1 {
		return nil, r.p.errNear(clause.close)
	}
	cond, err := r.seq(clause.kids[1:], &clause.close)
	if err != nil {
		return nil, err
	}
	name, args := out[n-2], out[n-1]
	body := []seg{{text: "__agg_filter(", orig: name.tok.start}}
	body = append(body, name.body...)
	body = appendItems(body, []item{args})
	body = append(body, seg{text: ",", orig: kw.start})
	body = appendItems(body, cond)
	body = append(body, seg{text: ")", orig: clause.close.start})
	return append(out[:n-2], item{kind: itemCall, tok: name.tok, gap: name.gap, body: body}), nil
}

// stripEmitChanges removes a top-level `EMIT CHANGES` that ends the query or
// precedes its LIMIT, and reports whether it did.
func stripEmitChanges(nodes []node) ([]node, bool) {
	for k := 0; k+1 < len(nodes); k++ {
		if nodes[k].isWord("EMIT") && nodes[k+1].isWord("CHANGES") &&
			(k+2 == len(nodes) || nodes[k+2].isWord("LIMIT")) {
			out := append(append([]node(nil), nodes[:k]...), nodes[k+2:]...)
			return out, true
		}
	}
	return nodes, false
}

// offsetMap maps byte offsets in the rewritten text to byte offsets in the
// original statement. Its entries are sorted by out; the last entry is a
// sentinel for the end of the text.
type offsetMap []offsetEntry

type offsetEntry struct {
	out, orig int
	verbatim  bool
}

// lookup returns the original offset for rewritten offset off.
func (m offsetMap) lookup(off int) int {
	i := sort.Search(len(m), func(i int) bool { return m[i].out > off }) - 1
	if i < 0 {
		return 0
	}
	e := m[i]
	if e.verbatim {
		return e.orig + off - e.out
	}
	return e.orig
}

// render concatenates segments into the rewritten text and its offset map,
// with original offsets made relative to base (the statement's start).
func render(segs []seg, base, origLen int) (string, offsetMap) {
	var b strings.Builder
	m := make(offsetMap, 0, len(segs)+1)
	for _, s := range segs {
		if s.text == "" {
			continue
		}
		m = append(m, offsetEntry{out: b.Len(), orig: s.orig - base, verbatim: s.verbatim})
		b.WriteString(s.text)
	}
	m = append(m, offsetEntry{out: b.Len(), orig: origLen})
	return b.String(), m
}
