package planner

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/streamsql/streamsql/planner/scalar"
	"github.com/streamsql/streamsql/sql/types"
)

// Expr is a bound, typed scalar expression over the columns of its input.
// Expressions are immutable values; String renders them for EXPLAIN and is
// also how the planner recognises that two expressions are the same (a
// SELECT item matching a GROUP BY item).
type Expr interface {
	Type() types.Type
	String() string
}

// ColRef reads column Idx of the input row.
type ColRef struct {
	Idx  int
	Name string
	T    types.Type
}

// Literal is a constant.
type Literal struct{ V types.Value }

// Call applies a scalar function or operator. Display is how it prints:
// an infix operator ("+", "=", "AND"), a prefix one ("NOT", "-"), or a
// function name.
type Call struct {
	Impl    *scalar.Impl
	Args    []Expr
	Display string
	Infix   bool
	Prefix  bool
}

func (c *ColRef) Type() types.Type  { return c.T }
func (c *ColRef) String() string    { return c.Name }
func (l *Literal) Type() types.Type { return l.V.Type }
func (c *Call) Type() types.Type    { return c.Impl.Ret }

func (l *Literal) String() string {
	v := l.V
	if v.Null {
		return "NULL"
	}
	switch v.Type {
	case types.Varchar:
		return "'" + strings.ReplaceAll(v.S, "'", "''") + "'"
	case types.Timestamp:
		return "TIMESTAMP '" + v.String() + "'"
	case types.Interval:
		return "INTERVAL '" + FormatDuration(v.I) + "'"
	case types.Boolean:
		if v.Bool() {
			return "TRUE"
		}
		return "FALSE"
	}
	return v.String()
}

func (c *Call) String() string {
	switch {
	case c.Infix && len(c.Args) == 2:
		return fmt.Sprintf("(%s %s %s)", c.Args[0], c.Display, c.Args[1])
	case c.Prefix && len(c.Args) == 1:
		if c.Display == "-" {
			s := c.Args[0].String()
			if strings.HasPrefix(s, "-") {
				// "--x" would read as a comment.
				return "-(" + s + ")"
			}
			return "-" + s
		}
		return c.Display + " " + c.Args[0].String()
	case c.Display == "cast":
		return fmt.Sprintf("CAST(%s AS %s)", c.Args[0], c.Impl.Ret)
	case c.Display == "is_null":
		return fmt.Sprintf("(%s IS NULL)", c.Args[0])
	case c.Display == "is_not_null":
		return fmt.Sprintf("(%s IS NOT NULL)", c.Args[0])
	case c.Display == "case":
		var b strings.Builder
		b.WriteString("CASE")
		for i := 0; i+1 < len(c.Args); i += 2 {
			fmt.Fprintf(&b, " WHEN %s THEN %s", c.Args[i], c.Args[i+1])
		}
		fmt.Fprintf(&b, " ELSE %s END", c.Args[len(c.Args)-1])
		return b.String()
	}
	parts := make([]string, len(c.Args))
	for i, a := range c.Args {
		parts[i] = a.String()
	}
	return c.Display + "(" + strings.Join(parts, ", ") + ")"
}

// FormatDuration renders milliseconds compactly for EXPLAIN and SHOW: "1m",
// "5s", "1h30m", "250ms".
func FormatDuration(ms int64) string {
	if ms == 0 {
		return "0s"
	}
	var b strings.Builder
	if ms < 0 {
		b.WriteByte('-')
		ms = -ms
	}
	for _, u := range []struct {
		n int64
		s string
	}{{86_400_000, "d"}, {3_600_000, "h"}, {60_000, "m"}, {1000, "s"}, {1, "ms"}} {
		if ms >= u.n {
			b.WriteString(strconv.FormatInt(ms/u.n, 10))
			b.WriteString(u.s)
			ms %= u.n
		}
	}
	return b.String()
}

// columnsOf returns the ColRef indexes an expression reads.
func columnsOf(e Expr, out map[int]bool) {
	switch e := e.(type) {
	case *ColRef:
		out[e.Idx] = true
	case *Call:
		for _, a := range e.Args {
			columnsOf(a, out)
		}
	}
}

// ColumnsOf adds to out the input columns e reads.
func ColumnsOf(e Expr, out map[int]bool) { columnsOf(e, out) }
