// Package scalar is the catalogue of StreamSQL's scalar functions and
// operators: for each name, how argument types resolve to a result type, and
// the row-level implementation the executor runs over a batch.
//
// The planner calls Resolve while binding; the executor calls Impl.Eval. Both
// see the same table, so a function cannot type-check one way and run
// another. Aggregates are not here (see the planner's aggregate list).
//
// Semantics follow PostgreSQL, except for the functions Nexmark queries use
// as Flink defines them: SPLIT_INDEX (0-based, NULL out of range),
// REGEXP_EXTRACT (group 0 by default, NULL on no match), REGEXP_REPLACE
// (every match, literal replacement), DATE_FORMAT (Java patterns), EXTRACT
// and HOUR/MINUTE/... (whole numbers), and Nexmark's COUNT_CHAR UDF.
// Regular expressions use Go's RE2 syntax. DECIMAL/NUMERIC values are
// DOUBLE PRECISION (64-bit floating point), so 0.908 * price is a double.
package scalar

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// EvalFunc computes one row. args have the types Resolve chose (after
// implicit casts). Unless the Impl is NullAware, no arg is NULL when it is
// called (a NULL argument yields NULL without a call).
type EvalFunc func(args []types.Value) (types.Value, error)

// Impl is a resolved function: the result type and how to compute it.
type Impl struct {
	Name      string
	Ret       types.Type
	NullAware bool
	Eval      EvalFunc
	// ArgTypes are the types each argument must be cast to before Eval.
	ArgTypes []types.Type
	// Check, when set, validates the arguments that are known when the
	// query is planned: consts[i] is argument i (after its implicit cast)
	// when it is a non-NULL constant, nil otherwise. The planner calls it so
	// that a mistake in a literal (a DATE_TRUNC unit, a regular expression,
	// a date format) is an error with a position at plan time rather than
	// an error, or a NULL, on every row.
	Check func(consts []*types.Value) error
}

// ErrNoFunction is wrapped by Resolve when the name is not known at all.
var ErrNoFunction = errors.New("no such function")

type resolver func(args []types.Type) (*Impl, error)

var registry = map[string]resolver{}

func register(name string, r resolver) { registry[name] = r }

// Names returns every registered function name, sorted (for docs and tests).
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Resolve finds the implementation of name for the given argument types.
// Errors are *sqlerr.Error without a position (the planner adds it).
func Resolve(name string, args []types.Type) (*Impl, error) {
	r, ok := registry[strings.ToLower(name)]
	if !ok {
		return nil, &sqlerr.Error{Code: sqlerr.UndefinedFunction,
			Message: fmt.Sprintf("function %s(%s) does not exist", strings.ToLower(name), typeList(args)), Err: ErrNoFunction}
	}
	return r(args)
}

func typeList(ts []types.Type) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = strings.ToLower(t.String())
	}
	return strings.Join(s, ", ")
}

func mismatch(name string, args []types.Type) error {
	return sqlerr.New(sqlerr.UndefinedFunction, "function %s(%s) does not exist", name, typeList(args)).
		WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
}

func opMismatch(op string, args []types.Type) error {
	if len(args) == 0 || len(args) > 2 {
		// Only a call by name, such as "+"(1, 2, 3), gets here.
		return mismatch(op, args)
	}
	if len(args) == 1 {
		return sqlerr.New(sqlerr.UndefinedFunction, "operator does not exist: %s %s", op, strings.ToLower(args[0].String())).
			WithHint("No operator matches the given name and argument type. You might need to add an explicit type cast.")
	}
	return sqlerr.New(sqlerr.UndefinedFunction, "operator does not exist: %s %s %s",
		strings.ToLower(args[0].String()), op, strings.ToLower(args[1].String())).
		WithHint("No operator matches the given name and argument types. You might need to add explicit type casts.")
}

// unify returns the common type of a and b for comparison and arithmetic:
// equal types, BIGINT with DOUBLE → DOUBLE, and the untyped NULL adopts the
// other side. ok is false if they do not mix.
func unify(a, b types.Type) (types.Type, bool) {
	switch {
	case a == b:
		return a, true
	case a == types.Unknown:
		return b, true
	case b == types.Unknown:
		return a, true
	case a.Numeric() && b.Numeric():
		return types.Double, true
	}
	return types.Unknown, false
}

func same(t types.Type, n int) []types.Type {
	out := make([]types.Type, n)
	for i := range out {
		out[i] = t
	}
	return out
}

// ---- arithmetic ----

func init() {
	for _, op := range []string{"+", "-", "*", "/", "%"} {
		op := op
		register(op, func(args []types.Type) (*Impl, error) { return resolveArith(op, args) })
	}
	register("neg", func(args []types.Type) (*Impl, error) {
		if len(args) != 1 || !(args[0].Numeric() || args[0] == types.Interval || args[0] == types.Unknown) {
			return nil, opMismatch("-", args)
		}
		t := args[0]
		if t == types.Unknown {
			t = types.Bigint
		}
		return &Impl{Name: "neg", Ret: t, ArgTypes: []types.Type{t}, Eval: func(a []types.Value) (types.Value, error) {
			v := a[0]
			if v.Type == types.Double {
				v.F = -v.F
			} else {
				if v.I == math.MinInt64 {
					return v, errOverflow("bigint")
				}
				v.I = -v.I
			}
			return v, nil
		}}, nil
	})
}

func errOverflow(t string) error {
	return sqlerr.New(sqlerr.NumericOutOfRange, "%s out of range", t)
}

var errDivZero = sqlerr.New(sqlerr.DivisionByZero, "division by zero")

func resolveArith(op string, args []types.Type) (*Impl, error) {
	if len(args) != 2 {
		return nil, opMismatch(op, args)
	}
	a, b := args[0], args[1]
	// Timestamp arithmetic: ts ± interval, interval + ts, ts - ts.
	switch {
	case a == types.Timestamp && b == types.Interval && (op == "+" || op == "-"):
		return &Impl{Name: op, Ret: types.Timestamp, ArgTypes: args, Eval: func(v []types.Value) (types.Value, error) {
			if op == "+" {
				return types.TimestampValue(v[0].I + v[1].I), nil
			}
			return types.TimestampValue(v[0].I - v[1].I), nil
		}}, nil
	case a == types.Interval && b == types.Timestamp && op == "+":
		return &Impl{Name: op, Ret: types.Timestamp, ArgTypes: args, Eval: func(v []types.Value) (types.Value, error) {
			return types.TimestampValue(v[0].I + v[1].I), nil
		}}, nil
	case a == types.Timestamp && b == types.Timestamp && op == "-":
		return &Impl{Name: op, Ret: types.Interval, ArgTypes: args, Eval: func(v []types.Value) (types.Value, error) {
			return types.IntervalValue(v[0].I - v[1].I), nil
		}}, nil
	case a == types.Interval && b == types.Interval && (op == "+" || op == "-"):
		return &Impl{Name: op, Ret: types.Interval, ArgTypes: args, Eval: func(v []types.Value) (types.Value, error) {
			if op == "+" {
				return types.IntervalValue(v[0].I + v[1].I), nil
			}
			return types.IntervalValue(v[0].I - v[1].I), nil
		}}, nil
	}
	t, ok := unify(a, b)
	if ok && t == types.Unknown {
		// NULL + NULL: any numeric type will do.
		t = types.Bigint
	}
	if !ok || !t.Numeric() {
		return nil, opMismatch(op, args)
	}
	impl := &Impl{Name: op, Ret: t, ArgTypes: []types.Type{t, t}}
	if t == types.Double {
		impl.Eval = func(v []types.Value) (types.Value, error) {
			x, y := v[0].F, v[1].F
			switch op {
			case "+":
				return types.FloatValue(x + y), nil
			case "-":
				return types.FloatValue(x - y), nil
			case "*":
				return types.FloatValue(x * y), nil
			case "/":
				if y == 0 {
					return types.Value{}, errDivZero
				}
				return types.FloatValue(x / y), nil
			default:
				if y == 0 {
					return types.Value{}, errDivZero
				}
				return types.FloatValue(math.Mod(x, y)), nil
			}
		}
		return impl, nil
	}
	impl.Eval = func(v []types.Value) (types.Value, error) {
		x, y := v[0].I, v[1].I
		switch op {
		case "+":
			r := x + y
			if (x >= 0) == (y >= 0) && (r >= 0) != (x >= 0) {
				return types.Value{}, errOverflow("bigint")
			}
			return types.IntValue(r), nil
		case "-":
			r := x - y
			if (x >= 0) != (y >= 0) && (r >= 0) != (x >= 0) {
				return types.Value{}, errOverflow("bigint")
			}
			return types.IntValue(r), nil
		case "*":
			if x != 0 && y != 0 {
				r := x * y
				if r/y != x || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64) {
					return types.Value{}, errOverflow("bigint")
				}
				return types.IntValue(r), nil
			}
			return types.IntValue(0), nil
		case "/":
			// Integer division truncates toward zero, as in PostgreSQL.
			if y == 0 {
				return types.Value{}, errDivZero
			}
			if x == math.MinInt64 && y == -1 {
				return types.Value{}, errOverflow("bigint")
			}
			return types.IntValue(x / y), nil
		default:
			if y == 0 {
				return types.Value{}, errDivZero
			}
			if y == -1 {
				return types.IntValue(0), nil
			}
			return types.IntValue(x % y), nil
		}
	}
	return impl, nil
}

// ---- comparison and logic ----

func init() {
	for _, op := range []string{"=", "<>", "<", "<=", ">", ">="} {
		op := op
		register(op, func(args []types.Type) (*Impl, error) {
			if len(args) != 2 {
				return nil, opMismatch(op, args)
			}
			t, ok := unify(args[0], args[1])
			if !ok || t == types.Interval && false {
				return nil, opMismatch(op, args)
			}
			if t == types.Unknown {
				t = types.Varchar
			}
			return &Impl{Name: op, Ret: types.Boolean, ArgTypes: []types.Type{t, t}, Eval: func(v []types.Value) (types.Value, error) {
				c := types.Compare(v[0], v[1])
				switch op {
				case "=":
					return types.BoolValue(c == 0), nil
				case "<>":
					return types.BoolValue(c != 0), nil
				case "<":
					return types.BoolValue(c < 0), nil
				case "<=":
					return types.BoolValue(c <= 0), nil
				case ">":
					return types.BoolValue(c > 0), nil
				default:
					return types.BoolValue(c >= 0), nil
				}
			}}, nil
		})
	}
	logic := func(name string, and bool) {
		register(name, func(args []types.Type) (*Impl, error) {
			for _, a := range args {
				if a != types.Boolean && a != types.Unknown {
					return nil, sqlerr.New(sqlerr.DatatypeMismatch, "argument of %s must be type boolean, not type %s",
						strings.ToUpper(name), strings.ToLower(a.String()))
				}
			}
			// Three-valued logic: FALSE dominates AND, TRUE dominates OR,
			// otherwise any NULL makes the result NULL.
			return &Impl{Name: name, Ret: types.Boolean, NullAware: true, ArgTypes: same(types.Boolean, len(args)),
				Eval: func(v []types.Value) (types.Value, error) {
					null := false
					for _, x := range v {
						if x.Null {
							null = true
						} else if x.Bool() != and {
							return types.BoolValue(!and), nil
						}
					}
					if null {
						return types.NullOf(types.Boolean), nil
					}
					return types.BoolValue(and), nil
				}}, nil
		})
	}
	logic("and", true)
	logic("or", false)
	register("not", func(args []types.Type) (*Impl, error) {
		if len(args) != 1 {
			return nil, mismatch("not", args)
		}
		if args[0] != types.Boolean && args[0] != types.Unknown {
			return nil, sqlerr.New(sqlerr.DatatypeMismatch, "argument of NOT must be type boolean, not type %s", strings.ToLower(args[0].String()))
		}
		return &Impl{Name: "not", Ret: types.Boolean, ArgTypes: []types.Type{types.Boolean}, Eval: func(v []types.Value) (types.Value, error) {
			return types.BoolValue(!v[0].Bool()), nil
		}}, nil
	})
	isNull := func(name string, want bool) {
		register(name, func(args []types.Type) (*Impl, error) {
			if len(args) != 1 {
				return nil, mismatch(name, args)
			}
			return &Impl{Name: name, Ret: types.Boolean, NullAware: true, ArgTypes: args, Eval: func(v []types.Value) (types.Value, error) {
				return types.BoolValue(v[0].Null == want), nil
			}}, nil
		})
	}
	isNull("is_null", true)
	isNull("is_not_null", false)
	register("like", func(args []types.Type) (*Impl, error) {
		if len(args) != 2 || !stringish(args[0]) || !stringish(args[1]) {
			return nil, opMismatch("~~", args)
		}
		return &Impl{Name: "like", Ret: types.Boolean, ArgTypes: []types.Type{types.Varchar, types.Varchar}, Eval: func(v []types.Value) (types.Value, error) {
			return types.BoolValue(Like(v[0].S, v[1].S)), nil
		}}, nil
	})
}

func stringish(t types.Type) bool { return t == types.Varchar || t == types.Unknown }

// Like reports whether s matches the SQL LIKE pattern p (% any run, _ one
// character, backslash escapes the next character).
//
// It matches greedily and, on a mismatch, backtracks only to the most recent
// %, which is enough because a % absorbs any text: the cost is O(len(s) ×
// len(p)) at worst, never exponential in the number of %s.
func Like(s, p string) bool {
	sr, pr := []rune(s), []rune(p)
	i, j := 0, 0
	star, mark := -1, 0 // the last % seen in p, and where in s it started matching
	for i < len(sr) {
		if j < len(pr) {
			switch c := pr[j]; c {
			case '%':
				star, mark = j, i
				j++
				continue
			case '_':
				i, j = i+1, j+1
				continue
			default:
				w := 1
				if c == '\\' && j+1 < len(pr) {
					c, w = pr[j+1], 2
				}
				if c == sr[i] {
					i, j = i+1, j+w
					continue
				}
			}
		}
		if star < 0 {
			return false
		}
		// Let the last % absorb one more character and retry after it.
		mark++
		i, j = mark, star+1
	}
	for j < len(pr) && pr[j] == '%' {
		j++
	}
	return j == len(pr)
}

// ---- conditional ----

func init() {
	register("coalesce", func(args []types.Type) (*Impl, error) {
		t, err := commonType("coalesce", args)
		if err != nil {
			return nil, err
		}
		return &Impl{Name: "coalesce", Ret: t, NullAware: true, ArgTypes: same(t, len(args)), Eval: func(v []types.Value) (types.Value, error) {
			for _, x := range v {
				if !x.Null {
					return x, nil
				}
			}
			return types.NullOf(t), nil
		}}, nil
	})
	register("nullif", func(args []types.Type) (*Impl, error) {
		if len(args) != 2 {
			return nil, mismatch("nullif", args)
		}
		t, err := commonType("nullif", args)
		if err != nil {
			return nil, err
		}
		return &Impl{Name: "nullif", Ret: t, NullAware: true, ArgTypes: []types.Type{t, t}, Eval: func(v []types.Value) (types.Value, error) {
			if !v[0].Null && !v[1].Null && types.Compare(v[0], v[1]) == 0 {
				return types.NullOf(t), nil
			}
			return v[0], nil
		}}, nil
	})
	// case(cond1, res1, cond2, res2, ..., else): the planner lowers both CASE
	// forms to this.
	register("case", func(args []types.Type) (*Impl, error) {
		if len(args) < 3 || len(args)%2 == 0 {
			return nil, mismatch("case", args)
		}
		var results []types.Type
		for i := 0; i+1 < len(args); i += 2 {
			if args[i] != types.Boolean && args[i] != types.Unknown {
				return nil, sqlerr.New(sqlerr.DatatypeMismatch, "argument of CASE/WHEN must be type boolean, not type %s", strings.ToLower(args[i].String()))
			}
			results = append(results, args[i+1])
		}
		results = append(results, args[len(args)-1])
		t, err := commonType("CASE", results)
		if err != nil {
			return nil, err
		}
		want := make([]types.Type, len(args))
		for i := 0; i+1 < len(args); i += 2 {
			want[i], want[i+1] = types.Boolean, t
		}
		want[len(args)-1] = t
		return &Impl{Name: "case", Ret: t, NullAware: true, ArgTypes: want, Eval: func(v []types.Value) (types.Value, error) {
			for i := 0; i+1 < len(v); i += 2 {
				if !v[i].Null && v[i].Bool() {
					return v[i+1], nil
				}
			}
			return v[len(v)-1], nil
		}}, nil
	})
}

// commonType is the type all of args can be cast to implicitly.
func commonType(name string, args []types.Type) (types.Type, error) {
	t := types.Unknown
	for _, a := range args {
		u, ok := unify(t, a)
		if !ok {
			return 0, sqlerr.New(sqlerr.DatatypeMismatch, "%s types %s and %s cannot be matched", name,
				strings.ToLower(t.String()), strings.ToLower(a.String()))
		}
		t = u
	}
	if t == types.Unknown {
		t = types.Varchar
	}
	return t, nil
}
