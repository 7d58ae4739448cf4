package codec

import (
	"fmt"
	"testing"
)

// TestInternerTurnsOff: a full table that keeps missing stops being
// consulted; one that keeps hitting stays on. Values are right either way.
func TestInternerTurnsOff(t *testing.T) {
	for _, tt := range []struct {
		name    string
		value   func(i int) string // the i-th value after the table is full
		wantOff bool
	}{
		{"high cardinality", func(i int) string { return fmt.Sprint("new", i) }, true},
		{"low cardinality", func(i int) string { return fmt.Sprint("v", i%100) }, false},
		{"just under half hits", func(i int) string {
			if i%2 == 0 && i > 0 {
				return fmt.Sprint("v", i%100)
			}
			return fmt.Sprint("new", i)
		}, true},
	} {
		it := newInterner()
		for i := range internMaxEntries {
			if s := it.str([]byte(fmt.Sprint("v", i))); s != fmt.Sprint("v", i) {
				t.Fatalf("%s: got %q", tt.name, s)
			}
		}
		for i := range internWindow {
			v := tt.value(i)
			if s := it.str([]byte(v)); s != v {
				t.Fatalf("%s: value %d: got %q; want %q", tt.name, i, s, v)
			}
		}
		if it.off != tt.wantOff {
			t.Errorf("%s: off = %v; want %v", tt.name, it.off, tt.wantOff)
		}
		if s := it.str([]byte("v7")); s != "v7" {
			t.Errorf("%s: after the window: got %q", tt.name, s)
		}
	}
}
