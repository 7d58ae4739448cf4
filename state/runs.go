package state

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
)

// Sorted runs: how a spilling cache whose values can be merged (SetMerge)
// stays within its budget. This is the spill of a hybrid hash aggregation:
// when the entries outgrow the budget, all of them but the one in use are
// written to a run file in key order and dropped from memory, and a key seen
// again starts a fresh value. Sorted then merges the runs and what is still
// in memory in key order, combining the values of one key oldest first. Runs
// are written once and read once, sequentially; nothing is looked up by key,
// so there is no index, cache or memtable to hold in memory (a scratch
// Badger database read back by key took hundreds of MB of those, and three
// times as long, for 10M keys).

// runBuffer is the buffered I/O per run file, for writing and for merging.
const runBuffer = 64 << 10

// runSet is one cache's run files, in the order they were written.
type runSet struct {
	dir   string
	paths []string
	files int // files created, for unique names
}

// newPath names a new run file.
func (r *runSet) newPath() string {
	r.files++
	return filepath.Join(r.dir, fmt.Sprintf("run-%d", r.files))
}

func (a *SpillArea) newRunSet() (*runSet, error) {
	dir := filepath.Join(a.dir, fmt.Sprint(a.seq.Add(1)))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("state: spill directory: %w", err)
	}
	return &runSet{dir: dir}, nil
}

// write creates a run file and fills it through put, which appends one
// entry (fill puts them in key order); it returns the file's path.
func (r *runSet) write(fill func(put func(key, val []byte) error) error) (string, error) {
	path := r.newPath()
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	w := bufio.NewWriterSize(f, runBuffer)
	var hdr [2 * binary.MaxVarintLen64]byte
	err = fill(func(k, v []byte) error {
		h := binary.AppendUvarint(hdr[:0], uint64(len(k)))
		h = binary.AppendUvarint(h, uint64(len(v)))
		if _, err := w.Write(h); err != nil {
			return err
		}
		if _, err := w.Write(k); err != nil {
			return err
		}
		_, err := w.Write(v)
		return err
	})
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("state: writing spill run %s: %w", path, err)
	}
	return path, nil
}

// close deletes the run files.
func (r *runSet) close() error { return os.RemoveAll(r.dir) }

// runReader reads one run's entries in order.
type runReader struct {
	f        *os.File
	r        *bufio.Reader
	seq      int // the run's position: older runs merge first
	key, val []byte
}

func (rr *runReader) next() (bool, error) {
	kl, err := binary.ReadUvarint(rr.r)
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	vl, err := binary.ReadUvarint(rr.r)
	if err != nil {
		return false, err
	}
	rr.key = slices.Grow(rr.key[:0], int(kl))[:kl]
	rr.val = slices.Grow(rr.val[:0], int(vl))[:vl]
	if _, err := io.ReadFull(rr.r, rr.key); err != nil {
		return false, err
	}
	if _, err := io.ReadFull(rr.r, rr.val); err != nil {
		return false, err
	}
	return true, nil
}

// runHeap orders the readers by current key, then by run age.
type runHeap []*runReader

func (h runHeap) Len() int { return len(h) }
func (h runHeap) Less(i, j int) bool {
	if c := bytes.Compare(h[i].key, h[j].key); c != 0 {
		return c < 0
	}
	return h[i].seq < h[j].seq
}
func (h runHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)   { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// spillRun writes every entry but keep to a new run and drops them from
// memory.
func (c *Cache[V]) spillRun(keep *Entry[V]) error {
	if len(c.m) == 0 || len(c.m) == 1 && c.m[keep.Key] == keep {
		return nil // one entry over the budget by itself stays
	}
	if c.runs == nil {
		r, err := c.area.newRunSet()
		if err != nil {
			return err
		}
		c.runs = r
	}
	if len(c.runs.paths) >= maxRuns {
		if err := c.compactRuns(); err != nil {
			return err
		}
	}
	keys := make([]string, 0, len(c.m))
	for k, e := range c.m {
		if e != keep && !e.gone {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	path, err := c.runs.write(func(put func(key, val []byte) error) error {
		for _, k := range keys {
			c.buf = c.codec.Encode(c.buf[:0], c.m[k].Val)
			if err := put([]byte(k), c.buf); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.runs.paths = append(c.runs.paths, path)
	var zero V
	for _, k := range keys {
		e := c.m[k]
		if e.inLRU {
			c.lruRemove(e)
		}
		delete(c.m, k)
		c.used -= e.size
		e.Val = zero
	}
	c.count(len(keys), 0, len(keys))
	c.stats.Runs++
	return nil
}

// maxRuns bounds the run files of one cache (and so the files a merge
// opens at once): when a spill would make more, the runs are first merged
// into one.
const maxRuns = 32

// sortedRuns is Sorted for a cache with runs: the runs and memory merged in
// key order, each key's values combined oldest first (memory last).
func (c *Cache[V]) sortedRuns(fn func(key string, v V) error) error {
	mem := make([]string, 0, len(c.m))
	for k, e := range c.m {
		if !e.gone {
			mem = append(mem, k)
		}
	}
	sort.Strings(mem)
	return c.mergeRuns(c.runs.paths, mem, fn)
}

// compactRuns merges every run into one.
func (c *Cache[V]) compactRuns() error {
	old := c.runs.paths
	path, err := c.runs.write(func(put func(key, val []byte) error) error {
		return c.mergeRuns(old, nil, func(key string, v V) error {
			c.buf = c.codec.Encode(c.buf[:0], v)
			return put([]byte(key), c.buf)
		})
	})
	if err != nil {
		return err
	}
	for _, p := range old {
		os.Remove(p)
	}
	c.runs.paths = []string{path}
	return nil
}

// mergeRuns calls fn for every key of the runs at paths and of mem (sorted
// keys of c.m), in key order, with the key's values combined oldest first.
func (c *Cache[V]) mergeRuns(paths, mem []string, fn func(key string, v V) error) error {
	h := make(runHeap, 0, len(paths))
	defer func() {
		for _, rr := range h {
			rr.f.Close()
		}
	}()
	for i, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		rr := &runReader{f: f, r: bufio.NewReaderSize(f, runBuffer), seq: i}
		ok, err := rr.next()
		if err != nil || !ok {
			f.Close()
			if err != nil {
				return fmt.Errorf("state: reading spill run %s: %w", p, err)
			}
			continue
		}
		h = append(h, rr)
	}
	heap.Init(&h)
	mi := 0
	for len(h) > 0 || mi < len(mem) {
		// The smallest key among the runs' heads and memory's next.
		var key []byte
		if len(h) > 0 {
			key = h[0].key
		}
		if mi < len(mem) && (key == nil || mem[mi] < string(key)) {
			if err := fn(mem[mi], c.m[mem[mi]].Val); err != nil {
				return err
			}
			mi++
			continue
		}
		k := string(key)
		var acc V
		have := false
		for len(h) > 0 && string(h[0].key) == k {
			rr := h[0]
			v, err := c.codec.Decode(rr.val)
			if err != nil {
				return err
			}
			if !have {
				acc, have = v, true
			} else if err := c.merge(acc, v); err != nil {
				return err
			}
			ok, err := rr.next()
			if err != nil {
				return fmt.Errorf("state: reading spill run: %w", err)
			}
			if ok {
				heap.Fix(&h, 0)
			} else {
				rr.f.Close()
				heap.Pop(&h)
			}
		}
		if mi < len(mem) && mem[mi] == k {
			if err := c.merge(acc, c.m[k].Val); err != nil {
				return err
			}
			mi++
		}
		if err := fn(k, acc); err != nil {
			return err
		}
	}
	return nil
}
