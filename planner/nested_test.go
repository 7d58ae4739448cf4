package planner_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamsql/streamsql/catalog"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// nestedCatalog holds a stream as CREATE STREAM stores
//
//	events (event_type BIGINT,
//	        bid ROW<auction BIGINT, price BIGINT, "dateTime" TIMESTAMP, url ROW<host VARCHAR>>,
//	        person ROW<id BIGINT, "dateTime" TIMESTAMP>,
//	        "dateTime" AS CASE WHEN event_type = 0 THEN person."dateTime" ELSE bid."dateTime" END)
//	       timestamp "dateTime", watermark delay 4s
//
// with the ROW columns expanded into their leaves.
func nestedCatalog() fakeCatalog {
	leaf := func(name string, t types.Type) catalog.Column {
		return catalog.Column{Name: name, Type: t, Path: strings.Split(name, ".")}
	}
	return fakeCatalog{
		"events": {
			Name: "events", Topic: "events", Format: "json",
			Columns: []catalog.Column{
				{Name: "event_type", Type: types.Bigint},
				leaf("bid.auction", types.Bigint),
				leaf("bid.price", types.Bigint),
				leaf("bid.dateTime", types.Timestamp),
				leaf("bid.url.host", types.Varchar),
				leaf("person.id", types.Bigint),
				leaf("person.dateTime", types.Timestamp),
				{Name: "dateTime", Type: types.Timestamp,
					Expr: `CASE WHEN event_type = 0 THEN person."dateTime" ELSE bid."dateTime" END`},
			},
			Timestamp: "dateTime", WatermarkDelay: 4000, IdleTimeout: 5000, StartFrom: "earliest",
		},
	}
}

// TestNestedPlans runs the golden cases of testdata/nested/*.txt (same
// format and -update flag as TestPlans) against nestedCatalog.
func TestNestedPlans(t *testing.T) {
	files, err := filepath.Glob("testdata/nested/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/nested/*.txt files (%v)", err)
	}
	cat := nestedCatalog()
	for _, path := range files {
		pf := parsePlanFile(t, path)
		changed := false
		for _, c := range pf.cases {
			got := runPlan(cat, c.sql, c.mode)
			if *update {
				changed = changed || got != c.expected
				c.expected = got
				continue
			}
			if got != c.expected {
				t.Errorf("%s:%d: %s (%s)\n%s\n--- got ---\n%s\n--- want ---\n%s", path, c.line, c.name, c.mode, c.sql, got, c.expected)
			}
		}
		if changed {
			if err := pf.write(path); err != nil {
				t.Fatal(err)
			}
			t.Logf("rewrote %s", path)
		}
	}
}

// TestBindComputed checks the computed columns' binding and its errors,
// whose positions count from the expression's first character.
func TestBindComputed(t *testing.T) {
	st := nestedCatalog()["events"]
	comp, err := planner.BindComputed(st)
	if err != nil {
		t.Fatal(err)
	}
	if len(comp) != 1 || comp[0].Col != 7 || comp[0].Expr.Type() != types.Timestamp {
		t.Fatalf("BindComputed = %+v", comp)
	}
	want := "CASE WHEN (event_type = 0) THEN person.dateTime ELSE bid.dateTime END"
	if got := comp[0].Expr.String(); got != want {
		t.Errorf("expression = %s; want %s", got, want)
	}

	tests := []struct {
		expr, code, msg string
		pos             int
	}{
		{"bid.nope + 1", sqlerr.UndefinedColumn, `column "bid.nope" does not exist`, 1},
		{"1 + other", sqlerr.UndefinedColumn, `column "other" does not exist`, 5},
		{"rowtime", sqlerr.UndefinedColumn, `column "rowtime" does not exist`, 1},
		{"x2", sqlerr.UndefinedColumn, `column "x2" does not exist`, 1},
		{"bid", sqlerr.FeatureNotSupported, `column "bid" is a ROW; a whole ROW value is not supported`, 1},
		{"count(*)", sqlerr.GroupingError, "aggregate functions are not allowed in a computed column", 1},
		{"INTERVAL '1' SECOND", sqlerr.FeatureNotSupported, "a stream column cannot be of type INTERVAL", 1},
		{"event_type + 'a'", sqlerr.UndefinedFunction, "operator does not exist: bigint + varchar", 1},
		{"bid.price::int + CAST('x' AS BIGINT)", sqlerr.InvalidTextRep, "", 0},
	}
	for _, tt := range tests {
		s := *st
		s.Columns = append(append([]catalog.Column(nil), st.Columns...),
			catalog.Column{Name: "x1", Expr: "event_type + 1"}, catalog.Column{Name: "x3", Expr: tt.expr})
		s.Columns[len(s.Columns)-2].Name = "x2"
		_, err := planner.BindComputed(&s)
		var ce *planner.ComputedError
		if err == nil || !errorsAs(err, &ce) {
			t.Errorf("%s: got %v; want a ComputedError", tt.expr, err)
			continue
		}
		e := sqlerr.As(err)
		if ce.Column != len(s.Columns)-1 || e.Code != tt.code || (tt.msg != "" && (e.Message != tt.msg || e.Position != tt.pos)) {
			t.Errorf("%s: got column %d %s %q at %d; want %s %q at %d", tt.expr, ce.Column, e.Code, e.Message, e.Position, tt.code, tt.msg, tt.pos)
		}
	}
}

func errorsAs(err error, ce **planner.ComputedError) bool {
	c, ok := err.(*planner.ComputedError)
	*ce = c
	return ok
}
