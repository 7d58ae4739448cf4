package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// A script is a sequence of blocks separated by blank lines. The format is
// described in tests/slt/README.md; in short:
//
//	statement ok | statement error <SQLSTATE or message part>
//	query [rowsort] [eventually]          (rows after ----)
//	produce <topic> [partition=N]         (one message per line, "key => value" for keyed)
//	expect <topic> [timeout=30s] [settle=1s]  (records after ----, order-insensitive)
//	restart | sleep <duration>
type block struct {
	line  int // 1-based line of the directive
	kind  string
	args  []string
	body  []string // SQL or produced messages
	want  []string // lines after ----
	hasRS bool     // whether ---- was present
}

func parseScript(path string) ([]block, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var blocks []block
	var cur *block
	inWant := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if cur == nil {
			if trimmed == "" || strings.HasPrefix(trimmed, "#") {
				continue
			}
			fields := strings.Fields(trimmed)
			cur = &block{line: n, kind: fields[0], args: fields[1:]}
			switch cur.kind {
			case "statement", "query", "produce", "expect", "restart", "sleep":
			default:
				return nil, fmt.Errorf("%s:%d: unknown directive %q", path, n, cur.kind)
			}
			inWant = false
			continue
		}
		if trimmed == "" {
			blocks = append(blocks, *cur)
			cur = nil
			continue
		}
		if trimmed == "----" {
			inWant, cur.hasRS = true, true
			continue
		}
		if inWant {
			// Leading space is significant (EXPLAIN indentation).
			cur.want = append(cur.want, strings.TrimRight(line, " \t\r"))
		} else {
			cur.body = append(cur.body, line)
		}
	}
	if cur != nil {
		blocks = append(blocks, *cur)
	}
	return blocks, sc.Err()
}

// Runner executes a script against one server.
type Runner struct {
	Server *Server
	Kafka  *Kafka
	conn   *pgx.Conn
	path   string
}

func (r *Runner) connect(ctx context.Context) error {
	if r.conn != nil {
		r.conn.Close(ctx)
	}
	cfg, err := pgx.ParseConfig(r.Server.URL())
	if err != nil {
		return err
	}
	// The simple protocol returns every value in text format: exactly what
	// psql shows, which is what scripts compare against.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	r.conn, err = pgx.ConnectConfig(ctx, cfg)
	return err
}

// Run executes every block, stopping at the first failure.
func (r *Runner) Run(ctx context.Context, path string) error {
	r.path = path
	blocks, err := parseScript(path)
	if err != nil {
		return err
	}
	if err := r.connect(ctx); err != nil {
		return err
	}
	defer func() { r.conn.Close(context.Background()) }()
	for _, b := range blocks {
		if err := r.run(ctx, b); err != nil {
			return fmt.Errorf("%s:%d: %s %s: %w", path, b.line, b.kind, strings.Join(b.args, " "), err)
		}
	}
	return nil
}

func (r *Runner) run(ctx context.Context, b block) error {
	sqlText := strings.Join(b.body, "\n")
	switch b.kind {
	case "statement":
		if len(b.args) == 0 {
			return errors.New("statement needs ok or error")
		}
		_, err := r.conn.Exec(ctx, sqlText)
		if b.args[0] == "ok" {
			return err
		}
		return checkError(err, strings.Join(b.args[1:], " "), b.want)
	case "query":
		return r.query(ctx, sqlText, b)
	case "produce":
		return r.produce(b)
	case "expect":
		return r.expect(b)
	case "restart":
		r.Server.Restart()
		return r.connect(ctx)
	case "sleep":
		if len(b.args) != 1 {
			return errors.New("sleep takes a duration")
		}
		d, err := time.ParseDuration(b.args[0])
		if err != nil {
			return err
		}
		time.Sleep(d)
		return nil
	}
	return fmt.Errorf("unknown directive %q", b.kind)
}

// checkError compares a statement's error with the expectation: a SQLSTATE
// or message fragment on the directive line, and optionally the exact
// message, HINT:, DETAIL: and POSITION: lines after ----.
func checkError(err error, want string, details []string) error {
	if err == nil {
		return errors.New("statement succeeded, an error was expected")
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return fmt.Errorf("not a server error: %w", err)
	}
	got := fmt.Sprintf("%s %s (hint %q, position %d)", pe.Code, pe.Message, pe.Hint, pe.Position)
	if want != "" && pe.Code != want && !strings.Contains(pe.Message, want) {
		return fmt.Errorf("got error %s, want %q", got, want)
	}
	for i, d := range details {
		switch {
		case strings.HasPrefix(d, "HINT:"):
			if w := strings.TrimSpace(strings.TrimPrefix(d, "HINT:")); pe.Hint != w {
				return fmt.Errorf("got hint %q, want %q", pe.Hint, w)
			}
		case strings.HasPrefix(d, "DETAIL:"):
			if w := strings.TrimSpace(strings.TrimPrefix(d, "DETAIL:")); pe.Detail != w {
				return fmt.Errorf("got detail %q, want %q", pe.Detail, w)
			}
		case strings.HasPrefix(d, "POSITION:"):
			w, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(d, "POSITION:")))
			if int(pe.Position) != w {
				return fmt.Errorf("got position %d, want %d (%s)", pe.Position, w, got)
			}
		case i == 0:
			if pe.Message != d {
				return fmt.Errorf("got message %q, want %q", pe.Message, d)
			}
		default:
			return fmt.Errorf("unexpected expectation line %q", d)
		}
	}
	return nil
}

func (r *Runner) query(ctx context.Context, sqlText string, b block) error {
	rowsort, eventually := false, false
	var cols []string
	for _, a := range b.args {
		switch {
		case a == "rowsort":
			rowsort = true
		case a == "eventually":
			eventually = true
		case strings.HasPrefix(a, "cols="):
			cols = strings.Split(strings.TrimPrefix(a, "cols="), ",")
		default:
			// Column type letters (sqllogictest style) are documentation.
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := r.rows(ctx, sqlText, cols)
		if err == nil {
			if rowsort {
				sort.Strings(got)
			}
			err = compareLines(got, b.want)
		}
		if err == nil || !eventually || time.Now().After(deadline) {
			return err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// rows runs a query and renders each row as its text values joined by one
// space; NULL as NULL and the empty string as (empty). cols, if given,
// selects result columns by name (for SHOW output with volatile columns).
func (r *Runner) rows(ctx context.Context, sqlText string, cols []string) ([]string, error) {
	rows, err := r.conn.Query(ctx, sqlText)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var pick []int
	for _, c := range cols {
		found := false
		for i, f := range rows.FieldDescriptions() {
			if f.Name == c {
				pick, found = append(pick, i), true
			}
		}
		if !found {
			return nil, fmt.Errorf("result has no column %q", c)
		}
	}
	var out []string
	for rows.Next() {
		var parts []string
		raw := rows.RawValues()
		if pick != nil {
			sel := make([][]byte, len(pick))
			for i, p := range pick {
				sel[i] = raw[p]
			}
			raw = sel
		}
		for _, v := range raw {
			switch {
			case v == nil:
				parts = append(parts, "NULL")
			case len(v) == 0:
				parts = append(parts, "(empty)")
			default:
				parts = append(parts, string(v))
			}
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out, rows.Err()
}

func compareLines(got, want []string) error {
	if len(got) == len(want) {
		same := true
		for i := range got {
			if got[i] != want[i] {
				same = false
			}
		}
		if same {
			return nil
		}
	}
	return fmt.Errorf("result mismatch\n--- got (%d)\n%s\n--- want (%d)\n%s", len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
}

func (r *Runner) produce(b block) error {
	if len(b.args) == 0 {
		return errors.New("produce needs a topic")
	}
	topic := b.args[0]
	part := int32(-1)
	for _, a := range b.args[1:] {
		if v, ok := strings.CutPrefix(a, "partition="); ok {
			p, err := strconv.Atoi(v)
			if err != nil {
				return err
			}
			part = int32(p)
		}
	}
	var recs []Record
	for _, line := range b.body {
		rec := Record{Partition: part}
		if k, v, ok := strings.Cut(line, " => "); ok {
			rec.Key, rec.Value = []byte(strings.TrimSpace(k)), []byte(strings.TrimSpace(v))
		} else {
			rec.Value = []byte(strings.TrimSpace(line))
		}
		recs = append(recs, rec)
	}
	return r.Kafka.Produce(topic, recs)
}

// expect reads a topic until the expected records are there and compares
// them as a multiset. A want line "key => value" checks both; a line without
// " => " checks the value only. (null) is a missing key, (tombstone) a null
// value.
func (r *Runner) expect(b block) error {
	if len(b.args) == 0 {
		return errors.New("expect needs a topic")
	}
	topic := b.args[0]
	timeout, settle := 60*time.Second, time.Second
	for _, a := range b.args[1:] {
		if v, ok := strings.CutPrefix(a, "timeout="); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				return err
			}
			timeout = d
		}
		if v, ok := strings.CutPrefix(a, "settle="); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				return err
			}
			settle = d
		}
	}
	recs, err := r.Kafka.ReadAll(topic, len(b.want), timeout, settle)
	if err != nil {
		return err
	}
	withKeys := len(b.want) > 0 && strings.Contains(b.want[0], " => ")
	got := make([]string, len(recs))
	for i, rec := range recs {
		v := string(rec.Value)
		if rec.Value == nil {
			v = "(tombstone)"
		}
		if withKeys {
			k := string(rec.Key)
			if rec.Key == nil {
				k = "(null)"
			}
			v = k + " => " + v
		}
		got[i] = v
	}
	want := append([]string(nil), b.want...)
	sort.Strings(got)
	sort.Strings(want)
	return compareLines(got, want)
}
