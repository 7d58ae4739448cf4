package scalar_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/planner/scalar"
	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// Value constructors, short so that the tables below read as SQL.
var (
	i    = types.IntValue
	f    = types.FloatValue
	s    = types.StringValue
	b    = types.BoolValue
	ts   = types.TimestampValue
	iv   = types.IntervalValue
	null = types.NullOf
	// untyped is the NULL literal before coercion.
	untyped = types.NullOf(types.Unknown)
)

const (
	maxInt = math.MaxInt64
	minInt = math.MinInt64
	// T is Monday 2026-11-23 10:00:30.250 UTC.
	T = 1795428030250
)

// eval resolves name over the argument types and runs it the way the planner
// and executor do together: each argument is implicitly cast to the type the
// signature asks for, and a function that is not NullAware yields NULL for a
// NULL argument without being called.
func eval(t *testing.T, name string, args ...types.Value) (types.Value, error) {
	t.Helper()
	argTypes := make([]types.Type, len(args))
	for k, a := range args {
		argTypes[k] = a.Type
	}
	impl, err := scalar.Resolve(name, argTypes)
	if err != nil {
		return types.Value{}, err
	}
	if len(impl.ArgTypes) != len(args) {
		t.Fatalf("%s%v: resolved with %d argument types for %d arguments", name, argTypes, len(impl.ArgTypes), len(args))
	}
	vals := make([]types.Value, len(args))
	anyNull := false
	for k, a := range args {
		want := impl.ArgTypes[k]
		v := a
		if a.Type != want {
			c, err := scalar.Cast(a.Type, want)
			if err != nil {
				return types.Value{}, err
			}
			if a.Null {
				v = types.NullOf(want)
			} else if v, err = c.Eval([]types.Value{a}); err != nil {
				return types.Value{}, err
			}
		}
		vals[k] = v
		anyNull = anyNull || v.Null
	}
	if anyNull && !impl.NullAware {
		return types.NullOf(impl.Ret), nil
	}
	v, err := impl.Eval(vals)
	if err == nil && v.Type != impl.Ret {
		t.Errorf("%s%v returned a value of type %s, but Resolve promised %s", name, argTypes, v.Type, impl.Ret)
	}
	return v, err
}

func show(v types.Value) string {
	t := strings.ToLower(v.Type.String())
	if v.Null {
		return "NULL::" + t
	}
	if v.Type == types.Varchar {
		return fmt.Sprintf("%q::%s", v.S, t)
	}
	if v.Type == types.Double {
		return fmt.Sprintf("%v::%s", v.F, t)
	}
	return v.String() + "::" + t
}

func sameValue(a, b types.Value) bool {
	if a.Type != b.Type || a.Null != b.Null {
		return false
	}
	if a.Null {
		return true
	}
	switch a.Type {
	case types.Double:
		if math.IsNaN(a.F) || math.IsNaN(b.F) {
			return math.IsNaN(a.F) && math.IsNaN(b.F)
		}
		return a.F == b.F && math.Signbit(a.F) == math.Signbit(b.F)
	case types.Varchar:
		return a.S == b.S
	}
	return a.I == b.I
}

// fcase is one call: either want is the result or code the SQLSTATE of the
// error.
type fcase struct {
	fn   string
	args []types.Value
	want types.Value
	code string
}

func ok(fn string, want types.Value, args ...types.Value) fcase {
	return fcase{fn: fn, args: args, want: want}
}

func fails(fn, code string, args ...types.Value) fcase {
	return fcase{fn: fn, args: args, code: code}
}

var functionCases = []fcase{
	// ---- + ----
	ok("+", i(3), i(1), i(2)),
	ok("+", i(-1), i(maxInt), i(minInt)),
	fails("+", sqlerr.NumericOutOfRange, i(maxInt), i(1)),
	fails("+", sqlerr.NumericOutOfRange, i(minInt), i(-1)),
	ok("+", f(3.5), f(1.5), i(2)),
	ok("+", f(3.5), i(2), f(1.5)),
	ok("+", null(types.Bigint), null(types.Bigint), i(1)),
	ok("+", null(types.Bigint), i(1), untyped),
	ok("+", null(types.Bigint), untyped, untyped),
	ok("+", ts(61_000), ts(1_000), iv(60_000)),
	ok("+", ts(61_000), iv(60_000), ts(1_000)),
	ok("+", iv(90_000), iv(60_000), iv(30_000)),
	fails("+", sqlerr.UndefinedFunction, s("a"), i(1)),
	fails("+", sqlerr.UndefinedFunction, i(1), s("a")),
	fails("+", sqlerr.UndefinedFunction, ts(0), ts(0)),
	fails("+", sqlerr.UndefinedFunction, ts(0), i(1)),
	fails("+", sqlerr.UndefinedFunction, b(true), i(1)),
	fails("+", sqlerr.UndefinedFunction, i(1)),

	// ---- - ----
	ok("-", i(-2), i(3), i(5)),
	ok("-", i(minInt), i(-1), i(maxInt)),
	fails("-", sqlerr.NumericOutOfRange, i(minInt), i(1)),
	fails("-", sqlerr.NumericOutOfRange, i(0), i(minInt)),
	fails("-", sqlerr.NumericOutOfRange, i(maxInt), i(-1)),
	ok("-", f(-0.5), f(1), f(1.5)),
	ok("-", iv(59_000), ts(60_000), ts(1_000)),
	ok("-", ts(0), ts(60_000), iv(60_000)),
	ok("-", iv(30_000), iv(60_000), iv(30_000)),
	ok("-", null(types.Interval), ts(0), null(types.Timestamp)),
	fails("-", sqlerr.UndefinedFunction, iv(1), ts(1)),
	fails("-", sqlerr.UndefinedFunction, s("b"), s("a")),

	// ---- * ----
	ok("*", i(42), i(6), i(7)),
	ok("*", i(0), i(0), i(maxInt)),
	ok("*", i(0), i(minInt), i(0)),
	ok("*", i(minInt), i(minInt), i(1)),
	ok("*", i(-maxInt), i(maxInt), i(-1)),
	fails("*", sqlerr.NumericOutOfRange, i(maxInt), i(2)),
	fails("*", sqlerr.NumericOutOfRange, i(minInt), i(-1)),
	fails("*", sqlerr.NumericOutOfRange, i(-1), i(minInt)),
	fails("*", sqlerr.NumericOutOfRange, i(1<<32), i(1<<31)),
	ok("*", f(5), f(2.5), i(2)),
	ok("*", null(types.Double), f(2.5), null(types.Double)),

	// ---- / : integer division truncates toward zero ----
	ok("/", i(3), i(7), i(2)),
	ok("/", i(-3), i(-7), i(2)),
	ok("/", i(-3), i(7), i(-2)),
	ok("/", i(3), i(-7), i(-2)),
	ok("/", i(0), i(1), i(2)),
	fails("/", sqlerr.DivisionByZero, i(1), i(0)),
	fails("/", sqlerr.DivisionByZero, i(0), i(0)),
	fails("/", sqlerr.NumericOutOfRange, i(minInt), i(-1)),
	ok("/", i(-maxInt), i(maxInt), i(-1)),
	ok("/", f(3.5), f(7), i(2)),
	ok("/", f(-3.5), i(-7), f(2)),
	fails("/", sqlerr.DivisionByZero, f(1), f(0)),
	fails("/", sqlerr.DivisionByZero, f(1), i(0)),
	ok("/", null(types.Bigint), null(types.Bigint), i(0)),

	// ---- % : the sign follows the dividend ----
	ok("%", i(1), i(7), i(3)),
	ok("%", i(-1), i(-7), i(3)),
	ok("%", i(1), i(7), i(-3)),
	ok("%", i(0), i(minInt), i(-1)),
	fails("%", sqlerr.DivisionByZero, i(5), i(0)),
	ok("%", f(1.5), f(7.5), i(2)),
	ok("%", f(-1.5), f(-7.5), i(2)),
	fails("%", sqlerr.DivisionByZero, f(1), f(0)),
	ok("mod", i(1), i(7), i(3)),
	ok("mod", i(-1), i(-7), i(3)),
	fails("mod", sqlerr.DivisionByZero, i(1), i(0)),
	ok("mod", null(types.Bigint), null(types.Bigint), i(3)),

	// ---- unary minus ----
	ok("neg", i(-5), i(5)),
	ok("neg", i(5), i(-5)),
	ok("neg", i(-maxInt), i(maxInt)),
	fails("neg", sqlerr.NumericOutOfRange, i(minInt)),
	ok("neg", f(-2.5), f(2.5)),
	ok("neg", iv(-1000), iv(1000)),
	ok("neg", null(types.Bigint), untyped),
	ok("neg", null(types.Double), null(types.Double)),
	fails("neg", sqlerr.UndefinedFunction, s("a")),
	fails("neg", sqlerr.UndefinedFunction, ts(0)),

	// ---- comparison ----
	ok("=", b(true), i(1), i(1)),
	ok("=", b(true), i(1), f(1.0)),
	ok("=", b(false), f(1.5), i(1)),
	ok("=", b(true), s("a"), s("a")),
	ok("=", b(false), s("a"), s("A")),
	ok("=", b(true), ts(5), ts(5)),
	ok("=", b(true), b(false), b(false)),
	ok("=", b(true), iv(60_000), iv(60_000)),
	ok("=", null(types.Boolean), i(1), null(types.Bigint)),
	ok("=", null(types.Boolean), untyped, untyped),
	fails("=", sqlerr.UndefinedFunction, s("1"), i(1)),
	fails("=", sqlerr.UndefinedFunction, ts(0), i(0)),
	fails("=", sqlerr.UndefinedFunction, b(true), i(1)),
	ok("<>", b(true), i(1), i(2)),
	ok("<>", b(false), s("x"), s("x")),
	ok("<>", null(types.Boolean), null(types.Varchar), s("x")),
	ok("<", b(true), i(1), i(2)),
	ok("<", b(false), i(2), i(2)),
	ok("<", b(true), s("a"), s("b")),
	ok("<", b(true), s("B"), s("a")), // byte order, like COLLATE "C"
	ok("<", b(true), b(false), b(true)),
	ok("<", b(true), i(-1), f(-0.5)),
	ok("<", b(true), ts(-1), ts(0)),
	ok("<=", b(true), i(2), i(2)),
	ok("<=", b(false), f(2.5), i(2)),
	ok(">", b(true), i(3), i(2)),
	ok(">", b(false), s("a"), s("ab")),
	ok(">", null(types.Boolean), null(types.Timestamp), ts(0)),
	ok(">=", b(true), ts(5), ts(5)),
	ok(">=", b(false), iv(1), iv(2)),

	// ---- three-valued logic ----
	ok("and", b(true), b(true), b(true)),
	ok("and", b(false), b(true), b(false)),
	ok("and", b(false), b(false), b(true)),
	ok("and", b(false), b(false), b(false)),
	ok("and", null(types.Boolean), b(true), null(types.Boolean)),
	ok("and", null(types.Boolean), null(types.Boolean), b(true)),
	ok("and", b(false), b(false), null(types.Boolean)),
	ok("and", b(false), null(types.Boolean), b(false)),
	ok("and", null(types.Boolean), null(types.Boolean), null(types.Boolean)),
	ok("and", null(types.Boolean), untyped, b(true)),
	fails("and", sqlerr.DatatypeMismatch, i(1), b(true)),
	ok("or", b(true), b(true), b(true)),
	ok("or", b(true), b(true), b(false)),
	ok("or", b(true), b(false), b(true)),
	ok("or", b(false), b(false), b(false)),
	ok("or", b(true), b(true), null(types.Boolean)),
	ok("or", b(true), null(types.Boolean), b(true)),
	ok("or", null(types.Boolean), b(false), null(types.Boolean)),
	ok("or", null(types.Boolean), null(types.Boolean), b(false)),
	ok("or", null(types.Boolean), null(types.Boolean), null(types.Boolean)),
	fails("or", sqlerr.DatatypeMismatch, b(true), s("t")),
	ok("not", b(false), b(true)),
	ok("not", b(true), b(false)),
	ok("not", null(types.Boolean), null(types.Boolean)),
	ok("not", null(types.Boolean), untyped),
	fails("not", sqlerr.DatatypeMismatch, i(1)),

	// ---- IS [NOT] NULL: never NULL ----
	ok("is_null", b(true), null(types.Bigint)),
	ok("is_null", b(true), untyped),
	ok("is_null", b(false), i(0)),
	ok("is_null", b(false), s("")),
	ok("is_not_null", b(false), null(types.Varchar)),
	ok("is_not_null", b(true), s("")),
	ok("is_not_null", b(true), b(false)),
	fails("is_null", sqlerr.UndefinedFunction, i(1), i(2)),

	// ---- LIKE: % any run, _ one character, backslash escapes ----
	ok("like", b(true), s("abc"), s("abc")),
	ok("like", b(false), s("abc"), s("ab")),
	ok("like", b(false), s("ab"), s("abc")),
	ok("like", b(true), s("abc"), s("a%")),
	ok("like", b(true), s("abc"), s("%c")),
	ok("like", b(true), s("abc"), s("%b%")),
	ok("like", b(true), s("abc"), s("a%b%c")),
	ok("like", b(true), s("abc"), s("%%c")),
	ok("like", b(true), s("abc"), s("abc%")),
	ok("like", b(false), s("abc"), s("%d%")),
	ok("like", b(true), s("abc"), s("_b_")),
	ok("like", b(false), s("abc"), s("a_")),
	ok("like", b(true), s("abcbc"), s("%bc")),
	ok("like", b(true), s("mississippi"), s("m%iss%i%pi")),
	ok("like", b(false), s("mississippi"), s("m%iss%x%pi")),
	ok("like", b(true), s(""), s("%")),
	ok("like", b(true), s(""), s("")),
	ok("like", b(false), s(""), s("_")),
	ok("like", b(false), s("a"), s("")),
	ok("like", b(false), s("ABC"), s("abc")),
	ok("like", b(true), s("ñandú"), s("_and_")),
	ok("like", b(true), s("a%b"), s(`a\%b`)),
	ok("like", b(false), s("axb"), s(`a\%b`)),
	ok("like", b(true), s("a_b"), s(`a\_b`)),
	ok("like", b(false), s("axb"), s(`a\_b`)),
	ok("like", b(true), s(`a\b`), s(`a\\b`)),
	ok("like", b(true), s("ab%"), s(`%\%`)),
	ok("like", b(false), s("ab"), s(`%\%`)),
	ok("like", b(true), s(`a\`), s(`a\`)), // a trailing backslash is literal
	ok("like", null(types.Boolean), null(types.Varchar), s("%")),
	ok("like", null(types.Boolean), s("a"), untyped),
	fails("like", sqlerr.UndefinedFunction, i(1), s("1%")),

	// ---- conditional ----
	ok("coalesce", i(1), untyped, i(1), i(2)),
	ok("coalesce", i(1), null(types.Bigint), i(1), null(types.Bigint)),
	ok("coalesce", null(types.Bigint), null(types.Bigint), null(types.Bigint)),
	ok("coalesce", s("a"), s("a")),
	ok("coalesce", s("a"), s("a"), untyped),
	ok("coalesce", f(2.5), null(types.Bigint), f(2.5)),
	ok("coalesce", f(1), i(1), f(2.5)),
	ok("coalesce", null(types.Varchar), untyped, untyped),
	ok("coalesce", b(false), null(types.Boolean), b(false)),
	fails("coalesce", sqlerr.DatatypeMismatch, s("a"), i(1)),
	ok("nullif", null(types.Bigint), i(1), i(1)),
	ok("nullif", i(1), i(1), i(2)),
	ok("nullif", null(types.Bigint), null(types.Bigint), i(1)),
	ok("nullif", i(1), i(1), null(types.Bigint)),
	ok("nullif", null(types.Varchar), s("a"), s("a")),
	ok("nullif", f(1), i(1), f(1.5)),
	ok("nullif", null(types.Double), i(1), f(1.0)),
	fails("nullif", sqlerr.UndefinedFunction, i(1)),
	fails("nullif", sqlerr.DatatypeMismatch, i(1), s("1")),
	// case(cond1, res1, ..., else)
	ok("case", s("x"), b(true), s("x"), s("y")),
	ok("case", s("y"), b(false), s("x"), s("y")),
	ok("case", s("y"), null(types.Boolean), s("x"), s("y")), // NULL is not true
	ok("case", i(2), b(false), i(1), b(true), i(2), i(3)),
	ok("case", i(1), b(true), i(1), b(true), i(2), i(3)), // first true wins
	ok("case", null(types.Bigint), b(false), i(1), untyped),
	ok("case", null(types.Bigint), b(true), null(types.Bigint), i(1)),
	ok("case", f(1), b(true), i(1), f(2.5)),
	ok("case", s("x"), untyped, s("y"), s("x")),
	fails("case", sqlerr.DatatypeMismatch, i(1), s("x"), s("y")),
	fails("case", sqlerr.DatatypeMismatch, b(true), s("x"), i(1)),
	fails("case", sqlerr.UndefinedFunction, b(true), s("x")),
	fails("case", sqlerr.UndefinedFunction, s("x")),

	// ---- concatenation: concat skips NULLs, || propagates them ----
	ok("concat", s("ab"), s("a"), null(types.Varchar), s("b")),
	ok("concat", s(""), untyped),
	ok("concat", s("a1"), s("a"), i(1)),
	ok("concat", s("1t2.5"), i(1), b(true), f(2.5)),
	ok("concat", s("x2026-11-23 10:01:00"), s("x"), ts(1795428060000)),
	fails("concat", sqlerr.UndefinedFunction),
	ok("concat_op", s("ab"), s("a"), s("b")),
	ok("concat_op", s("a1"), s("a"), i(1)),
	ok("concat_op", null(types.Varchar), s("a"), null(types.Varchar)),
	ok("concat_op", null(types.Varchar), untyped, s("b")),

	// ---- strings ----
	ok("lower", s("abc ñ"), s("AbC Ñ")),
	ok("lower", null(types.Varchar), null(types.Varchar)),
	ok("lower", null(types.Varchar), untyped),
	fails("lower", sqlerr.UndefinedFunction, i(1)),
	fails("lower", sqlerr.UndefinedFunction, s("a"), s("b")),
	ok("upper", s("ABC Ñ"), s("abC ñ")),
	fails("upper", sqlerr.UndefinedFunction, ts(0)),
	ok("length", i(5), s("héllo")),
	ok("length", i(0), s("")),
	ok("length", null(types.Bigint), null(types.Varchar)),
	ok("char_length", i(3), s("日本語")),
	ok("character_length", i(2), s("ab")),
	fails("length", sqlerr.UndefinedFunction, i(12)),
	// trim, ltrim and rtrim remove spaces only, as PostgreSQL does.
	ok("trim", s("a b"), s("  a b  ")),
	ok("trim", s("\ta\n"), s("\ta\n")),
	ok("trim", s(""), s("   ")),
	ok("ltrim", s("a "), s("  a ")),
	ok("ltrim", s("\ta"), s("\ta")),
	ok("rtrim", s("  a"), s("  a ")),
	ok("rtrim", s("a\n"), s("a\n")),
	ok("trim", null(types.Varchar), null(types.Varchar)),
	ok("replace", s("aXcaXc"), s("abcabc"), s("b"), s("X")),
	ok("replace", s("ac"), s("abc"), s("b"), s("")),
	ok("replace", s("abc"), s("abc"), s(""), s("X")),
	ok("replace", s("abc"), s("abc"), s("z"), s("X")),
	ok("replace", s("ñXú"), s("ñaú"), s("a"), s("X")),
	ok("replace", null(types.Varchar), s("abc"), null(types.Varchar), s("X")),
	ok("reverse", s("cba"), s("abc")),
	ok("reverse", s("bña"), s("añb")),
	ok("reverse", s(""), s("")),
	ok("starts_with", b(true), s("abc"), s("ab")),
	ok("starts_with", b(false), s("abc"), s("b")),
	ok("starts_with", b(true), s("abc"), s("")),
	ok("starts_with", null(types.Boolean), s("abc"), null(types.Varchar)),
	// position(sub IN str) is 1-based in characters; 0 when absent.
	ok("position", i(2), s("b"), s("abc")),
	ok("position", i(0), s("z"), s("abc")),
	ok("position", i(1), s(""), s("abc")),
	ok("position", i(5), s("ú"), s("ñandú")),
	ok("position", i(2), s("an"), s("ñandú")),
	ok("position", null(types.Bigint), null(types.Varchar), s("abc")),
	// split_part counts from 1; a negative index counts from the end.
	ok("split_part", s("b"), s("a,b,c"), s(","), i(2)),
	ok("split_part", s("a"), s("a,b,c"), s(","), i(1)),
	ok("split_part", s(""), s("a,b,c"), s(","), i(4)),
	ok("split_part", s("c"), s("a,b,c"), s(","), i(-1)),
	ok("split_part", s("a"), s("a,b,c"), s(","), i(-3)),
	ok("split_part", s(""), s("a,b,c"), s(","), i(-4)),
	ok("split_part", s(""), s("a,b,c"), s(","), i(minInt)),
	ok("split_part", s(""), s("a,b,c"), s(","), i(maxInt)),
	fails("split_part", sqlerr.InvalidParameter, s("a,b,c"), s(","), i(0)),
	ok("split_part", s("abc"), s("abc"), s(""), i(1)),
	ok("split_part", s(""), s("abc"), s(""), i(2)),
	ok("split_part", s("abc"), s("abc"), s(""), i(-1)),
	ok("split_part", s(""), s(""), s(","), i(1)),
	ok("split_part", s(""), s("a,,b"), s(","), i(2)),
	ok("split_part", s("b"), s("a::b"), s("::"), i(2)),
	ok("split_part", null(types.Varchar), s("a,b"), s(","), null(types.Bigint)),
	fails("split_part", sqlerr.UndefinedFunction, s("a,b"), s(","), f(1.5)),
	// substring(s, start [, length]): 1-based; a start before 1 eats into
	// the length, as in PostgreSQL.
	ok("substring", s("ell"), s("hello"), i(2), i(3)),
	ok("substring", s("ello"), s("hello"), i(2)),
	ok("substring", s("hello"), s("hello"), i(1)),
	ok("substring", s("hello"), s("hello"), i(-3)),
	ok("substring", s("he"), s("hello"), i(0), i(3)),
	ok("substring", s("h"), s("hello"), i(-1), i(3)),
	ok("substring", s(""), s("hello"), i(-5), i(3)),
	ok("substring", s(""), s("hello"), i(6)),
	ok("substring", s(""), s("hello"), i(maxInt)),
	ok("substring", s("o"), s("hello"), i(5), i(10)),
	ok("substring", s(""), s("hello"), i(1), i(0)),
	ok("substring", s("ello"), s("hello"), i(2), i(maxInt)),
	ok("substring", s(""), s("hello"), i(minInt), i(maxInt)),
	ok("substring", s("an"), s("ñandú"), i(2), i(2)),
	fails("substring", sqlerr.InvalidParameter, s("hello"), i(2), i(-1)),
	ok("substring", null(types.Varchar), s("hello"), null(types.Bigint)),
	fails("substring", sqlerr.UndefinedFunction, s("hello")),
	fails("substring", sqlerr.UndefinedFunction, i(12345), i(2)),
	ok("substr", s("ell"), s("hello"), i(2), i(3)),
	ok("substr", s("llo"), s("hello"), i(3)),

	// ---- math ----
	ok("abs", i(5), i(-5)),
	ok("abs", i(5), i(5)),
	ok("abs", i(maxInt), i(-maxInt)),
	fails("abs", sqlerr.NumericOutOfRange, i(minInt)),
	ok("abs", f(2.5), f(-2.5)),
	ok("abs", null(types.Bigint), untyped),
	fails("abs", sqlerr.UndefinedFunction, s("-1")),
	ok("floor", f(2), f(2.7)),
	ok("floor", f(-3), f(-2.5)),
	ok("floor", i(5), i(5)),
	ok("ceil", f(3), f(2.1)),
	ok("ceil", f(-2), f(-2.5)),
	ok("ceil", i(-5), i(-5)),
	ok("ceiling", f(3), f(2.1)),
	// round: half away from zero, on the decimal the user wrote.
	ok("round", f(3), f(2.5)),
	ok("round", f(-3), f(-2.5)),
	ok("round", f(1), f(0.5)),
	ok("round", f(1), f(1.4)),
	ok("round", f(0), f(0.4)),
	ok("round", f(0), f(-0.4)),
	ok("round", i(5), i(5)),
	ok("round", f(2.35), f(2.345), i(2)),
	ok("round", f(-2.35), f(-2.345), i(2)),
	ok("round", f(1.01), f(1.005), i(2)),
	ok("round", f(2.68), f(2.675), i(2)),
	ok("round", f(2.3), f(2.3), i(5)),
	ok("round", f(10), f(9.99), i(1)),
	ok("round", f(0.1), f(0.05), i(1)),
	ok("round", f(1300), f(1250), i(-2)),
	ok("round", f(1200), f(1249.9), i(-2)),
	ok("round", f(0), f(49), i(-2)),
	ok("round", f(100), f(50), i(-2)),
	ok("round", f(0), f(12345), i(-10)),
	ok("round", f(1300), i(1250), i(-2)),
	ok("round", f(1.5), f(1.5), i(maxInt)),
	ok("round", f(0), f(1.5), i(minInt)),
	ok("round", f(math.Inf(1)), f(math.Inf(1)), i(2)),
	ok("round", f(math.NaN()), f(math.NaN())),
	ok("round", f(1e300), f(1e300), i(-2)),
	ok("round", null(types.Double), f(1.5), null(types.Bigint)),
	fails("round", sqlerr.UndefinedFunction, s("1.5")),
	fails("round", sqlerr.UndefinedFunction, f(1.5), f(1)),
	ok("power", f(1024), i(2), i(10)),
	ok("power", f(0.5), f(2), f(-1)),
	ok("power", f(1), f(0), f(0)),
	ok("power", f(-8), f(-2), f(3)),
	ok("power", f(3), f(9), f(0.5)),
	fails("power", sqlerr.InvalidParameter, f(0), f(-1)),
	fails("power", sqlerr.InvalidParameter, f(-8), f(1.0/3)),
	ok("sqrt", f(2), f(4)),
	ok("sqrt", f(3), i(9)),
	ok("sqrt", f(0), f(0)),
	fails("sqrt", sqlerr.InvalidParameter, f(-1)),
	ok("ln", f(0), f(1)),
	ok("ln", f(1), f(math.E)),
	fails("ln", sqlerr.InvalidParameter, f(0)),
	fails("ln", sqlerr.InvalidParameter, i(-1)),

	// trim with characters removes any of them (a set, as PostgreSQL's btrim).
	ok("trim", s("abc"), s("xyabcyx"), s("xy")),
	ok("trim", s("abc"), s("abc"), s("")),
	ok("trim", null(types.Varchar), s("xax"), null(types.Varchar)),
	ok("btrim", s("a"), s("xyaxy"), s("yx")),
	ok("btrim", null(types.Varchar), s("  a b "), untyped),
	ok("btrim", s("ñ"), s("üñü"), s("ü")),
	ok("btrim", s(""), s("xxx"), s("x")),
	ok("btrim", s("a"), s(" a ")),
	fails("btrim", sqlerr.UndefinedFunction, s("a"), i(1)),
	ok("ltrim", s("axx"), s("xxaxx"), s("x")),
	ok("rtrim", s("xxa"), s("xxaxx"), s("x")),
	fails("ltrim", sqlerr.UndefinedFunction, s("a"), s("b"), s("c")),
	// split_index (Flink): 0-based; NULL out of range or negative; empty
	// pieces count; an empty string has no pieces; an empty separator
	// splits at whitespace.
	ok("split_index", s("a"), s("a/b/c"), s("/"), i(0)),
	ok("split_index", s("c"), s("a/b/c"), s("/"), i(2)),
	ok("split_index", null(types.Varchar), s("a/b/c"), s("/"), i(3)),
	ok("split_index", null(types.Varchar), s("a/b/c"), s("/"), i(-1)),
	ok("split_index", null(types.Varchar), s("a/b/c"), s("/"), i(maxInt)),
	ok("split_index", null(types.Varchar), s("a/b/c"), s("/"), i(minInt)),
	ok("split_index", s("auction"), s("https://www.nexmark.com/auction/item"), s("/"), i(3)),
	ok("split_index", s(""), s("https://www.nexmark.com/auction/item"), s("/"), i(1)),
	ok("split_index", s(""), s("a//b"), s("/"), i(1)),
	ok("split_index", s(""), s("/a"), s("/"), i(0)),
	ok("split_index", s(""), s("a/"), s("/"), i(1)),
	ok("split_index", s("abc"), s("abc"), s("/"), i(0)),
	ok("split_index", null(types.Varchar), s("abc"), s("/"), i(1)),
	ok("split_index", null(types.Varchar), s(""), s("/"), i(0)),
	ok("split_index", s("b"), s("a::b::c"), s("::"), i(1)),
	ok("split_index", s("b"), s("a b"), s(""), i(1)),
	ok("split_index", s(""), s("a  b"), s(""), i(1)),
	ok("split_index", s("ü"), s("ñ,ü"), s(","), i(1)),
	ok("split_index", null(types.Varchar), null(types.Varchar), s("/"), i(0)),
	ok("split_index", null(types.Varchar), s("a/b"), s("/"), null(types.Bigint)),
	fails("split_index", sqlerr.UndefinedFunction, s("a/b"), s("/")),
	fails("split_index", sqlerr.UndefinedFunction, s("a/b"), s("/"), f(1.5)),
	fails("split_index", sqlerr.UndefinedFunction, i(1), s("/"), i(1)),
	// count_char (Nexmark q14's UDF): occurrences of the first character
	// of the second argument; 0 for a NULL string, as the UDF answers.
	ok("count_char", i(3), s("abcabcc"), s("c")),
	ok("count_char", i(0), s("abc"), s("z")),
	ok("count_char", i(2), s("abcabc"), s("cz")),
	ok("count_char", i(2), s("ñaña"), s("ñ")),
	ok("count_char", i(0), s(""), s("c")),
	ok("count_char", i(0), s("abc"), s("")),
	ok("count_char", i(0), null(types.Varchar), s("c")),
	ok("count_char", i(0), untyped, s("c")),
	ok("count_char", null(types.Bigint), s("abc"), null(types.Varchar)),
	fails("count_char", sqlerr.UndefinedFunction, s("abc"), i(1)),

	// ---- regular expressions (RE2 syntax, Flink semantics) ----
	// regexp_extract: group 0 (the default) is the whole first match; NULL
	// when nothing matches, for a group that does not exist or did not
	// take part, and for a pattern that does not compile.
	ok("regexp_extract", s("9"), s("a=1&channel_id=9&b=2"), s("(&|^)channel_id=([^&]*)"), i(2)),
	ok("regexp_extract", s("7"), s("channel_id=7"), s("(&|^)channel_id=([^&]*)"), i(2)),
	ok("regexp_extract", s(""), s("channel_id=&x=1"), s("(&|^)channel_id=([^&]*)"), i(2)),
	ok("regexp_extract", null(types.Varchar), s("a=1"), s("(&|^)channel_id=([^&]*)"), i(2)),
	ok("regexp_extract", s("&channel_id=9"), s("a=1&channel_id=9&b=2"), s("(&|^)channel_id=([^&]*)"), i(0)),
	ok("regexp_extract", s("100-200"), s("100-200, 300-400"), s(`(\d+)-(\d+)`)),
	ok("regexp_extract", s("bar"), s("foothebar"), s("foo(.*?)(bar)"), i(2)),
	ok("regexp_extract", s("the"), s("foothebar"), s("foo(.*?)(bar)"), i(1)),
	ok("regexp_extract", null(types.Varchar), s("foothebar"), s("foo(.*?)(bar)"), i(3)),
	ok("regexp_extract", null(types.Varchar), s("foothebar"), s("foo(.*?)(bar)"), i(-1)),
	ok("regexp_extract", null(types.Varchar), s("ac"), s("a(b)?c"), i(1)),
	ok("regexp_extract", s(""), s("abc"), s("x*")),
	ok("regexp_extract", s("ñ"), s("añb"), s("[^ab]")),
	ok("regexp_extract", null(types.Varchar), s("abc"), s("(")),
	ok("regexp_extract", null(types.Varchar), s("abc"), s("a(?=b)")),
	ok("regexp_extract", null(types.Varchar), null(types.Varchar), s("a")),
	ok("regexp_extract", null(types.Varchar), s("a"), null(types.Varchar)),
	ok("regexp_extract", null(types.Varchar), s("a"), s("(a)"), null(types.Bigint)),
	fails("regexp_extract", sqlerr.UndefinedFunction, i(1), s("a")),
	fails("regexp_extract", sqlerr.UndefinedFunction, s("a"), s("a"), s("1")),
	fails("regexp_extract", sqlerr.UndefinedFunction, s("a")),
	// regexp_replace replaces every match with literal text.
	ok("regexp_replace", s("a-b-c"), s("a1b22c"), s("[0-9]+"), s("-")),
	ok("regexp_replace", s("abc"), s("abc"), s("x"), s("-")),
	ok("regexp_replace", s("-a-b-"), s("ab"), s("x*"), s("-")),
	ok("regexp_replace", s("$1$1"), s("ab"), s("(a|b)"), s("$1")),
	ok("regexp_replace", s("ñX"), s("ñü"), s("ü"), s("X")),
	ok("regexp_replace", s(""), s("aaa"), s("a"), s("")),
	ok("regexp_replace", null(types.Varchar), s("abc"), s("["), s("x")),
	ok("regexp_replace", null(types.Varchar), s("abc"), s("b"), null(types.Varchar)),
	fails("regexp_replace", sqlerr.UndefinedFunction, s("abc"), s("b")),
	// regexp_like matches anywhere unless anchored.
	ok("regexp_like", b(true), s("abc"), s("b")),
	ok("regexp_like", b(false), s("abc"), s("^b")),
	ok("regexp_like", b(true), s("abc"), s("^a.c$")),
	ok("regexp_like", b(true), s(""), s("")),
	ok("regexp_like", b(false), s("ABC"), s("abc")),
	ok("regexp_like", b(true), s("ABC"), s("(?i)abc")),
	ok("regexp_like", null(types.Boolean), s("abc"), s(")")),
	ok("regexp_like", null(types.Boolean), null(types.Varchar), s("a")),
	fails("regexp_like", sqlerr.UndefinedFunction, s("abc"), b(true)),

	// ---- time ----
	// date_part/EXTRACT: whole numbers (Flink): SECOND has no fraction,
	// EPOCH is whole seconds rounded down; DOW counts from Sunday = 0.
	// T = Monday 2026-11-23 10:00:30.250 UTC.
	ok("date_part", i(2026), s("year"), ts(T)),
	ok("date_part", i(2026), s("YEARS"), ts(T)),
	ok("date_part", i(4), s("quarter"), ts(T)),
	ok("date_part", i(11), s("month"), ts(T)),
	ok("date_part", i(48), s("week"), ts(T)),
	ok("date_part", i(23), s("day"), ts(T)),
	ok("date_part", i(10), s("hour"), ts(T)),
	ok("date_part", i(0), s("minute"), ts(T)),
	ok("date_part", i(30), s("second"), ts(T)),
	ok("date_part", i(30), s(" Sec "), ts(T)),
	ok("date_part", i(30250), s("millisecond"), ts(T)),
	ok("date_part", i(30250000), s("microsecond"), ts(T)),
	ok("date_part", i(1), s("dow"), ts(T)),
	ok("date_part", i(1), s("isodow"), ts(T)),
	ok("date_part", i(327), s("doy"), ts(T)),
	ok("date_part", i(1795428030), s("epoch"), ts(T)),
	ok("date_part", i(2026), s("isoyear"), ts(T)),
	ok("date_part", i(0), s("dow"), ts(1795305600000)),    // Sunday 2026-11-22
	ok("date_part", i(7), s("isodow"), ts(1795305600000)), // Sunday
	ok("date_part", i(53), s("week"), ts(1799020799000)),  // 2027-01-03 is in 2026's week 53
	ok("date_part", i(2026), s("isoyear"), ts(1799020799000)),
	ok("date_part", i(2027), s("year"), ts(1799020799000)),
	ok("date_part", i(366), s("doy"), ts(1609372800000)), // 2020-12-31
	ok("date_part", i(1969), s("year"), ts(-1)),
	ok("date_part", i(23), s("hour"), ts(-1)),
	ok("date_part", i(59999), s("millisecond"), ts(-1)),
	ok("date_part", i(-1), s("epoch"), ts(-1)),
	ok("date_part", i(1), s("week"), ts(-1)), // 1969-12-31 is in ISO week 1 of 1970
	ok("date_part", null(types.Bigint), s("hour"), null(types.Timestamp)),
	ok("date_part", null(types.Bigint), untyped, ts(T)),
	fails("date_part", sqlerr.InvalidParameter, s("fortnight"), ts(T)),
	fails("date_part", sqlerr.InvalidParameter, s("day_hour"), ts(T)),
	fails("date_part", sqlerr.UndefinedFunction, s("hour"), s("2026-11-23 10:00:00")),
	fails("date_part", sqlerr.UndefinedFunction, s("hour"), i(1)),
	// Flink's one-field functions.
	ok("year", i(2026), ts(T)),
	ok("year", i(1969), ts(-1)),
	ok("quarter", i(4), ts(T)),
	ok("quarter", i(1), ts(1767225600000)),
	ok("month", i(11), ts(T)),
	ok("week", i(48), ts(T)),
	ok("week", i(53), ts(1609675200000)), // Sunday 2021-01-03
	ok("dayofmonth", i(23), ts(T)),
	ok("dayofmonth", i(29), ts(1709211909007)), // 2024-02-29
	ok("dayofyear", i(327), ts(T)),
	ok("dayofyear", i(60), ts(1709211909007)),
	ok("dayofweek", i(2), ts(T)),             // Monday; Sunday = 1
	ok("dayofweek", i(1), ts(1795305600000)), // Sunday
	ok("dayofweek", i(4), ts(-1)),            // Wednesday
	ok("hour", i(10), ts(T)),
	ok("hour", i(13), ts(1709211909007)),
	ok("hour", null(types.Bigint), null(types.Timestamp)),
	ok("minute", i(0), ts(T)),
	ok("minute", i(5), ts(1709211909007)),
	ok("minute", i(59), ts(-1)),
	ok("second", i(30), ts(T)),
	ok("second", i(9), ts(1709211909007)),
	ok("second", i(59), ts(-1)),
	fails("hour", sqlerr.UndefinedFunction, s("10:00")),
	fails("second", sqlerr.UndefinedFunction, i(0)),
	// date_trunc: weeks start on Monday; before 1970 it still rounds down.
	ok("date_trunc", ts(T), s("millisecond"), ts(T)),
	ok("date_trunc", ts(1795428030000), s("second"), ts(T)),
	ok("date_trunc", ts(1795428000000), s("minute"), ts(T)),
	ok("date_trunc", ts(1795428000000), s("HOUR"), ts(T)),
	ok("date_trunc", ts(1795392000000), s("day"), ts(T)),
	ok("date_trunc", ts(1795392000000), s("week"), ts(T)),
	ok("date_trunc", ts(1794787200000), s("week"), ts(1795305600000)), // Sunday → the Monday before
	ok("date_trunc", ts(1793491200000), s("month"), ts(T)),
	ok("date_trunc", ts(1790812800000), s("quarter"), ts(T)),
	ok("date_trunc", ts(1767225600000), s("year"), ts(T)),
	ok("date_trunc", ts(1767225600000), s("years"), ts(1767225600000)),
	ok("date_trunc", ts(-1000), s("second"), ts(-1)),
	ok("date_trunc", ts(-86_400_000), s("day"), ts(-1)),
	ok("date_trunc", ts(-259_200_000), s("week"), ts(-1)),
	ok("date_trunc", ts(-2678400000), s("month"), ts(-1)),
	ok("date_trunc", ts(-31536000000), s("year"), ts(-1)),
	ok("date_trunc", null(types.Timestamp), s("day"), null(types.Timestamp)),
	ok("date_trunc", null(types.Timestamp), untyped, ts(T)),
	fails("date_trunc", sqlerr.InvalidParameter, s("dow"), ts(T)),
	fails("date_trunc", sqlerr.InvalidParameter, s("fortnight"), ts(T)),
	fails("date_trunc", sqlerr.NumericOutOfRange, s("second"), ts(minInt)),
	fails("date_trunc", sqlerr.UndefinedFunction, ts(T), s("day")),
	// date_format: Java patterns, as Flink's DATE_FORMAT.
	ok("date_format", s("2026-11-23"), ts(T), s("yyyy-MM-dd")),
	ok("date_format", s("10:00"), ts(T), s("HH:mm")),
	ok("date_format", s("2026-11-23 10:00:30.250"), ts(T), s("yyyy-MM-dd HH:mm:ss.SSS")),
	ok("date_format", s("2026-11-23T10:00:30Z"), ts(T), s("yyyy-MM-dd'T'HH:mm:ssX")),
	ok("date_format", s("26/11/23 10 AM +0000"), ts(T), s("yy/M/d h a Z")),
	ok("date_format", s("Mon, 23 Nov 2026"), ts(T), s("EEE, d MMM yyyy")),
	ok("date_format", s("Monday November"), ts(T), s("EEEE MMMM")),
	ok("date_format", s("it's 10 o'clock"), ts(T), s("'it''s' H 'o''clock'")),
	ok("date_format", s("327 2"), ts(T), s("D S")),
	ok("date_format", s("2500"), ts(T), s("SSSS")),
	ok("date_format", s("24 0 12"), ts(1795392000000), s("k K h")), // midnight
	ok("date_format", s("2024-02-29 13:05:09.007 PM"), ts(1709211909007), s("yyyy-MM-dd HH:mm:ss.SSS a")),
	ok("date_format", s("1969-12-31 23:59:59.999"), ts(-1), s("yyyy-MM-dd HH:mm:ss.SSS")),
	ok("date_format", s(""), ts(T), s("")),
	ok("date_format", s("- ñ -"), ts(T), s("- ñ -")),
	ok("date_format", null(types.Varchar), null(types.Timestamp), s("yyyy")),
	ok("date_format", null(types.Varchar), ts(T), untyped),
	fails("date_format", sqlerr.InvalidParameter, ts(T), s("yyyy-ww")),
	fails("date_format", sqlerr.InvalidParameter, ts(T), s("yyyy 'oops")),
	fails("date_format", sqlerr.UndefinedFunction, s("2026-11-23"), s("yyyy")),
	// to_char: PostgreSQL templates.
	ok("to_char", s("2026-11-23 10:00:30.250"), ts(T), s("YYYY-MM-DD HH24:MI:SS.MS")),
	ok("to_char", s("2026-11-23 10:00:30"), ts(T), s("yyyy-mm-dd hh24:mi:ss")),
	ok("to_char", s("10 AM 10 am"), ts(T), s("HH12 AM HH am")),
	ok("to_char", s("01 PM 01 P.M."), ts(1709211909007), s("HH12 PM HH P.M.")),
	ok("to_char", s("November |NOV|nov|Monday   |MON"), ts(T), s("Month|MON|mon|Day|DY")),
	ok("to_char", s("November|Monday|11|0|10"), ts(T), s("FMMonth|FMDay|FMMM|FMMI|FMHH24")),
	ok("to_char", s("026 26 6 2026"), ts(T), s("YYY YY Y IYYY")),
	ok("to_char", s("327 2 1 48 4"), ts(T), s("DDD D ID IW Q")),
	ok("to_char", s("250000 36030"), ts(T), s("US SSSS")),
	ok("to_char", s("Year 2026, day 23"), ts(T), s(`"Year" YYYY, "day" DD`)),
	ok("to_char", s(`say "hi"`), ts(T), s(`"say \"hi\""`)),
	ok("to_char", s("T|"), ts(T), s("T|")),
	ok("to_char", s("1969-12-31 23:59:59.999"), ts(-1), s("YYYY-MM-DD HH24:MI:SS.MS")),
	ok("to_char", s(""), ts(T), s("")),
	ok("to_char", null(types.Varchar), null(types.Timestamp), s("YYYY")),
	fails("to_char", sqlerr.UndefinedFunction, ts(T)),
	fails("to_char", sqlerr.UndefinedFunction, i(1), s("9999")),
	ok("to_timestamp_ms", ts(1795428060123), i(1795428060123)),
	ok("to_timestamp_ms", ts(-1), i(-1)),
	ok("to_timestamp_ms", null(types.Timestamp), untyped),
	ok("unix_millis", i(1795428060123), ts(1795428060123)),
	fails("unix_millis", sqlerr.UndefinedFunction, i(1)),
}

func TestFunctions(t *testing.T) {
	for _, c := range functionCases {
		argText := make([]string, len(c.args))
		for k, a := range c.args {
			argText[k] = show(a)
		}
		call := fmt.Sprintf("%s(%s)", c.fn, strings.Join(argText, ", "))
		got, err := eval(t, c.fn, c.args...)
		switch {
		case c.code != "" && err == nil:
			t.Errorf("%s = %s, want error %s", call, show(got), c.code)
		case c.code != "" && sqlerr.Code(err) != c.code:
			t.Errorf("%s: error %s %q, want code %s", call, sqlerr.Code(err), err, c.code)
		case c.code == "" && err != nil:
			t.Errorf("%s: unexpected error %s %q", call, sqlerr.Code(err), err)
		case c.code == "" && !sameValue(got, c.want):
			t.Errorf("%s = %s, want %s", call, show(got), show(c.want))
		}
	}
}

// TestEveryFunctionIsTested fails when a function or operator is registered
// without a case in functionCases: add one (normal values, NULLs, edges).
func TestEveryFunctionIsTested(t *testing.T) {
	tested := map[string]bool{}
	for _, c := range functionCases {
		tested[c.fn] = true
	}
	names := scalar.Names()
	if len(names) == 0 {
		t.Fatal("no functions registered")
	}
	for _, n := range names {
		if !tested[n] {
			t.Errorf("function %q has no test case in functionCases", n)
		}
	}
	for n := range tested {
		if _, err := scalar.Resolve(n, nil); errors.Is(err, scalar.ErrNoFunction) {
			t.Errorf("functionCases tests %q, which is not registered", n)
		}
	}
}

// TestNullAware pins which functions see NULL arguments. Every other one
// returns NULL for a NULL argument without being called (the executor and
// the planner's constant folding both rely on it).
func TestNullAware(t *testing.T) {
	want := map[string][]types.Type{
		"and": {types.Boolean, types.Boolean}, "or": {types.Boolean, types.Boolean},
		"is_null": {types.Bigint}, "is_not_null": {types.Bigint},
		"coalesce": {types.Bigint, types.Bigint}, "nullif": {types.Bigint, types.Bigint},
		"case": {types.Boolean, types.Bigint, types.Bigint}, "concat": {types.Varchar, types.Varchar},
		"count_char": {types.Varchar, types.Varchar},
	}
	for _, c := range functionCases {
		if c.code != "" {
			continue
		}
		argTypes := make([]types.Type, len(c.args))
		for k, a := range c.args {
			argTypes[k] = a.Type
		}
		impl, err := scalar.Resolve(c.fn, argTypes)
		if err != nil {
			t.Fatalf("%s%v: %v", c.fn, argTypes, err)
		}
		_, aware := want[c.fn]
		if impl.NullAware != aware {
			t.Errorf("%s%v: NullAware = %v, want %v", c.fn, argTypes, impl.NullAware, aware)
		}
	}
	for fn, argTypes := range want {
		impl, err := scalar.Resolve(fn, argTypes)
		if err != nil {
			t.Fatalf("%s%v: %v", fn, argTypes, err)
		}
		if !impl.NullAware {
			t.Errorf("%s must be NullAware", fn)
		}
	}
}

func TestResolveUnknownFunction(t *testing.T) {
	_, err := scalar.Resolve("no_such_fn", []types.Type{types.Bigint, types.Varchar})
	if !errors.Is(err, scalar.ErrNoFunction) {
		t.Errorf("err = %v, want ErrNoFunction", err)
	}
	if sqlerr.Code(err) != sqlerr.UndefinedFunction {
		t.Errorf("code = %s, want %s", sqlerr.Code(err), sqlerr.UndefinedFunction)
	}
	if want := "function no_such_fn(bigint, varchar) does not exist"; err.Error() != want {
		t.Errorf("message = %q, want %q", err, want)
	}
	// Names are case-insensitive.
	if _, err := scalar.Resolve("UPPER", []types.Type{types.Varchar}); err != nil {
		t.Errorf("UPPER: %v", err)
	}
	// Operator mismatches read as PostgreSQL's.
	_, err = scalar.Resolve("+", []types.Type{types.Varchar, types.Bigint})
	if want := "operator does not exist: varchar + bigint"; err == nil || err.Error() != want {
		t.Errorf("varchar + bigint: %v, want %q", err, want)
	}
	_, err = scalar.Resolve("neg", []types.Type{types.Boolean})
	if want := "operator does not exist: - boolean"; err == nil || err.Error() != want {
		t.Errorf("-boolean: %v, want %q", err, want)
	}
}

// likeRegexp is a reference implementation of LIKE.
func likeRegexp(p string) *regexp.Regexp {
	var re strings.Builder
	re.WriteString(`(?s)^`)
	pr := []rune(p)
	for j := 0; j < len(pr); j++ {
		switch c := pr[j]; {
		case c == '%':
			re.WriteString(".*")
		case c == '_':
			re.WriteString(".")
		case c == '\\' && j+1 < len(pr):
			j++
			re.WriteString(regexp.QuoteMeta(string(pr[j])))
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	re.WriteString("$")
	return regexp.MustCompile(re.String())
}

func TestLikeMatchesReference(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	alphabet := []rune{'a', 'b', 'ñ', '%', '_', '\\'}
	word := func(n int, alpha []rune) string {
		out := make([]rune, r.Intn(n+1))
		for k := range out {
			out[k] = alpha[r.Intn(len(alpha))]
		}
		return string(out)
	}
	for range 20000 {
		str := word(8, alphabet)
		pat := word(6, alphabet)
		if got, want := scalar.Like(str, pat), likeRegexp(pat).MatchString(str); got != want {
			t.Fatalf("Like(%q, %q) = %v, want %v", str, pat, got, want)
		}
	}
}

// TestLikeIsNotExponential guards against backtracking over every % in
// turn: with several %s a 5000-character value used to take longer than
// the universe has existed; it must take well under a second.
func TestLikeIsNotExponential(t *testing.T) {
	str := strings.Repeat("a", 5000)
	start := time.Now()
	if scalar.Like(str, "%a%a%a%a%a%a%a%a%b") {
		t.Fatal("matched a pattern ending in b")
	}
	if !scalar.Like(str+"b", "%a%a%a%a%a%a%a%a%b") {
		t.Fatal("did not match")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Like took %v", d)
	}
}

func TestCast(t *testing.T) {
	all := []types.Type{types.Bigint, types.Double, types.Varchar, types.Boolean, types.Timestamp, types.Interval}
	// allowed[from][to], beyond from == to and from Unknown (always allowed).
	allowed := map[types.Type][]types.Type{
		types.Bigint:    {types.Double, types.Varchar, types.Boolean},
		types.Double:    {types.Bigint, types.Varchar},
		types.Varchar:   {types.Bigint, types.Double, types.Boolean, types.Timestamp, types.Interval},
		types.Boolean:   {types.Bigint, types.Double, types.Varchar},
		types.Timestamp: {types.Varchar},
		types.Interval:  {types.Varchar},
	}
	for _, from := range all {
		for _, to := range all {
			want := from == to
			for _, a := range allowed[from] {
				want = want || a == to
			}
			impl, err := scalar.Cast(from, to)
			if want != (err == nil) {
				t.Errorf("Cast(%s, %s): err = %v, want allowed = %v", from, to, err, want)
				continue
			}
			if err != nil {
				if sqlerr.Code(err) != sqlerr.DatatypeMismatch {
					t.Errorf("Cast(%s, %s): code %s", from, to, sqlerr.Code(err))
				}
				continue
			}
			if impl.Ret != to {
				t.Errorf("Cast(%s, %s).Ret = %s", from, to, impl.Ret)
			}
		}
		if _, err := scalar.Cast(types.Unknown, from); err != nil {
			t.Errorf("Cast(unknown, %s): %v", from, err)
		}
	}
	impl, err := scalar.Cast(types.Unknown, types.Bigint)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := impl.Eval([]types.Value{untyped}); err != nil || !sameValue(v, null(types.Bigint)) {
		t.Errorf("CAST(NULL AS BIGINT) = %s, %v", show(v), err)
	}
}

func TestCastValue(t *testing.T) {
	const noon = 1795435200000 // 2026-11-23 12:00:00 UTC
	for _, c := range []struct {
		in   types.Value
		to   types.Type
		want types.Value
		code string
	}{
		// text → bigint
		{in: s("42"), to: types.Bigint, want: i(42)},
		{in: s(" 42 "), to: types.Bigint, want: i(42)},
		{in: s("+7"), to: types.Bigint, want: i(7)},
		{in: s("-9223372036854775808"), to: types.Bigint, want: i(minInt)},
		{in: s("4.2"), to: types.Bigint, code: sqlerr.InvalidTextRep},
		{in: s("abc"), to: types.Bigint, code: sqlerr.InvalidTextRep},
		{in: s(""), to: types.Bigint, code: sqlerr.InvalidTextRep},
		{in: s("1 2"), to: types.Bigint, code: sqlerr.InvalidTextRep},
		{in: s("99999999999999999999"), to: types.Bigint, code: sqlerr.NumericOutOfRange},
		// text → double
		{in: s("1.5"), to: types.Double, want: f(1.5)},
		{in: s(" -2e3 "), to: types.Double, want: f(-2000)},
		{in: s("Infinity"), to: types.Double, want: f(math.Inf(1))},
		{in: s("-infinity"), to: types.Double, want: f(math.Inf(-1))},
		{in: s("NaN"), to: types.Double, want: f(math.NaN())},
		{in: s("x"), to: types.Double, code: sqlerr.InvalidTextRep},
		{in: s(""), to: types.Double, code: sqlerr.InvalidTextRep},
		{in: s("1e400"), to: types.Double, code: sqlerr.NumericOutOfRange},
		// text → boolean
		{in: s("t"), to: types.Boolean, want: b(true)},
		{in: s(" TRUE "), to: types.Boolean, want: b(true)},
		{in: s("yes"), to: types.Boolean, want: b(true)},
		{in: s("on"), to: types.Boolean, want: b(true)},
		{in: s("1"), to: types.Boolean, want: b(true)},
		{in: s("f"), to: types.Boolean, want: b(false)},
		{in: s("No"), to: types.Boolean, want: b(false)},
		{in: s("off"), to: types.Boolean, want: b(false)},
		{in: s("0"), to: types.Boolean, want: b(false)},
		{in: s("maybe"), to: types.Boolean, code: sqlerr.InvalidTextRep},
		// text → timestamp (the forms of SEMANTICS.md)
		{in: s("2026-11-23 12:00:00"), to: types.Timestamp, want: ts(noon)},
		{in: s("2026-11-23T12:00:00Z"), to: types.Timestamp, want: ts(noon)},
		{in: s("2026-11-23T20:00:00.123+08:00"), to: types.Timestamp, want: ts(noon + 123)},
		{in: s("2026-11-23 12:00:00.5"), to: types.Timestamp, want: ts(noon + 500)},
		{in: s(" 2026-11-23 12:00:00 "), to: types.Timestamp, want: ts(noon)},
		{in: s("2026-11-23"), to: types.Timestamp, want: ts(noon - 12*3_600_000)},
		{in: s("1795435200000"), to: types.Timestamp, want: ts(noon)},
		{in: s("yesterday"), to: types.Timestamp, code: sqlerr.InvalidTextRep},
		{in: s("2026-13-01 00:00:00"), to: types.Timestamp, code: sqlerr.InvalidTextRep},
		// text → interval
		{in: s("5 seconds"), to: types.Interval, want: iv(5000)},
		{in: s("1 day 02:00:00.5"), to: types.Interval, want: iv(93_600_500)},
		{in: s("bogus"), to: types.Interval, code: sqlerr.InvalidTextRep},
		// numbers and booleans
		{in: i(3), to: types.Double, want: f(3)},
		{in: i(0), to: types.Boolean, want: b(false)},
		{in: i(-5), to: types.Boolean, want: b(true)},
		{in: i(-42), to: types.Varchar, want: s("-42")},
		{in: f(2.5), to: types.Bigint, want: i(2)}, // rint, as float8 → int8
		{in: f(3.5), to: types.Bigint, want: i(4)},
		{in: f(-2.5), to: types.Bigint, want: i(-2)},
		{in: f(2.4999), to: types.Bigint, want: i(2)},
		{in: f(-9.223372036854775808e18), to: types.Bigint, want: i(minInt)},
		{in: f(9.3e18), to: types.Bigint, code: sqlerr.NumericOutOfRange},
		{in: f(math.Inf(-1)), to: types.Bigint, code: sqlerr.NumericOutOfRange},
		{in: f(math.NaN()), to: types.Bigint, code: sqlerr.NumericOutOfRange},
		{in: f(1.5), to: types.Varchar, want: s("1.5")},
		{in: f(math.Inf(1)), to: types.Varchar, want: s("Infinity")},
		{in: b(true), to: types.Bigint, want: i(1)},
		{in: b(false), to: types.Double, want: f(0)},
		{in: b(true), to: types.Varchar, want: s("t")},
		{in: b(false), to: types.Varchar, want: s("f")},
		// time to text
		{in: ts(noon), to: types.Varchar, want: s("2026-11-23 12:00:00")},
		{in: ts(noon + 7), to: types.Varchar, want: s("2026-11-23 12:00:00.007")},
		{in: iv(90_000), to: types.Varchar, want: s("00:01:30")},
		{in: iv(93_600_500), to: types.Varchar, want: s("1 day 02:00:00.5")},
		// NULL casts to a NULL of the target type.
		{in: null(types.Varchar), to: types.Bigint, want: null(types.Bigint)},
		{in: untyped, to: types.Timestamp, want: null(types.Timestamp)},
		// same type
		{in: s("x"), to: types.Varchar, want: s("x")},
		// refused
		{in: ts(0), to: types.Bigint, code: sqlerr.DatatypeMismatch},
		{in: iv(0), to: types.Double, code: sqlerr.DatatypeMismatch},
		{in: f(1), to: types.Timestamp, code: sqlerr.DatatypeMismatch},
		{in: i(1), to: types.Interval, code: sqlerr.DatatypeMismatch},
	} {
		got, err := scalar.CastValue(c.in, c.to)
		what := fmt.Sprintf("CAST(%s AS %s)", show(c.in), c.to)
		switch {
		case c.code != "":
			if sqlerr.Code(err) != c.code || err == nil {
				t.Errorf("%s = %s, %v; want error %s", what, show(got), err, c.code)
			}
		case err != nil:
			t.Errorf("%s: unexpected error %v", what, err)
		case !sameValue(got, c.want):
			t.Errorf("%s = %s, want %s", what, show(got), show(c.want))
		}
	}
	// The error message quotes the input, as PostgreSQL's does.
	_, err := scalar.CastValue(s("abc"), types.Bigint)
	if want := `invalid input syntax for type bigint: "abc"`; err == nil || err.Error() != want {
		t.Errorf("message = %v, want %q", err, want)
	}
}

func TestParseInterval(t *testing.T) {
	const (
		sec  = 1000
		min  = 60 * sec
		hour = 60 * min
		day  = 24 * hour
	)
	for _, c := range []struct {
		qty, unit string
		want      int64
		bad       bool
	}{
		// INTERVAL '<number>' <unit>
		{qty: "1", unit: "MINUTE", want: min},
		{qty: "1", unit: "minute", want: min},
		{qty: "2", unit: "HOURS", want: 2 * hour},
		{qty: " 10 ", unit: "SECOND", want: 10 * sec},
		{qty: "1.5", unit: "SECOND", want: 1500},
		{qty: "1.005", unit: "SECOND", want: 1005},
		{qty: "2.3", unit: "SECOND", want: 2300},
		{qty: "250", unit: "MILLISECOND", want: 250},
		{qty: "3", unit: "DAY", want: 3 * day},
		{qty: "1", unit: "WEEK", want: 7 * day},
		{qty: "-1", unit: "MINUTE", want: -min},
		{qty: "0", unit: "SECOND", want: 0},
		{qty: "x", unit: "SECOND", bad: true},
		{qty: "", unit: "SECOND", bad: true},
		{qty: "1", unit: "FORTNIGHT", bad: true},
		{qty: "1", unit: "MONTH", bad: true},
		{qty: "inf", unit: "SECOND", bad: true},
		{qty: "NaN", unit: "SECOND", bad: true},
		{qty: "1e30", unit: "DAY", bad: true},
		// PostgreSQL's '<number> <unit> ...' form
		{qty: "5 seconds", want: 5 * sec},
		{qty: "5 second", want: 5 * sec},
		{qty: "1 hour 30 minutes", want: hour + 30*min},
		{qty: "1 day 2 hours 3 minutes 4 seconds 5 milliseconds", want: day + 2*hour + 3*min + 4*sec + 5},
		{qty: "  10 min ", want: 10 * min},
		{qty: "1.5 hours", want: hour + 30*min},
		{qty: "2 weeks", want: 14 * day},
		{qty: "-5 seconds", want: -5 * sec},
		{qty: "1 hour -30 minutes", want: 30 * min},
		// unit letters without a space, as EXPLAIN and SHOW print durations
		{qty: "5s", want: 5 * sec},
		{qty: "500ms", want: 500},
		{qty: "10min", want: 10 * min},
		{qty: "1h30m", want: hour + 30*min},
		{qty: "1d1h1m1s1ms", want: day + hour + min + sec + 1},
		{qty: "2d 3h", want: 2*day + 3*hour},
		// clock forms
		{qty: "00:01:30", want: 90 * sec},
		{qty: "01:30", want: hour + 30*min}, // hh:mm, as in PostgreSQL
		{qty: "00:00:01.5", want: 1500},
		{qty: "-00:01:30", want: -90 * sec},
		{qty: "-01:30:00", want: -(hour + 30*min)},
		{qty: "1 day 02:00:00", want: day + 2*hour},
		{qty: "2 days 00:00:00.25", want: 2*day + 250},
		// malformed
		{qty: "", bad: true},
		{qty: "   ", bad: true},
		{qty: "5", bad: true},
		{qty: "seconds", bad: true},
		{qty: "5 fortnights", bad: true},
		{qty: "1 hour 30", bad: true},
		{qty: "5 s ms", bad: true},
		{qty: "1:2:3:4", bad: true},
		{qty: "a:b", bad: true},
		{qty: "1:-30", bad: true},
		{qty: "1h30", bad: true},
		{qty: "h30m", bad: true},
		{qty: "--5s", bad: true},
		{qty: "1h-30m", bad: true},
		{qty: "-", bad: true},
		{qty: "-1h30m", want: -(hour + 30*min)},
		{qty: "+5s", want: 5 * sec},
	} {
		got, err := scalar.ParseInterval(c.qty, c.unit)
		what := fmt.Sprintf("ParseInterval(%q, %q)", c.qty, c.unit)
		if c.bad {
			if err == nil {
				t.Errorf("%s = %d, want an error", what, got)
			} else if sqlerr.Code(err) != sqlerr.InvalidTextRep {
				t.Errorf("%s: code %s, want %s", what, sqlerr.Code(err), sqlerr.InvalidTextRep)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s = %d, %v; want %d", what, got, err, c.want)
		}
	}
	_, err := scalar.ParseInterval("5 fortnights", "")
	if want := `invalid input syntax for type interval: "5 fortnights"`; err == nil || err.Error() != want {
		t.Errorf("message = %v, want %q", err, want)
	}
}

// TestIntervalTextRoundTrips checks that what the engine prints for an
// interval — EXPLAIN's compact duration and the interval text of a result —
// reads back as the same interval.
func TestIntervalTextRoundTrips(t *testing.T) {
	for _, ms := range []int64{0, 1, 999, 1000, 1500, 60_000, 90_000, 3_600_000, 5_400_000, 86_400_000,
		93_600_500, 90_061_001, 7 * 86_400_000, 400 * 86_400_000} {
		for _, text := range []string{planner.FormatDuration(ms), types.FormatInterval(ms)} {
			got, err := scalar.ParseInterval(text, "")
			if err != nil || got != ms {
				t.Errorf("ParseInterval(%q) = %d, %v; want %d", text, got, err, ms)
			}
		}
	}
	// Negative durations below a day.
	for _, ms := range []int64{-1, -1500, -90_000, -5_400_000} {
		for _, text := range []string{planner.FormatDuration(ms), types.FormatInterval(ms)} {
			got, err := scalar.ParseInterval(text, "")
			if err != nil || got != ms {
				t.Errorf("ParseInterval(%q) = %d, %v; want %d", text, got, err, ms)
			}
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	if ms, ok := scalar.ParseTimestamp("  2026-11-23T12:00:00Z "); !ok || ms != 1795435200000 {
		t.Errorf("ParseTimestamp = %d, %v", ms, ok)
	}
	if _, ok := scalar.ParseTimestamp("noon"); ok {
		t.Error("ParseTimestamp(noon) succeeded")
	}
}

// TestTypeErrorHints checks that a call with a wrong argument names the
// function, its signature and the argument at fault.
func TestTypeErrorHints(t *testing.T) {
	for _, c := range []struct {
		fn   string
		args []types.Type
		msg  string
		hint string
	}{
		{"regexp_extract", []types.Type{types.Bigint, types.Varchar},
			"function regexp_extract(bigint, varchar) does not exist",
			"Argument 1 of regexp_extract(varchar, varchar [, bigint]) must be varchar, not bigint. You might need to add an explicit type cast."},
		{"regexp_extract", []types.Type{types.Varchar},
			"function regexp_extract(varchar) does not exist",
			"regexp_extract takes 2 or 3 arguments: regexp_extract(varchar, varchar [, bigint])."},
		{"lower", []types.Type{types.Varchar, types.Varchar},
			"function lower(varchar, varchar) does not exist",
			"lower takes 1 argument: lower(varchar)."},
		{"split_index", []types.Type{types.Varchar, types.Varchar},
			"function split_index(varchar, varchar) does not exist",
			"split_index takes 3 arguments: split_index(varchar, varchar, bigint)."},
		{"date_trunc", []types.Type{types.Varchar, types.Varchar},
			"function date_trunc(varchar, varchar) does not exist",
			"Argument 2 of date_trunc(varchar, timestamp) must be timestamp, not varchar. You might need to add an explicit type cast."},
		{"upper", []types.Type{types.Bigint},
			"function upper(bigint) does not exist",
			"Argument 1 of upper(varchar) must be varchar, not bigint. You might need to add an explicit type cast."},
		{"abs", []types.Type{types.Varchar},
			"function abs(varchar) does not exist",
			"Argument 1 of abs(bigint | double precision) must be bigint or double precision, not varchar. You might need to add an explicit type cast."},
		{"round", []types.Type{types.Double, types.Double},
			"function round(double precision, double precision) does not exist",
			"Argument 2 of round(bigint | double precision [, bigint]) must be bigint, not double precision. You might need to add an explicit type cast."},
		{"substring", []types.Type{types.Varchar, types.Varchar},
			"function substring(varchar, varchar) does not exist",
			"Argument 2 of substring(varchar, bigint [, bigint]) must be bigint, not varchar. You might need to add an explicit type cast."},
	} {
		_, err := scalar.Resolve(c.fn, c.args)
		e := sqlerr.As(err)
		if err == nil || e.Code != sqlerr.UndefinedFunction || e.Message != c.msg || e.Hint != c.hint {
			t.Errorf("%s%v: got %v (code %s, hint %q)\nwant %q, hint %q", c.fn, c.args, err, e.Code, e.Hint, c.msg, c.hint)
		}
	}
}

// TestCheckConstants covers the plan-time checks of constant arguments: a
// regular expression that does not compile, an unknown unit, a bad date
// pattern. Arguments computed per row (nil) are not checked.
func TestCheckConstants(t *testing.T) {
	sv := func(x string) *types.Value { v := s(x); return &v }
	for _, c := range []struct {
		fn     string
		args   []types.Type
		consts []*types.Value
		code   string
	}{
		{"regexp_extract", []types.Type{types.Varchar, types.Varchar, types.Bigint}, []*types.Value{nil, sv("(a"), nil}, "2201B"},
		{"regexp_extract", []types.Type{types.Varchar, types.Varchar}, []*types.Value{nil, sv("(a)")}, ""},
		{"regexp_extract", []types.Type{types.Varchar, types.Varchar}, []*types.Value{nil, nil}, ""},
		{"regexp_replace", []types.Type{types.Varchar, types.Varchar, types.Varchar}, []*types.Value{nil, sv("a(?=b)"), nil}, "2201B"},
		{"regexp_like", []types.Type{types.Varchar, types.Varchar}, []*types.Value{nil, sv("[")}, "2201B"},
		{"date_part", []types.Type{types.Varchar, types.Timestamp}, []*types.Value{sv("fortnight"), nil}, sqlerr.InvalidParameter},
		{"date_part", []types.Type{types.Varchar, types.Timestamp}, []*types.Value{sv("epoch"), nil}, ""},
		{"date_trunc", []types.Type{types.Varchar, types.Timestamp}, []*types.Value{sv("doy"), nil}, sqlerr.InvalidParameter},
		{"date_trunc", []types.Type{types.Varchar, types.Timestamp}, []*types.Value{sv("week"), nil}, ""},
		{"date_format", []types.Type{types.Timestamp, types.Varchar}, []*types.Value{nil, sv("yyyy-QQ")}, sqlerr.InvalidParameter},
		{"date_format", []types.Type{types.Timestamp, types.Varchar}, []*types.Value{nil, sv("yyyy-MM-dd")}, ""},
		{"to_char", []types.Type{types.Timestamp, types.Varchar}, []*types.Value{nil, sv("anything at all")}, ""},
	} {
		impl, err := scalar.Resolve(c.fn, c.args)
		if err != nil {
			t.Fatalf("%s: %v", c.fn, err)
		}
		if impl.Check == nil {
			t.Errorf("%s has no Check", c.fn)
			continue
		}
		err = impl.Check(c.consts)
		if c.code == "" && err != nil || c.code != "" && sqlerr.Code(err) != c.code {
			t.Errorf("%s Check: %v (code %s), want code %q", c.fn, err, sqlerr.Code(err), c.code)
		}
	}
	impl, err := scalar.Resolve("regexp_extract", []types.Type{types.Varchar, types.Varchar})
	if err != nil {
		t.Fatal(err)
	}
	err = impl.Check([]*types.Value{nil, sv("(a")})
	if want := `invalid regular expression "(a": missing closing )`; err == nil || err.Error() != want {
		t.Errorf("message = %v, want %q", err, want)
	}
}

// TestRegexpPatternPerRow checks that one Impl gives the right answers when
// the pattern changes from row to row and when goroutines share it, as the
// executor's parallel tasks do.
func TestRegexpPatternPerRow(t *testing.T) {
	impl, err := scalar.Resolve("regexp_extract", []types.Type{types.Varchar, types.Varchar, types.Bigint})
	if err != nil {
		t.Fatal(err)
	}
	rows := []struct{ str, pat, want string }{
		{"a1b2", "([a-z])([0-9])", "1"},
		{"a1b2", "([0-9])([a-z])", "b"},
		{"x=5", "(x)=([0-9])", "5"},
	}
	done := make(chan error)
	for g := range 4 {
		go func() {
			for k := range 300 {
				r := rows[(k+g)%len(rows)]
				v, err := impl.Eval([]types.Value{s(r.str), s(r.pat), i(2)})
				if err != nil || v.S != r.want {
					done <- fmt.Errorf("regexp_extract(%q, %q, 2) = %v, %v; want %q", r.str, r.pat, v, err, r.want)
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// BenchmarkRowFunctions measures the per-row cost of the functions that
// compile a constant argument (a pattern, a format, a unit) once per Impl.
func BenchmarkRowFunctions(b *testing.B) {
	for _, c := range []struct {
		name string
		args []types.Value
	}{
		{"regexp_extract", []types.Value{s("https://www.nexmark.com/item?x=1&channel_id=42&y=2"), s("(&|^)channel_id=([^&]*)"), i(2)}},
		{"split_index", []types.Value{s("https://www.nexmark.com/auction/item/42"), s("/"), i(3)}},
		{"date_format", []types.Value{ts(T), s("yyyy-MM-dd HH:mm")}},
		{"date_trunc", []types.Value{s("MINUTE"), ts(T)}},
		{"hour", []types.Value{ts(T)}},
	} {
		argTypes := make([]types.Type, len(c.args))
		for k, a := range c.args {
			argTypes[k] = a.Type
		}
		impl, err := scalar.Resolve(c.name, argTypes)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := impl.Eval(c.args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
