package scalar

import "sync/atomic"

// memo remembers the last text an Impl compiled (a regular expression, a
// date format, a unit name) and what it compiled to. A pattern is nearly
// always a constant, so one entry means compiling once per query instead of
// once per row; a pattern that changes from row to row still works,
// compiled per change. The executor may call one Impl from several
// goroutines, so the entry is swapped atomically and never mutated.
type memo[T any] struct {
	last atomic.Pointer[memoEntry[T]]
}

type memoEntry[T any] struct {
	key string
	val T
	err error
}

func (m *memo[T]) get(key string, compile func(string) (T, error)) (T, error) {
	if e := m.last.Load(); e != nil && e.key == key {
		return e.val, e.err
	}
	v, err := compile(key)
	m.last.Store(&memoEntry[T]{key: key, val: v, err: err})
	return v, err
}
