package state_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/streamsql/streamsql/state"
)

func openStore(t *testing.T, dir string) *state.Store {
	t.Helper()
	s, err := state.Open(dir)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func apply(t *testing.T, s *state.Store, c *state.Commit) state.CheckpointInfo {
	t.Helper()
	info, err := s.Apply(c)
	if err != nil {
		t.Fatalf("Apply(epoch %d): %v", c.Epoch(), err)
	}
	return info
}

// load returns one operator's state as a map.
func load(t *testing.T, s *state.Store, query, op string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := s.Load(query, op, func(k, v []byte) error {
		out[string(k)] = string(v)
		return nil
	})
	if err != nil {
		t.Fatalf("Load(%s, %s): %v", query, op, err)
	}
	return out
}

func offsets(t *testing.T, s *state.Store, query string) map[state.TopicPartition]int64 {
	t.Helper()
	o, err := s.Offsets(query)
	if err != nil {
		t.Fatalf("Offsets(%s): %v", query, err)
	}
	return o
}

func lastCheckpoint(t *testing.T, s *state.Store, query string) (state.CheckpointInfo, bool) {
	t.Helper()
	info, ok, err := s.LastCheckpoint(query)
	if err != nil {
		t.Fatalf("LastCheckpoint(%s): %v", query, err)
	}
	return info, ok
}

func wantMap[K comparable, V any](t *testing.T, what string, got, want map[K]V) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestApplyCheckpoints(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	if _, ok := lastCheckpoint(t, s, "q"); ok {
		t.Fatal("a new store has a checkpoint")
	}
	wantMap(t, "offsets of a new query", offsets(t, s, "q"), nil)

	c := state.NewCommit("q", 1)
	if c.Epoch() != 1 {
		t.Errorf("Epoch() = %d", c.Epoch())
	}
	val := []byte("v1")
	c.Put("agg", []byte("k1"), val)
	val[0] = 'X' // Put copies the value
	c.Put("agg", []byte("k2"), []byte("v2"))
	c.Put("win", []byte("k1"), []byte("w1"))
	c.SetOffset("clicks", 0, 42)
	c.SetOffset("clicks", 3, 7)
	c.SetWatermark(1_000)
	info := apply(t, s, c)
	if info.Epoch != 1 || info.Watermark != 1_000 || info.Bytes != int64(len("k1v1k2v2k1w1")) {
		t.Errorf("Apply info = %+v", info)
	}
	if info.Time.IsZero() || info.Duration < 0 {
		t.Errorf("Apply info time = %v, duration = %v", info.Time, info.Duration)
	}
	last, ok := lastCheckpoint(t, s, "q")
	if !ok || last.Epoch != 1 || last.Watermark != 1_000 || last.Bytes != info.Bytes || !last.Time.Equal(info.Time) {
		t.Errorf("LastCheckpoint = %+v, %v; want %+v", last, ok, info)
	}
	wantMap(t, "agg", load(t, s, "q", "agg"), map[string]string{"k1": "v1", "k2": "v2"})
	wantMap(t, "win", load(t, s, "q", "win"), map[string]string{"k1": "w1"})
	wantMap(t, "offsets", offsets(t, s, "q"), map[state.TopicPartition]int64{{"clicks", 0}: 42, {"clicks", 3}: 7})

	// The next checkpoint deletes, overwrites and advances one partition;
	// what it does not mention stays.
	c = state.NewCommit("q", 2)
	c.Delete("agg", []byte("k1"))
	c.Put("agg", []byte("k2"), []byte("v2b"))
	c.Delete("agg", []byte("never-existed"))
	c.SetOffset("clicks", 0, 50)
	c.SetWatermark(2_000)
	apply(t, s, c)
	wantMap(t, "agg", load(t, s, "q", "agg"), map[string]string{"k2": "v2b"})
	wantMap(t, "win", load(t, s, "q", "win"), map[string]string{"k1": "w1"})
	wantMap(t, "offsets", offsets(t, s, "q"), map[state.TopicPartition]int64{{"clicks", 0}: 50, {"clicks", 3}: 7})
	if last, _ := lastCheckpoint(t, s, "q"); last.Epoch != 2 || last.Watermark != 2_000 {
		t.Errorf("LastCheckpoint = %+v", last)
	}

	// Everything is durable across a restart.
	s.Close()
	s = openStore(t, dir)
	wantMap(t, "agg after reopen", load(t, s, "q", "agg"), map[string]string{"k2": "v2b"})
	wantMap(t, "offsets after reopen", offsets(t, s, "q"), map[state.TopicPartition]int64{{"clicks", 0}: 50, {"clicks", 3}: 7})
	if last, _ := lastCheckpoint(t, s, "q"); last.Epoch != 2 || last.Watermark != 2_000 {
		t.Errorf("LastCheckpoint after reopen = %+v", last)
	}
}

// TestApplyIsAllOrNothing: a checkpoint too large for one Badger transaction
// is refused whole, and the previous checkpoint stays in force.
// TestApplyLargeCheckpoint: a checkpoint larger than one Badger
// transaction is written in two phases and lands whole.
func TestApplyLargeCheckpoint(t *testing.T) {
	s := openStore(t, t.TempDir())
	c := state.NewCommit("q", 1)
	c.Put("agg", []byte("k"), []byte("old"))
	c.SetOffset("t", 0, 10)
	c.SetWatermark(100)
	apply(t, s, c)

	big := state.NewCommit("q", 2)
	big.Delete("agg", []byte("k"))
	big.SetOffset("t", 0, 20)
	big.SetWatermark(200)
	val := make([]byte, 64<<10)
	want := map[string]string{}
	for n := range 400 { // 25 MiB, more than a default Badger transaction takes
		k := fmt.Sprintf("big-%03d", n)
		big.Put("agg", []byte(k), val)
		want[k] = string(val)
	}
	if _, err := s.Apply(big); err != nil {
		t.Fatal(err)
	}
	wantMap(t, "agg", load(t, s, "q", "agg"), want)
	wantMap(t, "offsets", offsets(t, s, "q"), map[state.TopicPartition]int64{{"t", 0}: 20})
	if last, _ := lastCheckpoint(t, s, "q"); last.Epoch != 2 || last.Watermark != 200 {
		t.Errorf("LastCheckpoint = %+v, want epoch 2", last)
	}
	if _, ok, _ := s.Pending("q"); ok {
		t.Error("a pending checkpoint is left behind")
	}
}

// TestCommitLastWriteWins: writes to one key within a checkpoint apply in
// the order they were made.
func TestCommitLastWriteWins(t *testing.T) {
	s := openStore(t, t.TempDir())
	c := state.NewCommit("q", 1)
	c.Put("op", []byte("stays"), []byte("x"))
	c.Put("op", []byte("put-then-delete"), []byte("x"))
	c.Delete("op", []byte("put-then-delete"))
	c.Delete("op", []byte("delete-then-put"))
	c.Put("op", []byte("delete-then-put"), []byte("y"))
	c.Put("op", []byte("twice"), []byte("first"))
	c.Put("op", []byte("twice"), []byte("second"))
	apply(t, s, c)
	wantMap(t, "op", load(t, s, "q", "op"), map[string]string{"stays": "x", "delete-then-put": "y", "twice": "second"})

	// Same across a Merge: the merged commit's writes follow the target's.
	c = state.NewCommit("q", 2)
	task := state.NewCommit("q", 2)
	c.Put("op", []byte("stays"), []byte("from-coordinator"))
	task.Delete("op", []byte("stays"))
	c.Merge(task)
	apply(t, s, c)
	wantMap(t, "op", load(t, s, "q", "op"), map[string]string{"delete-then-put": "y", "twice": "second"})
}

// TestMerge: each task's part of a checkpoint merges into one commit.
func TestMerge(t *testing.T) {
	s := openStore(t, t.TempDir())
	all := state.NewCommit("q", 7)
	for task := range 3 {
		part := state.NewCommit("q", 7)
		part.Put("agg", fmt.Appendf(nil, "key%d", task), []byte("v"))
		part.SetOffset("t", int32(task), int64(100+task))
		all.Merge(part)
	}
	all.SetWatermark(5)
	info := apply(t, s, all)
	if info.Bytes != 3*int64(len("key0v")) || info.Epoch != 7 {
		t.Errorf("info = %+v", info)
	}
	wantMap(t, "agg", load(t, s, "q", "agg"), map[string]string{"key0": "v", "key1": "v", "key2": "v"})
	wantMap(t, "offsets", offsets(t, s, "q"), map[state.TopicPartition]int64{{"t", 0}: 100, {"t", 1}: 101, {"t", 2}: 102})
}

func TestOffsetsRoundTrip(t *testing.T) {
	s := openStore(t, t.TempDir())
	want := map[state.TopicPartition]int64{
		{"clicks", 0}:                  0,
		{"clicks", 1}:                  1,
		{"clicks", 255}:                math.MaxInt64,
		{"clicks", 256}:                12345, // partition bytes 00 00 01 00
		{"clicks", 65536}:              -1,
		{"clicks", math.MaxInt32}:      99,
		{"orders.v2", 0}:               5,
		{"my-topic_1", 2}:              6,
		{"a", 0}:                       7,
		{"a.b", 0}:                     8, // "a" is a prefix of it
		{"__consumer_offsets", 0}:      9,
		{"Ünïcode", 0}:                 10,
		{strings.Repeat("x", 249), 17}: 11, // Kafka's longest topic name
	}
	c := state.NewCommit("q", 1)
	for tp, off := range want {
		c.SetOffset(tp.Topic, tp.Partition, off)
	}
	apply(t, s, c)
	wantMap(t, "offsets", offsets(t, s, "q"), want)

	// Offsets belong to their query only.
	other := state.NewCommit("q0", 1)
	other.SetOffset("clicks", 0, 1000)
	apply(t, s, other)
	wantMap(t, "offsets of q", offsets(t, s, "q"), want)
	wantMap(t, "offsets of q0", offsets(t, s, "q0"), map[state.TopicPartition]int64{{"clicks", 0}: 1000})
}

// TestNamespacesDoNotLeak: query IDs and operator names that are prefixes
// of one another ("q1" and "q10", "agg" and "agg2") keep separate state,
// offsets and checkpoint metadata.
func TestNamespacesDoNotLeak(t *testing.T) {
	s := openStore(t, t.TempDir())
	queries := []string{"q", "q1", "q10", "q1-2", "q-1", "q-10"}
	ops := []string{"a", "agg", "agg2", "1"}
	for n, q := range queries {
		c := state.NewCommit(q, int64(n+1))
		for _, op := range ops {
			c.Put(op, []byte("k"), []byte(q+"/"+op))
			c.Put(op, []byte(q+"-only"), []byte("x"))
		}
		c.SetOffset("t", 0, int64(n))
		c.SetWatermark(int64(100 * n))
		apply(t, s, c)
	}
	for n, q := range queries {
		for _, op := range ops {
			wantMap(t, fmt.Sprintf("Load(%s, %s)", q, op), load(t, s, q, op),
				map[string]string{"k": q + "/" + op, q + "-only": "x"})
		}
		wantMap(t, "Offsets("+q+")", offsets(t, s, q), map[state.TopicPartition]int64{{"t", 0}: int64(n)})
		if last, ok := lastCheckpoint(t, s, q); !ok || last.Epoch != int64(n+1) || last.Watermark != int64(100*n) {
			t.Errorf("LastCheckpoint(%s) = %+v, %v", q, last, ok)
		}
	}
	// Query "q" with operator "1" is not query "q1".
	wantMap(t, "Load(q, 1)", load(t, s, "q", "1"), map[string]string{"k": "q/1", "q-only": "x"})
	wantMap(t, "Load(nobody, agg)", load(t, s, "nobody", "agg"), nil)
	// An empty key is a key like any other.
	c := state.NewCommit("q", 99)
	c.Put("agg", nil, []byte("empty"))
	apply(t, s, c)
	if got := load(t, s, "q", "agg")[""]; got != "empty" {
		t.Errorf("empty key = %q", got)
	}
}

func TestLoadStopsOnError(t *testing.T) {
	s := openStore(t, t.TempDir())
	c := state.NewCommit("q", 1)
	for n := range 5 {
		c.Put("op", fmt.Appendf(nil, "k%d", n), []byte("v"))
	}
	apply(t, s, c)
	stop := errors.New("stop")
	calls := 0
	err := s.Load("q", "op", func(k, v []byte) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Load = %v after %d calls, want the callback's error after 1", err, calls)
	}
}

// TestDropQuery removes one query's state, offsets and checkpoint, and
// nothing of a query whose ID it prefixes (sink IDs are "<name>-<n>", so
// "pages-1" and "pages-10" both exist in a long-lived catalog).
func TestDropQuery(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	queries := []string{"pages-1", "pages-10", "pages-1-2", "pages-"}
	for n, q := range queries {
		c := state.NewCommit(q, 3)
		c.Put("agg", []byte("k"), []byte(q))
		c.SetOffset("clicks", 0, int64(n))
		c.SetWatermark(42)
		apply(t, s, c)
	}
	if err := s.DropQuery("pages-1"); err != nil {
		t.Fatal(err)
	}
	check := func(s *state.Store) {
		t.Helper()
		wantMap(t, "dropped state", load(t, s, "pages-1", "agg"), nil)
		wantMap(t, "dropped offsets", offsets(t, s, "pages-1"), nil)
		if info, ok := lastCheckpoint(t, s, "pages-1"); ok {
			t.Errorf("dropped query still has a checkpoint: %+v", info)
		}
		for n, q := range queries[1:] {
			wantMap(t, "state of "+q, load(t, s, q, "agg"), map[string]string{"k": q})
			wantMap(t, "offsets of "+q, offsets(t, s, q), map[state.TopicPartition]int64{{"clicks", 0}: int64(n + 1)})
			if info, ok := lastCheckpoint(t, s, q); !ok || info.Epoch != 3 || info.Watermark != 42 {
				t.Errorf("checkpoint of %s = %+v, %v after dropping pages-1", q, info, ok)
			}
		}
	}
	check(s)
	// Dropping a query that has nothing is fine, and so is dropping twice.
	if err := s.DropQuery("pages-1"); err != nil {
		t.Errorf("second DropQuery: %v", err)
	}
	if err := s.DropQuery("never-ran"); err != nil {
		t.Errorf("DropQuery of an unknown query: %v", err)
	}
	s.Close()
	check(openStore(t, dir))
}

func TestOpenErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := state.Open(file)
	if err == nil {
		t.Fatal("Open succeeded on a regular file")
	}
	if !strings.Contains(err.Error(), file) {
		t.Errorf("error %q does not name %s", err, file)
	}
}

func TestGCOnFreshStore(t *testing.T) {
	s := openStore(t, t.TempDir())
	if err := s.GC(); err != nil {
		t.Errorf("GC on an empty store: %v", err)
	}
}

// ---- Cache ----

// counter is a Cache value; its codec records what it encodes, so a test
// can see exactly which entries a Flush wrote.
type counter struct {
	name string
	n    int
}

type counterCodec struct{ encoded *[]string }

func (c counterCodec) Encode(dst []byte, v *counter) []byte {
	*c.encoded = append(*c.encoded, v.name)
	return fmt.Appendf(dst, "%s=%d", v.name, v.n)
}

func (c counterCodec) Decode(b []byte) (*counter, error) {
	name, n, ok := strings.Cut(string(b), "=")
	if !ok {
		return nil, fmt.Errorf("bad counter %q", b)
	}
	v := &counter{name: name}
	if _, err := fmt.Sscan(n, &v.n); err != nil {
		return nil, err
	}
	return v, nil
}

func newCache(op string) (*state.Cache[*counter], *[]string) {
	var encoded []string
	return state.NewCache[*counter](op, counterCodec{&encoded}), &encoded
}

// flush flushes c into a new checkpoint of query q, applies it and returns
// the names the codec encoded, sorted.
func flush(t *testing.T, s *state.Store, c *state.Cache[*counter], encoded *[]string, q string, epoch int64) []string {
	t.Helper()
	*encoded = (*encoded)[:0]
	cm := state.NewCommit(q, epoch)
	c.Flush(cm)
	apply(t, s, cm)
	out := append([]string(nil), *encoded...)
	sort.Strings(out)
	return out
}

func insert(c *state.Cache[*counter], key string, n int) *state.Entry[*counter] {
	return c.Insert([]byte(key), &counter{name: key, n: n})
}

func TestCacheFlushWritesOnlyDirtyKeys(t *testing.T) {
	s := openStore(t, t.TempDir())
	c, enc := newCache("agg")
	for k, key := range []string{"a", "b", "c", "d"} {
		insert(c, key, k)
	}
	if c.Len() != 4 {
		t.Fatalf("Len = %d", c.Len())
	}
	if got := flush(t, s, c, enc, "q", 1); !reflect.DeepEqual(got, []string{"a", "b", "c", "d"}) {
		t.Errorf("first flush wrote %v", got)
	}
	wantMap(t, "after 1", load(t, s, "q", "agg"), map[string]string{"a": "a=0", "b": "b=1", "c": "c=2", "d": "d=3"})

	// Nothing changed: nothing written.
	if got := flush(t, s, c, enc, "q", 2); len(got) != 0 {
		t.Errorf("idle flush wrote %v", got)
	}

	// Update b in place (touched twice: written once), delete c, leave a
	// and d alone.
	e := c.Get([]byte("b"))
	if e == nil || e.Key != "b" || e.Val.n != 1 {
		t.Fatalf("Get(b) = %+v", e)
	}
	e.Val.n = 10
	c.Touch(e)
	e.Val.n = 11
	c.Touch(e)
	c.Delete(c.Get([]byte("c")))
	if c.Get([]byte("c")) != nil || c.Len() != 3 {
		t.Errorf("after Delete: Get(c) = %v, Len = %d", c.Get([]byte("c")), c.Len())
	}
	if got := flush(t, s, c, enc, "q", 3); !reflect.DeepEqual(got, []string{"b"}) {
		t.Errorf("flush wrote %v, want only b (c is a deletion)", got)
	}
	wantMap(t, "after 3", load(t, s, "q", "agg"), map[string]string{"a": "a=0", "b": "b=11", "d": "d=3"})

	if got := flush(t, s, c, enc, "q", 4); len(got) != 0 {
		t.Errorf("flush after flush wrote %v", got)
	}
	if c.Get([]byte("missing")) != nil {
		t.Error("Get of a missing key is not nil")
	}
	seen := map[string]int{}
	c.Range(func(e *state.Entry[*counter]) { seen[e.Key] = e.Val.n })
	wantMap(t, "Range", seen, map[string]int{"a": 0, "b": 11, "d": 3})
}

func TestCacheInsertAndDeleteInOneCheckpoint(t *testing.T) {
	s := openStore(t, t.TempDir())
	c, enc := newCache("agg")
	insert(c, "keep", 1)
	flush(t, s, c, enc, "q", 1)

	// A key born and gone within one checkpoint is never encoded and never
	// reaches the store.
	c.Delete(insert(c, "ephemeral", 2))
	if got := flush(t, s, c, enc, "q", 2); len(got) != 0 {
		t.Errorf("flush wrote %v", got)
	}
	wantMap(t, "state", load(t, s, "q", "agg"), map[string]string{"keep": "keep=1"})

	// Deleted and inserted again in one checkpoint: the new value wins,
	// for a key that was stored before and for one that was not.
	c.Delete(c.Get([]byte("keep")))
	insert(c, "keep", 100)
	e := insert(c, "fresh", 1)
	c.Delete(e)
	insert(c, "fresh", 2)
	if got := flush(t, s, c, enc, "q", 3); !reflect.DeepEqual(got, []string{"fresh", "keep"}) {
		t.Errorf("flush wrote %v", got)
	}
	wantMap(t, "state", load(t, s, "q", "agg"), map[string]string{"keep": "keep=100", "fresh": "fresh=2"})

	// Inserted, flushed into the same checkpoint, then deleted: gone.
	cm := state.NewCommit("q", 4)
	insert(c, "late", 1)
	c.Flush(cm)
	c.Delete(c.Get([]byte("late")))
	c.Flush(cm)
	apply(t, s, cm)
	if _, ok := load(t, s, "q", "agg")["late"]; ok {
		t.Error("a key deleted after its put in the same checkpoint survived")
	}
}

func TestCacheRestore(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	c, enc := newCache("agg")
	for k := range 10 {
		insert(c, fmt.Sprintf("k%d", k), k)
	}
	other, otherEnc := newCache("other-op")
	insert(other, "k0", 1000)
	flush(t, s, c, enc, "q", 1)
	flush(t, s, other, otherEnc, "q", 1)
	flush(t, s, func() *state.Cache[*counter] {
		x, _ := newCache("agg")
		insert(x, "k0", -1)
		return x
	}(), enc, "q10", 1)
	s.Close()
	s = openStore(t, dir)

	// A task keeps the keys that hash to it.
	r, renc := newCache("agg")
	even := func(key []byte) bool { return (key[len(key)-1]-'0')%2 == 0 }
	if err := r.Restore(s, "q", even); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	r.Range(func(e *state.Entry[*counter]) { got[e.Key] = e.Val.n })
	wantMap(t, "restored", got, map[string]int{"k0": 0, "k2": 2, "k4": 4, "k6": 6, "k8": 8})
	if r.Len() != 5 {
		t.Errorf("Len = %d", r.Len())
	}
	// Restored entries are clean: flushing writes nothing.
	if w := flush(t, s, r, renc, "q", 2); len(w) != 0 {
		t.Errorf("flush after Restore wrote %v", w)
	}
	// ... and behave like any other entry afterwards.
	e := r.Get([]byte("k2"))
	e.Val.n = 20
	r.Touch(e)
	if w := flush(t, s, r, renc, "q", 3); !reflect.DeepEqual(w, []string{"k2"}) {
		t.Errorf("flush wrote %v", w)
	}

	// Without a filter every key comes back.
	all, _ := newCache("agg")
	if err := all.Restore(s, "q", nil); err != nil {
		t.Fatal(err)
	}
	if all.Len() != 10 || all.Get([]byte("k2")).Val.n != 20 {
		t.Errorf("Restore(nil): Len = %d, k2 = %+v", all.Len(), all.Get([]byte("k2")).Val)
	}
	// Nothing of another query or operator.
	none, _ := newCache("agg")
	if err := none.Restore(s, "q1", nil); err != nil || none.Len() != 0 {
		t.Errorf("Restore(q1) = %d entries, %v", none.Len(), err)
	}

	// A value the codec cannot read fails the restore.
	bad := state.NewCommit("q", 4)
	bad.Put("agg", []byte("k5"), []byte("garbage"))
	apply(t, s, bad)
	broken, _ := newCache("agg")
	if err := broken.Restore(s, "q", nil); err == nil || !strings.Contains(err.Error(), "garbage") {
		t.Errorf("Restore of a corrupt value: %v", err)
	}
}

// TestDropQueryAfterCacheUse drops one query's cache-written state and keeps
// another's.
func TestDropQueryAfterCacheUse(t *testing.T) {
	s := openStore(t, t.TempDir())
	for _, q := range []string{"sink-1", "sink-11"} {
		c, enc := newCache("agg")
		insert(c, "page", 1)
		flush(t, s, c, enc, q, 1)
	}
	if err := s.DropQuery("sink-1"); err != nil {
		t.Fatal(err)
	}
	r, _ := newCache("agg")
	if err := r.Restore(s, "sink-1", nil); err != nil || r.Len() != 0 {
		t.Errorf("dropped query restored %d entries, %v", r.Len(), err)
	}
	r, _ = newCache("agg")
	if err := r.Restore(s, "sink-11", nil); err != nil || r.Len() != 1 {
		t.Errorf("other query restored %d entries, %v", r.Len(), err)
	}
}
