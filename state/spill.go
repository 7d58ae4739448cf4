package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// SpillArea is the directory where caches of bounded queries put the
// entries that do not fit their budget. Each spilling cache opens a scratch
// Badger database of its own in a fresh subdirectory on its first eviction
// and deletes it on Close. Scratch data is never committed state: it lives
// in separate databases, outside the state directory, and whatever a crashed
// process left behind is removed by OpenSpillArea at the next start.
// Safe for concurrent use.
type SpillArea struct {
	dir string
	seq atomic.Int64
}

// OpenSpillArea empties (or creates) dir for scratch databases.
func OpenSpillArea(dir string) (*SpillArea, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("state: clearing spill directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("state: spill directory: %w", err)
	}
	return &SpillArea{dir: dir}, nil
}

// Dir returns the area's directory.
func (a *SpillArea) Dir() string { return a.dir }

// scratch is one cache's spilled entries: key -> encoded value.
type scratch struct {
	db  *badger.DB
	dir string
}

func (a *SpillArea) open() (*scratch, error) {
	dir := filepath.Join(a.dir, fmt.Sprint(a.seq.Add(1)))
	// Nothing here must survive a crash, and the database is read back
	// by key while it is written: no fsync, no compression (values are a
	// few dozen bytes), no conflict detection (one writer). Memory is the
	// point of spilling, and Badger's defaults take hundreds of MB (a 10M
	// key spill measured 230 MB of table builders and 125 MB of memtable
	// arenas): small memtables (a flush builds an L0 table of that size in
	// memory), small tables (each compaction builder buffers about two) and
	// small caches.
	opts := badger.DefaultOptions(dir).
		WithLogger(nil).
		WithSyncWrites(false).
		WithNumVersionsToKeep(1).
		WithMemTableSize(4 << 20).
		WithNumMemtables(2).
		WithBaseTableSize(1 << 20).
		WithBaseLevelSize(8 << 20).
		WithNumLevelZeroTables(4).
		WithNumLevelZeroTablesStall(12).
		WithBlockCacheSize(4 << 20).
		WithIndexCacheSize(4 << 20).
		WithNumCompactors(2).
		WithCompression(options.None).
		WithDetectConflicts(false).
		WithValueLogFileSize(16 << 20).
		WithValueThreshold(64 << 10).
		WithMetricsEnabled(false)
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("state: opening scratch database %s: %w", dir, err)
	}
	return &scratch{db: db, dir: dir}, nil
}

// put writes a batch of entries; they are readable when it returns.
func (s *scratch) put(batch []kv) error {
	wb := s.db.NewWriteBatch()
	for _, e := range batch {
		if err := wb.Set(e.k, e.v); err != nil {
			wb.Cancel()
			return err
		}
	}
	return wb.Flush()
}

func (s *scratch) get(key []byte, fn func(val []byte) error) (bool, error) {
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
		return item.Value(fn)
	})
	return found, err
}

func (s *scratch) delete(key []byte) error {
	return s.db.Update(func(txn *badger.Txn) error { return txn.Delete(key) })
}

// iterate calls fn for every entry in key order; the slices are valid only
// during the call.
func (s *scratch) iterate(fn func(key, val []byte) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if err := item.Value(func(v []byte) error { return fn(item.Key(), v) }); err != nil {
				return err
			}
		}
		return nil
	})
}

// close closes the database and deletes its files.
func (s *scratch) close() error {
	err := s.db.Close()
	if rerr := os.RemoveAll(s.dir); err == nil {
		err = rerr
	}
	return err
}
