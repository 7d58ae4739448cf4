// Package planner turns a parsed SELECT into a typed physical plan for the
// executor: it binds names against the catalog, checks and resolves types,
// validates grouping and windows, decides where rows are exchanged between
// tasks, and renders plans for EXPLAIN.
//
// It runs nothing and touches neither Kafka nor state. Plans are immutable
// trees of Node values; each node states its output schema and its stream
// properties (key, append-only or upsert, event-time column).
package planner

import (
	"fmt"
	"strings"

	"github.com/streamsql/streamsql/catalog"
	"github.com/streamsql/streamsql/sql/types"
)

// Column is one output column of a node.
type Column struct {
	Name string
	Type types.Type
}

// ChangeKind says what the rows a node emits mean.
type ChangeKind int

const (
	// AppendOnly: every row is a new fact (a filtered stream, a closed window).
	AppendOnly ChangeKind = iota
	// Upsert: a row replaces the previous row with the same key.
	Upsert
)

func (k ChangeKind) String() string {
	if k == Upsert {
		return "upsert"
	}
	return "append-only"
}

// Props are the stream properties of a node's output.
type Props struct {
	Kind ChangeKind
	// Key lists the output columns that identify a row of an upsert
	// stream and form the Kafka key of an aggregate's output.
	Key []int
	// TimeCol is the output column carrying event time that the watermark
	// refers to, or -1 when no output column does.
	TimeCol int
	// TimeIsEnd says TimeCol is an exclusive window end: the row's event
	// time is the instant before it.
	TimeIsEnd bool
}

// Node is a physical plan operator.
type Node interface {
	Schema() []Column
	Children() []Node
	Props() Props
	// describe renders the node's own line for EXPLAIN.
	describe() string
}

// Scan reads a stream's topic and decodes each message into the stream's
// columns, followed by the pseudo-column rowtime: the row's event time.
// Computed columns are evaluated right after decoding, before event time
// is taken, so the event-time column may be a computed one; to the nodes
// above they are ordinary columns.
type Scan struct {
	Stream *catalog.Stream
	// TimeCol is the stream column holding event time, or -1 when event time
	// is the Kafka record timestamp.
	TimeCol int
	// Computed are the stream's computed columns, in column order.
	Computed []ComputedColumn
}

// ComputedColumn is a stream column computed from the decoded ones.
type ComputedColumn struct {
	// Col is the column's index in Stream.Columns, and in the scan's output.
	Col int
	// Expr computes the column. It is bound over the decoded columns alone:
	// its column i is Stream.Columns[Decoded()[i]].
	Expr Expr
}

// Decoded returns the indexes in Stream.Columns of the columns decoded from
// each message (all but the computed ones), in order.
func (s *Scan) Decoded() []int { return decodedColumns(s.Stream) }

func decodedColumns(st *catalog.Stream) []int {
	out := make([]int, 0, len(st.Columns))
	for i, c := range st.Columns {
		if !c.Computed() {
			out = append(out, i)
		}
	}
	return out
}

// RowtimeName is the pseudo-column every scan appends: the event time.
const RowtimeName = "rowtime"

func (s *Scan) Schema() []Column {
	out := make([]Column, 0, len(s.Stream.Columns)+1)
	for _, c := range s.Stream.Columns {
		out = append(out, Column{c.Name, c.Type})
	}
	return append(out, Column{RowtimeName, types.Timestamp})
}
func (s *Scan) Children() []Node { return nil }
func (s *Scan) Props() Props {
	if s.TimeCol >= 0 {
		return Props{Kind: AppendOnly, TimeCol: s.TimeCol}
	}
	return Props{Kind: AppendOnly, TimeCol: len(s.Stream.Columns)}
}

// RowtimeCol is the index of the rowtime pseudo-column in the scan's output.
func (s *Scan) RowtimeCol() int { return len(s.Stream.Columns) }
func (s *Scan) describe() string {
	et := "kafka timestamp"
	if s.TimeCol >= 0 {
		et = s.Stream.Columns[s.TimeCol].Name
	}
	computed := ""
	if len(s.Computed) > 0 {
		parts := make([]string, len(s.Computed))
		for i, c := range s.Computed {
			parts[i] = s.Stream.Columns[c.Col].Name + " := " + c.Expr.String()
		}
		computed = ", computed: [" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprintf("StreamScan { stream: %s, topic: %s, format: %s, event_time: %s, watermark_delay: %s%s }",
		s.Stream.Name, s.Stream.Topic, s.Stream.Format, et, FormatDuration(s.Stream.WatermarkDelay), computed)
}

// Filter keeps the rows for which Cond is true.
type Filter struct {
	Input Node
	Cond  Expr
}

func (f *Filter) Schema() []Column { return f.Input.Schema() }
func (f *Filter) Children() []Node { return []Node{f.Input} }
func (f *Filter) Props() Props     { return f.Input.Props() }
func (f *Filter) describe() string { return fmt.Sprintf("Filter { condition: %s }", f.Cond) }

// Project computes one output column per expression.
type Project struct {
	Input Node
	Exprs []Expr
	Names []string
	props Props
}

func (p *Project) Schema() []Column {
	out := make([]Column, len(p.Exprs))
	for i, e := range p.Exprs {
		out[i] = Column{p.Names[i], e.Type()}
	}
	return out
}
func (p *Project) Children() []Node { return []Node{p.Input} }
func (p *Project) Props() Props     { return p.props }
func (p *Project) describe() string {
	parts := make([]string, len(p.Exprs))
	for i, e := range p.Exprs {
		s := e.String()
		if s != p.Names[i] {
			s += " AS " + p.Names[i]
		}
		parts[i] = s
	}
	return "Project { " + strings.Join(parts, ", ") + " }"
}

// Exchange redistributes rows between tasks by the hash of Keys, so that all
// rows of one group reach the same aggregation task. With no keys every row
// goes to one task.
type Exchange struct {
	Input Node
	Keys  []Expr
}

func (e *Exchange) Schema() []Column { return e.Input.Schema() }
func (e *Exchange) Children() []Node { return []Node{e.Input} }
func (e *Exchange) Props() Props     { return e.Input.Props() }
func (e *Exchange) describe() string {
	if len(e.Keys) == 0 {
		return "Exchange { single }"
	}
	return "Exchange { hash: [" + exprList(e.Keys) + "] }"
}

// AggFunc names an aggregate function.
type AggFunc string

const (
	AggCountStar AggFunc = "count_star"
	AggCount     AggFunc = "count"
	AggSum       AggFunc = "sum"
	AggMin       AggFunc = "min"
	AggMax       AggFunc = "max"
	AggAvg       AggFunc = "avg"
	// The extended aggregates keep a state object per group (see
	// planner/aggregates.go for their semantics).
	AggStddevPop           AggFunc = "stddev_pop"
	AggStddevSamp          AggFunc = "stddev_samp"
	AggVarPop              AggFunc = "var_pop"
	AggVarSamp             AggFunc = "var_samp"
	AggApproxCountDistinct AggFunc = "approx_count_distinct"
	AggListagg             AggFunc = "listagg"
	AggStringAgg           AggFunc = "string_agg"
)

// AggCall is one aggregate computed by an aggregation node.
type AggCall struct {
	Func AggFunc
	Arg  Expr // nil for COUNT(*)
	// Distinct folds each distinct non-NULL argument value once.
	Distinct bool
	// Sep is the separator of LISTAGG and STRING_AGG.
	Sep string
	// Filter is the FILTER (WHERE ...) condition over the aggregation's
	// input, or nil: rows for which it is not TRUE skip this aggregate only.
	Filter Expr
	Type   types.Type
}

func (a AggCall) String() string { return a.string() }

// WindowKind names a window type.
type WindowKind string

const (
	Tumble   WindowKind = "TUMBLE"
	Hop      WindowKind = "HOP"
	Cumulate WindowKind = "CUMULATE"
	Session  WindowKind = "SESSION"
)

// Window describes the event-time windows of a WindowAgg.
type Window struct {
	Kind WindowKind
	// Time is the input column holding event time.
	Time *ColRef
	// Size is the window length (TUMBLE, HOP), the largest window
	// (CUMULATE) or the gap that ends a session (SESSION), in ms.
	Size int64
	// Slide is HOP's slide or CUMULATE's step, in ms.
	Slide int64
}

func (w Window) String() string {
	switch w.Kind {
	case Hop, Cumulate:
		return fmt.Sprintf("%s(%s, %s, %s)", w.Kind, w.Time.Name, FormatDuration(w.Slide), FormatDuration(w.Size))
	}
	return fmt.Sprintf("%s(%s, %s)", w.Kind, w.Time.Name, FormatDuration(w.Size))
}

// WindowAgg groups rows by Keys within event-time windows and emits each
// window's final row once the watermark passes the window's end. Its output
// is Keys..., window_start, window_end, Aggs...
type WindowAgg struct {
	Input  Node
	Window Window
	Keys   []Expr
	Aggs   []AggCall
}

func (w *WindowAgg) Schema() []Column {
	out := keyColumns(w.Keys)
	out = append(out, Column{"window_start", types.Timestamp}, Column{"window_end", types.Timestamp})
	return append(out, aggColumns(w.Aggs)...)
}
func (w *WindowAgg) Children() []Node { return []Node{w.Input} }
func (w *WindowAgg) Props() Props {
	return Props{Kind: AppendOnly, Key: seq(len(w.Keys)), TimeCol: len(w.Keys) + 1, TimeIsEnd: true}
}
func (w *WindowAgg) describe() string {
	return fmt.Sprintf("WindowAgg { window: %s, keys: [%s], aggs: [%s], emit: on window close }",
		w.Window, exprList(w.Keys), aggList(w.Aggs))
}

// HashAgg groups rows by Keys without windows. Its output (Keys...,
// Aggs...) is an upsert stream keyed by Keys; a bounded query emits each
// group's final row at the end of its input.
type HashAgg struct {
	Input Node
	Keys  []Expr
	Aggs  []AggCall
}

func (h *HashAgg) Schema() []Column { return append(keyColumns(h.Keys), aggColumns(h.Aggs)...) }
func (h *HashAgg) Children() []Node { return []Node{h.Input} }
func (h *HashAgg) Props() Props     { return Props{Kind: Upsert, Key: seq(len(h.Keys)), TimeCol: -1} }
func (h *HashAgg) describe() string {
	return fmt.Sprintf("HashAgg { keys: [%s], aggs: [%s], emit: upsert }", exprList(h.Keys), aggList(h.Aggs))
}

// SortKey is one ORDER BY item of a bounded query.
type SortKey struct {
	Col  int
	Desc bool
}

// Sort orders a bounded query's result; it holds the whole result.
type Sort struct {
	Input Node
	Keys  []SortKey
}

func (s *Sort) Schema() []Column { return s.Input.Schema() }
func (s *Sort) Children() []Node { return []Node{s.Input} }
func (s *Sort) Props() Props     { return s.Input.Props() }
func (s *Sort) describe() string {
	sch := s.Input.Schema()
	parts := make([]string, len(s.Keys))
	for i, k := range s.Keys {
		parts[i] = sch[k.Col].Name
		if k.Desc {
			parts[i] += " DESC"
		}
	}
	return "Sort { " + strings.Join(parts, ", ") + " }"
}

// Limit keeps the first Count rows after skipping Offset.
type Limit struct {
	Input         Node
	Count, Offset int64
}

func (l *Limit) Schema() []Column { return l.Input.Schema() }
func (l *Limit) Children() []Node { return []Node{l.Input} }
func (l *Limit) Props() Props     { return l.Input.Props() }
func (l *Limit) describe() string {
	if l.Offset > 0 {
		return fmt.Sprintf("Limit { count: %d, offset: %d }", l.Count, l.Offset)
	}
	return fmt.Sprintf("Limit { count: %d }", l.Count)
}

func keyColumns(keys []Expr) []Column {
	out := make([]Column, len(keys))
	for i, k := range keys {
		out[i] = Column{defaultName(k), k.Type()}
	}
	return out
}

func aggColumns(aggs []AggCall) []Column {
	out := make([]Column, len(aggs))
	for i, a := range aggs {
		out[i] = Column{a.String(), a.Type}
	}
	return out
}

func defaultName(e Expr) string {
	if c, ok := e.(*ColRef); ok {
		return c.Name
	}
	return e.String()
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func exprList(es []Expr) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
	}
	return strings.Join(parts, ", ")
}

func aggList(as []AggCall) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

// Explain renders a plan tree, one node per line, children indented under
// their parent, as EXPLAIN shows it.
func Explain(root Node) []string {
	var lines []string
	var walk func(n Node, prefix string, first bool)
	walk = func(n Node, prefix string, first bool) {
		if first {
			lines = append(lines, n.describe())
		} else {
			lines = append(lines, prefix+"└─"+n.describe())
			prefix += "  "
		}
		for _, c := range n.Children() {
			walk(c, prefix, false)
		}
	}
	walk(root, "", true)
	return lines
}
