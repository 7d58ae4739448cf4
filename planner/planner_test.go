package planner_test

// Golden plan tests in the style of RisingWave's planner_test: every case in
// testdata/*.txt is a query, the mode it is planned in, and the expected
// EXPLAIN output or error. Run
//
//	go test ./planner -run TestPlans -update
//
// to rewrite the expected output from the planner's current behaviour, then
// read the diff: the files are the specification, so a plan or an error that
// looks wrong there is a bug, not something to accept.
//
// File format. Lines starting with '#' and blank lines between cases are
// comments and are kept by -update. A case is
//
//	plan <name> <bounded|continuous>
//	<SQL, one or more lines>
//	----
//	<expected output, no blank lines>
//	<blank line>
//
// A planned query shows the EXPLAIN lines, then "columns:" (the output
// schema), "stream:" (the root's change kind and event-time column) and,
// for aggregates, "kafka key:" (Plan.KeyNames). A failed one shows the
// error as psql would: the SQLSTATE and message, DETAIL and HINT when set,
// and the statement line with a caret under the error position.

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/streamsql/streamsql/catalog"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql"
	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata/*.txt from the planner's current output")

// fakeCatalog is the planner.Catalog the golden cases plan against.
type fakeCatalog map[string]*catalog.Stream

func (c fakeCatalog) Stream(name string) (*catalog.Stream, bool) {
	s, ok := c[name]
	return s, ok
}

// testCatalog holds:
//
//	clicks (user_id BIGINT, page VARCHAR, ts TIMESTAMP)  event time ts, watermark delay 5s
//	orders (order_id BIGINT, amount DOUBLE PRECISION, status VARCHAR, paid BOOLEAN, created TIMESTAMP)
//	       no timestamp option: event time is the Kafka record timestamp (rowtime)
func testCatalog() fakeCatalog {
	return fakeCatalog{
		"clicks": {
			Name: "clicks", Topic: "clicks-topic", Format: "json",
			Columns: []catalog.Column{
				{Name: "user_id", Type: types.Bigint},
				{Name: "page", Type: types.Varchar},
				{Name: "ts", Type: types.Timestamp},
			},
			Timestamp: "ts", WatermarkDelay: 5000, IdleTimeout: 5000, StartFrom: "earliest",
		},
		"orders": {
			Name: "orders", Topic: "orders", Format: "json",
			Columns: []catalog.Column{
				{Name: "order_id", Type: types.Bigint},
				{Name: "amount", Type: types.Double},
				{Name: "status", Type: types.Varchar},
				{Name: "paid", Type: types.Boolean},
				{Name: "created", Type: types.Timestamp},
			},
			StartFrom: "earliest",
		},
	}
}

type planCase struct {
	comment  []string // comment and blank lines before the case
	name     string
	mode     string
	sql      string
	expected string
	line     int
}

type planFile struct {
	cases   []*planCase
	trailer []string
}

func parsePlanFile(t *testing.T, path string) *planFile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pf := &planFile{}
	var pending []string
	var cur *planCase
	state := 0 // 0: between cases, 1: reading SQL, 2: reading expected output
	var sqlLines, outLines []string
	sc := bufio.NewScanner(f)
	n := 0
	finish := func() {
		cur.sql = strings.Join(sqlLines, "\n")
		cur.expected = strings.Join(outLines, "\n")
		pf.cases = append(pf.cases, cur)
		cur, sqlLines, outLines, state = nil, nil, nil, 0
	}
	for sc.Scan() {
		n++
		line := sc.Text()
		switch state {
		case 0:
			if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
				pending = append(pending, line)
				continue
			}
			fields := strings.Fields(line)
			if len(fields) != 3 || fields[0] != "plan" || (fields[2] != "bounded" && fields[2] != "continuous") {
				t.Fatalf("%s:%d: want `plan <name> <bounded|continuous>`, got %q", path, n, line)
			}
			cur = &planCase{comment: pending, name: fields[1], mode: fields[2], line: n}
			pending = nil
			state = 1
		case 1:
			if line == "----" {
				if len(sqlLines) == 0 {
					t.Fatalf("%s:%d: case %s has no SQL", path, n, cur.name)
				}
				state = 2
				continue
			}
			sqlLines = append(sqlLines, line)
		case 2:
			if strings.TrimSpace(line) == "" {
				finish()
				pending = append(pending, line)
				continue
			}
			outLines = append(outLines, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	switch state {
	case 1:
		t.Fatalf("%s: case %s has no ---- line", path, cur.name)
	case 2:
		finish()
	}
	pf.trailer = pending
	return pf
}

func (pf *planFile) write(path string) error {
	var b strings.Builder
	for _, c := range pf.cases {
		for _, l := range c.comment {
			b.WriteString(l + "\n")
		}
		fmt.Fprintf(&b, "plan %s %s\n%s\n----\n%s\n", c.name, c.mode, c.sql, c.expected)
	}
	// Keep one blank line at most at the end of the file.
	tr := pf.trailer
	for len(tr) > 0 && strings.TrimSpace(tr[len(tr)-1]) == "" {
		tr = tr[:len(tr)-1]
	}
	for _, l := range tr {
		b.WriteString(l + "\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// runPlan plans one case and renders the result.
func runPlan(cat planner.Catalog, sqlText, mode string) string {
	m := planner.Bounded
	if mode == "continuous" {
		m = planner.Continuous
	}
	q, err := sql.ParseSelect(sqlText)
	if err != nil {
		return renderError(sqlText, err)
	}
	p, err := planner.Build(q, cat, m)
	if err != nil {
		return renderError(sqlText, err)
	}
	lines := p.Explain()
	cols := make([]string, len(p.Columns))
	for i, c := range p.Columns {
		cols[i] = c.Name + " " + strings.ToLower(c.Type.String())
	}
	lines = append(lines, "columns: "+strings.Join(cols, ", "))
	props := p.Root.Props()
	st := "stream: " + props.Kind.String()
	if props.TimeCol >= 0 {
		st += ", event time: " + p.Columns[props.TimeCol].Name
	}
	if p.EmitChanges {
		st += ", emit changes"
	}
	lines = append(lines, st)
	if p.KeyNames != nil {
		lines = append(lines, "kafka key: "+strings.Join(p.KeyNames, ", "))
	}
	return strings.Join(lines, "\n")
}

// renderError shows err as psql shows a server error: code, message, detail,
// hint and a caret under the position.
func renderError(input string, err error) string {
	e := sqlerr.As(err)
	var lines []string
	lines = append(lines, fmt.Sprintf("ERROR %s: %s", e.Code, e.Message))
	if e.Detail != "" {
		lines = append(lines, "DETAIL: "+e.Detail)
	}
	if e.Hint != "" {
		lines = append(lines, "HINT: "+e.Hint)
	}
	if e.Position > 0 {
		lines = append(lines, caret(input, e.Position)...)
	}
	return strings.Join(lines, "\n")
}

// caret renders "POSITION n", then the line of input holding 1-based
// character position pos and a caret under that character.
func caret(input string, pos int) []string {
	out := []string{fmt.Sprintf("POSITION %d", pos)}
	runes := []rune(input)
	if pos > len(runes)+1 {
		return append(out, fmt.Sprintf("(position beyond the end of the %d-character statement)", len(runes)))
	}
	lineNo, lineStart := 1, 0
	for i := 0; i < pos-1; i++ {
		if runes[i] == '\n' {
			lineNo++
			lineStart = i + 1
		}
	}
	lineEnd := lineStart
	for lineEnd < len(runes) && runes[lineEnd] != '\n' {
		lineEnd++
	}
	prefix := fmt.Sprintf("LINE %d: ", lineNo)
	col := pos - 1 - lineStart
	return append(out, prefix+string(runes[lineStart:lineEnd]),
		strings.Repeat(" ", utf8.RuneCountInString(prefix)+col)+"^")
}

func TestPlans(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.txt files")
	}
	cat := testCatalog()
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			pf := parsePlanFile(t, path)
			seen := map[string]int{}
			changed := false
			for _, c := range pf.cases {
				if prev, dup := seen[c.name]; dup {
					t.Errorf("%s:%d: case name %s already used at line %d", path, c.line, c.name, prev)
				}
				seen[c.name] = c.line
				got := runPlan(cat, c.sql, c.mode)
				if *update {
					if got != c.expected {
						c.expected = got
						changed = true
					}
					continue
				}
				t.Run(c.name, func(t *testing.T) {
					if got != c.expected {
						t.Errorf("%s:%d: %s (%s)\n%s\n--- got ---\n%s\n--- want ---\n%s", path, c.line, c.name, c.mode, c.sql, got, c.expected)
					}
				})
			}
			if changed {
				if err := pf.write(path); err != nil {
					t.Fatal(err)
				}
				t.Logf("rewrote %s", path)
			}
		})
	}
}

// TestGroupingErrorContract pins the exact error the brief and the docs
// quote, field by field, so it cannot drift with a golden-file update.
func TestGroupingErrorContract(t *testing.T) {
	const q = "SELECT page, COUNT(*) FROM clicks GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)"
	parsed, err := sql.ParseSelect(q)
	if err != nil {
		t.Fatal(err)
	}
	_, err = planner.Build(parsed, testCatalog(), planner.Continuous)
	e := sqlerr.As(err)
	if e.Code != sqlerr.GroupingError {
		t.Errorf("code = %s, want %s", e.Code, sqlerr.GroupingError)
	}
	if want := `column "clicks.page" must appear in the GROUP BY clause or be used in an aggregate function`; e.Message != want {
		t.Errorf("message = %q, want %q", e.Message, want)
	}
	if want := "Group by it as well: GROUP BY page, TUMBLE(ts, INTERVAL '1' MINUTE)"; e.Hint != want {
		t.Errorf("hint = %q, want %q", e.Hint, want)
	}
	if e.Position != 8 {
		t.Errorf("position = %d, want 8", e.Position)
	}
}

// TestPlanCatalogLookup checks that a stream name is looked up as written
// and then folded to lower case, and that an unknown one names the stream.
func TestPlanCatalogLookup(t *testing.T) {
	cat := testCatalog()
	for _, q := range []string{`SELECT page FROM clicks`, `SELECT page FROM CLICKS`, `SELECT page FROM "clicks"`} {
		parsed, err := sql.ParseSelect(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		p, err := planner.Build(parsed, cat, planner.Bounded)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if p.Scan == nil || p.Scan.Stream.Name != "clicks" {
			t.Errorf("%s: scan = %+v, want stream clicks", q, p.Scan)
		}
	}
}

// TestFormatDuration covers the compact duration text EXPLAIN and SHOW use.
func TestFormatDuration(t *testing.T) {
	for _, c := range []struct {
		ms   int64
		want string
	}{
		{0, "0s"}, {1, "1ms"}, {999, "999ms"}, {1000, "1s"}, {5000, "5s"}, {60_000, "1m"},
		{90_000, "1m30s"}, {3_600_000, "1h"}, {5_400_000, "1h30m"}, {86_400_000, "1d"},
		{90_061_001, "1d1h1m1s1ms"}, {-1500, "-1s500ms"},
	} {
		if got := planner.FormatDuration(c.ms); got != c.want {
			t.Errorf("FormatDuration(%d) = %q, want %q", c.ms, got, c.want)
		}
	}
}
