package nexmark

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The suite's SQL (shared/bench/nexmark, beside the repository clone) read
// and adapted the way tests/e2e/nexmark_test.go adapts it, for programs
// (tests/bench) that cannot use that test's helpers.

// Queries are the suite's queries that StreamSQL runs, in the order the
// bench measures them.
var Queries = []string{"q0", "q1", "q2", "q12", "q14", "q15", "q17", "q21", "q22"}

// FindDir looks for shared/bench/nexmark beside the repository whose root
// is repoRoot.
func FindDir(repoRoot string) (string, error) {
	dir := filepath.Join(repoRoot, "..", "shared", "bench", "nexmark")
	if _, err := os.Stat(filepath.Join(dir, "ddl_kafka.sql")); err != nil {
		return "", fmt.Errorf("the Nexmark suite's SQL (shared/bench/nexmark beside the repository): %w", err)
	}
	return filepath.Clean(dir), nil
}

// Statements splits a suite file into statements, dropping whole-line
// comments (q2's holds a semicolon).
func Statements(dir, name string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			lines = append(lines, l)
		}
	}
	var out []string
	for _, s := range strings.Split(strings.Join(lines, "\n"), ";") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// StreamDDL turns the suite's CREATE TABLE kafka (ddl_kafka.sql) into
// CREATE STREAM nexmark over topic, with the edits the e2e test makes:
// camelCase field names quoted, the WATERMARK clause replaced by
// timestamp = 'dateTime' and watermark_delay = '4 seconds', the Flink
// connector options replaced by StreamSQL's.
func StreamDDL(dir, topic string, partitions int) (string, error) {
	stmts, err := Statements(dir, "ddl_kafka.sql")
	if err != nil {
		return "", err
	}
	text := strings.Join(stmts, ";")
	edits := []struct{ from, to string }{
		{`CREATE TABLE kafka (`, `CREATE STREAM nexmark (`},
		{`emailAddress  VARCHAR`, "`emailAddress`  VARCHAR"},
		{`creditCard  VARCHAR`, "`creditCard`  VARCHAR"},
		{`itemName  VARCHAR`, "`itemName`  VARCHAR"},
		{`initialBid  BIGINT`, "`initialBid`  BIGINT"},
	}
	for _, e := range edits {
		if !strings.Contains(text, e.from) {
			return "", fmt.Errorf("ddl_kafka.sql: %q not found", e.from)
		}
		text = strings.Replace(text, e.from, e.to, 1)
	}
	watermark := regexp.MustCompile(",\\s*WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND\\s*\\)")
	if !watermark.MatchString(text) {
		return "", fmt.Errorf("ddl_kafka.sql: WATERMARK clause not found")
	}
	text = watermark.ReplaceAllString(text, "\n)")
	i := strings.Index(text, ") WITH (")
	if i < 0 {
		return "", fmt.Errorf("ddl_kafka.sql: WITH clause not found")
	}
	return text[:i] + fmt.Sprintf(") WITH (kafka_topic = '%s', value_format = 'json', timestamp = 'dateTime', "+
		"watermark_delay = '4 seconds', partitions = %d)", topic, partitions), nil
}

// Views returns the CREATE VIEW statements of ddl_views.sql (person,
// auction, bid) over the stream nexmark.
func Views(dir string) ([]string, error) {
	stmts, err := Statements(dir, "ddl_views.sql")
	if err != nil {
		return nil, err
	}
	for i, v := range stmts {
		stmts[i] = strings.ReplaceAll(v, "${NEXMARK_TABLE}", "nexmark")
	}
	return stmts, nil
}

// Select returns the SELECT of a query file's INSERT INTO (name without
// ".sql"). For q12, whose windows are on processing time in the suite, it
// reads TABLE bid, DESCRIPTOR(dateTime) instead of TABLE B,
// DESCRIPTOR(p_time), as the e2e test does.
func Select(dir, name string) (string, error) {
	stmts, err := Statements(dir, name+".sql")
	if err != nil {
		return "", err
	}
	insert := regexp.MustCompile(`(?s)^INSERT INTO \w+\s+(SELECT.*)$`)
	for _, s := range stmts {
		m := insert.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		sel := m[1]
		if name == "q12" {
			const proctime = "TABLE B, DESCRIPTOR(p_time)"
			if !strings.Contains(sel, proctime) {
				return "", fmt.Errorf("q12.sql: %q not found", proctime)
			}
			sel = strings.Replace(sel, proctime, "TABLE bid, DESCRIPTOR(`dateTime`)", 1)
		}
		return sel, nil
	}
	return "", fmt.Errorf("%s.sql: no INSERT INTO ... SELECT", name)
}
