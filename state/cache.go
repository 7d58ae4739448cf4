package state

// Entry is one key of a Cache with its current value. Operators mutate Val in
// place and then call Cache.Touch so the change reaches the next checkpoint.
type Entry[V any] struct {
	Key   string
	Val   V
	dirty bool
	gone  bool
}

// Codec turns a cache value into bytes for a checkpoint and back.
type Codec[V any] interface {
	Encode(dst []byte, v V) []byte
	Decode(b []byte) (V, error)
}

// Cache is an operator's keyed state: an in-memory map that is the working
// copy, plus the list of keys changed since the last checkpoint. Flush writes
// exactly those keys into a Commit (deleted keys as deletions). A Cache
// belongs to one operator of one task and is never used concurrently.
type Cache[V any] struct {
	op    string
	codec Codec[V]
	m     map[string]*Entry[V]
	dirty []*Entry[V]
	buf   []byte
}

// NewCache returns an empty cache for operator op.
func NewCache[V any](op string, codec Codec[V]) *Cache[V] {
	return &Cache[V]{op: op, codec: codec, m: map[string]*Entry[V]{}}
}

// Len returns the number of live keys.
func (c *Cache[V]) Len() int { return len(c.m) }

// Get returns the entry for key, or nil. It does not allocate.
func (c *Cache[V]) Get(key []byte) *Entry[V] { return c.m[string(key)] }

// Insert adds a new entry for key (which must not be present) and marks it dirty.
func (c *Cache[V]) Insert(key []byte, v V) *Entry[V] {
	e := &Entry[V]{Key: string(key), Val: v}
	c.m[e.Key] = e
	c.Touch(e)
	return e
}

// Touch marks e changed since the last checkpoint.
func (c *Cache[V]) Touch(e *Entry[V]) {
	if !e.dirty {
		e.dirty = true
		c.dirty = append(c.dirty, e)
	}
}

// Delete removes e; the next Flush records the deletion.
func (c *Cache[V]) Delete(e *Entry[V]) {
	delete(c.m, e.Key)
	e.gone = true
	c.Touch(e)
}

// Range calls fn for every live entry, in no particular order.
func (c *Cache[V]) Range(fn func(e *Entry[V])) {
	for _, e := range c.m {
		fn(e)
	}
}

// Flush writes every entry changed since the last Flush into cm.
func (c *Cache[V]) Flush(cm *Commit) {
	for _, e := range c.dirty {
		e.dirty = false
		if e.gone {
			// A key inserted and deleted within one checkpoint may not exist
			// in Badger; deleting it anyway is harmless.
			cm.Delete(c.op, []byte(e.Key))
			continue
		}
		c.buf = c.codec.Encode(c.buf[:0], e.Val)
		cm.Put(c.op, []byte(e.Key), c.buf)
	}
	clear(c.dirty)
	c.dirty = c.dirty[:0]
}

// Restore loads the operator's entries of query from the store, keeping those
// for which keep returns true (a task keeps the keys that hash to it).
// Restored entries are clean.
func (c *Cache[V]) Restore(s *Store, query string, keep func(key []byte) bool) error {
	return s.Load(query, c.op, func(key, val []byte) error {
		if keep != nil && !keep(key) {
			return nil
		}
		v, err := c.codec.Decode(val)
		if err != nil {
			return err
		}
		c.m[string(key)] = &Entry[V]{Key: string(key), Val: v}
		return nil
	})
}
