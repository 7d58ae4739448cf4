// Package state is StreamSQL's durable operator state: a Badger database under
// the data directory holding, per query, each operator's keyed state and the
// source offsets of the last completed checkpoint.
//
// Operators never write Badger on the hot path. They keep their working state
// in a Cache (a write-back cache that remembers dirty keys); at a checkpoint
// barrier each cache flushes its dirty entries into a Commit, and the
// checkpoint coordinator applies one Commit per query — state and source
// offsets together — in a single Badger transaction. A crash therefore leaves
// either the previous checkpoint or the new one, never a mix.
//
// A Cache may also have a memory budget (cache.go): it then evicts entries
// that a durable checkpoint holds and reads them back on a miss, or, for a
// bounded query, spills them to sorted runs of its own (runs.go).
//
// Key layout (all parts separated by 0x00):
//
//	s <query> <operator> <key>   operator state
//	o <query> <topic> <partition> source offset: the next offset to read
//	c <query>                    checkpoint metadata (JSON)
//
// State keys do not name the task that owns them, so a restarted query may
// split its keys over a different number of tasks (each task loads the
// namespace and keeps the keys that hash to it).
package state

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Store is the Badger-backed state of all queries. Safe for concurrent use.
type Store struct {
	db *badger.DB

	// mu guards durable: per query whose caches evict (Cache with a
	// budget), the last epoch E such that every checkpoint of the run up to
	// E has been applied. A checkpoint that fails breaks the chain: its
	// entries are never in Badger, so from then on nothing the run flushed
	// may be evicted (the query restarts, or keeps them in memory).
	mu      sync.Mutex
	durable map[string]int64
}

// Open opens (or creates) the state database in dir.
func Open(dir string) (*Store, error) {
	opts := badger.DefaultOptions(dir).
		WithLogger(nil).
		// Checkpoints are the only writes and each must survive a crash
		// once it is reported complete.
		WithSyncWrites(true).
		WithNumVersionsToKeep(1).
		// Badger allocates the memtable's arena up front, and Go counts it
		// as live heap: the default 64 MB (an 83 MB arena) doubled every
		// query's GC heap goal, and so its peak RSS, even when checkpoints
		// wrote a few KB. A commit larger than a memtable's batch limit
		// (about 15% of it, here 2.4 MB) takes the two-phase path
		// (twophase.go) as before.
		WithMemTableSize(16 << 20)
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("state: open %s: %w", dir, err)
	}
	return &Store{db: db, durable: map[string]int64{}}, nil
}

// resetDurable starts tracking query's durable epochs at epoch, its last
// completed checkpoint; a run's first checkpoint is epoch+1. Every task of
// the run calls it, with the same epoch, before the run checkpoints.
func (s *Store) resetDurable(query string, epoch int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.durable[query] = epoch
	return epoch
}

// markDurable records that checkpoint epoch of query is applied.
func (s *Store) markDurable(query string, epoch int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.durable[query]; ok && epoch == cur+1 {
		s.durable[query] = epoch
	}
}

// durableEpoch returns the last checkpoint of query known applied (def if
// the query is not tracked).
func (s *Store) durableEpoch(query string, def int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.durable[query]; ok {
		return e
	}
	return def
}

// get reads one committed state entry of an operator, calling fn with its
// value (valid only during the call) if it exists.
func (s *Store) get(query, op string, key []byte, fn func(val []byte) error) (bool, error) {
	found := false
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(stateKey(query, op, key))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return item.Value(fn)
	})
	return found, err
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// GC reclaims value-log space; call it periodically. It runs at most one
// rewrite per call and returns nil when there was nothing to collect.
func (s *Store) GC() error {
	err := s.db.RunValueLogGC(0.5)
	if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected) {
		return nil
	}
	return err
}

func stateKey(query, op string, key []byte) []byte {
	k := make([]byte, 0, 4+len(query)+len(op)+len(key))
	k = append(k, 's', 0)
	k = append(k, query...)
	k = append(k, 0)
	k = append(k, op...)
	k = append(k, 0)
	return append(k, key...)
}

func offsetKey(query, topic string, partition int32) []byte {
	k := fmt.Appendf(nil, "o\x00%s\x00%s\x00", query, topic)
	return binary.BigEndian.AppendUint32(k, uint32(partition))
}

func metaKey(query string) []byte { return append([]byte("c\x00"), query...) }

// Load calls fn for every state entry of one operator of a query. The
// slices passed to fn are valid only during the call.
func (s *Store) Load(query, op string, fn func(key, val []byte) error) error {
	prefix := stateKey(query, op, nil)
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			err := item.Value(func(v []byte) error { return fn(item.Key()[len(prefix):], v) })
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Offsets returns the source offsets recorded by the query's last checkpoint.
func (s *Store) Offsets(query string) (map[TopicPartition]int64, error) {
	prefix := []byte("o\x00" + query + "\x00")
	out := map[TopicPartition]int64{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()[len(prefix):]
			if len(k) < 5 {
				continue
			}
			tp := TopicPartition{Topic: string(k[:len(k)-5]), Partition: int32(binary.BigEndian.Uint32(k[len(k)-4:]))}
			err := it.Item().Value(func(v []byte) error {
				out[tp] = int64(binary.BigEndian.Uint64(v))
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// CheckpointInfo describes a completed checkpoint.
type CheckpointInfo struct {
	Epoch    int64         `json:"epoch"`
	Time     time.Time     `json:"time"`
	Duration time.Duration `json:"duration_ns"`
	// Bytes is the size of the state written by this checkpoint.
	Bytes int64 `json:"bytes"`
	// Watermark is the query's output watermark (epoch ms) at the checkpoint.
	Watermark int64 `json:"watermark"`
}

// LastCheckpoint returns the query's last completed checkpoint, if any.
func (s *Store) LastCheckpoint(query string) (CheckpointInfo, bool, error) {
	return s.readInfo(metaKey(query))
}

// readInfo reads checkpoint metadata stored under key.
func (s *Store) readInfo(key []byte) (CheckpointInfo, bool, error) {
	var info CheckpointInfo
	found := false
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &info) })
	})
	return info, found, err
}

// DropQuery deletes everything stored for a query.
func (s *Store) DropQuery(query string) error {
	// State and offset keys end the query with a separator, so their
	// prefixes cannot reach a query whose ID merely starts with this one
	// ("q-1" and "q-10"). The metadata key has nothing after the query, so
	// as a prefix it would: it is deleted by its exact key instead.
	err := s.db.DropPrefix(
		[]byte("s\x00"+query+"\x00"),
		[]byte("o\x00"+query+"\x00"),
	)
	if err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.durable, query)
	s.mu.Unlock()
	return s.db.Update(func(txn *badger.Txn) error { return txn.Delete(metaKey(query)) })
}

// Commit collects one checkpoint's writes for a query. Tasks add to it from
// their own goroutines only through the coordinator, which owns it; it is not
// safe for concurrent use.
type Commit struct {
	query string
	epoch int64
	// writes are the state puts and deletes in the order they were made,
	// so that the last write to a key wins; del marks a deletion.
	writes []kv
	offs   []kv
	bytes  int64
	start  time.Time
	wmark  int64
	hasWmk bool
}

type kv struct {
	k, v []byte
	del  bool
}

// NewCommit starts collecting the writes of checkpoint epoch for query.
func NewCommit(query string, epoch int64) *Commit {
	return &Commit{query: query, epoch: epoch, start: time.Now()}
}

// Epoch returns the checkpoint's epoch.
func (c *Commit) Epoch() int64 { return c.epoch }

// Put records a state entry of operator op. val is copied.
func (c *Commit) Put(op string, key, val []byte) {
	c.writes = append(c.writes, kv{k: stateKey(c.query, op, key), v: append([]byte(nil), val...)})
	c.bytes += int64(len(key) + len(val))
}

// Delete records the removal of a state entry of operator op.
func (c *Commit) Delete(op string, key []byte) {
	c.writes = append(c.writes, kv{k: stateKey(c.query, op, key), del: true})
}

// SetOffset records the next offset to read from a source partition.
func (c *Commit) SetOffset(topic string, partition int32, next int64) {
	c.offs = append(c.offs, kv{k: offsetKey(c.query, topic, partition), v: binary.BigEndian.AppendUint64(nil, uint64(next))})
}

// SetWatermark records the query's output watermark.
func (c *Commit) SetWatermark(ms int64) { c.wmark, c.hasWmk = ms, true }

// Apply writes the whole checkpoint in one Badger transaction and returns its
// metadata. Either all of it becomes durable or none of it does.
func (s *Store) Apply(c *Commit) (CheckpointInfo, error) {
	info := CheckpointInfo{Epoch: c.epoch, Time: time.Now().UTC(), Bytes: c.bytes, Watermark: c.wmark}
	err := s.db.Update(func(txn *badger.Txn) error {
		for _, e := range c.writes {
			var err error
			if e.del {
				err = txn.Delete(e.k)
			} else {
				err = txn.Set(e.k, e.v)
			}
			if err != nil {
				return err
			}
		}
		for _, e := range c.offs {
			if err := txn.Set(e.k, e.v); err != nil {
				return err
			}
		}
		info.Duration = time.Since(c.start)
		meta, err := json.Marshal(info)
		if err != nil {
			return err
		}
		return txn.Set(metaKey(c.query), meta)
	})
	if errors.Is(err, badger.ErrTxnTooBig) {
		// Too large for one transaction: write it in two phases, which
		// takes as many batches as it needs and stays atomic (twophase.go).
		if err := s.Prepare(c); err != nil {
			return info, err
		}
		return s.Resolve(c.query, c.epoch, true)
	}
	if err != nil {
		return info, fmt.Errorf("state: checkpoint %d of %s: %w", c.epoch, c.query, err)
	}
	s.markDurable(c.query, c.epoch)
	return info, nil
}

// Merge adds o's writes (a task's part of the same checkpoint) to c.
func (c *Commit) Merge(o *Commit) {
	c.writes = append(c.writes, o.writes...)
	c.offs = append(c.offs, o.offs...)
	c.bytes += o.bytes
}
