package state

import (
	"encoding/json"
	"fmt"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Two-phase checkpoints, for sinks that deliver exactly once.
//
// Prepare makes a checkpoint's changes durable without touching the state
// in force: they are written under a pending prefix, together with the
// checkpoint's metadata. The caller then commits the sink's Kafka
// transaction, and finally calls Resolve to apply (or, if the transaction
// did not commit, discard) the pending changes. A crash between the steps
// leaves a pending checkpoint that recovery resolves by asking Kafka whether
// that transaction committed (see docs/exactly-once.md).
//
// Pending layout: p <query> 0x00 <full key> -> <kind byte> <value>, kind 'P'
// (put) or 'D' (delete), so the last write to a key wins as in Apply; and
// q <query> for the pending checkpoint's metadata.

func pendingPrefix(query string) []byte  { return append([]byte("p\x00"+query), 0) }
func pendingMetaKey(query string) []byte { return []byte("q\x00" + query) }

// Prepare writes c's changes as the query's pending checkpoint.
func (s *Store) Prepare(c *Commit) error {
	info := CheckpointInfo{Epoch: c.epoch, Time: time.Now().UTC(), Bytes: c.bytes, Watermark: c.wmark}
	prefix := pendingPrefix(c.query)
	err := s.db.Update(func(txn *badger.Txn) error {
		put := func(kind byte, k, v []byte) error {
			pk := append(append([]byte(nil), prefix...), k...)
			return txn.Set(pk, append([]byte{kind}, v...))
		}
		for _, e := range c.writes {
			kind := byte('P')
			if e.del {
				kind = 'D'
			}
			if err := put(kind, e.k, e.v); err != nil {
				return err
			}
		}
		for _, e := range c.offs {
			if err := put('P', e.k, e.v); err != nil {
				return err
			}
		}
		info.Duration = time.Since(c.start)
		meta, err := json.Marshal(info)
		if err != nil {
			return err
		}
		return txn.Set(pendingMetaKey(c.query), meta)
	})
	if err != nil {
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
// discarded. Both happen in one Badger transaction.
func (s *Store) Resolve(query string, epoch int64, commit bool) (CheckpointInfo, error) {
	var info CheckpointInfo
	prefix := pendingPrefix(query)
	err := s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(pendingMetaKey(query))
		if err != nil {
			return fmt.Errorf("no pending checkpoint: %w", err)
		}
		if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &info) }); err != nil {
			return err
		}
		if info.Epoch != epoch {
			return fmt.Errorf("pending checkpoint is %d, not %d", info.Epoch, epoch)
		}
		var pendingKeys [][]byte
		type change struct {
			del  bool
			k, v []byte
		}
		var changes []change
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: commit})
		for it.Rewind(); it.Valid(); it.Next() {
			key := it.Item().KeyCopy(nil)
			pendingKeys = append(pendingKeys, key)
			if !commit {
				continue
			}
			rest := key[len(prefix):]
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				it.Close()
				return err
			}
			if len(v) == 0 {
				it.Close()
				return fmt.Errorf("corrupt pending entry %q", rest)
			}
			changes = append(changes, change{del: v[0] == 'D', k: rest, v: v[1:]})
		}
		it.Close()
		for _, k := range pendingKeys {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		if err := txn.Delete(pendingMetaKey(query)); err != nil {
			return err
		}
		if !commit {
			return nil
		}
		for _, c := range changes {
			if c.del {
				err = txn.Delete(c.k)
			} else {
				err = txn.Set(c.k, c.v)
			}
			if err != nil {
				return err
			}
		}
		meta, err := json.Marshal(info)
		if err != nil {
			return err
		}
		return txn.Set(metaKey(query), meta)
	})
	if err != nil {
		return info, fmt.Errorf("state: resolve checkpoint %d of %s: %w", epoch, query, err)
	}
	return info, nil
}
