package state

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Two-phase checkpoints: for sinks that deliver exactly once, and for any
// checkpoint too large for one Badger transaction.
//
// Prepare makes a checkpoint's changes durable without touching the state
// in force: they are written under a pending prefix (in as many Badger
// batches as they need), and the checkpoint's metadata is written last, in
// one transaction, marking the checkpoint prepared. The caller then commits
// the sink's Kafka transaction (exactly-once), and calls Resolve to apply
// (or, if the transaction did not commit, discard) the pending changes. A
// crash between the steps leaves a pending checkpoint that recovery
// resolves by asking Kafka whether that transaction committed (see
// docs/exactly-once.md).
//
// Resolve with commit first records, atomically, the checkpoint as the one
// in force together with an "applying" marker, then copies the pending
// changes over the state in batches, then drops the marker. Copying is
// idempotent, so Recover finishes a copy a crash interrupted before any
// state is read. Operators read Badger only when they restore, after
// Recover, so a half-copied checkpoint is never seen.
//
// Layout: p <query> 0x00 <epoch, 8 bytes> <full key> -> <kind> <value> for
// the pending changes (kind 'P' put or 'D' delete; the last write to a key
// wins, as in Apply); q <query> for the pending checkpoint's metadata;
// a <query> for the epoch being applied.

func pendingPrefix(query string) []byte  { return append([]byte("p\x00"+query), 0) }
func pendingMetaKey(query string) []byte { return []byte("q\x00" + query) }
func applyingKey(query string) []byte    { return []byte("a\x00" + query) }

func pendingEpochPrefix(query string, epoch int64) []byte {
	return binary.BigEndian.AppendUint64(pendingPrefix(query), uint64(epoch))
}

// batchEntries bounds the entries copied per Badger batch when applying or
// discarding pending changes.
const batchEntries = 4096

// Prepare writes c's changes as the query's pending checkpoint.
func (s *Store) Prepare(c *Commit) error {
	info := CheckpointInfo{Epoch: c.epoch, Time: time.Now().UTC(), Bytes: c.bytes, Watermark: c.wmark}
	prefix := pendingEpochPrefix(c.query, c.epoch)
	wb := s.db.NewWriteBatch()
	put := func(kind byte, k, v []byte) error {
		pk := append(append([]byte(nil), prefix...), k...)
		return wb.Set(pk, append([]byte{kind}, v...))
	}
	for _, e := range c.writes {
		kind := byte('P')
		if e.del {
			kind = 'D'
		}
		if err := put(kind, e.k, e.v); err != nil {
			wb.Cancel()
			return fmt.Errorf("state: prepare checkpoint %d of %s: %w", c.epoch, c.query, err)
		}
	}
	for _, e := range c.offs {
		if err := put('P', e.k, e.v); err != nil {
			wb.Cancel()
			return fmt.Errorf("state: prepare checkpoint %d of %s: %w", c.epoch, c.query, err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("state: prepare checkpoint %d of %s: %w", c.epoch, c.query, err)
	}
	info.Duration = time.Since(c.start)
	meta, err := json.Marshal(info)
	if err != nil {
		return err
	}
	// The metadata makes the checkpoint prepared; without it the entries
	// above are orphans that Recover removes.
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(pendingMetaKey(c.query), meta) }); err != nil {
		return fmt.Errorf("state: prepare checkpoint %d of %s: %w", c.epoch, c.query, err)
	}
	return nil
}

// Pending returns the epoch of the query's prepared but unresolved
// checkpoint, if there is one.
func (s *Store) Pending(query string) (int64, bool, error) {
	info, found, err := s.readInfo(pendingMetaKey(query))
	return info.Epoch, found, err
}

// Resolve ends the query's pending checkpoint epoch: with commit, its
// changes and metadata become the state in force; without, they are
// discarded.
func (s *Store) Resolve(query string, epoch int64, commit bool) (CheckpointInfo, error) {
	info, found, err := s.readInfo(pendingMetaKey(query))
	if err == nil && (!found || info.Epoch != epoch) {
		err = fmt.Errorf("no pending checkpoint %d (found %v, epoch %d)", epoch, found, info.Epoch)
	}
	if err == nil {
		err = s.db.Update(func(txn *badger.Txn) error {
			if err := txn.Delete(pendingMetaKey(query)); err != nil {
				return err
			}
			if !commit {
				return nil
			}
			meta, err := json.Marshal(info)
			if err != nil {
				return err
			}
			if err := txn.Set(metaKey(query), meta); err != nil {
				return err
			}
			return txn.Set(applyingKey(query), binary.BigEndian.AppendUint64(nil, uint64(epoch)))
		})
	}
	if err == nil {
		// Applied: copy the changes in. Discarded: the entries are orphans.
		err = s.finish(query, epoch, commit)
	}
	if err != nil {
		return info, fmt.Errorf("state: resolve checkpoint %d of %s: %w", epoch, query, err)
	}
	if commit {
		// Copied in: caches may now evict what this checkpoint holds.
		s.markDurable(query, epoch)
	}
	return info, nil
}

// finish copies (apply) or drops the pending entries of epoch in batches,
// then clears the applying marker.
func (s *Store) finish(query string, epoch int64, apply bool) error {
	prefix := pendingEpochPrefix(query, epoch)
	for {
		type entry struct{ pk, k, v []byte }
		var chunk []entry
		err := s.db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: apply, PrefetchSize: 256})
			defer it.Close()
			for it.Rewind(); it.Valid() && len(chunk) < batchEntries; it.Next() {
				pk := it.Item().KeyCopy(nil)
				e := entry{pk: pk, k: pk[len(prefix):]}
				if apply {
					v, err := it.Item().ValueCopy(nil)
					if err != nil {
						return err
					}
					if len(v) == 0 {
						return fmt.Errorf("corrupt pending entry %q", e.k)
					}
					e.v = v
				}
				chunk = append(chunk, e)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(chunk) == 0 {
			break
		}
		wb := s.db.NewWriteBatch()
		for _, e := range chunk {
			if apply {
				if e.v[0] == 'D' {
					err = wb.Delete(e.k)
				} else {
					err = wb.Set(e.k, e.v[1:])
				}
				if err != nil {
					wb.Cancel()
					return err
				}
			}
			if err := wb.Delete(e.pk); err != nil {
				wb.Cancel()
				return err
			}
		}
		if err := wb.Flush(); err != nil {
			return err
		}
	}
	if !apply {
		return nil
	}
	return s.db.Update(func(txn *badger.Txn) error { return txn.Delete(applyingKey(query)) })
}

// Recover finishes what a crash interrupted: it completes the copy of a
// checkpoint that was being applied and removes pending entries that no
// prepared checkpoint owns. Call it before reading the query's state.
func (s *Store) Recover(query string) error {
	var applying int64 = -1
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(applyingKey(query))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			applying = int64(binary.BigEndian.Uint64(v))
			return nil
		})
	})
	if err != nil {
		return err
	}
	if applying >= 0 {
		if err := s.finish(query, applying, true); err != nil {
			return fmt.Errorf("state: finishing checkpoint %d of %s: %w", applying, query, err)
		}
	}
	pending, hasPending, err := s.Pending(query)
	if err != nil {
		return err
	}
	// Orphans: entries of epochs that are not the prepared one.
	var orphans []int64
	prefix := pendingPrefix(query)
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()[len(prefix):]
			if len(k) < 8 {
				continue
			}
			e := int64(binary.BigEndian.Uint64(k))
			if (!hasPending || e != pending) && (len(orphans) == 0 || orphans[len(orphans)-1] != e) {
				orphans = append(orphans, e)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range orphans {
		if err := s.finish(query, e, false); err != nil {
			return err
		}
	}
	return nil
}
