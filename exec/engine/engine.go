// Package engine is the top of StreamSQL's flow: it owns the catalog, the
// Kafka client and the state store, runs every sink as a supervised
// continuous query, and serves client sessions (statements arriving over
// the Postgres wire protocol) by parsing, planning and executing them.
//
// It is the only package that sees all the others; it holds no SQL grammar,
// plan rules or operator logic of its own.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/streamsql/streamsql/catalog"
	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/kafka"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql"
	"github.com/streamsql/streamsql/state"
)

// Config wires an engine to its services.
type Config struct {
	Client  *kafka.Client
	Catalog *catalog.Catalog
	Store   *state.Store
	// CheckpointInterval is the default time between checkpoints of a sink.
	CheckpointInterval time.Duration
	// Parallelism is the number of aggregation tasks per query (0: auto).
	Parallelism int
	// StateCacheBytes bounds each query's non-windowed aggregation state in
	// memory (exec.Config.StateCacheBytes); 0: unbounded.
	StateCacheBytes int64
	// Spill is where bounded queries spill state beyond StateCacheBytes.
	Spill  *state.SpillArea
	Logger *slog.Logger
}

// Engine runs sinks and serves sessions. Safe for concurrent use.
type Engine struct {
	cfg Config
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc

	// mu guards sinks and serialises DDL, so that the catalog and the set
	// of running sinks change together.
	mu    sync.Mutex
	sinks map[string]*runningSink
}

// New returns an engine; Start resumes the catalog's sinks.
func New(cfg Config) *Engine {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.CheckpointInterval <= 0 {
		cfg.CheckpointInterval = 5 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Engine{cfg: cfg, log: cfg.Logger, ctx: ctx, cancel: cancel, sinks: map[string]*runningSink{}}
}

// Start resumes every sink recorded in the catalog from its last checkpoint.
func (e *Engine) Start() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, def := range e.cfg.Catalog.Sinks() {
		e.log.Info("resuming sink", "sink", def.Name, "topic", def.Topic)
		e.startSink(def)
	}
}

// Close stops every sink (their state stays at the last checkpoint).
func (e *Engine) Close() {
	e.cancel()
	e.mu.Lock()
	sinks := make([]*runningSink, 0, len(e.sinks))
	for _, s := range e.sinks {
		sinks = append(sinks, s)
	}
	e.mu.Unlock()
	for _, s := range sinks {
		<-s.done
	}
}

// runningSink is a sink's supervisor: it runs the query and restarts it
// from its last checkpoint after a failure, with backoff.
type runningSink struct {
	def    *catalog.Sink
	stats  *exec.Stats
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	status   string // "starting", "running", "failed"
	reason   string
	started  time.Time
	restarts int
}

func (r *runningSink) setStatus(status, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status, r.reason = status, reason
}

func (r *runningSink) snapshot() (status, reason string, restarts int, started time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status, r.reason, r.restarts, r.started
}

// startSink launches def's supervisor. Callers hold e.mu.
func (e *Engine) startSink(def *catalog.Sink) {
	ctx, cancel := context.WithCancel(e.ctx)
	rs := &runningSink{def: def, stats: &exec.Stats{}, cancel: cancel, done: make(chan struct{}), status: "starting", started: time.Now()}
	e.sinks[def.Name] = rs
	go e.supervise(ctx, rs)
}

// stopSink stops a sink and waits for it. Callers hold e.mu.
func (e *Engine) stopSink(name string) {
	rs, ok := e.sinks[name]
	if !ok {
		return
	}
	rs.cancel()
	<-rs.done
	delete(e.sinks, name)
}

const (
	minBackoff = time.Second
	maxBackoff = 30 * time.Second
)

func (e *Engine) supervise(ctx context.Context, rs *runningSink) {
	defer close(rs.done)
	backoff := minBackoff
	for {
		err := e.runSinkOnce(ctx, rs)
		if ctx.Err() != nil {
			return
		}
		var perm *permanentError
		if errors.As(err, &perm) {
			rs.setStatus("failed", perm.Error())
			e.log.Error("sink failed; it will not be restarted", "sink", rs.def.Name, "err", err)
			<-ctx.Done()
			return
		}
		rs.setStatus("failed", err.Error())
		e.log.Error("sink failed; restarting from its last checkpoint", "sink", rs.def.Name, "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		rs.mu.Lock()
		rs.restarts++
		rs.mu.Unlock()
		backoff = min(backoff*2, maxBackoff)
	}
}

// permanentError marks failures a restart cannot fix (the query no longer
// plans against the catalog).
type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

func (e *Engine) runSinkOnce(ctx context.Context, rs *runningSink) error {
	def := rs.def
	stmts, err := sql.Parse(def.Query)
	if err != nil {
		return &permanentError{err}
	}
	sel, ok := stmts[0].(*sql.SelectStmt)
	if !ok || len(stmts) != 1 {
		return &permanentError{fmt.Errorf("stored query of sink %s is not a SELECT", def.Name)}
	}
	plan, err := planner.Build(sel.Query, e.cfg.Catalog, planner.Continuous)
	if err != nil {
		return &permanentError{err}
	}
	exactlyOnce := def.Options["delivery"] != "at_least_once"
	popts := kafka.ProducerOptions{}
	if exactlyOnce {
		// A new producer with the sink's transactional id fences any
		// zombie from an earlier run and resolves its open transaction.
		popts.TransactionalID = "streamsql-" + def.ID
	}
	producer, err := e.cfg.Client.NewProducer(popts)
	if err != nil {
		return err
	}
	defer producer.Close()
	var txn exec.Transactions
	if exactlyOnce {
		info, ok, err := e.cfg.Client.Topic(plan.Scan.Stream.Topic)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("topic %q of stream %q does not exist", plan.Scan.Stream.Topic, plan.Scan.Stream.Name)
		}
		kt := &kafkaTxn{producer: producer, client: e.cfg.Client, group: "streamsql-" + def.ID,
			topic: info.Name, partitions: info.Partitions}
		txn = kt
		// On stop (DROP SINK, shutdown) abort the open transaction at once,
		// so read_committed readers of the topic are not held back until
		// the transaction times out; its rows are produced again on restart.
		defer kt.abort()
	}
	nkeys, hasTime := exec.SinkLayout(plan)
	keyNames := plan.KeyNames[:nkeys]
	names := make([]string, len(plan.Columns))
	for i, c := range plan.Columns {
		names[i] = c.Name
	}
	interval := e.cfg.CheckpointInterval
	if v, ok := def.Options["checkpoint_interval"]; ok {
		if d, err := parseDuration(v); err == nil && d > 0 {
			interval = d
		}
	}
	var lateness int64
	if v, ok := def.Options["allowed_lateness"]; ok {
		if d, err := parseDuration(v); err == nil {
			lateness = d.Milliseconds()
		}
	}
	q, err := exec.Start(ctx, exec.Config{
		AllowedLateness: lateness,
		ID:              def.ID,
		Plan:            plan,
		Client:          e.cfg.Client,
		Store:           e.cfg.Store,
		NewSink: func(sc exec.SinkContext) (exec.Sink, error) {
			return exec.NewKafkaSink(sc, producer, def.Topic, def.Format, names, keyNames, hasTime), nil
		},
		Txn:                txn,
		CheckpointInterval: interval,
		Parallelism:        e.cfg.Parallelism,
		StateCacheBytes:    e.cfg.StateCacheBytes,
		Logger:             e.log.With("sink", def.Name),
		Stats:              rs.stats,
	})
	if err != nil {
		return err
	}
	rs.setStatus("running", "")
	err = q.Err()
	if err == nil && ctx.Err() == nil {
		err = errors.New("query ended unexpectedly")
	}
	return err
}

// kafkaTxn is exec.Transactions over a sink's transactional producer. The
// marker of checkpoint n is the consumer-group offset commit of the sink's
// group (its source offsets, metadata "epoch=n") made inside transaction n:
// Kafka makes it visible if and only if that transaction commits.
type kafkaTxn struct {
	producer   *kafka.Producer
	client     *kafka.Client
	group      string
	topic      string
	partitions int
	// open is set while a transaction is open (the coordinator's goroutine
	// and the supervisor after the query ended touch it, never together).
	open bool
}

func (t *kafkaTxn) Begin() error {
	if err := t.producer.BeginTxn(); err != nil {
		return err
	}
	t.open = true
	return nil
}

func (t *kafkaTxn) abort() {
	if t.open {
		_ = t.producer.AbortTxn()
		t.open = false
	}
}

func (t *kafkaTxn) Commit(epoch int64, offsets []int64) error {
	if err := t.producer.AddOffsetsToTxn(t.group, t.topic, offsets, fmt.Sprintf("epoch=%d", epoch)); err != nil {
		return err
	}
	if err := t.producer.CommitTxn(); err != nil {
		t.open = false
		return err
	}
	t.open = false
	return t.Begin()
}

func (t *kafkaTxn) Committed(epoch int64) (bool, error) {
	_, mds, err := t.client.GroupOffsets(t.group, t.topic, t.partitions)
	if err != nil {
		return false, err
	}
	for _, md := range mds {
		var e int64
		if _, err := fmt.Sscanf(md, "epoch=%d", &e); err == nil && e >= epoch {
			return true, nil
		}
	}
	return false, nil
}
