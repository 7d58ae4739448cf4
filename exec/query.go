package exec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/streamsql/streamsql/exec/codec"
	"github.com/streamsql/streamsql/kafka"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql/types"
	"github.com/streamsql/streamsql/state"
)

// Source is one partition's records. *kafka.PartitionReader implements it.
type Source interface {
	Poll(ctx context.Context, buf []kafka.Record, max int, wait time.Duration) ([]kafka.Record, error)
	// Position is the offset of the next record Poll would return, past
	// transaction markers and aborted records: what a checkpoint saves and
	// what a bounded read compares with its end offset.
	Position() int64
	Close() error
}

// Sink receives a continuous query's output rows from one task.
type Sink interface {
	// Write takes the rows of b. Columns [0, n) are the output columns;
	// the columns after them, if any, are the key columns.
	Write(b *types.Batch) error
	// Drain hands buffered rows on towards Kafka without waiting for
	// them; tasks call it after each batch so results leave promptly.
	Drain() error
	// Checkpoint is called at barrier epoch: it returns once every row
	// written before it is acknowledged by Kafka (in epoch's transaction,
	// for exactly-once); rows written after it belong to epoch+1.
	Checkpoint(epoch int64) error
	Close() error
}

// Stats are a query's live counters. All fields are updated atomically by
// the query's tasks and read by SHOW SINKS and /metrics.
type Stats struct {
	RowsIn       atomic.Int64
	RowsOut      atomic.Int64
	DecodeErrors atomic.Int64
	LateEvents   atomic.Int64
	ExprErrors   atomic.Int64
	// State counts what the query's budgeted state caches evicted, read
	// back and spilled (see --state-cache-size).
	State state.CacheCounters
	// Watermark is the output watermark (epoch ms), MinInt64 before any.
	Watermark atomic.Int64

	mu         sync.Mutex
	checkpoint state.CheckpointInfo
	cpErr      error
}

// Checkpoint returns the last completed checkpoint and the last checkpoint
// error, if any.
func (s *Stats) Checkpoint() (state.CheckpointInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checkpoint, s.cpErr
}

// Config describes one query run.
type Config struct {
	// ID names the query's state and offsets; empty for a bounded query.
	ID     string
	Plan   *planner.Plan
	Client *kafka.Client
	// Store holds state for a continuous query; nil for a bounded one.
	Store *state.Store
	// Unbounded runs a query without a Store as a push query: it reads
	// without end offsets, sends its rows to Output as they are produced,
	// and injects barriers every CheckpointInterval (so upsert aggregates
	// emit their changes) without saving anything. It ends when the
	// context is cancelled or Output returns ErrStopOutput.
	Unbounded bool
	// NewSink makes the sink of one output task (continuous queries).
	NewSink func(SinkContext) (Sink, error)
	// Txn makes the query exactly-once: checkpoints are two-phase, with the
	// sink's output in a Kafka transaction. Nil means at-least-once.
	Txn Transactions
	// Output receives a bounded query's result rows, serialised by the
	// runtime. Returning errStopOutput ends the query early (LIMIT reached).
	Output func(b *types.Batch) error
	// CheckpointInterval is the time between checkpoints (continuous).
	CheckpointInterval time.Duration
	// AllowedLateness keeps emitted windows updatable by late rows this
	// long (ms); 0 drops every row whose windows were emitted.
	AllowedLateness int64
	// Parallelism is the number of aggregation tasks; 0 means
	// min(partitions, GOMAXPROCS).
	Parallelism int
	// StateCacheBytes bounds the memory of the query's non-windowed
	// aggregation state (HashAgg), split evenly over its aggregation tasks;
	// 0 keeps every group in memory. Groups beyond it are evicted once
	// durable in Store (continuous queries) or spilled to Spill (bounded
	// queries); see state.Cache. Push queries keep every group in memory.
	StateCacheBytes int64
	// Spill is where bounded queries spill state beyond StateCacheBytes;
	// nil keeps it in memory.
	Spill  *state.SpillArea
	Logger *slog.Logger
	Stats  *Stats
}

// ErrStopOutput may be returned by Config.Output to end a bounded query
// before its input is exhausted.
var ErrStopOutput = errors.New("exec: output complete")

// Query is a running query.
type Query struct {
	cfg    Config
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// Start starts a query. A continuous query runs until Stop or a failure; a
// bounded one until its inputs reach the end offsets seen at start.
func Start(ctx context.Context, cfg Config) (*Query, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Stats == nil {
		cfg.Stats = &Stats{}
	}
	cfg.Stats.Watermark.Store(math.MinInt64)
	ctx, cancel := context.WithCancel(ctx)
	q := &Query{cfg: cfg, cancel: cancel, done: make(chan struct{})}
	g, err := build(ctx, &q.cfg)
	if err != nil {
		cancel()
		return nil, err
	}
	go func() {
		defer close(q.done)
		q.err = g.run(ctx)
		cancel()
	}()
	return q, nil
}

// Stop cancels the query and waits for its tasks to end.
func (q *Query) Stop() {
	q.cancel()
	<-q.done
}

// Done is closed when the query has ended.
func (q *Query) Done() <-chan struct{} { return q.done }

// Err returns why the query ended (nil for a bounded query that finished or
// a query that was stopped).
func (q *Query) Err() error {
	<-q.done
	return q.err
}

// graph is a built query: its tasks and the channels between them.
type graph struct {
	cfg     *Config
	sources []*sourceTask
	aggs    []*aggTask
	// bounded queries end when every task has; continuous ones checkpoint.
	bounded bool
	acks    chan ack
	startWm int64
	// firstEpoch is the epoch of this run's first checkpoint.
	firstEpoch int64
	gate       *TxnGate
	// exchangeNeeds marks the exchange input columns read above it.
	exchangeNeeds []bool
	// nAgg is the number of aggregation tasks, which share the state budget.
	nAgg int
	// outMu serialises a bounded query's output across tasks.
	outMu  sync.Mutex
	result *resultStage
}

// ack is a task's report that it has taken checkpoint epoch.
type ack struct {
	epoch  int64
	commit *state.Commit
	wm     int64
	hasWm  bool
	// part and next are a source task's partition and next offset
	// (part is -1 for an aggregation task).
	part int32
	next int64
}

func build(ctx context.Context, cfg *Config) (*graph, error) {
	p := cfg.Plan
	st := p.Scan.Stream
	g := &graph{cfg: cfg, bounded: cfg.Store == nil && !cfg.Unbounded, acks: make(chan ack, 64), startWm: math.MinInt64}
	if cfg.Store == nil {
		g.result = newResultStage(p, cfg.Output)
	}
	info, ok, err := cfg.Client.Topic(st.Topic)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("exec: topic %q of stream %q does not exist", st.Topic, st.Name)
	}
	var ends []int64
	if g.bounded {
		if ends, err = cfg.Client.EndOffsets(st.Topic); err != nil {
			return nil, err
		}
	}
	if cfg.Store != nil {
		if err := g.recover(); err != nil {
			return nil, err
		}
		cp, ok, err := cfg.Store.LastCheckpoint(cfg.ID)
		if err != nil {
			return nil, err
		}
		if ok {
			g.startWm = cp.Watermark
			cfg.Stats.mu.Lock()
			cfg.Stats.checkpoint = cp
			cfg.Stats.mu.Unlock()
		}
		g.firstEpoch = cp.Epoch + 1
		if cfg.Txn != nil {
			g.gate = NewTxnGate(g.firstEpoch)
		}
	}

	// Offsets are read after recovery has resolved a pending checkpoint.
	starts, err := g.startOffsets(st.Topic, st.StartFrom)
	if err != nil {
		return nil, err
	}

	// Split the plan at its exchange: operators below run in the source
	// tasks, operators above in the aggregation tasks.
	var lower, upper []planner.Node
	var exchange *planner.Exchange
	for n := p.Root; n != nil; {
		if ex, ok := n.(*planner.Exchange); ok {
			exchange = ex
		} else if exchange == nil {
			upper = append([]planner.Node{n}, upper...)
		} else {
			lower = append([]planner.Node{n}, lower...)
		}
		if len(n.Children()) == 0 {
			break
		}
		n = n.Children()[0]
	}
	if exchange == nil {
		lower, upper = upper, nil
	}
	pol := ErrorPolicy{Strict: g.bounded, Errors: &cfg.Stats.ExprErrors}
	if exchange != nil {
		g.exchangeNeeds = columnsRead(upper, len(exchange.Schema()))
	}

	nAgg := 0
	if exchange != nil {
		nAgg = cfg.Parallelism
		if nAgg <= 0 {
			nAgg = min(info.Partitions, runtime.GOMAXPROCS(0))
		}
		if len(exchange.Keys) == 0 || p.SingleTask {
			nAgg = 1
		}
		g.nAgg = nAgg
		for i := range nAgg {
			t, err := g.newAggTask(ctx, i, nAgg, info.Partitions, upper, pol)
			if err != nil {
				return nil, err
			}
			g.aggs = append(g.aggs, t)
		}
	}
	for part := range info.Partitions {
		t, err := g.newSourceTask(ctx, part, starts, ends, lower, exchange, pol)
		if err != nil {
			g.close()
			return nil, err
		}
		g.sources = append(g.sources, t)
	}
	return g, nil
}

// startOffsets returns where each partition starts: the last checkpoint's
// offsets for a continuous query that has one, else the stream's start_from.
func (g *graph) startOffsets(topic, startFrom string) ([]int64, error) {
	c := g.cfg.Client
	var base []int64
	var err error
	switch startFrom {
	case "", "earliest":
		base, err = c.StartOffsets(topic)
	case "latest":
		base, err = c.EndOffsets(topic)
	default:
		ms, ok := types.ParseTimestamp(startFrom)
		if !ok {
			return nil, fmt.Errorf("exec: bad start_from %q", startFrom)
		}
		base, err = c.OffsetsForTime(topic, ms)
	}
	if err != nil || g.cfg.Store == nil {
		return base, err
	}
	saved, err := g.cfg.Store.Offsets(g.cfg.ID)
	if err != nil {
		return nil, err
	}
	for tp, off := range saved {
		if tp.Topic == topic && int(tp.Partition) < len(base) {
			base[tp.Partition] = off
		}
	}
	return base, nil
}

func (g *graph) close() {
	for _, s := range g.sources {
		s.src.Close()
		if s.sink != nil {
			s.sink.Close()
		}
	}
	for _, a := range g.aggs {
		if a.sink != nil {
			a.sink.Close()
		}
		// Spilled state of a bounded query goes with it, however it ended.
		if c, ok := a.agg.(interface{ Close() error }); ok {
			if err := c.Close(); err != nil {
				g.cfg.Logger.Warn("deleting spilled state", "err", err)
			}
		}
	}
}

// run starts every task and, for a continuous query, the checkpoint loop.
// It returns when a task fails, the context ends, or (bounded) all tasks
// have finished.
func (g *graph) run(outer context.Context) error {
	defer g.close()
	ctx, cancel := context.WithCancel(outer)
	defer cancel()
	total := len(g.sources) + len(g.aggs)
	if !g.bounded {
		total++
	}
	// The first transaction opens before any task can write to a sink.
	if g.cfg.Txn != nil {
		if err := g.cfg.Txn.Begin(); err != nil {
			return err
		}
	}
	errs := make(chan error, total)
	var wg sync.WaitGroup
	spawn := func(f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- f(ctx)
		}()
	}
	for _, t := range g.sources {
		spawn(t.run)
	}
	for _, t := range g.aggs {
		spawn(t.run)
	}
	if !g.bounded {
		spawn(g.checkpointLoop)
	}
	var first error
	for range total {
		err := <-errs
		switch {
		case err == nil || errors.Is(err, context.Canceled):
		case errors.Is(err, ErrStopOutput):
			// LIMIT reached: stop reading, keep what was output.
			cancel()
		case first == nil:
			first = err
			cancel()
		}
	}
	wg.Wait()
	switch {
	case first != nil:
		return first
	case outer.Err() != nil:
		return outer.Err()
	case g.bounded:
		return g.result.finish()
	}
	return nil
}

// recover resolves a checkpoint that a crash left prepared but not
// resolved: Kafka, asked whether the checkpoint's transaction committed,
// decides whether its state is applied or discarded.
func (g *graph) recover() error {
	cfg := g.cfg
	if err := cfg.Store.Recover(cfg.ID); err != nil {
		return err
	}
	epoch, pending, err := cfg.Store.Pending(cfg.ID)
	if err != nil || !pending {
		return err
	}
	committed := false
	if cfg.Txn != nil {
		if committed, err = cfg.Txn.Committed(epoch); err != nil {
			return fmt.Errorf("recovering checkpoint %d: %w", epoch, err)
		}
	}
	cfg.Logger.Info("resolving the checkpoint a crash left pending", "epoch", epoch, "committed_in_kafka", committed)
	_, err = cfg.Store.Resolve(cfg.ID, epoch, committed)
	return err
}

// checkpointLoop injects a barrier into every source task each interval,
// waits for every task's acknowledgement and makes the checkpoint durable.
// One checkpoint is in flight at a time.
//
// At-least-once: the tasks have flushed their output before acknowledging,
// so applying state and offsets in one Badger transaction completes it.
// Exactly-once: the output sits in the open Kafka transaction. The merged
// state is first prepared in Badger, then the transaction commits with the
// source offsets as its marker, then the prepared state is applied. A
// failure at any step fails the query; the restart's recovery decides.
func (g *graph) checkpointLoop(ctx context.Context) error {
	cfg := g.cfg
	interval := cfg.CheckpointInterval
	if interval <= 0 {
		interval = 5 * time.Second
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	expected := len(g.sources) + len(g.aggs)
	for epoch := g.firstEpoch; ; epoch++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
		began := time.Now()
		for _, s := range g.sources {
			select {
			case s.barriers <- epoch:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		commit := state.NewCommit(cfg.ID, epoch)
		wm, hasWm := int64(math.MaxInt64), false
		offsets := make([]int64, len(g.sources))
		for got := 0; got < expected; got++ {
			var a ack
			select {
			case a = <-g.acks:
			case <-ctx.Done():
				return ctx.Err()
			}
			commit.Merge(a.commit)
			if a.part >= 0 {
				offsets[a.part] = a.next
			}
			if a.hasWm {
				hasWm = true
				wm = min(wm, a.wm)
			}
		}
		if !hasWm {
			wm = cfg.Stats.Watermark.Load()
		}
		if cfg.Store == nil {
			// A push query: the barrier made upsert aggregates emit; there is
			// nothing to save.
			continue
		}
		commit.SetWatermark(wm)
		var info state.CheckpointInfo
		var err error
		if cfg.Txn == nil {
			info, err = cfg.Store.Apply(commit)
		} else {
			info, err = g.commitExactlyOnce(commit, epoch, offsets)
		}
		cfg.Stats.mu.Lock()
		if err == nil {
			// From barrier injection to durable state and, for
			// exactly-once, the committed transaction.
			info.Duration = time.Since(began)
			cfg.Stats.checkpoint = info
		}
		cfg.Stats.cpErr = err
		cfg.Stats.mu.Unlock()
		if err != nil {
			cfg.Logger.Error("checkpoint failed", "query", cfg.ID, "epoch", epoch, "err", err)
			if cfg.Txn != nil {
				return fmt.Errorf("checkpoint %d: %w", epoch, err)
			}
		}
	}
}

func (g *graph) commitExactlyOnce(commit *state.Commit, epoch int64, offsets []int64) (state.CheckpointInfo, error) {
	cfg := g.cfg
	if err := cfg.Store.Prepare(commit); err != nil {
		return state.CheckpointInfo{}, err
	}
	crashPoint("after-prepare")
	if err := cfg.Txn.Commit(epoch, offsets); err != nil {
		return state.CheckpointInfo{}, err
	}
	crashPoint("after-commit")
	g.gate.Open(epoch + 1)
	return cfg.Store.Resolve(cfg.ID, epoch, true)
}

// crashPoint is fault injection for the recovery tests: with
// STREAMSQL_TEST_CRASH_AT=<point>:<n> in the environment, the process kills
// itself with SIGKILL the n-th time an exactly-once checkpoint reaches
// point ("after-prepare": state prepared in Badger, Kafka transaction still
// open; "after-commit": transaction committed, state not yet applied).
// Without the variable it does nothing.
func crashPoint(point string) {
	spec := os.Getenv("STREAMSQL_TEST_CRASH_AT")
	if spec == "" {
		return
	}
	name, nth, ok := strings.Cut(spec, ":")
	n, err := strconv.Atoi(nth)
	if !ok || err != nil || name != point {
		return
	}
	if crashCount.Add(1) == int64(n) {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}

var crashCount atomic.Int64

// output hands a bounded query's rows to Config.Output, one task at a time.
func (g *graph) output(b *types.Batch) error {
	g.outMu.Lock()
	defer g.outMu.Unlock()
	g.cfg.Stats.RowsOut.Add(int64(b.Len()))
	return g.result.collect(b)
}

// columnsRead marks the input columns of the first of nodes (the operator
// just above an exchange) that its expressions read.
func columnsRead(nodes []planner.Node, width int) []bool {
	refs := map[int]bool{}
	add := func(es ...planner.Expr) {
		for _, e := range es {
			if e != nil {
				planner.ColumnsOf(e, refs)
			}
		}
	}
	switch n := nodes[0].(type) {
	case *planner.WindowAgg:
		add(n.Keys...)
		add(n.Window.Time)
		for _, a := range n.Aggs {
			add(a.Arg)
			add(a.Filter)
		}
	case *planner.HashAgg:
		add(n.Keys...)
		for _, a := range n.Aggs {
			add(a.Arg)
			add(a.Filter)
		}
	default:
		for i := range width {
			refs[i] = true
		}
	}
	out := make([]bool, width)
	for i := range out {
		out[i] = refs[i]
	}
	return out
}

// decoderFields lists the stream's columns for the JSON decoder.
func decoderFields(cols []planner.Column) []codec.Field {
	out := make([]codec.Field, 0, len(cols))
	for _, c := range cols {
		out = append(out, codec.Field{Name: c.Name, Type: c.Type})
	}
	return out
}
