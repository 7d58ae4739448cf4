package codec

// internMaxEntries and internMaxLen bound each VARCHAR field's intern table:
// at most 4096 strings of at most 256 bytes, about 1 MiB per field in the
// worst case. Low-cardinality values (page paths, country codes, event types)
// then cost no allocation per message.
const (
	internMaxEntries = 4096
	internMaxLen     = 256
)

// internWindow is how many lookups a full table is judged over: if fewer
// than half of them hit, the field is high-cardinality (ids, URLs, free
// text) and its lookups stop, since they would only add a hash and a miss
// to the allocation every value needs anyway.
const internWindow = 4096

// interner is one VARCHAR field's intern table.
type interner struct {
	m map[string]string
	// lookups and hits count the current window once the table is full.
	lookups, hits int
	// off: the table proved useless; every value is allocated.
	off bool
}

func newInterner() *interner { return &interner{m: make(map[string]string)} }

// str returns b as a string, from the table when it is there, adding it
// while the table has room. b is only read: it may alias a buffer the next
// message overwrites, so whatever is stored is a copy.
func (t *interner) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if t.off {
		return string(b)
	}
	full := len(t.m) >= internMaxEntries
	if full {
		t.lookups++
		if t.lookups == internWindow {
			t.off = t.hits < internWindow/2
			t.lookups, t.hits = 0, 0
		}
	}
	if s, ok := t.m[string(b)]; ok { // the compiler does not allocate for this lookup
		if full {
			t.hits++
		}
		return s
	}
	s := string(b)
	if !full && len(b) <= internMaxLen {
		t.m[s] = s
	}
	return s
}
