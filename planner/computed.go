package planner

import (
	"fmt"
	"strings"

	"github.com/streamsql/streamsql/catalog"
	"github.com/streamsql/streamsql/sql"
	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// computedPrefix turns a computed column's expression text into a query the
// SQL front parses: the expression is its only select item.
const computedPrefix = "SELECT "

// BindComputed binds the computed columns of st (those with Expr set) over
// its decoded columns, in column order. A computed column may read the
// decoded columns, including the leaves of ROW columns (`bid.price`), but
// neither other computed columns nor rowtime, and may not aggregate. When a
// computed column already has a type (it was bound when the stream was
// created), its expression is cast to it.
//
// The position of an error counts characters from the expression's first
// character (1), so that CREATE STREAM can point into its own text; see
// ComputedError for the column it is about.
func BindComputed(st *catalog.Stream) ([]ComputedColumn, error) {
	decoded := decodedColumns(st)
	sc := &scope{table: st.Name, cols: make([]Column, len(decoded))}
	for i, c := range decoded {
		sc.cols[i] = Column{st.Columns[c].Name, st.Columns[c].Type}
	}
	var out []ComputedColumn
	for i, c := range st.Columns {
		if !c.Computed() {
			continue
		}
		e, err := bindComputed(sc, c)
		if err != nil {
			return nil, &ComputedError{Column: i, Err: err}
		}
		out = append(out, ComputedColumn{Col: i, Expr: e})
	}
	return out, nil
}

// ComputedError is a computed column that does not bind: Err (a
// *sqlerr.Error) positioned within the column's expression text.
type ComputedError struct {
	// Column is the index of the column in Stream.Columns.
	Column int
	Err    error
}

func (e *ComputedError) Error() string { return e.Err.Error() }
func (e *ComputedError) Unwrap() error { return e.Err }

func bindComputed(sc *scope, c catalog.Column) (Expr, error) {
	q, err := sql.ParseSelect(computedPrefix + c.Expr)
	if err != nil {
		return nil, exprPosition(err)
	}
	if len(q.Select.Fields.Fields) != 1 || q.Select.From != nil {
		return nil, sqlerr.New(sqlerr.SyntaxError, "a computed column is one expression: name AS <expression>").At(1)
	}
	node := q.Select.Fields.Fields[0].Expr
	if agg := firstAggregate(node); agg != nil {
		return nil, exprPosition(sqlerr.New(sqlerr.GroupingError, "aggregate functions are not allowed in a computed column").
			At(q.Position(agg)))
	}
	bd := &binder{q: q, sc: sc}
	e, err := bd.bind(node)
	if err != nil {
		err = exprPosition(err)
		if e := sqlerr.As(err); e.Code == sqlerr.UndefinedColumn && e.Hint == "" {
			err = e.WithHint("A computed column reads the decoded columns only: not other computed columns, nor rowtime.")
		}
		return nil, err
	}
	e = outputExpr(e)
	if c.Type != types.Unknown && e.Type() != c.Type {
		if e, err = bd.cast(node, e, c.Type); err != nil {
			return nil, exprPosition(err)
		}
	}
	switch e.Type() {
	case types.Interval, types.Unknown:
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "a stream column cannot be of type %s", e.Type()).At(1)
	}
	return e, nil
}

// exprPosition moves an error's position from the parsed query to the
// expression text.
func exprPosition(err error) error {
	e := sqlerr.As(err)
	if e.Position == 0 {
		return e
	}
	return e.At(max(e.Position-len(computedPrefix), 1))
}

// computedScanError reports a stored computed column that no longer binds
// (a function it calls changed): an error about the stream, with no
// position in the query being planned.
func computedScanError(st *catalog.Stream, err error) error {
	e := *sqlerr.As(err)
	name := ""
	if ce, ok := err.(*ComputedError); ok {
		name = st.Columns[ce.Column].Name
	}
	e.Message = fmt.Sprintf("computed column %q of stream %q: %s", name, st.Name, strings.TrimSpace(e.Message))
	e.Position = 0
	return &e
}

// rowFieldsOf lists the columns of sc that are fields of the ROW column
// row (named "row.field", leaves of a ROW in a ROW included), as a query
// would name them; at most six, then "...".
func rowFieldsOf(sc *scope, row string) []string {
	var out []string
	for _, c := range sc.cols {
		if len(c.Name) > len(row)+1 && c.Name[len(row)] == '.' && strings.EqualFold(c.Name[:len(row)], row) {
			if len(out) == 6 {
				return append(out, "...")
			}
			out = append(out, c.Name)
		}
	}
	return out
}
