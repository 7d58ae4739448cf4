package state

import (
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
)

// Entry is one key of a Cache with its current value. Operators mutate Val in
// place and then call Cache.Touch so the change reaches the next checkpoint.
//
// With a memory budget an entry may be evicted: the cache forgets it and a
// later Get returns a new Entry read back from Badger. An operator must
// therefore not keep an Entry across calls that may evict (Get, Insert)
// unless the entry is dirty in a checkpointed cache, which is never evicted
// before its checkpoint is durable (see Cache).
type Entry[V any] struct {
	Key   string
	Val   V
	dirty bool
	gone  bool
	// inLRU: the entry is on the cache's list of evictable entries.
	inLRU bool
	// size is the entry's estimated memory (key, value, overhead).
	size int64
	// epoch (checkpointed mode) is the checkpoint whose commit holds the
	// entry's last flushed value.
	epoch      int64
	prev, next *Entry[V]
}

// Codec turns a cache value into bytes for a checkpoint and back.
type Codec[V any] interface {
	Encode(dst []byte, v V) []byte
	Decode(b []byte) (V, error)
}

// Sizer may be implemented by a Codec to estimate a value's in-memory size
// (bytes of Go heap it keeps alive) cheaply. Without it a budgeted cache
// takes the encoded length, which undercounts a value held in structs.
type Sizer[V any] interface {
	Size(v V) int
}

// EntryOverhead is the memory one cache entry costs beyond its key bytes and
// its value: the 64-byte Entry struct, the map slot (key header and
// pointer, 20-40 bytes depending on how full Go's map is) and the key's
// allocation rounding. TestEntryOverhead measures it: 63-100 bytes on amd64
// with Go 1.26 (the upper end when the map has just grown).
const EntryOverhead = 96

// Options bound a cache's working set.
type Options struct {
	// Budget bounds the estimated bytes (EntryOverhead + key + value, see
	// Sizer) of the entries a cache holds in memory. 0 holds every entry in
	// memory, as a cache without a budget always did.
	Budget int64
	// Spill, for a cache that is never restored (a bounded query, which has
	// no checkpoints) and whose values can be merged (SetMerge), is where
	// the entries that outgrow the budget go: sorted runs in a directory of
	// the cache's own, deleted by Close (runs.go). Without it, or without a
	// merge, such a cache keeps everything in memory whatever the budget.
	Spill *SpillArea
	// Counters, if set, also receives the cache's evictions, loads and
	// spills: one CacheCounters adds up a query's caches for its metrics.
	Counters *CacheCounters
	// NoCheckpoints is for a cache that is never flushed (the state of a
	// bounded or push query): Touch keeps no list of changed entries, so a
	// deleted entry is garbage at once instead of waiting for a Flush.
	NoCheckpoints bool
}

// CacheCounters adds up the traffic of several caches. Safe for concurrent
// use.
type CacheCounters struct {
	Evicted, Loaded, Spilled atomic.Int64
}

type cacheMode uint8

const (
	// inMemory: every entry lives in the map (no budget).
	inMemory cacheMode = iota
	// checkpointed: restored from a Store; an entry whose value is durable
	// in the store may be evicted and is read back from the committed state.
	checkpointed
	// spilling: no checkpoints; when the entries outgrow the budget they
	// are written to a sorted run and dropped (runs.go).
	spilling
)

// Cache is an operator's keyed state: an in-memory map that is the working
// copy, plus the list of keys changed since the last checkpoint. Flush writes
// exactly those keys into a Commit (deleted keys as deletions). A Cache
// belongs to one operator of one task and is never used concurrently.
//
// With Options.Budget the map holds a bounded working set, evicted least
// recently used first:
//
//   - Checkpointed (after Restore): Badger's committed state changes only
//     through checkpoint commits, so only clean entries are evicted — not
//     changed since the last Flush, and flushed into a checkpoint that the
//     store has made durable (Store.durableEpoch). A Get that misses reads
//     the committed value. Dirty entries stay until their checkpoint is
//     durable, so memory can exceed the budget by the keys changed in about
//     one checkpoint interval (two while a checkpoint is in flight).
//   - Spilling (Options.Spill and SetMerge, never restored): all entries but
//     the one in use go to a sorted run when they outgrow the budget; a key
//     seen again starts a fresh value, and Sorted merges runs and memory.
//
// Get and Insert may evict; Touch, Delete and Flush do not.
type Cache[V any] struct {
	op    string
	codec Codec[V]
	sizer Sizer[V]
	m     map[string]*Entry[V]
	dirty []*Entry[V]
	buf   []byte

	mode          cacheMode
	noCheckpoints bool
	budget        int64
	// used is the estimated size of the entries in m (tombstones included).
	used int64
	// lru links the evictable entries: lru.next is the most recently used,
	// lru.prev the next victim.
	lru Entry[V]

	// Checkpointed mode: where committed values are read back, and which
	// of them this task owns.
	store *Store
	query string
	keep  func(key []byte) bool
	// durable is the last checkpoint known durable; pending lists flushed
	// entries, in flush order, until their checkpoint is.
	durable int64
	pending []flushed[V]

	// Spilling mode: sorted runs (runs.go) and how to combine two values of
	// one key.
	area    *SpillArea
	victims []*Entry[V]
	merge   func(dst, src V) error
	runs    *runSet

	// err is the first failure reading or writing Badger on the hot path
	// (Get, Insert), which return no error; see Err.
	err      error
	stats    CacheStats
	counters *CacheCounters
}

type flushed[V any] struct {
	e     *Entry[V]
	epoch int64
}

// CacheStats counts a budgeted cache's traffic with Badger.
type CacheStats struct {
	// Evicted entries, Spilled of them written to a sorted run, and Loaded
	// entries read back from the committed state on a miss.
	Evicted, Spilled, Loaded int64
	// Runs is how many sorted runs a merging spill wrote.
	Runs int64
}

// NewCache returns an empty cache for operator op that keeps every entry in
// memory.
func NewCache[V any](op string, codec Codec[V]) *Cache[V] {
	return NewCacheWith(op, codec, Options{})
}

// NewCacheWith returns an empty cache for operator op bounded by opts.
func NewCacheWith[V any](op string, codec Codec[V], opts Options) *Cache[V] {
	c := &Cache[V]{op: op, codec: codec, m: map[string]*Entry[V]{}, budget: opts.Budget, counters: opts.Counters,
		noCheckpoints: opts.NoCheckpoints}
	c.sizer, _ = codec.(Sizer[V])
	c.lru.next, c.lru.prev = &c.lru, &c.lru
	if opts.Budget > 0 && opts.Spill != nil {
		c.mode, c.area = spilling, opts.Spill
	}
	return c
}

// SetMerge lets a cache with Options.Spill spill: merge(dst, src) must fold
// src, a value of the same key built from later input, into dst. A key
// spilled and seen again starts a fresh value (Get does not read spilled
// values back), and Sorted combines a key's values oldest first.
func (c *Cache[V]) SetMerge(merge func(dst, src V) error) { c.merge = merge }

// Len returns the number of live keys held in memory.
func (c *Cache[V]) Len() int {
	if c.mode == checkpointed {
		n := 0
		for _, e := range c.m {
			if !e.gone {
				n++
			}
		}
		return n
	}
	return len(c.m)
}

// Used returns the estimated bytes of the entries in memory (0 without a
// budget, where sizes are not tracked).
func (c *Cache[V]) Used() int64 { return c.used }

// Stats returns the cache's eviction counters.
func (c *Cache[V]) Stats() CacheStats { return c.stats }

// Err returns the first error met reading or writing Badger in Get or
// Insert. After one the cache's contents are not trustworthy: the operator
// must fail its query.
func (c *Cache[V]) Err() error { return c.err }

// Get returns the entry for key, or nil. On a miss a checkpointed cache with
// a budget reads the key back from the committed state; without a budget,
// or on a hit, it does not allocate. A spilling cache never reads back.
func (c *Cache[V]) Get(key []byte) *Entry[V] {
	if e, ok := c.m[string(key)]; ok {
		if e.gone {
			return nil
		}
		if e.inLRU {
			c.lruRemove(e)
			c.lruPush(e)
		}
		return e
	}
	if c.mode == inMemory || c.err != nil {
		return nil
	}
	var (
		v     V
		found bool
		err   error
	)
	decode := func(b []byte) error {
		v, err = c.codec.Decode(b)
		return err
	}
	switch c.mode {
	case checkpointed:
		found, err = c.store.get(c.query, c.op, key, decode)
	case spilling:
		return nil // runs are merged by Sorted, never read back by key
	}
	if err != nil {
		c.fail(fmt.Errorf("state: reading back %s key %x: %w", c.op, key, err))
		return nil
	}
	if !found {
		return nil
	}
	c.count(0, 1, 0)
	e := &Entry[V]{Key: string(key), Val: v}
	c.add(e)
	c.lruPush(e)
	c.makeRoom(e)
	return e
}

// Insert adds a new entry for key (which must not be present) and marks it dirty.
func (c *Cache[V]) Insert(key []byte, v V) *Entry[V] {
	e := &Entry[V]{Key: string(key), Val: v}
	if c.mode == inMemory {
		c.m[e.Key] = e
		c.Touch(e)
		return e
	}
	if old := c.m[e.Key]; old != nil {
		// A tombstone waiting for its Flush: the new entry replaces it in
		// the map; the dirty list still writes the deletion first.
		c.used -= old.size
	}
	c.add(e)
	c.Touch(e)
	if c.mode == spilling {
		c.lruPush(e)
	}
	c.makeRoom(e)
	return e
}

// add puts e in the map and accounts for its size.
func (c *Cache[V]) add(e *Entry[V]) {
	e.size = c.sizeOf(e)
	c.used += e.size
	c.m[e.Key] = e
}

func (c *Cache[V]) sizeOf(e *Entry[V]) int64 {
	n := EntryOverhead + len(e.Key)
	if c.sizer != nil {
		n += c.sizer.Size(e.Val)
	} else {
		c.buf = c.codec.Encode(c.buf[:0], e.Val)
		n += len(c.buf)
	}
	return int64(n)
}

// Touch marks e changed since the last checkpoint.
func (c *Cache[V]) Touch(e *Entry[V]) {
	if c.mode == spilling || c.noCheckpoints {
		return // no checkpoints
	}
	if !e.dirty {
		e.dirty = true
		c.dirty = append(c.dirty, e)
		if e.inLRU {
			c.lruRemove(e)
		}
	}
}

// Delete removes e; the next Flush records the deletion.
func (c *Cache[V]) Delete(e *Entry[V]) {
	switch c.mode {
	case inMemory:
		delete(c.m, e.Key)
		e.gone = true
		c.Touch(e)
	case checkpointed:
		// The tombstone stays in the map until Flush, so that a Get before
		// then does not read the committed value back.
		e.gone = true
		c.Touch(e)
	case spilling:
		if e.inLRU {
			c.lruRemove(e)
		}
		if c.m[e.Key] == e {
			delete(c.m, e.Key)
			c.used -= e.size
		}
		e.gone = true
		if c.runs != nil {
			// The key's spilled values would come back at the merge.
			c.fail(fmt.Errorf("state: %s: deleting a key of a cache that has spilled", c.op))
		}
	}
}

// Range calls fn for every live entry held in memory, in no particular
// order. With a budget that may be only part of the state: see Sorted.
func (c *Cache[V]) Range(fn func(e *Entry[V])) {
	for _, e := range c.m {
		if !e.gone {
			fn(e)
		}
	}
}

// Sorted calls fn for every live key in key order (bytewise), each once:
// the entries in memory and, with a budget, those only outside it (a
// spilling cache's runs, each key's values merged; the committed state a
// checkpointed cache's task owns). A value that is only outside memory is
// decoded for the call and not cached. fn must not change the cache.
func (c *Cache[V]) Sorted(fn func(key string, v V) error) error {
	if c.err != nil {
		return c.err
	}
	if c.runs != nil {
		return c.sortedRuns(fn)
	}
	keys := make([]string, 0, len(c.m))
	for k := range c.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	i := 0
	// emitUpTo emits the memory entries with keys below k (all when k is nil).
	emitUpTo := func(k []byte) error {
		for ; i < len(keys) && (k == nil || keys[i] < string(k)); i++ {
			if e := c.m[keys[i]]; !e.gone {
				if err := fn(e.Key, e.Val); err != nil {
					return err
				}
			}
		}
		return nil
	}
	backing := func(k, b []byte) error {
		if err := emitUpTo(k); err != nil {
			return err
		}
		if i < len(keys) && keys[i] == string(k) {
			// Memory holds the current value (or its deletion).
			if e := c.m[keys[i]]; !e.gone {
				if err := fn(e.Key, e.Val); err != nil {
					return err
				}
			}
			i++
			return nil
		}
		v, err := c.codec.Decode(b)
		if err != nil {
			return err
		}
		return fn(string(k), v)
	}
	var err error
	switch {
	case c.mode == checkpointed:
		err = c.store.Load(c.query, c.op, func(k, b []byte) error {
			if c.keep != nil && !c.keep(k) {
				return nil
			}
			return backing(k, b)
		})
	}
	if err != nil {
		return err
	}
	return emitUpTo(nil)
}

// Flush writes every entry changed since the last Flush into cm. A spilling
// cache has no checkpoints and writes nothing.
func (c *Cache[V]) Flush(cm *Commit) {
	for _, e := range c.dirty {
		e.dirty = false
		if e.gone {
			// A key inserted and deleted within one checkpoint may not exist
			// in Badger; deleting it anyway is harmless.
			cm.Delete(c.op, []byte(e.Key))
			if c.mode == checkpointed && c.m[e.Key] == e {
				delete(c.m, e.Key)
				c.used -= e.size
			}
			continue
		}
		c.buf = c.codec.Encode(c.buf[:0], e.Val)
		cm.Put(c.op, []byte(e.Key), c.buf)
		if c.mode == checkpointed {
			// The value may have grown since it was sized.
			n := c.sizeOf(e)
			c.used += n - e.size
			e.size = n
			e.epoch = cm.Epoch()
			c.pending = append(c.pending, flushed[V]{e, e.epoch})
		}
	}
	clear(c.dirty)
	c.dirty = c.dirty[:0]
}

// errFull stops Restore's scan once the budget is full.
var errFull = errors.New("cache full")

// Restore loads the operator's entries of query from the store, keeping those
// for which keep returns true (a task keeps the keys that hash to it).
// Restored entries are clean. With a budget the cache loads entries until
// the budget is full and from then on reads the others back on demand.
func (c *Cache[V]) Restore(s *Store, query string, keep func(key []byte) bool) error {
	if c.budget > 0 {
		cp, _, err := s.LastCheckpoint(query)
		if err != nil {
			return err
		}
		c.mode, c.store, c.query, c.keep = checkpointed, s, query, keep
		c.durable = s.resetDurable(query, cp.Epoch)
	}
	err := s.Load(query, c.op, func(key, val []byte) error {
		if keep != nil && !keep(key) {
			return nil
		}
		if c.budget > 0 && c.used >= c.budget {
			return errFull
		}
		v, err := c.codec.Decode(val)
		if err != nil {
			return err
		}
		e := &Entry[V]{Key: string(key), Val: v}
		if c.mode == inMemory {
			c.m[e.Key] = e
			return nil
		}
		c.add(e)
		c.lruPushBack(e)
		return nil
	})
	if errors.Is(err, errFull) {
		return nil
	}
	return err
}

// Close releases what the cache holds outside memory: a spilling cache's
// runs are deleted. The cache must not be used afterwards.
func (c *Cache[V]) Close() error {
	if c.runs == nil {
		return nil
	}
	err := c.runs.close()
	c.runs = nil
	return err
}

// count records evictions, loads and spills in the cache's stats and its
// counters.
func (c *Cache[V]) count(evicted, loaded, spilled int) {
	c.stats.Evicted += int64(evicted)
	c.stats.Loaded += int64(loaded)
	c.stats.Spilled += int64(spilled)
	if c.counters != nil {
		c.counters.Evicted.Add(int64(evicted))
		c.counters.Loaded.Add(int64(loaded))
		c.counters.Spilled.Add(int64(spilled))
	}
}

func (c *Cache[V]) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// makeRoom evicts least recently used entries (never keep, the entry being
// handed to the caller) while the cache is over its budget: down to 15/16 of
// it, so that evictions, and a spilling cache's writes, come in batches.
func (c *Cache[V]) makeRoom(keep *Entry[V]) {
	if c.used <= c.budget || c.err != nil {
		return
	}
	if c.mode == spilling {
		if c.merge == nil {
			return // nothing to combine spilled values with: keep them
		}
		if err := c.spillRun(keep); err != nil {
			c.fail(fmt.Errorf("state: spilling %s: %w", c.op, err))
		}
		return
	}
	target := c.budget - c.budget/16
	if c.mode == checkpointed {
		c.promote()
	}
	c.victims = c.victims[:0]
	freed := int64(0)
	for e := c.lru.prev; e != &c.lru && e != keep && c.used-freed > target; e = e.prev {
		c.victims = append(c.victims, e)
		freed += e.size
	}
	if len(c.victims) == 0 {
		return
	}
	for _, e := range c.victims {
		c.lruRemove(e)
		delete(c.m, e.Key)
		c.used -= e.size
		// The caller may not keep evicted entries; dropping the value
		// lets the collector have it even if one does by mistake.
		var zero V
		e.Val = zero
	}
	c.count(len(c.victims), 0, 0)
	clear(c.victims)
}

// promote makes evictable the flushed entries whose checkpoint the store has
// made durable since, and that have not changed again.
func (c *Cache[V]) promote() {
	if len(c.pending) == 0 {
		return
	}
	c.durable = c.store.durableEpoch(c.query, c.durable)
	n := 0
	for _, p := range c.pending {
		if p.epoch > c.durable {
			break
		}
		n++
		e := p.e
		if e.epoch == p.epoch && !e.dirty && !e.gone && !e.inLRU && c.m[e.Key] == e {
			// Changed within the last checkpoint or two: more recent than
			// whatever is already evictable.
			c.lruPush(e)
		}
	}
	if n > 0 {
		clear(c.pending[:n])
		c.pending = append(c.pending[:0], c.pending[n:]...)
	}
}

// lruPush makes e the most recently used evictable entry.
func (c *Cache[V]) lruPush(e *Entry[V]) {
	e.prev, e.next = &c.lru, c.lru.next
	c.lru.next.prev = e
	c.lru.next = e
	e.inLRU = true
}

// lruPushBack makes e the next to evict: a restored entry has not been used
// by this run yet.
func (c *Cache[V]) lruPushBack(e *Entry[V]) {
	e.next, e.prev = &c.lru, c.lru.prev
	c.lru.prev.next = e
	c.lru.prev = e
	e.inLRU = true
}

func (c *Cache[V]) lruRemove(e *Entry[V]) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
	e.inLRU = false
}
