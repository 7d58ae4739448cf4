package pgwire

import "testing"

func TestScanQuery(t *testing.T) {
	for _, tc := range []struct {
		query    string
		empty    bool
		paramPos int
	}{
		{"", true, 0},
		{" ;\t;\n", true, 0},
		{"-- ping", true, 0},
		{"-- a\n-- b\n", true, 0},
		{"/* a /* nested */ still */ ;", true, 0},
		{"/* unterminated", true, 0},
		{"select 1", false, 0},
		{"-- c\nselect 1", false, 0},
		{"select $1", false, 8},
		{"select $12 + 1", false, 8},
		{"sélect $1", false, 8}, // Positions count characters, not bytes.
		{"select '$1', $2", false, 14},
		{"select 'it''s $1'", false, 0},
		{`select E'\' $1'`, false, 0},
		{`select '\' , $1`, false, 14}, // Standard strings: backslash is literal.
		{`select "a$1"`, false, 0},
		{"select a$1", false, 0},
		{"select $$ $1 $$, $tag$ $1 $$ $tag$", false, 0},
		{"select $tag$ $1", false, 0},
		{"select $$ $$ $1", false, 14},
		{"select 1 -- $1\n", false, 0},
		{"select /* $1 */ 1", false, 0},
		{"select 1 /* $1 */ + $3", false, 21},
	} {
		empty, pos := scanQuery(tc.query)
		if empty != tc.empty || pos != tc.paramPos {
			t.Errorf("scanQuery(%q) = %v, %d; want %v, %d", tc.query, empty, pos, tc.empty, tc.paramPos)
		}
	}
}
