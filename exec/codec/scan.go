package codec

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strings"
)

// The schema-driven scanner: one pass over a message's bytes that finds the
// values of the keys the fields read and skips everything else, without
// building a tree of the document.
//
// It accepts strict JSON only (RFC 8259 numbers, strings with valid escapes
// and no raw control characters, at most scanMaxDepth levels of nesting).
// Whatever it does not accept, and every message whose fields fail to
// convert, goes to the tree decoder (decodeTree), which is lenient where
// fastjson is and writes the errors users see. So the scanner changes speed,
// not results: the two agree on every message whose keys carry no escapes
// (TestScannerMatchesTree and FuzzScannerMatchesTree hold them to that).
//
// With a key spelled twice the first spelling wins, escaped or not.

// scanMaxDepth bounds the nesting the scanner follows; deeper messages go to
// the tree decoder, whose own limit (fastjson's 300) then applies.
const scanMaxDepth = 64

// scanNode is a JSON object the scanner looks into: the top-level one
// (steps index -1) or a ROW column's object. children are the steps looked
// up in it.
type scanNode struct {
	children []int
	// hint is where in children the next key is looked for first: after
	// the one the previous key matched.
	hint int
	// unknown holds keys seen in this object that no child reads (plain
	// ASCII, up to 15 bytes, at most maxUnknownKeys): a key that misses
	// the hint is looked for here before the other children, so the
	// members a query skips cost one or two compares, not one per child.
	unknown []keyWords
}

const maxUnknownKeys = 8

// span is where a step's value lies in the message: msg[start:end], or
// start < 0 when the key is absent. plain marks a string of ASCII text
// without escapes, whose body is its value as it stands.
type span struct {
	start, end int32
	plain      bool
}

// scanner holds the per-decoder tables and the per-message spans.
type scanner struct {
	steps []lookup
	// nodes[s+1] is the object node of step s (nodes[0] the top level);
	// only steps with children are ever scanned into.
	nodes []scanNode
	spans []span
	// plain[s]: steps[s].key has no quote, backslash or control character,
	// so a key in a message equals it exactly when their bytes are equal.
	plain []bool
	// words[s] is steps[s].key followed by its closing quote as up to two
	// little-endian words, for plain keys of at most 15 bytes: comparing
	// the message's next 16 bytes against them takes two loads instead of
	// a call to compare strings.
	words []keyWords
	// unescaped is scratch for keys with escapes.
	unescaped []byte
}

// keyWords is a key followed by its closing quote as two little-endian
// words, zero-padded, with the masks of the bytes in use; n is the quoted
// key's length, 0 for keys longer than 15 bytes.
type keyWords struct {
	w0, w1, m0, m1 uint64
	n              int
}

func newKeyWords(key string) keyWords {
	q := key + `"`
	if len(q) > 16 {
		return keyWords{}
	}
	var b, m [16]byte
	copy(b[:], q)
	for i := range len(q) {
		m[i] = 0xFF
	}
	le := binary.LittleEndian
	return keyWords{w0: le.Uint64(b[:8]), w1: le.Uint64(b[8:]), m0: le.Uint64(m[:8]), m1: le.Uint64(m[8:]), n: len(q)}
}

// match reports whether msg[i:] starts with the key and its closing quote;
// decided is false when it cannot tell (a long key, or fewer than 16 bytes
// left), and the caller compares the slow way.
func (kw *keyWords) match(msg []byte, i int) (matched, decided bool) {
	if kw.n == 0 || i+16 > len(msg) {
		return false, false
	}
	le := binary.LittleEndian
	return le.Uint64(msg[i:])&kw.m0 == kw.w0 && le.Uint64(msg[i+8:])&kw.m1 == kw.w1, true
}

func newScanner(steps []lookup) *scanner {
	sc := &scanner{steps: steps, nodes: make([]scanNode, len(steps)+1), spans: make([]span, len(steps)),
		plain: make([]bool, len(steps)), words: make([]keyWords, len(steps))}
	for s, st := range steps {
		sc.nodes[st.parent+1].children = append(sc.nodes[st.parent+1].children, s)
		sc.plain[s] = !hasSpecialASCII([]byte(st.key)) && !strings.Contains(st.key, `"`)
		if sc.plain[s] {
			sc.words[s] = newKeyWords(st.key)
		}
	}
	return sc
}

// scan fills sc.spans for msg and reports whether msg is a strict JSON
// object the scanner handled.
func (sc *scanner) scan(msg []byte) bool {
	for i := range sc.spans {
		sc.spans[i] = span{start: -1, end: -1}
	}
	i := skipWS(msg, 0)
	if i >= len(msg) || msg[i] != '{' {
		return false
	}
	i, ok := sc.object(msg, i, -1, 0)
	if !ok {
		return false
	}
	return skipWS(msg, i) == len(msg)
}

// object scans the object at msg[i] (a '{') for the children of step node,
// and returns the index after its closing brace.
func (sc *scanner) object(msg []byte, i, node, depth int) (int, bool) {
	if depth >= scanMaxDepth {
		return 0, false
	}
	children := sc.nodes[node+1].children
	i = skipWS(msg, i+1)
	if i < len(msg) && msg[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(msg) || msg[i] != '"' {
			return 0, false
		}
		kStart := i + 1
		step, kEnd := -1, -1
		// Most keys are spelled exactly as a field declares them: compare
		// in place, before scanning the key as a string.
		// Producers write keys in a steady order: start where the last
		// match left off.
		nd := &sc.nodes[node+1]
		for j, c := nd.hint, 0; c < len(children); j, c = j+1, c+1 {
			if j == len(children) {
				j = 0
			}
			if c == 1 && len(nd.unknown) > 0 {
				for u := range nd.unknown {
					if m, _ := nd.unknown[u].match(msg, kStart); m {
						kEnd = kStart + nd.unknown[u].n - 1
						break
					}
				}
				if kEnd >= 0 {
					break // a key no child reads
				}
			}
			s := children[j]
			kw := &sc.words[s]
			matched, decided := kw.match(msg, kStart)
			if !decided {
				k := sc.steps[s].key
				e := kStart + len(k)
				matched = sc.plain[s] && e < len(msg) && msg[e] == '"' && string(msg[kStart:e]) == k
			}
			if matched {
				kEnd, nd.hint = kStart+len(sc.steps[s].key), j+1
				if sc.spans[s].start < 0 {
					step = s
				}
				break
			}
		}
		if kEnd < 0 {
			var escaped, ascii, ok bool
			if kEnd, escaped, ascii, ok = stringEnd(msg, kStart); !ok {
				return 0, false
			}
			if !escaped && ascii && kEnd-kStart < 16 && len(nd.unknown) < maxUnknownKeys && len(children) > 1 {
				if kw := newKeyWords(string(msg[kStart:kEnd])); !slices.Contains(nd.unknown, kw) {
					nd.unknown = append(nd.unknown, kw)
				}
			}
			if escaped && len(children) > 0 {
				key, unescaped, valid := unescapeJSON(msg[kStart:kEnd], sc.unescaped)
				sc.unescaped = unescaped
				if !valid {
					return 0, false
				}
				for _, s := range children {
					if sc.spans[s].start < 0 && string(key) == sc.steps[s].key {
						step = s
						break
					}
				}
			}
		}
		var ok bool
		if i, ok = valueAfterKey(msg, kEnd+1); !ok {
			return 0, false
		}
		start, plain := i, false
		switch {
		case step >= 0 && msg[i] == '{' && len(sc.nodes[step+1].children) > 0:
			i, ok = sc.object(msg, i, step, depth+1)
		case step >= 0 && msg[i] == '"':
			var end int
			var escaped, ascii bool
			end, escaped, ascii, ok = stringEnd(msg, i+1)
			i, plain = end+1, !escaped && ascii
		default:
			i, ok = skipValue(msg, i, depth+1)
		}
		if !ok {
			return 0, false
		}
		if step >= 0 {
			sc.spans[step] = span{start: int32(start), end: int32(i), plain: plain}
		}
		var more bool
		if i, more, ok = nextMember(msg, i, '}'); !ok || !more {
			return i, ok
		}
	}
}

// skipValue returns the index just after the strict JSON value at msg[i].
func skipValue(msg []byte, i, depth int) (int, bool) {
	switch c := msg[i]; {
	case c == '"':
		end, _, _, ok := stringEnd(msg, i+1)
		return end + 1, ok
	case c == '-' || ('0' <= c && c <= '9'):
		return numberEnd(msg, i)
	case c == '{' || c == '[':
		return skipNested(msg, i, depth)
	case c == 't':
		return literalEnd(msg, i, "true")
	case c == 'f':
		return literalEnd(msg, i, "false")
	case c == 'n':
		return literalEnd(msg, i, "null")
	}
	return 0, false
}

// skipNested skips the object or array at msg[i].
func skipNested(msg []byte, i, depth int) (int, bool) {
	if depth >= scanMaxDepth {
		return 0, false
	}
	obj := msg[i] == '{'
	close := byte(']')
	if obj {
		close = '}'
	}
	i = skipWS(msg, i+1)
	if i < len(msg) && msg[i] == close {
		return i + 1, true
	}
	for {
		if i >= len(msg) {
			return 0, false
		}
		var ok bool
		if obj {
			if msg[i] != '"' {
				return 0, false
			}
			var end int
			if end, _, _, ok = stringEnd(msg, i+1); !ok {
				return 0, false
			}
			if i, ok = valueAfterKey(msg, end+1); !ok {
				return 0, false
			}
		}
		if i, ok = skipValue(msg, i, depth+1); !ok {
			return 0, false
		}
		var more bool
		if i, more, ok = nextMember(msg, i, close); !ok || !more {
			return i, ok
		}
	}
}

// valueAfterKey skips the colon after a key whose closing quote is at
// msg[i-1] and returns where the value starts.
func valueAfterKey(msg []byte, i int) (int, bool) {
	i = skipWS(msg, i)
	if i >= len(msg) || msg[i] != ':' {
		return 0, false
	}
	i = skipWS(msg, i+1)
	return i, i < len(msg)
}

// nextMember reads what follows a member of an object or array (close is
// '}' or ']'): a comma, and then more reports true and next is where the
// next member starts; or the closing bracket, and next is just past it.
func nextMember(msg []byte, i int, close byte) (next int, more, ok bool) {
	i = skipWS(msg, i)
	if i >= len(msg) {
		return 0, false, false
	}
	switch msg[i] {
	case ',':
		return skipWS(msg, i+1), true, true
	case close:
		return i + 1, false, true
	}
	return 0, false, false
}

// stringEnd returns the index of the quote that closes the string whose body
// starts at msg[i], whether the body has escapes and whether it is ASCII
// (false may also mean that bytes just after the quote are not). The
// escapes must be valid and the body free of raw control characters; UTF-8
// is not checked here (unescapeJSON replaces invalid bytes of the strings
// that are read).
func stringEnd(msg []byte, i int) (end int, escaped, ascii, ok bool) {
	j := i
	var high uint64
	for {
		var h uint64
		j, h = nextSpecial(msg, j)
		high |= h
		if j >= len(msg) {
			return 0, false, false, false
		}
		switch c := msg[j]; {
		case c == '"':
			return j, escaped, high == 0, true
		case c < 0x20:
			return 0, false, false, false
		default: // a backslash
			escaped = true
			if j+1 >= len(msg) {
				return 0, false, false, false
			}
			switch msg[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if _, ok := hex4(msg[j+2:]); !ok {
					return 0, false, false, false
				}
				j += 6
			default:
				return 0, false, false, false
			}
		}
	}
}

// nextSpecial returns the index of the first quote, backslash or control
// character in msg[j:], or len(msg), and the high bits of the bytes it
// looked at (zero if they were all ASCII). It looks at eight bytes at a
// time, so those may include a few past the index.
func nextSpecial(msg []byte, j int) (int, uint64) {
	var high uint64
	for ; j+8 <= len(msg); j += 8 {
		x := binary.LittleEndian.Uint64(msg[j:])
		high |= x & msb
		// Bytes equal to '"' or '\\' become zero after the XORs; the
		// classic zero-byte and less-than tests then set the byte's high
		// bit. The lowest set bit is exact (a borrow only disturbs the
		// bytes above it); bytes >= 0x80 never match.
		q, bs := x^(lsb*'"'), x^(lsb*'\\')
		m := ((q - lsb) &^ q) | ((bs - lsb) &^ bs) | ((x - lsb*0x20) &^ x)
		if m &= msb; m != 0 {
			return j + bits.TrailingZeros64(m)>>3, high
		}
	}
	for ; j < len(msg); j++ {
		c := msg[j]
		high |= uint64(c & 0x80)
		if c == '"' || c == '\\' || c < 0x20 {
			return j, high
		}
	}
	return j, high
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// numberEnd returns the index after the strict JSON number at msg[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func numberEnd(msg []byte, i int) (int, bool) {
	if msg[i] == '-' {
		i++
	}
	switch {
	case i < len(msg) && msg[i] == '0':
		i++
	case i < len(msg) && '1' <= msg[i] && msg[i] <= '9':
		i = digitsEnd(msg, i+1)
	default:
		return 0, false
	}
	if i < len(msg) && msg[i] == '.' {
		j := digitsEnd(msg, i+1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(msg) && (msg[i] == 'e' || msg[i] == 'E') {
		i++
		if i < len(msg) && (msg[i] == '+' || msg[i] == '-') {
			i++
		}
		j := digitsEnd(msg, i)
		if j == i {
			return 0, false
		}
		i = j
	}
	// A number runs into the next token only through a delimiter.
	if i < len(msg) && !isDelimiter(msg[i]) {
		return 0, false
	}
	return i, true
}

func digitsEnd(msg []byte, i int) int {
	for i < len(msg) && '0' <= msg[i] && msg[i] <= '9' {
		i++
	}
	return i
}

func literalEnd(msg []byte, i int, lit string) (int, bool) {
	end := i + len(lit)
	if end > len(msg) || string(msg[i:end]) != lit {
		return 0, false
	}
	if end < len(msg) && !isDelimiter(msg[end]) {
		return 0, false
	}
	return end, true
}

func isDelimiter(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

func skipWS(msg []byte, i int) int {
	for i < len(msg) {
		if msg[i] > ' ' { // the common case: no whitespace at all
			return i
		}
		switch msg[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}
