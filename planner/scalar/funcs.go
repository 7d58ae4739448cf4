package scalar

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// fixed registers a function with one signature: fixed argument types (NULL
// literals coerce to them) and a result type.
func fixed(name string, ret types.Type, argTypes []types.Type, eval EvalFunc) {
	register(name, resolveFixed(signature{name: name, params: argTypes}, ret, eval))
}

// implicit reports whether a value of type from may be passed where to is
// expected without an explicit cast.
func implicit(from, to types.Type) bool {
	return from == to || from == types.Unknown || (from == types.Bigint && to == types.Double)
}

var (
	vc  = types.Varchar
	bi  = types.Bigint
	dbl = types.Double
	ts  = types.Timestamp
)

func init() {
	fixed("lower", vc, []types.Type{vc}, func(v []types.Value) (types.Value, error) {
		return types.StringValue(strings.ToLower(v[0].S)), nil
	})
	fixed("upper", vc, []types.Type{vc}, func(v []types.Value) (types.Value, error) {
		return types.StringValue(strings.ToUpper(v[0].S)), nil
	})
	length := func(v []types.Value) (types.Value, error) {
		return types.IntValue(int64(utf8.RuneCountInString(v[0].S))), nil
	}
	fixed("length", bi, []types.Type{vc}, length)
	fixed("char_length", bi, []types.Type{vc}, length)
	fixed("character_length", bi, []types.Type{vc}, length)
	// trim(s [, characters]) and its one-sided forms remove any of the
	// characters (as a set, PostgreSQL's btrim) from the ends of s. Without
	// characters they remove spaces only, not tabs or newlines, as in
	// PostgreSQL. The binder maps TRIM([BOTH|LEADING|TRAILING] [chars] FROM s)
	// to these.
	trim := func(name string, cut func(s, cutset string) string) {
		register(name, resolveFixed(signature{name: name, params: []types.Type{vc, vc}, optional: 1}, vc,
			func(v []types.Value) (types.Value, error) {
				cutset := " "
				if len(v) == 2 {
					cutset = v[1].S
				}
				return types.StringValue(cut(v[0].S, cutset)), nil
			}))
	}
	trim("trim", strings.Trim)
	trim("btrim", strings.Trim)
	trim("ltrim", strings.TrimLeft)
	trim("rtrim", strings.TrimRight)
	fixed("replace", vc, []types.Type{vc, vc, vc}, func(v []types.Value) (types.Value, error) {
		if v[1].S == "" {
			// strings.ReplaceAll would insert the replacement between every
			// character; PostgreSQL leaves the string unchanged.
			return v[0], nil
		}
		return types.StringValue(strings.ReplaceAll(v[0].S, v[1].S, v[2].S)), nil
	})
	fixed("reverse", vc, []types.Type{vc}, func(v []types.Value) (types.Value, error) {
		r := []rune(v[0].S)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		return types.StringValue(string(r)), nil
	})
	fixed("starts_with", types.Boolean, []types.Type{vc, vc}, func(v []types.Value) (types.Value, error) {
		return types.BoolValue(strings.HasPrefix(v[0].S, v[1].S)), nil
	})
	fixed("position", bi, []types.Type{vc, vc}, func(v []types.Value) (types.Value, error) {
		i := strings.Index(v[1].S, v[0].S)
		if i < 0 {
			return types.IntValue(0), nil
		}
		return types.IntValue(int64(utf8.RuneCountInString(v[1].S[:i]) + 1)), nil
	})
	fixed("split_part", vc, []types.Type{vc, vc, bi}, func(v []types.Value) (types.Value, error) {
		n := v[2].I
		if n == 0 {
			return types.Value{}, sqlerr.New(sqlerr.InvalidParameter, "field position must not be zero")
		}
		parts := strings.Split(v[0].S, v[1].S)
		if v[1].S == "" {
			parts = []string{v[0].S}
		}
		if n < 0 {
			n = int64(len(parts)) + n + 1
		}
		if n < 1 || n > int64(len(parts)) {
			return types.StringValue(""), nil
		}
		return types.StringValue(parts[n-1]), nil
	})
	// split_index(s, separator, i) is Flink's: the i-th (0-based) piece of s
	// split at separator, NULL when i is negative or past the last piece.
	// Like Flink (commons-lang's splitByWholeSeparatorPreserveAllTokens),
	// empty pieces count, an empty s has no pieces, and an empty separator
	// splits at every whitespace character.
	fixed("split_index", vc, []types.Type{vc, vc, bi}, func(v []types.Value) (types.Value, error) {
		if p, ok := splitIndex(v[0].S, v[1].S, v[2].I); ok {
			return types.StringValue(p), nil
		}
		return types.NullOf(vc), nil
	})
	// count_char(s, c) counts the occurrences of the first character of c in
	// s. It is the Java UDF of Nexmark q14, built in so that q14 runs
	// unchanged, and keeps that UDF's answer for a NULL s: 0, not NULL. An
	// empty c counts nothing; a NULL c gives NULL.
	countChar := signature{name: "count_char", params: []types.Type{vc, vc}}
	register("count_char", func(args []types.Type) (*Impl, error) {
		at, err := countChar.match(args)
		if err != nil {
			return nil, err
		}
		return &Impl{Name: "count_char", Ret: bi, NullAware: true, ArgTypes: at, Eval: func(v []types.Value) (types.Value, error) {
			if v[1].Null {
				return types.NullOf(bi), nil
			}
			if v[0].Null || v[1].S == "" {
				return types.IntValue(0), nil
			}
			_, size := utf8.DecodeRuneInString(v[1].S)
			return types.IntValue(int64(strings.Count(v[0].S, v[1].S[:size]))), nil
		}}, nil
	})
	substr := func(name string) {
		sig := signature{name: name, params: []types.Type{vc, bi, bi}, optional: 1}
		register(name, func(args []types.Type) (*Impl, error) {
			at, err := sig.match(args)
			if err != nil {
				return nil, err
			}
			return &Impl{Name: name, Ret: vc, ArgTypes: at, Eval: func(v []types.Value) (types.Value, error) {
				r := []rune(v[0].S)
				// SQL positions are 1-based; a start before 1 eats into the length.
				start := v[1].I
				end := int64(len(r)) + 1
				if len(v) == 3 {
					if v[2].I < 0 {
						return types.Value{}, sqlerr.New(sqlerr.InvalidParameter, "negative substring length not allowed")
					}
					if start > 0 && v[2].I > math.MaxInt64-start {
						// start+length overflows: the substring runs to the end.
						end = int64(len(r)) + 1
					} else {
						end = start + v[2].I
					}
				}
				if start < 1 {
					start = 1
				}
				if end > int64(len(r))+1 {
					end = int64(len(r)) + 1
				}
				if start >= end {
					return types.StringValue(""), nil
				}
				return types.StringValue(string(r[start-1 : end-1])), nil
			}}, nil
		})
	}
	substr("substring")
	substr("substr")
	// concat ignores NULL arguments (PostgreSQL); the || operator is
	// "concat_op" and yields NULL if either side is NULL.
	concat := func(name string, nullAware bool) {
		register(name, func(args []types.Type) (*Impl, error) {
			if len(args) == 0 {
				return nil, mismatch(name, args)
			}
			return &Impl{Name: name, Ret: vc, NullAware: nullAware, ArgTypes: same(vc, len(args)), Eval: func(v []types.Value) (types.Value, error) {
				var b strings.Builder
				for _, x := range v {
					if !x.Null {
						b.WriteString(x.S)
					}
				}
				return types.StringValue(b.String()), nil
			}}, nil
		})
	}
	concat("concat", true)
	concat("concat_op", false)

	// Math.
	register("abs", numeric1("abs", func(x int64) (int64, error) {
		if x == math.MinInt64 {
			return 0, errOverflow("bigint")
		}
		if x < 0 {
			return -x, nil
		}
		return x, nil
	}, math.Abs))
	register("floor", numeric1("floor", func(x int64) (int64, error) { return x, nil }, math.Floor))
	register("ceil", numeric1("ceil", func(x int64) (int64, error) { return x, nil }, math.Ceil))
	register("ceiling", numeric1("ceiling", func(x int64) (int64, error) { return x, nil }, math.Ceil))
	register("round", func(args []types.Type) (*Impl, error) {
		const sig = "round(bigint | double precision [, bigint])"
		switch {
		case len(args) < 1 || len(args) > 2:
			return nil, arityMismatch("round", args, sig, 1, 2)
		case !(args[0].Numeric() || args[0] == types.Unknown):
			return nil, argMismatch("round", args, sig, 0, "bigint or double precision")
		case len(args) == 2 && !implicit(args[1], bi):
			return nil, argMismatch("round", args, sig, 1, "bigint")
		}
		if args[0] == types.Bigint && len(args) == 1 {
			return &Impl{Name: "round", Ret: bi, ArgTypes: []types.Type{bi}, Eval: func(v []types.Value) (types.Value, error) { return v[0], nil }}, nil
		}
		at := []types.Type{dbl}
		if len(args) == 2 {
			at = append(at, bi)
		}
		return &Impl{Name: "round", Ret: dbl, ArgTypes: at, Eval: func(v []types.Value) (types.Value, error) {
			d := int64(0)
			if len(v) == 2 {
				d = v[1].I
			}
			return types.FloatValue(roundDecimal(v[0].F, d)), nil
		}}, nil
	})
	register("mod", func(args []types.Type) (*Impl, error) { return resolveArith("%", args) })
	fixed("power", dbl, []types.Type{dbl, dbl}, func(v []types.Value) (types.Value, error) {
		x, y := v[0].F, v[1].F
		// PostgreSQL refuses these rather than return Infinity or NaN.
		if x == 0 && y < 0 {
			return types.Value{}, sqlerr.New(sqlerr.InvalidParameter, "zero raised to a negative power is undefined")
		}
		if x < 0 && y != math.Trunc(y) {
			return types.Value{}, sqlerr.New(sqlerr.InvalidParameter, "a negative number raised to a non-integer power yields a complex result")
		}
		return types.FloatValue(math.Pow(x, y)), nil
	})
	fixed("sqrt", dbl, []types.Type{dbl}, func(v []types.Value) (types.Value, error) {
		if v[0].F < 0 {
			return types.Value{}, sqlerr.New(sqlerr.InvalidParameter, "cannot take square root of a negative number")
		}
		return types.FloatValue(math.Sqrt(v[0].F)), nil
	})
	fixed("ln", dbl, []types.Type{dbl}, func(v []types.Value) (types.Value, error) {
		if v[0].F <= 0 {
			return types.Value{}, sqlerr.New(sqlerr.InvalidParameter, "cannot take logarithm of a non-positive number")
		}
		return types.FloatValue(math.Log(v[0].F)), nil
	})

	// Time.
	fixed("to_timestamp_ms", ts, []types.Type{bi}, func(v []types.Value) (types.Value, error) {
		return types.TimestampValue(v[0].I), nil
	})
	fixed("unix_millis", bi, []types.Type{ts}, func(v []types.Value) (types.Value, error) {
		return types.IntValue(v[0].I), nil
	})
}

// roundDecimal rounds x to d decimal places (d < 0 rounds to tens, hundreds,
// ...), half away from zero as PostgreSQL rounds numeric. It rounds the
// shortest decimal text of x, which is the number the user wrote: the double
// nearest 2.345 lies just below it, yet round(2.345, 2) must be 2.35.
func roundDecimal(x float64, d int64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) || x == 0 {
		return x
	}
	s := strconv.FormatFloat(math.Abs(x), 'f', -1, 64)
	ip, fp, _ := strings.Cut(s, ".")
	digits := ip + fp
	if d >= int64(len(fp)) {
		return x // nothing to round away
	}
	cut := int64(len(ip)) + d // how many leading digits survive
	if cut < 0 {
		return 0
	}
	kept := []byte(digits[:cut])
	if digits[cut] >= '5' {
		i := len(kept) - 1
		for ; i >= 0 && kept[i] == '9'; i-- {
			kept[i] = '0'
		}
		if i >= 0 {
			kept[i]++
		} else {
			kept = append([]byte{'1'}, kept...)
		}
	}
	if len(kept) == 0 {
		return 0
	}
	// The kept digits are an integer scaled by 10^(len(ip)-cut) = 10^-d.
	r, _ := strconv.ParseFloat(string(kept)+"e"+strconv.FormatInt(-d, 10), 64)
	if r == 0 {
		return 0
	}
	return math.Copysign(r, x)
}

// numeric1 is a one-argument numeric function that keeps BIGINT as BIGINT.
func numeric1(name string, fi func(int64) (int64, error), ff func(float64) float64) resolver {
	return func(args []types.Type) (*Impl, error) {
		sig := name + "(bigint | double precision)"
		if len(args) != 1 {
			return nil, arityMismatch(name, args, sig, 1, 1)
		}
		if !(args[0].Numeric() || args[0] == types.Unknown) {
			return nil, argMismatch(name, args, sig, 0, "bigint or double precision")
		}
		if args[0] == types.Double {
			return &Impl{Name: name, Ret: dbl, ArgTypes: args, Eval: func(v []types.Value) (types.Value, error) {
				return types.FloatValue(ff(v[0].F)), nil
			}}, nil
		}
		return &Impl{Name: name, Ret: bi, ArgTypes: []types.Type{bi}, Eval: func(v []types.Value) (types.Value, error) {
			r, err := fi(v[0].I)
			return types.IntValue(r), err
		}}, nil
	}
}

// Cast returns the implementation of CAST(x AS to) for a value of type from,
// or an error if PostgreSQL would refuse the cast.
func Cast(from, to types.Type) (*Impl, error) {
	if from == to || from == types.Unknown {
		return &Impl{Name: "cast", Ret: to, ArgTypes: []types.Type{from}, Eval: func(v []types.Value) (types.Value, error) {
			if v[0].Type == types.Unknown {
				return types.NullOf(to), nil
			}
			return v[0], nil
		}}, nil
	}
	ok := false
	switch to {
	case types.Varchar:
		ok = true
	case types.Bigint, types.Double:
		ok = from.Numeric() || from == types.Varchar || from == types.Boolean
	case types.Boolean:
		ok = from == types.Varchar || from == types.Bigint
	case types.Timestamp:
		ok = from == types.Varchar
	case types.Interval:
		ok = from == types.Varchar
	}
	if !ok {
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "cannot cast type %s to %s",
			strings.ToLower(from.String()), strings.ToLower(to.String()))
	}
	return &Impl{Name: "cast", Ret: to, ArgTypes: []types.Type{from}, Eval: func(v []types.Value) (types.Value, error) {
		return CastValue(v[0], to)
	}}, nil
}

func badInput(t types.Type, s string) error {
	return sqlerr.New(sqlerr.InvalidTextRep, "invalid input syntax for type %s: %q", strings.ToLower(t.String()), s)
}

// CastValue converts a non-NULL value to type to.
func CastValue(v types.Value, to types.Type) (types.Value, error) {
	if v.Null {
		return types.NullOf(to), nil
	}
	if v.Type == to {
		return v, nil
	}
	switch to {
	case types.Varchar:
		return types.StringValue(v.String()), nil
	case types.Bigint:
		switch v.Type {
		case types.Double:
			r := math.RoundToEven(v.F)
			if math.IsNaN(r) || r >= 9.223372036854775807e18 || r < -9.223372036854775808e18 {
				return types.Value{}, errOverflow("bigint")
			}
			return types.IntValue(int64(r)), nil
		case types.Boolean:
			return types.IntValue(v.I), nil
		case types.Varchar:
			n, err := strconv.ParseInt(strings.TrimSpace(v.S), 10, 64)
			if err != nil {
				if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
					return types.Value{}, sqlerr.New(sqlerr.NumericOutOfRange, "value %q is out of range for type bigint", v.S)
				}
				return types.Value{}, badInput(types.Bigint, v.S)
			}
			return types.IntValue(n), nil
		}
	case types.Double:
		switch v.Type {
		case types.Bigint, types.Boolean:
			return types.FloatValue(float64(v.I)), nil
		case types.Varchar:
			s := strings.TrimSpace(v.S)
			switch strings.ToLower(s) {
			case "infinity", "+infinity":
				return types.FloatValue(math.Inf(1)), nil
			case "-infinity":
				return types.FloatValue(math.Inf(-1)), nil
			case "nan":
				return types.FloatValue(math.NaN()), nil
			}
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
					return types.Value{}, sqlerr.New(sqlerr.NumericOutOfRange, "value %q is out of range for type double precision", v.S)
				}
				return types.Value{}, badInput(types.Double, v.S)
			}
			return types.FloatValue(f), nil
		}
	case types.Boolean:
		switch v.Type {
		case types.Bigint:
			return types.BoolValue(v.I != 0), nil
		case types.Varchar:
			switch strings.ToLower(strings.TrimSpace(v.S)) {
			case "t", "true", "yes", "y", "on", "1":
				return types.BoolValue(true), nil
			case "f", "false", "no", "n", "off", "0":
				return types.BoolValue(false), nil
			}
			return types.Value{}, badInput(types.Boolean, v.S)
		}
	case types.Timestamp:
		if v.Type == types.Varchar {
			ms, ok := ParseTimestamp(v.S)
			if !ok {
				return types.Value{}, badInput(types.Timestamp, v.S)
			}
			return types.TimestampValue(ms), nil
		}
	case types.Interval:
		if v.Type == types.Varchar {
			ms, err := ParseInterval(v.S, "")
			if err != nil {
				return types.Value{}, err
			}
			return types.IntervalValue(ms), nil
		}
	}
	return types.Value{}, sqlerr.New(sqlerr.DatatypeMismatch, "cannot cast type %s to %s",
		strings.ToLower(v.Type.String()), strings.ToLower(to.String()))
}

// splitIndex returns the i-th (0-based) piece of s split at sep, with
// split_index's rules; ok is false when there is no such piece.
func splitIndex(s, sep string, i int64) (string, bool) {
	if i < 0 || s == "" {
		return "", false
	}
	if sep == "" {
		// Every whitespace character ends a piece.
		start := 0
		for j, r := range s {
			if unicode.IsSpace(r) {
				if i == 0 {
					return s[start:j], true
				}
				i--
				start = j + utf8.RuneLen(r)
			}
		}
		if i == 0 {
			return s[start:], true
		}
		return "", false
	}
	for ; i > 0; i-- {
		k := strings.Index(s, sep)
		if k < 0 {
			return "", false
		}
		s = s[k+len(sep):]
	}
	if k := strings.Index(s, sep); k >= 0 {
		return s[:k], true
	}
	return s, true
}
