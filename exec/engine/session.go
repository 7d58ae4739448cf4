package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/streamsql/streamsql/catalog"
	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/planner/scalar"
	"github.com/streamsql/streamsql/sql"
	"github.com/streamsql/streamsql/sql/pgwire"
	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// Session runs one client's statements.
type Session struct {
	e        *Engine
	settings map[string]string
	inTxn    bool
	// cursors are the open cursors by name (push.go).
	cursors map[string]*cursor
}

var _ pgwire.Session = (*Session)(nil)

// NewSession implements pgwire.Handler.
func (e *Engine) NewSession(params map[string]string) pgwire.Session {
	return &Session{e: e, settings: map[string]string{}}
}

// Close implements pgwire.Session.
func (s *Session) Close() { s.closeCursors() }

// TxStatus reports 'T' inside BEGIN ... COMMIT so clients that wrap
// statements in transactions (psql's FETCH_COUNT, psycopg) see what they expect.
func (s *Session) TxStatus() byte {
	if s.inTxn {
		return 'T'
	}
	return 'I'
}

// Execute implements pgwire.Session.
func (s *Session) Execute(ctx context.Context, query string, w pgwire.ResultWriter) error {
	stmts, err := sql.Parse(query)
	if err != nil {
		return err
	}
	for _, st := range stmts {
		if err := s.execute(ctx, st, w); err != nil {
			return err
		}
	}
	return nil
}

// Describe implements pgwire.Session.
func (s *Session) Describe(ctx context.Context, query string) ([]pgwire.Column, error) {
	stmts, err := sql.Parse(query)
	if err != nil {
		return nil, err
	}
	if len(stmts) != 1 {
		return nil, sqlerr.New(sqlerr.SyntaxError, "cannot insert multiple commands into a prepared statement")
	}
	switch st := stmts[0].(type) {
	case *sql.SelectStmt:
		plan, err := s.planSelect(st.Query)
		if err != nil {
			return nil, err
		}
		return planColumns(plan), nil
	case *sql.Explain:
		return explainColumns, nil
	case *sql.Show:
		cols, _, err := s.show(st)
		return cols, err
	case *sql.Describe:
		return describeColumns, nil
	case *sql.Fetch:
		return s.describeFetch(st)
	}
	return nil, nil
}

func (s *Session) execute(ctx context.Context, st sql.Statement, w pgwire.ResultWriter) error {
	switch st := st.(type) {
	case *sql.Empty:
		return nil
	case *sql.CreateStream:
		return s.createStream(st, w)
	case *sql.CreateView:
		return s.createView(st, w)
	case *sql.CreateSink:
		return s.createSink(st, w)
	case *sql.Drop:
		return s.drop(st, w)
	case *sql.Show:
		cols, rows, err := s.show(st)
		if err != nil {
			return err
		}
		return writeRows(w, cols, rows, "SHOW")
	case *sql.Describe:
		rows, err := s.describe(st)
		if err != nil {
			return err
		}
		return writeRows(w, describeColumns, rows, "DESCRIBE")
	case *sql.Explain:
		plan, err := s.planSelect(st.Query)
		if err != nil {
			return err
		}
		var rows [][]types.Value
		for _, line := range plan.Explain() {
			rows = append(rows, []types.Value{types.StringValue(line)})
		}
		return writeRows(w, explainColumns, rows, "EXPLAIN")
	case *sql.SelectStmt:
		return s.selectBounded(ctx, st, w)
	case *sql.Set:
		s.settings[st.Name] = st.Value
		return w.Complete("SET")
	case *sql.TxnControl:
		s.inTxn = st.Verb == "BEGIN"
		if !s.inTxn {
			s.closeCursors()
		}
		return w.Complete(st.Verb)
	case *sql.CopyTo, *sql.DeclareCursor, *sql.Fetch, *sql.CloseCursor:
		return s.executePush(ctx, st, w)
	}
	return sqlerr.New(sqlerr.FeatureNotSupported, "statement %T is not supported", st)
}

var (
	explainColumns  = []pgwire.Column{{Name: "QUERY PLAN", Type: types.Varchar}}
	describeColumns = []pgwire.Column{
		{Name: "column_name", Type: types.Varchar}, {Name: "data_type", Type: types.Varchar},
		{Name: "is_event_time", Type: types.Boolean}, {Name: "topic", Type: types.Varchar},
		{Name: "value_format", Type: types.Varchar},
	}
)

func writeRows(w pgwire.ResultWriter, cols []pgwire.Column, rows [][]types.Value, tag string) error {
	if err := w.Columns(cols); err != nil {
		return err
	}
	for _, r := range rows {
		if err := w.Row(r); err != nil {
			return err
		}
	}
	if tag == "SHOW" || tag == "EXPLAIN" {
		return w.Complete(tag)
	}
	return w.Complete(fmt.Sprintf("%s %d", tag, len(rows)))
}

func planColumns(p *planner.Plan) []pgwire.Column {
	out := make([]pgwire.Column, len(p.Columns))
	for i, c := range p.Columns {
		out[i] = pgwire.Column{Name: c.Name, Type: c.Type}
	}
	return out
}

func (s *Session) planSelect(q *sql.Query) (*planner.Plan, error) {
	if q.EmitChanges {
		return s.planPush(q)
	}
	return planner.Build(q, s.e.cfg.Catalog, planner.Bounded)
}

// selectBounded runs a plain SELECT over each partition's current contents
// and streams the rows to the client.
func (s *Session) selectBounded(ctx context.Context, st *sql.SelectStmt, w pgwire.ResultWriter) error {
	if st.Query.EmitChanges {
		return s.selectPush(ctx, st.Query, w)
	}
	plan, err := s.planSelect(st.Query)
	if err != nil {
		return err
	}
	if err := w.Columns(planColumns(plan)); err != nil {
		return err
	}
	n := 0
	cfg := s.queryConfig(plan)
	cfg.Output = func(b *types.Batch) error {
		n += b.Len()
		return w.Rows(b)
	}
	q, err := exec.Start(ctx, cfg)
	if err != nil {
		return err
	}
	if err := q.Err(); err != nil {
		if errors.Is(err, context.Canceled) {
			return sqlerr.New(sqlerr.QueryCanceled, "canceling statement due to user request")
		}
		return err
	}
	return w.Complete(fmt.Sprintf("SELECT %d", n))
}

// queryConfig is what every query a session runs shares: the plan and the
// engine's client, parallelism and state budget.
func (s *Session) queryConfig(plan *planner.Plan) exec.Config {
	return exec.Config{
		Plan:            plan,
		Client:          s.e.cfg.Client,
		Parallelism:     s.e.cfg.Parallelism,
		StateCacheBytes: s.e.cfg.StateCacheBytes,
		Spill:           s.e.cfg.Spill,
		Logger:          s.e.log,
	}
}

// ---- CREATE STREAM ----

var streamOptions = []string{"kafka_topic", "value_format", "timestamp", "watermark_delay", "idle_timeout",
	"partitions", "replicas", "start_from"}

var sinkOptions = []string{"kafka_topic", "value_format", "partitions", "replicas", "checkpoint_interval", "delivery", "allowed_lateness"}

func checkOptions(opts sql.Options, allowed []string, what string) error {
	for _, o := range opts {
		ok := false
		for _, a := range allowed {
			ok = ok || o.Key == a
		}
		if !ok {
			return sqlerr.New(sqlerr.InvalidParameter, "unrecognized %s option %q", what, o.Key).At(o.Pos).
				WithHint("Valid options are: %s.", strings.Join(allowed, ", "))
		}
	}
	return nil
}

func optPos(opts sql.Options, key string) int {
	for _, o := range opts {
		if o.Key == key {
			return o.Pos
		}
	}
	return 0
}

func parseDuration(v string) (time.Duration, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return d, nil
	}
	ms, err := scalar.ParseInterval(v, "")
	return time.Duration(ms) * time.Millisecond, err
}

func durationOption(opts sql.Options, key string, def time.Duration) (int64, error) {
	v, ok := opts.Get(key)
	if !ok {
		return def.Milliseconds(), nil
	}
	d, err := parseDuration(v)
	if err != nil || d < 0 {
		return 0, sqlerr.New(sqlerr.InvalidParameter, "invalid value for option %s: %q", key, v).At(optPos(opts, key)).
			WithHint("Use an interval such as '5 seconds', '1 minute' or '500ms'.")
	}
	return d.Milliseconds(), nil
}

func intOption(opts sql.Options, key string, def int) (int, error) {
	v, ok := opts.Get(key)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, sqlerr.New(sqlerr.InvalidParameter, "invalid value for option %s: %q", key, v).At(optPos(opts, key)).
			WithHint("%s takes a positive integer.", key)
	}
	return n, nil
}

func formatOption(opts sql.Options) (string, error) {
	v, ok := opts.Get("value_format")
	if !ok {
		return "json", nil
	}
	if f := strings.ToLower(v); f == "json" || f == "csv" {
		return f, nil
	}
	return "", sqlerr.New(sqlerr.FeatureNotSupported, "value_format %q is not supported", v).At(optPos(opts, "value_format")).
		WithHint("Supported formats: json, csv.")
}

func startFromOption(opts sql.Options) (string, error) {
	v, ok := opts.Get("start_from")
	if !ok {
		return "earliest", nil
	}
	switch strings.ToLower(v) {
	case "earliest", "latest":
		return strings.ToLower(v), nil
	}
	if ms, ok := types.ParseTimestamp(v); ok {
		return strconv.FormatInt(ms, 10), nil
	}
	return "", sqlerr.New(sqlerr.InvalidParameter, "invalid value for option start_from: %q", v).At(optPos(opts, "start_from")).
		WithHint("Use 'earliest', 'latest' or a timestamp such as '2026-11-23T10:00:00Z'.")
}

// ensureTopic makes sure topic exists, creating it with partitions when
// given (0 means it must exist already).
func (s *Session) ensureTopic(topic string, partitions, replicas int, pos int) (int, error) {
	info, ok, err := s.e.cfg.Client.Topic(topic)
	if err != nil {
		return 0, err
	}
	if ok {
		return info.Partitions, nil
	}
	if partitions == 0 {
		return 0, sqlerr.New(sqlerr.UndefinedObject, "topic %q does not exist", topic).At(pos).
			WithHint("Create it with your Kafka tools, or add partitions = N to the WITH list to have StreamSQL create it.")
	}
	if _, err := s.e.cfg.Client.CreateTopic(topic, partitions, replicas); err != nil {
		return 0, err
	}
	return partitions, nil
}

// nameInUse answers a CREATE whose name is taken: with IF NOT EXISTS a
// notice and success, as PostgreSQL does; otherwise the error (code) naming
// the kind of object.
func (s *Session) nameInUse(noun, code, name string, pos int, ifNotExists bool, tag string, w pgwire.ResultWriter) error {
	if ifNotExists {
		_ = w.Notice(fmt.Sprintf("%s %q already exists, skipping", noun, name))
		return w.Complete(tag)
	}
	return sqlerr.New(code, "%s %q already exists", noun, name).At(pos)
}

// exists reports whether a stream, sink or view already uses name (they
// share one namespace).
func (s *Session) exists(name string) bool {
	_, a := s.e.cfg.Catalog.Stream(name)
	_, b := s.e.cfg.Catalog.Sink(name)
	_, c := s.e.cfg.Catalog.View(name)
	return a || b || c
}

func (s *Session) createStream(st *sql.CreateStream, w pgwire.ResultWriter) error {
	e := s.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if s.exists(st.Name) {
		return s.nameInUse("relation", sqlerr.DuplicateTable, st.Name, st.NamePos, st.IfNotExists, "CREATE STREAM", w)
	}
	if st.Query != nil {
		return s.createDerivedStream(st, w)
	}
	opts := st.Options
	if err := checkOptions(opts, streamOptions, "stream"); err != nil {
		return err
	}
	if len(st.Columns) == 0 {
		return sqlerr.New(sqlerr.InvalidTableDef, "stream %q needs at least one column", st.Name).At(st.NamePos)
	}
	stream := &catalog.Stream{Name: st.Name, Topic: st.Name}
	var err error
	if stream.Format, err = streamFormatOption(opts); err != nil {
		return err
	}
	// A ROW column is stored as its leaves, "bid.auction" with the JSON path
	// [bid auction]; a computed column as its expression's text, typed by
	// binding it below. defs[i] is the definition behind stream.Columns[i].
	var defs []sql.ColumnDef
	seen := map[string]bool{}
	var add func(c sql.ColumnDef, path []string) error
	add = func(c sql.ColumnDef, path []string) error {
		path = append(path[:len(path):len(path)], c.Name)
		name := strings.Join(path, ".")
		if seen[name] {
			return sqlerr.New(sqlerr.DuplicateObject, "column %q specified more than once", name).At(c.Pos)
		}
		seen[name] = true
		switch {
		case c.Fields != nil:
			if stream.Format != "json" {
				return sqlerr.New(sqlerr.FeatureNotSupported, "ROW columns need value_format 'json'").At(c.Pos).
					WithHint("A %s record is flat: declare the fields as columns of their own.", stream.Format)
			}
			for _, f := range c.Fields {
				if err := add(f, path); err != nil {
					return err
				}
			}
			return nil
		case c.Expr != "":
			stream.Columns = append(stream.Columns, catalog.Column{Name: name, Expr: c.Expr})
		case c.Type == types.Interval || c.Type == types.Unknown:
			return sqlerr.New(sqlerr.FeatureNotSupported, "a stream column cannot be of type %s", c.TypeName).At(c.Pos)
		default:
			col := catalog.Column{Name: name, Type: c.Type}
			if len(path) > 1 {
				col.Path = path
			}
			stream.Columns = append(stream.Columns, col)
		}
		defs = append(defs, c)
		return nil
	}
	for _, c := range st.Columns {
		if strings.EqualFold(c.Name, planner.RowtimeName) {
			return sqlerr.New(sqlerr.DuplicateObject, "column name %q is reserved: it is the event-time pseudo-column", c.Name).At(c.Pos)
		}
		if err := add(c, nil); err != nil {
			return err
		}
	}
	computed, err := planner.BindComputed(stream)
	if err != nil {
		var ce *planner.ComputedError
		if errors.As(err, &ce) {
			// Point into the CREATE STREAM text: the expression's positions
			// count from its first character.
			e, d := sqlerr.As(ce.Err), defs[ce.Column]
			if e.Position > 0 {
				return e.At(d.ExprPos + e.Position - 1)
			}
			return e.At(d.Pos)
		}
		return err
	}
	for _, c := range computed {
		stream.Columns[c.Col].Type = c.Expr.Type()
	}
	if len(computed) == len(stream.Columns) {
		return sqlerr.New(sqlerr.InvalidTableDef, "stream %q needs at least one column that is not computed", st.Name).At(st.NamePos)
	}
	if v, ok := opts.Get("kafka_topic"); ok {
		stream.Topic = v
	}
	if v, ok := opts.Get("timestamp"); ok {
		i := stream.Column(v)
		if i < 0 {
			return sqlerr.New(sqlerr.UndefinedColumn, "timestamp column %q does not exist", v).At(optPos(opts, "timestamp"))
		}
		if stream.Columns[i].Type != types.Timestamp {
			return sqlerr.New(sqlerr.DatatypeMismatch, "timestamp column %q must be of type TIMESTAMP, not %s", v, stream.Columns[i].Type).
				At(optPos(opts, "timestamp")).WithHint("Declare it as TIMESTAMP; JSON epoch milliseconds are accepted for TIMESTAMP columns.")
		}
		stream.Timestamp = stream.Columns[i].Name
	}
	if stream.WatermarkDelay, err = durationOption(opts, "watermark_delay", 0); err != nil {
		return err
	}
	if stream.IdleTimeout, err = durationOption(opts, "idle_timeout", 5*time.Second); err != nil {
		return err
	}
	if stream.StartFrom, err = startFromOption(opts); err != nil {
		return err
	}
	parts, err := intOption(opts, "partitions", 0)
	if err != nil {
		return err
	}
	reps, err := intOption(opts, "replicas", 1)
	if err != nil {
		return err
	}
	if _, err := s.ensureTopic(stream.Topic, parts, reps, optPos(opts, "kafka_topic")); err != nil {
		return err
	}
	if err := e.cfg.Catalog.Create(stream, nil); err != nil {
		return err
	}
	return w.Complete("CREATE STREAM")
}

// streamFormatOption is a stream's value_format: json (the default) or
// csv. Sinks write json only (formatOption).
func streamFormatOption(opts sql.Options) (string, error) {
	v, ok := opts.Get("value_format")
	if !ok {
		return "json", nil
	}
	switch f := strings.ToLower(v); f {
	case "json", "csv":
		return f, nil
	}
	return "", sqlerr.New(sqlerr.FeatureNotSupported, "value_format %q is not supported", v).At(optPos(opts, "value_format")).
		WithHint("Supported formats: json, csv.")
}

// createDerivedStream handles CREATE STREAM name AS SELECT: a stream over a
// new topic plus the sink that fills it. Callers hold e.mu.
func (s *Session) createDerivedStream(st *sql.CreateStream, w pgwire.ResultWriter) error {
	opts := st.Options
	if err := checkOptions(opts, []string{"kafka_topic", "value_format", "partitions", "replicas", "checkpoint_interval", "delivery", "allowed_lateness", "watermark_delay", "idle_timeout"}, "stream"); err != nil {
		return err
	}
	sink, plan, err := s.prepareSink(st.Name, opts, st.Query)
	if err != nil {
		return err
	}
	stream := &catalog.Stream{Name: st.Name, Topic: sink.Topic, Format: sink.Format, Query: sink.Query, StartFrom: "earliest"}
	for _, c := range plan.Columns {
		stream.Columns = append(stream.Columns, catalog.Column{Name: c.Name, Type: c.Type})
	}
	if tc := plan.Root.Props().TimeCol; tc >= 0 {
		stream.Timestamp = plan.Columns[tc].Name
	}
	stream.KeyColumns = plan.KeyNames
	if stream.WatermarkDelay, err = durationOption(opts, "watermark_delay", 0); err != nil {
		return err
	}
	if stream.IdleTimeout, err = durationOption(opts, "idle_timeout", 5*time.Second); err != nil {
		return err
	}
	sink.Name = "_stream_" + st.Name
	sink.Stream = st.Name
	if err := s.e.cfg.Catalog.Create(stream, sink); err != nil {
		return err
	}
	s.e.startSink(sink)
	return w.Complete("CREATE STREAM")
}

// prepareSink plans a sink's query and makes sure its topic exists.
func (s *Session) prepareSink(name string, opts sql.Options, q *sql.Query) (*catalog.Sink, *planner.Plan, error) {
	plan, err := planner.Build(q, s.e.cfg.Catalog, planner.Continuous)
	if err != nil {
		return nil, nil, err
	}
	sink := &catalog.Sink{Name: name, Topic: name, Query: q.SQL(), Created: time.Now().UTC(),
		Sources: plan.Sources, Options: map[string]string{}}
	if v, ok := opts.Get("kafka_topic"); ok {
		sink.Topic = v
	}
	if sink.Format, err = formatOption(opts); err != nil {
		return nil, nil, err
	}
	for _, key := range []string{"checkpoint_interval", "allowed_lateness"} {
		if v, ok := opts.Get(key); ok {
			if _, err := durationOption(opts, key, 0); err != nil {
				return nil, nil, err
			}
			sink.Options[key] = v
		}
	}
	if v, ok := opts.Get("delivery"); ok {
		switch d := strings.ToLower(v); d {
		case "exactly_once", "at_least_once":
			sink.Options["delivery"] = d
		default:
			return nil, nil, sqlerr.New(sqlerr.InvalidParameter, "invalid value for option delivery: %q", v).At(optPos(opts, "delivery")).
				WithHint("Use 'exactly_once' (the default) or 'at_least_once'.")
		}
	}
	srcInfo, ok, err := s.e.cfg.Client.Topic(plan.Scan.Stream.Topic)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, sqlerr.New(sqlerr.UndefinedObject, "topic %q of stream %q does not exist", plan.Scan.Stream.Topic, plan.Scan.Stream.Name)
	}
	parts, err := intOption(opts, "partitions", srcInfo.Partitions)
	if err != nil {
		return nil, nil, err
	}
	reps, err := intOption(opts, "replicas", 1)
	if err != nil {
		return nil, nil, err
	}
	if _, err := s.ensureTopic(sink.Topic, parts, reps, 0); err != nil {
		return nil, nil, err
	}
	return sink, plan, nil
}

func (s *Session) createSink(st *sql.CreateSink, w pgwire.ResultWriter) error {
	e := s.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if s.exists(st.Name) {
		return s.nameInUse("sink", sqlerr.DuplicateObject, st.Name, st.NamePos, st.IfNotExists, "CREATE SINK", w)
	}
	if err := checkOptions(st.Options, sinkOptions, "sink"); err != nil {
		return err
	}
	sink, _, err := s.prepareSink(st.Name, st.Options, st.Query)
	if err != nil {
		return err
	}
	if err := e.cfg.Catalog.Create(nil, sink); err != nil {
		return err
	}
	e.startSink(sink)
	return w.Complete("CREATE SINK")
}

// ---- DROP ----

func (s *Session) drop(st *sql.Drop, w pgwire.ResultWriter) error {
	e := s.e
	e.mu.Lock()
	defer e.mu.Unlock()
	tag := "DROP " + string(st.Kind)
	kind := strings.ToLower(string(st.Kind))
	switch st.Kind {
	case sql.KindStream:
		stream, ok := e.cfg.Catalog.Stream(st.Name)
		if !ok {
			if st.IfExists {
				_ = w.Notice(fmt.Sprintf("stream %q does not exist, skipping", st.Name))
				return w.Complete(tag)
			}
			return sqlerr.New(sqlerr.UndefinedTable, "stream %q does not exist", st.Name).At(st.NamePos)
		}
		if err := s.refuseIfRead("stream", stream.Name, st.NamePos); err != nil {
			return err
		}
		for _, k := range e.cfg.Catalog.Sinks() {
			if k.Stream == stream.Name {
				e.stopSink(k.Name)
				if err := e.cfg.Store.DropQuery(k.ID); err != nil {
					return err
				}
			}
		}
		if err := e.cfg.Catalog.DropStream(stream.Name); err != nil {
			return err
		}
	case sql.KindView:
		if _, ok := e.cfg.Catalog.View(st.Name); !ok {
			if st.IfExists {
				_ = w.Notice(fmt.Sprintf("view %q does not exist, skipping", st.Name))
				return w.Complete(tag)
			}
			return sqlerr.New(sqlerr.UndefinedTable, "view %q does not exist", st.Name).At(st.NamePos)
		}
		if err := s.refuseIfRead("view", st.Name, st.NamePos); err != nil {
			return err
		}
		if err := e.cfg.Catalog.DropView(st.Name); err != nil {
			return err
		}
	case sql.KindSink:
		sink, ok := e.cfg.Catalog.Sink(st.Name)
		if !ok {
			if st.IfExists {
				_ = w.Notice(fmt.Sprintf("%s %q does not exist, skipping", kind, st.Name))
				return w.Complete(tag)
			}
			return sqlerr.New(sqlerr.UndefinedObject, "sink %q does not exist", st.Name).At(st.NamePos).
				WithHint("SHOW SINKS lists the sinks.")
		}
		if sink.Stream != "" {
			return sqlerr.New(sqlerr.WrongObjectType, "sink %q fills stream %q", sink.Name, sink.Stream).At(st.NamePos).
				WithHint("DROP STREAM %s; drops both.", sink.Stream)
		}
		e.stopSink(sink.Name)
		if err := e.cfg.Catalog.DropSink(sink.Name); err != nil {
			return err
		}
		if err := e.cfg.Store.DropQuery(sink.ID); err != nil {
			return err
		}
	}
	return w.Complete(tag)
}

// refuseIfRead refuses to drop a stream or view that a sink or view
// reads, naming the reader. Callers hold e.mu.
func (s *Session) refuseIfRead(kind, name string, pos int) error {
	cat := s.e.cfg.Catalog
	var readers []string
	what := "sink"
	for _, k := range cat.Sinks() {
		if slices.Contains(k.Sources, name) {
			readers = append(readers, k.Name)
		}
	}
	if len(readers) == 0 {
		what = "view"
		for _, v := range cat.Views() {
			if slices.Contains(v.Sources, name) {
				readers = append(readers, v.Name)
			}
		}
	}
	if len(readers) == 0 {
		return nil
	}
	sort.Strings(readers)
	return sqlerr.New(sqlerr.DependentObjects, "cannot drop %s %s because %s %s reads it", kind, name, what, strings.Join(readers, ", ")).
		At(pos).WithHint("Drop the %s first: DROP %s %s;", what, strings.ToUpper(what), readers[0])
}

// createView records a named query after checking that it plans.
func (s *Session) createView(st *sql.CreateView, w pgwire.ResultWriter) error {
	e := s.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if s.exists(st.Name) {
		return s.nameInUse("relation", sqlerr.DuplicateTable, st.Name, st.NamePos, st.IfNotExists, "CREATE VIEW", w)
	}
	if st.Query.EmitChanges {
		return sqlerr.New(sqlerr.FeatureNotSupported, "EMIT CHANGES is not allowed in a view").At(st.Query.StartPosition())
	}
	plan, err := planner.Build(st.Query, e.cfg.Catalog, planner.Continuous)
	if err != nil {
		return err
	}
	v := &catalog.View{Name: st.Name, Query: st.Query.SQL(), Sources: plan.Sources}
	for _, c := range plan.Columns {
		v.Columns = append(v.Columns, catalog.Column{Name: c.Name, Type: c.Type})
	}
	if err := e.cfg.Catalog.CreateView(v); err != nil {
		return err
	}
	return w.Complete("CREATE VIEW")
}

// ---- SHOW and DESCRIBE ----

func col(name string, t types.Type) pgwire.Column { return pgwire.Column{Name: name, Type: t} }

func str(s string) types.Value { return types.StringValue(s) }

func (s *Session) show(st *sql.Show) ([]pgwire.Column, [][]types.Value, error) {
	e := s.e
	var rows [][]types.Value
	switch st.What {
	case "TOPICS":
		cols := []pgwire.Column{col("name", types.Varchar), col("partitions", types.Bigint), col("replication_factor", types.Bigint)}
		topics, err := e.cfg.Client.Topics()
		if err != nil {
			return nil, nil, err
		}
		for _, t := range topics {
			rows = append(rows, []types.Value{str(t.Name), types.IntValue(int64(t.Partitions)), types.IntValue(int64(t.ReplicationFactor))})
		}
		return cols, rows, nil
	case "VIEWS":
		cols := []pgwire.Column{col("name", types.Varchar), col("query", types.Varchar)}
		for _, v := range e.cfg.Catalog.Views() {
			rows = append(rows, []types.Value{str(v.Name), str(v.Query)})
		}
		return cols, rows, nil
	case "STREAMS":
		cols := []pgwire.Column{col("name", types.Varchar), col("topic", types.Varchar), col("value_format", types.Varchar),
			col("event_time", types.Varchar), col("watermark_delay", types.Varchar), col("query", types.Varchar)}
		for _, st := range e.cfg.Catalog.Streams() {
			et := st.Timestamp
			if et == "" {
				et = "kafka timestamp"
			}
			rows = append(rows, []types.Value{str(st.Name), str(st.Topic), str(st.Format), str(et),
				str(planner.FormatDuration(st.WatermarkDelay)), nullable(st.Query)})
		}
		return cols, rows, nil
	case "SINKS", "QUERIES":
		cols := []pgwire.Column{col("name", types.Varchar), col("topic", types.Varchar), col("state", types.Varchar),
			col("reason", types.Varchar), col("rows_in", types.Bigint), col("rows_out", types.Bigint),
			col("decode_errors", types.Bigint), col("late_events", types.Bigint), col("watermark", types.Timestamp),
			col("last_checkpoint", types.Bigint), col("checkpoint_time", types.Timestamp), col("checkpoint_ms", types.Bigint),
			col("checkpoint_bytes", types.Bigint), col("query", types.Varchar), col("delivery", types.Varchar)}
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, def := range e.cfg.Catalog.Sinks() {
			if st.What == "SINKS" && def.Stream != "" {
				continue
			}
			rs := e.sinks[def.Name]
			if rs == nil {
				continue
			}
			status, reason, _, _ := rs.snapshot()
			cp, _ := rs.stats.Checkpoint()
			wm := types.NullOf(types.Timestamp)
			if v := rs.stats.Watermark.Load(); v != math.MinInt64 && v != math.MaxInt64 {
				wm = types.TimestampValue(v)
			}
			cpTime := types.NullOf(types.Timestamp)
			if !cp.Time.IsZero() {
				cpTime = types.TimestampValue(cp.Time.UnixMilli())
			}
			rows = append(rows, []types.Value{str(def.Name), str(def.Topic), str(status), nullable(reason),
				types.IntValue(rs.stats.RowsIn.Load()), types.IntValue(rs.stats.RowsOut.Load()),
				types.IntValue(rs.stats.DecodeErrors.Load()), types.IntValue(rs.stats.LateEvents.Load()), wm,
				types.IntValue(cp.Epoch), cpTime, types.IntValue(cp.Duration.Milliseconds()), types.IntValue(cp.Bytes),
				str(def.Query), str(delivery(def))})
		}
		return cols, rows, nil
	}
	return nil, nil, sqlerr.New(sqlerr.SyntaxError, "unrecognized SHOW target %q", st.What)
}

func delivery(def *catalog.Sink) string {
	if d := def.Options["delivery"]; d != "" {
		return d
	}
	return "exactly_once"
}

func nullable(s string) types.Value {
	if s == "" {
		return types.NullOf(types.Varchar)
	}
	return str(s)
}

func (s *Session) describe(st *sql.Describe) ([][]types.Value, error) {
	cat := s.e.cfg.Catalog
	var rows [][]types.Value
	if stream, ok := cat.Stream(st.Name); ok {
		for _, c := range stream.Columns {
			rows = append(rows, []types.Value{str(c.Name), str(c.Type.String()), types.BoolValue(c.Name == stream.Timestamp),
				str(stream.Topic), str(stream.Format)})
		}
		return rows, nil
	}
	if v, ok := cat.View(st.Name); ok {
		for _, c := range v.Columns {
			rows = append(rows, []types.Value{str(c.Name), str(c.Type.String()), types.BoolValue(false), types.NullOf(types.Varchar), types.NullOf(types.Varchar)})
		}
		return rows, nil
	}
	if sink, ok := cat.Sink(st.Name); ok {
		stmts, err := sql.Parse(sink.Query)
		if err != nil {
			return nil, err
		}
		plan, err := planner.Build(stmts[0].(*sql.SelectStmt).Query, cat, planner.Continuous)
		if err != nil {
			return nil, err
		}
		for _, c := range plan.Columns {
			rows = append(rows, []types.Value{str(c.Name), str(c.Type.String()), types.BoolValue(false), str(sink.Topic), str(sink.Format)})
		}
		return rows, nil
	}
	return nil, sqlerr.New(sqlerr.UndefinedTable, "stream or sink %q does not exist", st.Name).At(st.NamePos)
}
