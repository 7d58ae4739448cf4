package sql

import (
	"strconv"
	"strings"

	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// Parse splits input into statements on semicolons and parses each, returning
// them in order. An input holding only whitespace, comments and semicolons
// gives one *Empty. Errors are *sqlerr.Error whose Position is a 1-based
// character offset into input (not into the failing statement), so a client
// can draw its caret under the right character of what it sent. As in
// PostgreSQL, one bad statement fails the whole input before any runs.
func Parse(input string) ([]Statement, error) {
	toks, err := lex(input)
	if err != nil {
		return nil, err
	}
	var stmts []Statement
	start := 0
	for i := 0; i <= len(toks); i++ {
		var semi *token
		if i < len(toks) {
			if !toks[i].isOp(";") {
				continue
			}
			semi = &toks[i]
		}
		// Empty statements between semicolons are skipped, as the
		// PostgreSQL server does.
		if i > start {
			st, err := parseStatement(input, toks[start:i], semi)
			if err != nil {
				return nil, err
			}
			stmts = append(stmts, st)
		}
		start = i + 1
	}
	if len(stmts) == 0 {
		return []Statement{&Empty{text: strings.TrimSpace(input)}}, nil
	}
	return stmts, nil
}

// ParseSelect parses input as exactly one SELECT statement and returns its
// query. It is a convenience for tests and tools.
func ParseSelect(input string) (*Query, error) {
	stmts, err := Parse(input)
	if err != nil {
		return nil, err
	}
	if len(stmts) != 1 {
		return nil, sqlerr.New(sqlerr.SyntaxError, "expected one SELECT statement, got %d statements", len(stmts))
	}
	sel, ok := stmts[0].(*SelectStmt)
	if !ok {
		return nil, sqlerr.New(sqlerr.WrongObjectType, "expected a SELECT statement").At(1)
	}
	return sel.Query, nil
}

// node is a token, or a parenthesised group of nodes. Statements are parsed
// as trees of nodes so that a clause in parentheses (a column list, a WITH
// list, a function's arguments) can be handed around whole.
type node struct {
	tok   token // the token, or the group's "("
	kids  []node
	close token // the group's ")"
	group bool
}

// start returns the byte offset of the node's first character in the input.
func (n node) start() int { return n.tok.start }

// end returns the byte offset just past the node.
func (n node) end() int {
	if n.group {
		return n.close.end
	}
	return n.tok.end
}

// isWord reports whether n is the unquoted keyword kw.
func (n node) isWord(kw string) bool { return !n.group && n.tok.isWord(kw) }

// isOp reports whether n is the operator op.
func (n node) isOp(op string) bool { return !n.group && n.tok.isOp(op) }

// stmtParser holds what every part of one statement's parse needs to build
// positioned errors.
type stmtParser struct {
	input string
	// semi is the statement's terminating semicolon, nil for the last
	// statement of the input. A statement that ends too early is reported
	// "at or near ";"" or "at end of input" accordingly, as PostgreSQL does.
	semi *token
}

// errNear is PostgreSQL's syntax error, positioned at t.
func (p *stmtParser) errNear(t token) *sqlerr.Error {
	return sqlerr.New(sqlerr.SyntaxError, "syntax error at or near \"%s\"", t.text).At(charPos(p.input, t.start))
}

// errEnd is the syntax error for a statement that ended too early.
func (p *stmtParser) errEnd() *sqlerr.Error {
	if p.semi != nil {
		return p.errNear(*p.semi)
	}
	return sqlerr.New(sqlerr.SyntaxError, "syntax error at end of input").At(charPos(p.input, len(p.input)))
}

// buildTree groups a statement's tokens by parentheses.
func (p *stmtParser) buildTree(toks []token) ([]node, error) {
	nodes, rest, err := p.buildLevel(toks, nil)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 { // only a stray ")" stops the top level early
		return nil, p.errNear(rest[0])
	}
	return nodes, nil
}

// buildLevel consumes tokens up to the ")" closing open (or to the end when
// open is nil) and returns the nodes and the unconsumed tokens.
func (p *stmtParser) buildLevel(toks []token, open *token) ([]node, []token, error) {
	var nodes []node
	for len(toks) > 0 {
		t := toks[0]
		toks = toks[1:]
		switch {
		case t.isOp("("):
			kids, rest, err := p.buildLevel(toks, &t)
			if err != nil {
				return nil, nil, err
			}
			if len(rest) == 0 {
				return nil, nil, p.errEnd()
			}
			nodes = append(nodes, node{tok: t, kids: kids, close: rest[0], group: true})
			toks = rest[1:]
		case t.isOp(")"):
			if open == nil {
				return nil, nil, p.errNear(t)
			}
			return nodes, append([]token{t}, toks...), nil
		default:
			nodes = append(nodes, node{tok: t})
		}
	}
	return nodes, nil, nil
}

// cursor walks one level of nodes: a statement's top level or the inside of
// a group. end is the token that follows the level (the group's ")"), nil at
// top level, where the statement's end applies.
type cursor struct {
	p     *stmtParser
	nodes []node
	i     int
	end   *token
}

func (c *cursor) atEnd() bool { return c.i >= len(c.nodes) }

// peek returns the current node, or nil at the end.
func (c *cursor) peek() *node {
	if c.atEnd() {
		return nil
	}
	return &c.nodes[c.i]
}

// err is a syntax error at the current node.
func (c *cursor) err() *sqlerr.Error {
	switch {
	case !c.atEnd():
		return c.p.errNear(c.nodes[c.i].tok)
	case c.end != nil:
		return c.p.errNear(*c.end)
	}
	return c.p.errEnd()
}

// acceptWord consumes the current node if it is keyword kw.
func (c *cursor) acceptWord(kw string) bool {
	if n := c.peek(); n != nil && n.isWord(kw) {
		c.i++
		return true
	}
	return false
}

func (c *cursor) expectWord(kw string) error {
	if !c.acceptWord(kw) {
		return c.err()
	}
	return nil
}

func (c *cursor) acceptOp(op string) bool {
	if n := c.peek(); n != nil && n.isOp(op) {
		c.i++
		return true
	}
	return false
}

// done requires the level to be fully consumed.
func (c *cursor) done() error {
	if !c.atEnd() {
		return c.err()
	}
	return nil
}

// name consumes an object or column name and returns it with its position.
func (c *cursor) name() (string, int, error) {
	n := c.peek()
	if n == nil || n.group || !n.tok.isName() {
		return "", 0, c.err()
	}
	c.i++
	return n.tok.name(), charPos(c.p.input, n.tok.start), nil
}

// group consumes a parenthesised group and returns a cursor over its inside.
func (c *cursor) group() (*cursor, error) {
	n := c.peek()
	if n == nil || !n.group {
		return nil, c.err()
	}
	c.i++
	return &cursor{p: c.p, nodes: n.kids, end: &n.close}, nil
}

// rest returns the unconsumed nodes and consumes them.
func (c *cursor) rest() []node {
	r := c.nodes[c.i:]
	c.i = len(c.nodes)
	return r
}

// parseStatement parses the tokens of one statement (without its semicolon).
func parseStatement(input string, toks []token, semi *token) (Statement, error) {
	p := &stmtParser{input: input, semi: semi}
	nodes, err := p.buildTree(toks)
	if err != nil {
		return nil, err
	}
	text := input[toks[0].start:toks[len(toks)-1].end]
	c := &cursor{p: p, nodes: nodes}
	first := nodes[0]
	if first.group || first.tok.kind != tokWord {
		return nil, c.err()
	}
	switch strings.ToUpper(first.tok.text) {
	case "CREATE":
		c.i++
		switch {
		case c.acceptWord("STREAM"):
			return parseCreateStream(c, text)
		case c.acceptWord("SINK"):
			return parseCreateSink(c, text)
		case c.acceptWord("VIEW"):
			return parseCreateView(c, text)
		}
		return nil, c.err()
	case "SELECT":
		q, err := parseQuery(p, c.rest())
		if err != nil {
			return nil, err
		}
		return &SelectStmt{text: text, Query: q}, nil
	case "EXPLAIN":
		c.i++
		if n := c.peek(); n == nil || !n.isWord("SELECT") {
			return nil, c.err()
		}
		q, err := parseQuery(p, c.rest())
		if err != nil {
			return nil, err
		}
		return &Explain{text: text, Query: q}, nil
	case "SHOW":
		c.i++
		n := c.peek()
		if n == nil || n.group {
			return nil, c.err()
		}
		what := strings.ToUpper(n.tok.text)
		switch {
		case n.tok.kind == tokWord && (what == "TOPICS" || what == "STREAMS" || what == "SINKS" || what == "QUERIES" || what == "VIEWS"):
		default:
			return nil, c.err()
		}
		c.i++
		if err := c.done(); err != nil {
			return nil, err
		}
		return &Show{text: text, What: what}, nil
	case "DESCRIBE", "DESC":
		c.i++
		name, pos, err := c.name()
		if err != nil {
			return nil, err
		}
		if err := c.done(); err != nil {
			return nil, err
		}
		return &Describe{text: text, Name: name, NamePos: pos}, nil
	case "DROP":
		c.i++
		return parseDrop(c, text)
	case "SET":
		c.i++
		return parseSet(c, text)
	case "RESET":
		c.i++
		var name string
		if c.acceptWord("ALL") {
			name = "all"
		} else {
			var err error
			if name, err = settingName(c); err != nil {
				return nil, err
			}
		}
		if err := c.done(); err != nil {
			return nil, err
		}
		return &Set{text: text, Name: name, Value: "DEFAULT"}, nil
	case "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT":
		return parseTxn(c, text)
	case "COPY":
		c.i++
		return parseCopy(c, text)
	case "DECLARE":
		c.i++
		return parseDeclare(c, text)
	case "FETCH":
		c.i++
		return parseFetch(c, text)
	case "CLOSE":
		c.i++
		return parseClose(c, text)
	}
	return nil, c.err()
}

// parseCreateStream parses what follows CREATE STREAM.
func parseCreateStream(c *cursor, text string) (Statement, error) {
	s := &CreateStream{text: text}
	var err error
	if s.IfNotExists, err = ifNotExists(c); err != nil {
		return nil, err
	}
	if s.Name, s.NamePos, err = c.name(); err != nil {
		return nil, err
	}
	if n := c.peek(); n != nil && n.group {
		cols, _ := c.group()
		if s.Columns, err = columnDefs(cols); err != nil {
			return nil, err
		}
		if s.Options, err = withOptions(c); err != nil {
			return nil, err
		}
		return s, c.done()
	}
	if s.Options, err = withOptions(c); err != nil {
		return nil, err
	}
	if s.Query, err = asSelect(c); err != nil {
		return nil, err
	}
	return s, nil
}

// parseCreateSink parses what follows CREATE SINK.
func parseCreateSink(c *cursor, text string) (Statement, error) {
	s := &CreateSink{text: text}
	var err error
	if s.IfNotExists, err = ifNotExists(c); err != nil {
		return nil, err
	}
	if s.Name, s.NamePos, err = c.name(); err != nil {
		return nil, err
	}
	if s.Options, err = withOptions(c); err != nil {
		return nil, err
	}
	if s.Query, err = asSelect(c); err != nil {
		return nil, err
	}
	return s, nil
}

// ifNotExists consumes an optional IF NOT EXISTS.
func ifNotExists(c *cursor) (bool, error) {
	if !c.acceptWord("IF") {
		return false, nil
	}
	if err := c.expectWord("NOT"); err != nil {
		return false, err
	}
	return true, c.expectWord("EXISTS")
}

// parseCreateView parses what follows CREATE VIEW.
func parseCreateView(c *cursor, text string) (Statement, error) {
	v := &CreateView{text: text}
	var err error
	if v.IfNotExists, err = ifNotExists(c); err != nil {
		return nil, err
	}
	if v.Name, v.NamePos, err = c.name(); err != nil {
		return nil, err
	}
	if v.Query, err = asSelect(c); err != nil {
		return nil, err
	}
	return v, nil
}

// asSelect parses `AS SELECT ...` to the end of the statement.
func asSelect(c *cursor) (*Query, error) {
	if err := c.expectWord("AS"); err != nil {
		return nil, err
	}
	if n := c.peek(); n == nil || !n.isWord("SELECT") {
		return nil, c.err()
	}
	return parseQuery(c.p, c.rest())
}

// columnDefs parses the inside of CREATE STREAM's column list: columns
// `name type`, ROW columns `name ROW<field type, ...>` and computed columns
// `name AS expr`, separated by commas.
func columnDefs(c *cursor) ([]ColumnDef, error) {
	var cols []ColumnDef
	for {
		var col ColumnDef
		var err error
		if col.Name, col.Pos, err = c.name(); err != nil {
			return nil, err
		}
		if c.acceptWord("AS") {
			if col.Expr, col.ExprPos, err = computedExpr(c); err != nil {
				return nil, err
			}
		} else {
			r := &rowParser{c: c}
			if err := r.columnType(&col); err != nil {
				return nil, err
			}
			if err := r.done(); err != nil {
				return nil, err
			}
		}
		cols = append(cols, col)
		if c.atEnd() {
			return cols, nil
		}
		if !c.acceptOp(",") {
			return nil, c.err()
		}
	}
}

// rowParser reads a column's type, which may be a ROW type. The angle
// brackets of ROW<...> are not grouped like parentheses, so nested ROWs
// are read token by token; the lexer reads the ">>" that closes two of
// them at once as one token, which owed records.
type rowParser struct {
	c *cursor
	// owed counts the ROWs a ">>" closed besides the innermost one; each
	// enclosing ROW takes one as its own ">".
	owed int
}

// columnType parses a type name or a ROW type into col.
func (r *rowParser) columnType(col *ColumnDef) error {
	c := r.c
	if n := c.peek(); n != nil && n.isWord("ROW") && c.i+1 < len(c.nodes) {
		next := c.nodes[c.i+1]
		switch {
		case next.isOp("<>"): // ROW<> has no fields
			return c.p.errNear(next.tok)
		case next.isOp("<"):
			c.i += 2
			fields, err := r.rowFields()
			if err != nil {
				return err
			}
			col.Fields, col.TypeName = fields, "ROW"
			return nil
		case next.group:
			// ROW(field type, ...): the same, in parentheses.
			c.i++
			g, _ := c.group()
			inner := &rowParser{c: g}
			fields, err := inner.fieldList(false)
			if err != nil {
				return err
			}
			col.Fields, col.TypeName = fields, "ROW"
			return inner.done()
		}
	}
	tn, err := typeName(c)
	if err != nil {
		return err
	}
	col.Type, col.TypeName = tn.typ, tn.text
	return nil
}

// done fails when a ">>" closed more ROWs than were open.
func (r *rowParser) done() error {
	if r.owed > 0 {
		return r.c.p.errNear(r.c.nodes[r.c.i-1].tok)
	}
	return nil
}

// rowFields parses the fields of ROW<...> after the "<", through the
// closing ">" (or a ">>" that also closes enclosing ROWs).
func (r *rowParser) rowFields() ([]ColumnDef, error) { return r.fieldList(true) }

// fieldList parses `name type, ...`. With angled the list ends at a ">"
// or ">>"; otherwise it runs to the end of the cursor's level (the inside
// of ROW(...)).
func (r *rowParser) fieldList(angled bool) ([]ColumnDef, error) {
	c := r.c
	var fields []ColumnDef
	for {
		var f ColumnDef
		var err error
		if f.Name, f.Pos, err = c.name(); err != nil {
			return nil, err
		}
		if err := r.columnType(&f); err != nil {
			return nil, err
		}
		fields = append(fields, f)
		if angled {
			switch {
			case r.owed > 0: // a nested ROW's ">>" closed this one too
				r.owed--
				return fields, nil
			case c.acceptOp(">"):
				return fields, nil
			case c.acceptOp(">>"):
				r.owed++
				return fields, nil
			}
		} else if c.atEnd() {
			return fields, nil
		}
		if !c.acceptOp(",") {
			return nil, c.err()
		}
	}
}

// computedExpr reads the expression of a computed column, up to the next
// comma of the column list, and checks that it parses as one expression.
// Errors point into the statement.
func computedExpr(c *cursor) (string, int, error) {
	start := c.i
	for n := c.peek(); n != nil && !n.isOp(","); n = c.peek() {
		c.i++
	}
	if c.i == start {
		return "", 0, c.err()
	}
	from, to := c.nodes[start].start(), c.nodes[c.i-1].end()
	text := c.p.input[from:to]
	pos := charPos(c.p.input, from)
	// The planner reads the expression as the only item of a SELECT; so
	// does this check, and positions in its errors shift by the prefix.
	const prefix = "SELECT "
	q, err := ParseSelect(prefix + text)
	if err != nil {
		e := sqlerr.As(err)
		if e.Position == 0 || e.Position >= charPos(prefix+text, len(prefix+text)) {
			// "At end of input" means at the comma or ")" after it.
			return "", 0, c.err()
		}
		return "", 0, e.At(pos + e.Position - 1 - len(prefix))
	}
	sel := q.Select
	if len(sel.Fields.Fields) != 1 || sel.Fields.Fields[0].WildCard != nil || sel.Fields.Fields[0].AsName.O != "" ||
		sel.From != nil || sel.Where != nil || sel.GroupBy != nil || sel.Having != nil || sel.OrderBy != nil ||
		sel.Limit != nil || sel.Distinct || q.EmitChanges {
		return "", 0, sqlerr.New(sqlerr.SyntaxError, "a computed column is one expression: name AS <expression>").At(pos)
	}
	return text, pos, nil
}

// withOptions parses an optional WITH (key = value, ...) list. A key given
// twice is an error, since which one wins would be a guess.
func withOptions(c *cursor) (Options, error) {
	if !c.acceptWord("WITH") {
		return nil, nil
	}
	g, err := c.group()
	if err != nil {
		return nil, err
	}
	var opts Options
	for {
		key, pos, err := optionKey(g)
		if err != nil {
			return nil, err
		}
		if _, dup := opts.Get(key); dup {
			return nil, sqlerr.New(sqlerr.SyntaxError, "option \"%s\" specified more than once", key).At(pos)
		}
		if !g.acceptOp("=") {
			return nil, g.err()
		}
		val, err := literalValue(g)
		if err != nil {
			return nil, err
		}
		opts = append(opts, Option{Key: key, Value: val, Pos: pos})
		if g.atEnd() {
			return opts, nil
		}
		if !g.acceptOp(",") {
			return nil, g.err()
		}
	}
}

// optionKey parses an option key: a name, a dotted name (a.b.c, as Kafka
// client properties are spelled) or a string literal. Keys are lower-cased.
func optionKey(c *cursor) (string, int, error) {
	n := c.peek()
	if n == nil || n.group {
		return "", 0, c.err()
	}
	pos := charPos(c.p.input, n.tok.start)
	switch n.tok.kind {
	case tokString, tokQuoted, tokBacktick:
		c.i++
		return strings.ToLower(n.tok.name()), pos, nil
	case tokWord:
		key := settingNameAfter(c)
		return strings.ToLower(key), pos, nil
	}
	return "", 0, c.err()
}

// settingName parses a possibly dotted name such as `application_name` or
// `streamsql.parallelism`, lower-cased.
func settingName(c *cursor) (string, error) {
	n := c.peek()
	if n == nil || n.group || (n.tok.kind != tokWord && n.tok.kind != tokQuoted) {
		return "", c.err()
	}
	return strings.ToLower(settingNameAfter(c)), nil
}

// settingNameAfter consumes a word followed by any .word parts; the current
// node must be a word or quoted name.
func settingNameAfter(c *cursor) string {
	parts := []string{c.nodes[c.i].tok.name()}
	c.i++
	for c.i+1 < len(c.nodes) && c.nodes[c.i].isOp(".") && !c.nodes[c.i+1].group &&
		(c.nodes[c.i+1].tok.kind == tokWord || c.nodes[c.i+1].tok.kind == tokQuoted) {
		parts = append(parts, c.nodes[c.i+1].tok.name())
		c.i += 2
	}
	return strings.Join(parts, ".")
}

// literalValue parses an option or setting value: a string literal (returned
// unquoted), a number with an optional sign, or a word (TRUE, FALSE, ON,
// json, ...) returned as written.
func literalValue(c *cursor) (string, error) {
	n := c.peek()
	if n == nil || n.group {
		return "", c.err()
	}
	t := n.tok
	switch {
	case t.kind == tokString:
		c.i++
		return unquoteString(t.text), nil
	case t.kind == tokNumber:
		c.i++
		return t.text, nil
	case t.kind == tokWord, t.kind == tokQuoted, t.kind == tokBacktick:
		c.i++
		if t.kind == tokWord {
			return t.text, nil
		}
		return t.name(), nil
	case t.isOp("-") || t.isOp("+"):
		if c.i+1 < len(c.nodes) && !c.nodes[c.i+1].group && c.nodes[c.i+1].tok.kind == tokNumber {
			c.i += 2
			sign := t.text
			if sign == "+" {
				sign = ""
			}
			return sign + c.nodes[c.i-1].tok.text, nil
		}
	}
	return "", c.err()
}

// parseDrop parses what follows DROP.
func parseDrop(c *cursor, text string) (Statement, error) {
	d := &Drop{text: text}
	switch {
	case c.acceptWord("STREAM"):
		d.Kind = KindStream
	case c.acceptWord("SINK"):
		d.Kind = KindSink
	case c.acceptWord("VIEW"):
		d.Kind = KindView
	default:
		return nil, c.err()
	}
	if c.acceptWord("IF") {
		if err := c.expectWord("EXISTS"); err != nil {
			return nil, err
		}
		d.IfExists = true
	}
	var err error
	if d.Name, d.NamePos, err = c.name(); err != nil {
		return nil, err
	}
	return d, c.done()
}

// parseSet parses what follows SET: [SESSION | LOCAL] name {= | TO} value
// [, value ...], or [SESSION | LOCAL] TIME ZONE value (recorded as the
// setting "timezone").
func parseSet(c *cursor, text string) (Statement, error) {
	if !c.acceptWord("SESSION") {
		c.acceptWord("LOCAL")
	}
	s := &Set{text: text}
	if n := c.peek(); n != nil && n.isWord("TIME") && c.i+1 < len(c.nodes) && c.nodes[c.i+1].isWord("ZONE") {
		c.i += 2
		s.Name = "timezone"
		v, err := literalValue(c)
		if err != nil {
			return nil, err
		}
		s.Value = v
		return s, c.done()
	}
	var err error
	if s.Name, err = settingName(c); err != nil {
		return nil, err
	}
	if !c.acceptOp("=") && !c.acceptWord("TO") {
		return nil, c.err()
	}
	var vals []string
	for {
		if c.acceptWord("DEFAULT") {
			vals = append(vals, "DEFAULT")
		} else {
			v, err := literalValue(c)
			if err != nil {
				return nil, err
			}
			vals = append(vals, v)
		}
		if c.atEnd() {
			break
		}
		if !c.acceptOp(",") {
			return nil, c.err()
		}
	}
	s.Value = strings.Join(vals, ", ")
	return s, nil
}

// parseTxn parses the transaction-control statements. They are accepted as
// no-ops, so their options (isolation level, READ ONLY, AND CHAIN) are
// checked only loosely: words and commas.
func parseTxn(c *cursor, text string) (Statement, error) {
	first := strings.ToUpper(c.nodes[0].tok.text)
	c.i++
	verb := first
	switch first {
	case "START":
		if err := c.expectWord("TRANSACTION"); err != nil {
			return nil, err
		}
		verb = "BEGIN"
	case "BEGIN", "COMMIT", "END", "ROLLBACK", "ABORT":
		if !c.acceptWord("WORK") {
			c.acceptWord("TRANSACTION")
		}
	}
	switch verb {
	case "END":
		verb = "COMMIT"
	case "ABORT":
		verb = "ROLLBACK"
	}
	if verb == "BEGIN" {
		// Transaction modes: ISOLATION LEVEL ..., READ ONLY, [NOT] DEFERRABLE.
		for n := c.peek(); n != nil; n = c.peek() {
			if n.group || (n.tok.kind != tokWord && !n.tok.isOp(",")) {
				return nil, c.err()
			}
			c.i++
		}
	} else if c.acceptWord("AND") {
		c.acceptWord("NO")
		if err := c.expectWord("CHAIN"); err != nil {
			return nil, err
		}
	}
	if err := c.done(); err != nil {
		return nil, err
	}
	return &TxnControl{text: text, Verb: verb}, nil
}

// parsedType is a type name read from the text.
type parsedType struct {
	typ  types.Type
	text string // as written, whitespace collapsed, e.g. "DOUBLE PRECISION", "VARCHAR(20)"
	tok  token  // the first token, where errors point
}

// typeName parses a type name: one word, or a known multi-word name (DOUBLE
// PRECISION, CHARACTER VARYING, TIMESTAMP WITH[OUT] TIME ZONE), with an
// optional modifier list such as (20) or (10, 2). Only known continuations
// are consumed, so `x::int AS y` leaves AS alone. An unknown type is
// PostgreSQL's 42704 at the type's position.
func typeName(c *cursor) (parsedType, error) {
	n := c.peek()
	// INTERVAL is reserved as a name but is a type (the planner decides
	// where it may appear).
	if n == nil || n.group || n.tok.kind != tokWord ||
		(reserved[strings.ToUpper(n.tok.text)] && !n.tok.isWord("INTERVAL")) {
		return parsedType{}, c.err()
	}
	first := n.tok
	c.i++
	var b strings.Builder
	b.WriteString(first.text)
	base := first.text
	word := func(kw string) bool {
		if m := c.peek(); m != nil && m.isWord(kw) {
			b.WriteString(" " + m.tok.text)
			base += " " + m.tok.text
			c.i++
			return true
		}
		return false
	}
	up := strings.ToUpper(first.text)
	switch up {
	case "DOUBLE":
		word("PRECISION")
	case "CHARACTER", "CHAR":
		word("VARYING")
	}
	if m := c.peek(); m != nil && m.group {
		g, _ := c.group()
		b.WriteByte('(')
		for _, k := range g.nodes {
			if k.group || (k.tok.kind != tokNumber && !k.tok.isOp(",")) {
				return parsedType{}, c.p.errNear(k.tok)
			}
			b.WriteString(k.tok.text)
		}
		b.WriteByte(')')
	}
	if up == "TIMESTAMP" || up == "TIME" {
		if m := c.peek(); m != nil && (m.isWord("WITH") || m.isWord("WITHOUT")) {
			word(m.tok.text)
			if !word("TIME") || !word("ZONE") {
				return parsedType{}, c.err()
			}
		}
	}
	text := b.String()
	typ, ok := types.ParseType(text)
	if !ok {
		return parsedType{}, sqlerr.New(sqlerr.UndefinedObject, "type \"%s\" does not exist", lowerASCII(base)).
			At(charPos(c.p.input, first.start))
	}
	return parsedType{typ: typ, text: text, tok: first}, nil
}

// parseCopy parses what follows COPY. Only COPY (SELECT ...) TO STDOUT is
// supported; the other forms get an error that says what to write instead.
func parseCopy(c *cursor, text string) (Statement, error) {
	n := c.peek()
	if n == nil {
		return nil, c.err()
	}
	if !n.group {
		if !n.tok.isName() {
			return nil, c.err()
		}
		name := n.tok.name()
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "COPY of a stream by name is not supported").
			At(charPos(c.p.input, n.start())).
			WithHint("Copy a query instead: COPY (SELECT * FROM %s) TO STDOUT", name)
	}
	g, _ := c.group()
	if first := g.peek(); first == nil || !first.isWord("SELECT") {
		return nil, g.err()
	}
	q, err := parseQuery(c.p, g.rest())
	if err != nil {
		return nil, err
	}
	if n := c.peek(); n != nil && n.isWord("FROM") {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "COPY FROM is not supported").At(charPos(c.p.input, n.start())).
			WithHint("Produce records to the stream's Kafka topic instead.")
	}
	if err := c.expectWord("TO"); err != nil {
		return nil, err
	}
	switch n := c.peek(); {
	case n != nil && n.isWord("STDOUT"):
		c.i++
	case n != nil && (n.isWord("PROGRAM") || (!n.group && n.tok.kind == tokString)):
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "COPY to a file or program is not supported").
			At(charPos(c.p.input, n.start())).
			WithHint("Use COPY ... TO STDOUT; psql's \\copy writes a file on the client.")
	default:
		return nil, c.err()
	}
	f, err := copyOptions(c)
	if err != nil {
		return nil, err
	}
	return &CopyTo{text: text, Query: q, Format: f}, nil
}

// copyOptions parses the options after TO STDOUT, in either of
// PostgreSQL's spellings: [WITH] (FORMAT csv, HEADER, DELIMITER ';', NULL
// 'none') or the older [WITH] CSV HEADER DELIMITER [AS] ';' NULL [AS]
// 'none', which is what psql's \copy sends for `\copy (...) to stdout with csv header`.
// The result has the format's defaults filled in and is validated as
// PostgreSQL validates it.
func copyOptions(c *cursor) (CopyFormat, error) {
	var (
		csv, header bool
		delim, null *string
		delimPos    int
		seen        = map[string]bool{}
	)
	optionAtNode := func(n *node) int { return charPos(c.p.input, n.start()) }
	once := func(key string, pos int) error {
		if seen[key] {
			return sqlerr.New(sqlerr.SyntaxError, "conflicting or redundant options").At(pos)
		}
		seen[key] = true
		return nil
	}
	c.acceptWord("WITH")
	if n := c.peek(); n != nil && n.group {
		g, _ := c.group()
		for {
			k := g.peek()
			if k == nil || k.group || k.tok.kind != tokWord {
				return CopyFormat{}, g.err()
			}
			key, pos := strings.ToLower(k.tok.text), optionAtNode(k)
			g.i++
			if err := once(key, pos); err != nil {
				return CopyFormat{}, err
			}
			// The value is optional (HEADER alone means true).
			var val string
			hasVal := false
			if v := g.peek(); v != nil && !v.isOp(",") {
				s, err := literalValue(g)
				if err != nil {
					return CopyFormat{}, err
				}
				val, hasVal = s, true
			}
			switch key {
			case "format":
				switch strings.ToLower(val) {
				case "text":
				case "csv":
					csv = true
				case "binary":
					return CopyFormat{}, sqlerr.New(sqlerr.FeatureNotSupported, "COPY format \"binary\" is not supported").At(pos).
						WithHint("Use FORMAT text or FORMAT csv.")
				default:
					return CopyFormat{}, sqlerr.New(sqlerr.InvalidParameter, "COPY format \"%s\" not recognized", val).At(pos)
				}
			case "header":
				b := true
				if hasVal {
					switch strings.ToLower(val) {
					case "true", "on", "1":
					case "false", "off", "0":
						b = false
					default:
						return CopyFormat{}, sqlerr.New(sqlerr.InvalidParameter, "header requires a Boolean value").At(pos)
					}
				}
				header = b
			case "delimiter", "null":
				if !hasVal {
					return CopyFormat{}, sqlerr.New(sqlerr.SyntaxError, "%s requires a parameter", key).At(pos)
				}
				if key == "null" {
					null = &val
				} else {
					delim, delimPos = &val, pos
				}
			default:
				return CopyFormat{}, sqlerr.New(sqlerr.SyntaxError, "option \"%s\" not recognized", key).At(pos)
			}
			if g.atEnd() {
				break
			}
			if !g.acceptOp(",") {
				return CopyFormat{}, g.err()
			}
		}
	} else {
		for !c.atEnd() {
			n := c.peek()
			pos := optionAtNode(n)
			switch {
			case n.isWord("CSV"):
				c.i++
				if err := once("format", pos); err != nil {
					return CopyFormat{}, err
				}
				csv = true
			case n.isWord("BINARY"):
				return CopyFormat{}, sqlerr.New(sqlerr.FeatureNotSupported, "COPY format \"binary\" is not supported").At(pos).
					WithHint("Use FORMAT text or FORMAT csv.")
			case n.isWord("HEADER"):
				c.i++
				if err := once("header", pos); err != nil {
					return CopyFormat{}, err
				}
				header = true
			case n.isWord("DELIMITER"), n.isWord("NULL"):
				c.i++
				key := strings.ToLower(n.tok.text)
				if err := once(key, pos); err != nil {
					return CopyFormat{}, err
				}
				c.acceptWord("AS")
				v := c.peek()
				if v == nil || v.group || v.tok.kind != tokString {
					return CopyFormat{}, c.err()
				}
				c.i++
				s := unquoteString(v.tok.text)
				if key == "null" {
					null = &s
				} else {
					delim, delimPos = &s, pos
				}
			default:
				return CopyFormat{}, c.err()
			}
		}
	}
	f := CopyFormat{CSV: csv, Header: header, Delimiter: '\t', Null: `\N`}
	if csv {
		f.Delimiter, f.Null = ',', ""
	}
	if null != nil {
		f.Null = *null
	}
	if delim != nil {
		if len(*delim) != 1 {
			return CopyFormat{}, sqlerr.New(sqlerr.FeatureNotSupported, "COPY delimiter must be a single one-byte character").At(delimPos)
		}
		f.Delimiter = (*delim)[0]
	}
	badDelim := func(format string, args ...any) error {
		e := sqlerr.New(sqlerr.InvalidParameter, format, args...)
		if delimPos > 0 {
			e = e.At(delimPos)
		}
		return e
	}
	switch {
	case f.Delimiter == '\n' || f.Delimiter == '\r':
		return CopyFormat{}, badDelim("COPY delimiter cannot be newline or carriage return")
	case strings.ContainsAny(f.Null, "\r\n"):
		return CopyFormat{}, sqlerr.New(sqlerr.InvalidParameter, "COPY null representation cannot use newline or carriage return")
	case !csv && strings.IndexByte(`\.abcdefghijklmnopqrstuvwxyz0123456789`, f.Delimiter) >= 0:
		return CopyFormat{}, badDelim("COPY delimiter cannot be \"%c\"", f.Delimiter)
	case csv && f.Delimiter == '"':
		return CopyFormat{}, badDelim("COPY delimiter and quote must be different")
	case strings.IndexByte(f.Null, f.Delimiter) >= 0:
		return CopyFormat{}, badDelim("COPY delimiter character must not appear in the NULL specification")
	case csv && strings.IndexByte(f.Null, '"') >= 0:
		return CopyFormat{}, sqlerr.New(sqlerr.InvalidParameter, "CSV quote character must not appear in the NULL specification")
	}
	return f, nil
}

// parseDeclare parses what follows DECLARE: name [options] CURSOR [WITHOUT
// HOLD] FOR SELECT .... Cursors read forward only and end with their
// transaction, so SCROLL, BINARY and WITH HOLD are refused.
func parseDeclare(c *cursor, text string) (Statement, error) {
	d := &DeclareCursor{text: text}
	var err error
	if d.Name, d.NamePos, err = c.name(); err != nil {
		return nil, err
	}
	for done := false; !done; {
		n := c.peek()
		if n == nil {
			return nil, c.err()
		}
		pos := charPos(c.p.input, n.start())
		switch {
		case c.acceptWord("NO"):
			if err := c.expectWord("SCROLL"); err != nil {
				return nil, err
			}
		case c.acceptWord("INSENSITIVE"), c.acceptWord("ASENSITIVE"):
		case c.acceptWord("SCROLL"):
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "scrollable cursors are not supported").At(pos).
				WithHint("A stream is read forward only: DECLARE name NO SCROLL CURSOR FOR ...")
		case c.acceptWord("BINARY"):
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "binary cursors are not supported").At(pos)
		case c.acceptWord("CURSOR"):
			done = true
		default:
			return nil, c.err()
		}
	}
	if n := c.peek(); n != nil && n.isWord("WITH") {
		pos := charPos(c.p.input, n.start())
		c.i++
		if err := c.expectWord("HOLD"); err != nil {
			return nil, err
		}
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "WITH HOLD cursors are not supported").At(pos).
			WithHint("A cursor lives until CLOSE or the end of its transaction.")
	}
	if c.acceptWord("WITHOUT") {
		if err := c.expectWord("HOLD"); err != nil {
			return nil, err
		}
	}
	if err := c.expectWord("FOR"); err != nil {
		return nil, err
	}
	if n := c.peek(); n == nil || !n.isWord("SELECT") {
		return nil, c.err()
	}
	if d.Query, err = parseQuery(c.p, c.rest()); err != nil {
		return nil, err
	}
	return d, nil
}

// parseFetch parses what follows FETCH: an optional forward direction
// (NEXT, FORWARD, FORWARD n, FORWARD ALL, n, ALL), an optional FROM or IN,
// and the cursor's name. The backward and absolute directions are refused
// as PostgreSQL refuses them for a NO SCROLL cursor.
func parseFetch(c *cursor, text string) (Statement, error) {
	f := &Fetch{text: text, Count: 1}
	count := func() (bool, error) {
		n := c.peek()
		if n == nil || n.group {
			return false, nil
		}
		sign := int64(1)
		numAt := c.i
		if (n.isOp("-") || n.isOp("+")) && c.i+1 < len(c.nodes) {
			if n.isOp("-") {
				sign = -1
			}
			numAt++
		}
		m := c.nodes[numAt]
		if m.group || m.tok.kind != tokNumber {
			return false, nil
		}
		v, err := strconv.ParseInt(m.tok.text, 10, 64)
		if err != nil {
			return false, c.p.errNear(m.tok)
		}
		if sign < 0 && v != 0 {
			return false, backwardFetch(c, n)
		}
		c.i = numAt + 1
		f.Count = v
		return true, nil
	}
	n := c.peek()
	switch {
	case n == nil:
		return nil, c.err()
	case c.acceptWord("NEXT"):
	case c.acceptWord("ALL"):
		f.Count = -1
	case c.acceptWord("FORWARD"):
		if c.acceptWord("ALL") {
			f.Count = -1
		} else if _, err := count(); err != nil {
			return nil, err
		}
	case n.isWord("PRIOR") || n.isWord("FIRST") || n.isWord("LAST") || n.isWord("ABSOLUTE") ||
		n.isWord("RELATIVE") || n.isWord("BACKWARD"):
		return nil, backwardFetch(c, n)
	default:
		if _, err := count(); err != nil {
			return nil, err
		}
	}
	if !c.acceptWord("FROM") {
		c.acceptWord("IN")
	}
	var err error
	if f.Cursor, f.CursorPos, err = c.name(); err != nil {
		return nil, err
	}
	return f, c.done()
}

// backwardFetch is the error for a FETCH direction other than forward.
func backwardFetch(c *cursor, n *node) error {
	return sqlerr.New(sqlerr.ObjectNotInPrereq, "cursor can only scan forward").At(charPos(c.p.input, n.start())).
		WithHint("Cursors over streams read forward only: FETCH [FORWARD] n, FETCH NEXT or FETCH ALL.")
}

// parseClose parses what follows CLOSE: a cursor's name or ALL.
func parseClose(c *cursor, text string) (Statement, error) {
	cl := &CloseCursor{text: text}
	if c.acceptWord("ALL") {
		cl.All = true
		return cl, c.done()
	}
	var err error
	if cl.Name, cl.NamePos, err = c.name(); err != nil {
		return nil, err
	}
	return cl, c.done()
}
