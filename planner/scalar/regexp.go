package scalar

import (
	"errors"
	"regexp"
	"regexp/syntax"
	"strings"

	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// invalidRegularExpression is PostgreSQL's SQLSTATE 2201B.
const invalidRegularExpression = "2201B"

// compileRegexp compiles a pattern in Go's RE2 syntax (Perl-like; no
// backreferences or lookaround, which Java's regular expressions have).
func compileRegexp(p string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(p)
	if err != nil {
		msg := err.Error()
		var e *syntax.Error
		if errors.As(err, &e) {
			msg = e.Code.String()
			if e.Expr != "" && e.Expr != p {
				msg += ": " + e.Expr
			}
		}
		return nil, sqlerr.New(invalidRegularExpression, "invalid regular expression %q: %s", p, msg).
			WithHint("Patterns use RE2 syntax: lookaround and backreferences are not supported.")
	}
	return re, nil
}

// pattern is a compiled regular expression with the literal text every
// match must contain. Go's engine has no prefilter for a pattern that does
// not start with a literal: Nexmark q21's (&|^)channel_id=([^&]*) ran the
// backtracker over every URL, nearly none of which hold "channel_id=".
type pattern struct {
	re *regexp.Regexp
	// need are literals that a match contains (pieces of the pattern's
	// top-level concatenation matched case-sensitively).
	need []string
}

func compilePattern(p string) (*pattern, error) {
	re, err := compileRegexp(p)
	if err != nil {
		return nil, err
	}
	pat := &pattern{re: re}
	if parsed, err := syntax.Parse(p, syntax.Perl); err == nil {
		pat.need = requiredLiterals(parsed.Simplify())
	}
	return pat, nil
}

// requiredLiterals returns the case-sensitive literals of re's top-level
// concatenation (looking through capture groups): a match of re contains
// each of them.
func requiredLiterals(re *syntax.Regexp) []string {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase == 0 && len(re.Rune) > 0 {
			return []string{string(re.Rune)}
		}
	case syntax.OpConcat:
		var out []string
		for _, sub := range re.Sub {
			for sub.Op == syntax.OpCapture {
				sub = sub.Sub[0]
			}
			if sub.Op == syntax.OpLiteral && sub.Flags&syntax.FoldCase == 0 && len(sub.Rune) > 0 {
				out = append(out, string(sub.Rune))
			}
		}
		return out
	}
	return nil
}

// mayMatch is false when s lacks a literal every match contains: then re
// does not match s anywhere.
func (p *pattern) mayMatch(s string) bool {
	for _, lit := range p.need {
		if !strings.Contains(s, lit) {
			return false
		}
	}
	return true
}

// checkPattern is the Check of a function whose argument i is a regular
// expression: a constant pattern that does not compile is a plan-time
// error. (A pattern computed per row that does not compile yields NULL, as
// in Flink.)
func checkPattern(i int) func([]*types.Value) error {
	return func(consts []*types.Value) error {
		if i < len(consts) && consts[i] != nil {
			_, err := compileRegexp(consts[i].S)
			return err
		}
		return nil
	}
}

func init() {
	// regexp_extract(s, pattern [, group]) is Flink's: group (default 0,
	// the whole match) of the first match of pattern in s; NULL when
	// nothing matches, when the group does not exist or took no part in the
	// match, and when a pattern computed per row does not compile.
	extract := signature{name: "regexp_extract", params: []types.Type{vc, vc, bi}, optional: 1}
	register("regexp_extract", func(args []types.Type) (*Impl, error) {
		at, err := extract.match(args)
		if err != nil {
			return nil, err
		}
		var m memo[*pattern]
		return &Impl{Name: "regexp_extract", Ret: vc, ArgTypes: at, Check: checkPattern(1),
			Eval: func(v []types.Value) (types.Value, error) {
				p, err := m.get(v[1].S, compilePattern)
				if err != nil {
					return types.NullOf(vc), nil
				}
				re := p.re
				group := int64(0)
				if len(v) == 3 {
					group = v[2].I
				}
				if group < 0 || group > int64(re.NumSubexp()) || !p.mayMatch(v[0].S) {
					return types.NullOf(vc), nil
				}
				loc := re.FindStringSubmatchIndex(v[0].S)
				if loc == nil || loc[2*group] < 0 {
					return types.NullOf(vc), nil
				}
				return types.StringValue(v[0].S[loc[2*group]:loc[2*group+1]]), nil
			}}, nil
	})
	// regexp_replace(s, pattern, replacement) is Flink's: every match is
	// replaced, and the replacement is literal text ($1 is not a group
	// reference). PostgreSQL would replace the first match only, unless
	// given the 'g' flag.
	replace := signature{name: "regexp_replace", params: []types.Type{vc, vc, vc}}
	register("regexp_replace", func(args []types.Type) (*Impl, error) {
		at, err := replace.match(args)
		if err != nil {
			return nil, err
		}
		var m memo[*pattern]
		return &Impl{Name: "regexp_replace", Ret: vc, ArgTypes: at, Check: checkPattern(1),
			Eval: func(v []types.Value) (types.Value, error) {
				p, err := m.get(v[1].S, compilePattern)
				if err != nil {
					return types.NullOf(vc), nil
				}
				if !p.mayMatch(v[0].S) {
					return types.StringValue(v[0].S), nil
				}
				return types.StringValue(p.re.ReplaceAllLiteralString(v[0].S, v[2].S)), nil
			}}, nil
	})
	// regexp_like(s, pattern) is true when pattern matches anywhere in s
	// (anchor it with ^ and $ to match all of s).
	like := signature{name: "regexp_like", params: []types.Type{vc, vc}}
	register("regexp_like", func(args []types.Type) (*Impl, error) {
		at, err := like.match(args)
		if err != nil {
			return nil, err
		}
		var m memo[*pattern]
		return &Impl{Name: "regexp_like", Ret: types.Boolean, ArgTypes: at, Check: checkPattern(1),
			Eval: func(v []types.Value) (types.Value, error) {
				p, err := m.get(v[1].S, compilePattern)
				if err != nil {
					return types.NullOf(types.Boolean), nil
				}
				return types.BoolValue(p.mayMatch(v[0].S) && p.re.MatchString(v[0].S)), nil
			}}, nil
	})
}
