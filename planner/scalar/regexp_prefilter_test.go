package scalar

import (
	"slices"
	"testing"
)

// TestPatternPrefilter: the literals a pattern requires, and that the
// prefilter never rules out a string the pattern matches.
func TestPatternPrefilter(t *testing.T) {
	for _, tt := range []struct {
		pattern string
		need    []string
	}{
		{`(&|^)channel_id=([^&]*)`, []string{"channel_id="}},
		{`abc`, []string{"abc"}},
		{`(abc)`, []string{"abc"}},
		{`a(b)c\d+x`, []string{"a", "b", "c", "x"}},
		{`(?i)channel_id=`, nil},
		{`a|b`, nil},
		{`x*`, nil},
		{``, nil},
		{`^foo$`, []string{"foo"}},
		{`(?i:a)b`, []string{"b"}},
	} {
		p, err := compilePattern(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(p.need, tt.need) {
			t.Errorf("%q: need %q; want %q", tt.pattern, p.need, tt.need)
		}
		for _, s := range []string{"", "abc", "xabcx", "a1bc", "ab1c22x", "foo", "FOO", "https://x/?q=1&channel_id=7",
			"channel_id=", "CHANNEL_ID=3", "Ab", "b", "xyz"} {
			if p.re.MatchString(s) && !p.mayMatch(s) {
				t.Errorf("%q matches %q but the prefilter rules it out", tt.pattern, s)
			}
		}
	}
}
