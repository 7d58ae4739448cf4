// Package sql is StreamSQL's dialect front: it turns the text a user sends into
// statements. Streaming DDL (CREATE STREAM/SINK, SHOW, DESCRIBE, DROP, EXPLAIN)
// is parsed here; SELECT queries are rewritten into the dialect the TiDB parser
// accepts (INTERVAL literals, PostgreSQL casts, double-quoted identifiers, EMIT
// CHANGES) and parsed by it, while every position reported to the user stays
// true to the original text.
//
// It does not bind names or types: that is the planner's job. It imports no
// other StreamSQL package except the leaf packages sql/types and sql/sqlerr.
package sql

import (
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/streamsql/streamsql/sql/types"
)

// Statement is one parsed statement.
type Statement interface {
	// Text returns the statement's original text (without the trailing semicolon).
	Text() string
}

// ObjectKind names a catalog object kind in DROP and errors.
type ObjectKind string

const (
	KindStream ObjectKind = "STREAM"
	KindSink   ObjectKind = "SINK"
	KindView   ObjectKind = "VIEW"
)

// Option is one `key = value` entry of a WITH (...) list. Key is lower-cased;
// Value is the literal's text without quotes (numbers and identifiers as written).
// Pos is the 1-based character position of the key in the full input.
type Option struct {
	Key   string
	Value string
	Pos   int
}

// Options is a WITH list in the order written.
type Options []Option

// Get returns the value of key and whether it was given.
func (o Options) Get(key string) (string, bool) {
	for _, opt := range o {
		if opt.Key == key {
			return opt.Value, true
		}
	}
	return "", false
}

// ColumnDef is one column of CREATE STREAM name (cols), or one field of a
// ROW column: `name type`, `name ROW<field type, ...>` (also ROW(...)), or
// the computed column `name AS expr`.
type ColumnDef struct {
	Name     string // as written, case preserved if quoted, lower-cased otherwise
	Type     types.Type
	TypeName string // as written, for messages ("ROW" for a ROW column)
	Pos      int    // 1-based position of the column name in the full input
	// Fields are the fields of a ROW column, in order (Type is Unknown);
	// a field may itself be a ROW.
	Fields []ColumnDef
	// Expr is the SQL text of a computed column's expression, as written;
	// empty for other columns. Type is Unknown: the planner infers it.
	// The text parses as one expression: "SELECT " + Expr is a valid query.
	Expr string
	// ExprPos is the 1-based position of Expr's first character in the
	// full input.
	ExprPos int
}

// CreateStream is CREATE STREAM [IF NOT EXISTS] name (cols) WITH (...) or
// CREATE STREAM name [WITH (...)] AS SELECT ...
type CreateStream struct {
	text        string
	Name        string
	NamePos     int
	IfNotExists bool
	Columns     []ColumnDef
	Options     Options
	Query       *Query // non-nil for the AS SELECT form
}

// CreateSink is CREATE SINK [IF NOT EXISTS] name [WITH (...)] AS SELECT ...
type CreateSink struct {
	text        string
	Name        string
	NamePos     int
	IfNotExists bool
	Options     Options
	Query       *Query
}

// CreateView is CREATE VIEW [IF NOT EXISTS] name AS SELECT ...: a named
// query expanded where it is read.
type CreateView struct {
	text        string
	Name        string
	NamePos     int
	IfNotExists bool
	Query       *Query
}

func (s *CreateView) Text() string { return s.text }

// Show is SHOW TOPICS | STREAMS | SINKS | QUERIES | VIEWS (What is upper-case).
type Show struct {
	text string
	What string
}

// Describe is DESCRIBE name (also DESC name).
type Describe struct {
	text    string
	Name    string
	NamePos int
}

// Drop is DROP STREAM|SINK|VIEW [IF EXISTS] name.
type Drop struct {
	text     string
	Kind     ObjectKind
	Name     string
	NamePos  int
	IfExists bool
}

// Explain is EXPLAIN <select>.
type Explain struct {
	text  string
	Query *Query
}

// SelectStmt is a bounded SELECT (or SELECT ... EMIT CHANGES) sent for its rows.
type SelectStmt struct {
	text  string
	Query *Query
}

// Set is SET name = value | SET name TO value | SET SESSION ... ; accepted for
// client compatibility (pgjdbc, psql) and recorded in the session.
type Set struct {
	text  string
	Name  string // lower-cased
	Value string // unquoted
}

// TxnControl is BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK, ABORT: accepted
// as no-ops so that clients that wrap statements in transactions work.
type TxnControl struct {
	text string
	Verb string // "BEGIN", "COMMIT" or "ROLLBACK"
}

// Empty is a statement with no content (only comments or whitespace).
type Empty struct{ text string }

// CopyTo is COPY (SELECT ...) TO STDOUT [[WITH] (options) | legacy options]:
// the query's rows sent to the client in COPY format, one line per row, as
// they are produced. It is the simplest way to follow a push query from psql.
type CopyTo struct {
	text   string
	Query  *Query
	Format CopyFormat
}

// CopyFormat is how COPY TO STDOUT writes rows, with PostgreSQL's defaults
// filled in by the parser: tab and `\N` for text, comma and the empty string
// for CSV.
type CopyFormat struct {
	// CSV selects FORMAT csv; otherwise FORMAT text.
	CSV bool
	// Delimiter separates the columns of a line.
	Delimiter byte
	// Null is written for a NULL value.
	Null string
	// Header writes a first line with the column names.
	Header bool
}

// DeclareCursor is DECLARE name [NO SCROLL] CURSOR [WITHOUT HOLD] FOR SELECT
// ...: it starts the query and keeps its rows for FETCH. psql sends it when
// \set FETCH_COUNT is on.
type DeclareCursor struct {
	text    string
	Name    string
	NamePos int
	Query   *Query
}

// Fetch is FETCH [NEXT | [FORWARD] n | [FORWARD] ALL] [FROM | IN] name.
// Cursors only move forward.
type Fetch struct {
	text string
	// Count is the number of rows to fetch; -1 means ALL.
	Count     int64
	Cursor    string
	CursorPos int
}

// CloseCursor is CLOSE name or CLOSE ALL.
type CloseCursor struct {
	text string
	// Name is the cursor to close; empty with All.
	Name    string
	NamePos int
	All     bool
}

func (s *CreateStream) Text() string { return s.text }
func (s *CreateSink) Text() string   { return s.text }
func (s *Show) Text() string         { return s.text }
func (s *Describe) Text() string     { return s.text }
func (s *Drop) Text() string         { return s.text }
func (s *Explain) Text() string      { return s.text }
func (s *SelectStmt) Text() string   { return s.text }
func (s *Set) Text() string          { return s.text }
func (s *TxnControl) Text() string   { return s.text }
func (s *Empty) Text() string        { return s.text }

func (s *CopyTo) Text() string        { return s.text }
func (s *DeclareCursor) Text() string { return s.text }
func (s *Fetch) Text() string         { return s.text }
func (s *CloseCursor) Text() string   { return s.text }

// Query is a SELECT parsed by the TiDB parser after the dialect rewrite.
//
// The rewrite guarantees to the planner:
//   - every INTERVAL literal (`INTERVAL '1' MINUTE`, `INTERVAL 1 MINUTE`,
//     `INTERVAL '5 seconds'`) is the call `__interval('<quantity>', '<UNIT>')`
//     where UNIT is upper-case singular (MILLISECOND, SECOND, MINUTE, HOUR, DAY,
//     WEEK) or empty when the unit is inside the quantity string;
//   - every cast, `CAST(x AS T)` and `x::T`, is the call `__cast(x, 'T')` with T
//     the type name as written (e.g. 'BIGINT', 'DOUBLE PRECISION', 'VARCHAR(20)');
//   - double-quoted names are identifiers and `||` is concatenation;
//   - `EMIT CHANGES` is removed and recorded in EmitChanges.
type Query struct {
	Select      *ast.SelectStmt
	EmitChanges bool

	// Original is the statement's original text; Rewritten what TiDB parsed.
	Original  string
	Rewritten string

	// base is the 0-based byte offset of Original within the full input.
	base int
	// input is the full text the client sent (positions are relative to it).
	input string
	// posMap maps a byte offset in Rewritten to a byte offset in Original.
	posMap func(int) int
}
