package state

import (
	"encoding/binary"
	"encoding/json"
	"testing"

	badger "github.com/dgraph-io/badger/v4"
)

func TestPrepareResolve(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	base := NewCommit("q", 1)
	base.Put("op", []byte("a"), []byte("1"))
	base.Put("op", []byte("b"), []byte("1"))
	base.SetOffset("t", 0, 10)
	if _, err := s.Apply(base); err != nil {
		t.Fatal(err)
	}
	load := func() map[string]string {
		m := map[string]string{}
		if err := s.Load("q", "op", func(k, v []byte) error { m[string(k)] = string(v); return nil }); err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, commit := range []bool{false, true} {
		c := NewCommit("q", 2)
		c.Put("op", []byte("a"), []byte("2"))
		c.Delete("op", []byte("b"))
		c.Put("op", []byte("c"), []byte("x"))
		c.Delete("op", []byte("c")) // the last write wins
		c.SetOffset("t", 0, 20)
		c.SetWatermark(99)
		if err := s.Prepare(c); err != nil {
			t.Fatal(err)
		}
		// Prepared changes are not in force yet.
		if got := load(); got["a"] != "1" || got["b"] != "1" {
			t.Fatalf("prepare changed the state in force: %v", got)
		}
		if e, ok, err := s.Pending("q"); err != nil || !ok || e != 2 {
			t.Fatalf("Pending = %d %v %v", e, ok, err)
		}
		info, err := s.Resolve("q", 2, commit)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.Pending("q"); ok {
			t.Fatal("still pending after Resolve")
		}
		got := load()
		offs, _ := s.Offsets("q")
		cp, _, _ := s.LastCheckpoint("q")
		if !commit {
			if got["a"] != "1" || got["b"] != "1" || len(got) != 2 || offs[TopicPartition{"t", 0}] != 10 || cp.Epoch != 1 {
				t.Fatalf("after abort: state %v offsets %v checkpoint %d", got, offs, cp.Epoch)
			}
			continue
		}
		if got["a"] != "2" || len(got) != 1 || offs[TopicPartition{"t", 0}] != 20 || cp.Epoch != 2 || cp.Watermark != 99 || info.Epoch != 2 {
			t.Fatalf("after commit: state %v offsets %v checkpoint %+v", got, offs, cp)
		}
	}
	if _, err := s.Resolve("q", 3, true); err == nil {
		t.Fatal("resolving a checkpoint that is not pending succeeded")
	}
}

// TestRecoverFinishesAnInterruptedApply: a crash after the checkpoint was
// marked in force but before its changes were all copied is finished by
// Recover; pending entries no prepared checkpoint owns are removed.
func TestRecoverFinishesAnInterruptedApply(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := NewCommit("q", 5)
	c.Put("op", []byte("a"), []byte("1"))
	c.SetOffset("t", 0, 50)
	if err := s.Prepare(c); err != nil {
		t.Fatal(err)
	}
	// Resolve's first step only, as if the process died right after it.
	info, _, _ := s.readInfo(pendingMetaKey("q"))
	meta, _ := json.Marshal(info)
	if err := s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Delete(pendingMetaKey("q")); err != nil {
			return err
		}
		if err := txn.Set(metaKey("q"), meta); err != nil {
			return err
		}
		return txn.Set(applyingKey("q"), binary.BigEndian.AppendUint64(nil, 5))
	}); err != nil {
		t.Fatal(err)
	}
	// An orphan: entries of a prepare whose metadata never got written.
	o := NewCommit("q", 6)
	o.Put("op", []byte("zombie"), []byte("x"))
	if err := s.Prepare(o); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Delete(pendingMetaKey("q")) }); err != nil {
		t.Fatal(err)
	}

	if err := s.Recover("q"); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	_ = s.Load("q", "op", func(k, v []byte) error { got[string(k)] = string(v); return nil })
	if len(got) != 1 || got["a"] != "1" {
		t.Errorf("state after Recover = %v, want a=1", got)
	}
	offs, _ := s.Offsets("q")
	if offs[TopicPartition{"t", 0}] != 50 {
		t.Errorf("offsets after Recover = %v", offs)
	}
	left := 0
	_ = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pendingPrefix("q")})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			left++
		}
		_, err := txn.Get(applyingKey("q"))
		if err == nil {
			t.Error("the applying marker is left behind")
		}
		return nil
	})
	if left != 0 {
		t.Errorf("%d pending entries left after Recover", left)
	}
}
