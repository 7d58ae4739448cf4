package scalar

import (
	"fmt"
	"strings"

	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// signature is the parameter list of a function with one overload: fixed
// parameter types, the last optional of which may be left out. It resolves
// calls and words the hint of a call that does not match, naming the
// argument at fault.
type signature struct {
	name     string
	params   []types.Type
	optional int
}

// String renders the signature as users write calls, e.g.
// "regexp_extract(varchar, varchar [, bigint])".
func (s signature) String() string {
	var b strings.Builder
	b.WriteString(s.name)
	b.WriteByte('(')
	required := len(s.params) - s.optional
	for i, p := range s.params {
		t := strings.ToLower(p.String())
		switch {
		case i < required && i == 0:
			b.WriteString(t)
		case i < required:
			b.WriteString(", " + t)
		case i == 0:
			b.WriteString("[" + t)
		default:
			b.WriteString(" [, " + t)
		}
	}
	b.WriteString(strings.Repeat("]", s.optional))
	b.WriteByte(')')
	return b.String()
}

// match checks args against the signature and returns the argument types the
// call resolves to, or PostgreSQL's "function f(...) does not exist" error
// with a hint that says which argument is wrong.
func (s signature) match(args []types.Type) ([]types.Type, error) {
	if len(args) < len(s.params)-s.optional || len(args) > len(s.params) {
		return nil, arityMismatch(s.name, args, s.String(), len(s.params)-s.optional, len(s.params))
	}
	for i, a := range args {
		if !implicit(a, s.params[i]) {
			return nil, argMismatch(s.name, args, s.String(), i, strings.ToLower(s.params[i].String()))
		}
	}
	return append([]types.Type(nil), s.params[:len(args)]...), nil
}

// arityMismatch is the error for a call with the wrong number of arguments
// to a function whose signature is sig and that takes min to max arguments.
func arityMismatch(name string, args []types.Type, sig string, min, max int) error {
	var count string
	switch {
	case min == max && min == 1:
		count = "1 argument"
	case min == max:
		count = fmt.Sprintf("%d arguments", min)
	case max == min+1:
		count = fmt.Sprintf("%d or %d arguments", min, max)
	default:
		count = fmt.Sprintf("%d to %d arguments", min, max)
	}
	return sqlerr.New(sqlerr.UndefinedFunction, "function %s(%s) does not exist", name, typeList(args)).
		WithHint("%s takes %s: %s.", name, count, sig)
}

// argMismatch is the error for a call whose argument i (0-based) has a type
// that cannot be passed where want is expected.
func argMismatch(name string, args []types.Type, sig string, i int, want string) error {
	return sqlerr.New(sqlerr.UndefinedFunction, "function %s(%s) does not exist", name, typeList(args)).
		WithHint("Argument %d of %s must be %s, not %s. You might need to add an explicit type cast.",
			i+1, sig, want, strings.ToLower(args[i].String()))
}

// resolveFixed resolves a call against one signature.
func resolveFixed(s signature, ret types.Type, eval EvalFunc) resolver {
	return func(args []types.Type) (*Impl, error) {
		at, err := s.match(args)
		if err != nil {
			return nil, err
		}
		return &Impl{Name: s.name, Ret: ret, ArgTypes: at, Eval: eval}, nil
	}
}
