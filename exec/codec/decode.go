package codec

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/streamsql/streamsql/sql/types"
	"github.com/valyala/fastjson"
)

// Field is one column to decode from a message: its name, its SQL type and,
// for a field nested in JSON objects, the keys that lead to it.
type Field struct {
	// Name is the column's name: the JSON key when Path is empty, and the
	// name DecodeError reports.
	Name string
	Type types.Type
	// Path is the keys from the top-level object down to the value, as for
	// a leaf of a ROW column: ["bid", "price"] reads {"bid": {"price": 7}}.
	// Empty means [Name]. A missing or JSON null object on the way makes
	// the field NULL; any other value there fails the message.
	Path []string
}

// keys returns the path of keys the field is read from.
func (f *Field) keys() []string {
	if len(f.Path) == 0 {
		return []string{f.Name}
	}
	return f.Path
}

// Decoder decodes one message into one row of a batch: it appends exactly
// one row to b.Cols[0:len(fields)] or appends nothing and returns a
// *DecodeError. JSONDecoder and CSVDecoder implement it; a source task owns
// one and is its only user.
type Decoder interface {
	Decode(msg []byte, b *types.Batch) error
}

var (
	_ Decoder = (*JSONDecoder)(nil)
	_ Decoder = (*CSVDecoder)(nil)
)

// DecodeError says why a message could not be decoded into the declared
// columns. Field is the key whose value did not convert, or "" when the
// message as a whole is at fault (not JSON, not an object). The text is meant
// for users and dead-letter headers.
type DecodeError struct {
	Field  string
	Reason string
}

func (e *DecodeError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return "field " + strconv.Quote(e.Field) + ": " + e.Reason
}

// JSONDecoder decodes JSON objects into rows of a Batch. It is not safe for
// concurrent use: each source task owns one, because it reuses a parser and
// scratch buffers across messages.
type JSONDecoder struct {
	fields []Field

	// steps are the distinct key lookups the fields need, parents before
	// children: a flat field is one step from the message's object, a
	// nested one a chain of steps through the objects on its path. slot[i]
	// is the step whose value is fields[i], so two columns may read the
	// same key and fields under one parent share its lookup.
	steps []lookup
	slot  []int

	p fastjson.Parser

	// vals[s] is the value steps[s] found in the current message, nil if
	// absent. It points into p's memory and is meaningful only during Decode.
	vals []*fastjson.Value

	// intern[i] is the intern table of fields[i] (nil unless VARCHAR).
	intern []*interner

	// raw and unescaped are scratch buffers reused across messages: the JSON
	// text of the value being converted, and its decoded string form;
	// compact holds nested JSON read as VARCHAR, without its whitespace.
	raw, unescaped, compact []byte

	// sc is the one-pass scanner; rowSteps the steps that other steps look
	// into (the objects of ROW columns).
	sc       *scanner
	rowSteps []int
}

// lookup is one key looked up in the object that step parent found (-1:
// the message's top-level object).
type lookup struct {
	parent int
	key    string
	// path is the dotted path down to and including key, which errors
	// about a value on the way that is not an object name.
	path string
}

// NewJSONDecoder returns a decoder for objects carrying fields. It panics on
// a field of type Unknown, which the planner never declares.
func NewJSONDecoder(fields []Field) *JSONDecoder {
	d := &JSONDecoder{
		fields: append([]Field(nil), fields...),
		slot:   make([]int, len(fields)),
		intern: make([]*interner, len(fields)),
	}
	for i := range d.fields {
		f := &d.fields[i]
		if f.Type == types.Unknown {
			panic(fmt.Sprintf("codec: field %q has no type", f.Name))
		}
		f.Path = append([]string(nil), f.Path...)
		parent := -1
		for depth, key := range f.keys() {
			parent = d.step(parent, key, strings.Join(f.keys()[:depth+1], "."))
		}
		d.slot[i] = parent
		if f.Type == types.Varchar {
			d.intern[i] = newInterner()
		}
	}
	d.vals = make([]*fastjson.Value, len(d.steps))
	d.sc = newScanner(d.steps)
	for s := range d.steps {
		if len(d.sc.nodes[s+1].children) > 0 {
			d.rowSteps = append(d.rowSteps, s)
		}
	}
	return d
}

// step returns the index of the lookup of key under parent, adding it if no
// field needed it before.
func (d *JSONDecoder) step(parent int, key, path string) int {
	for s, st := range d.steps {
		if st.parent == parent && st.key == key {
			return s
		}
	}
	d.steps = append(d.steps, lookup{parent: parent, key: key, path: path})
	return len(d.steps) - 1
}

// Decode parses one message and appends exactly one row to
// b.Cols[0:len(fields)] (column i has fields[i].Type), or appends nothing and
// returns a *DecodeError saying which field and why. Missing key or JSON null
// -> NULL. The batch must have at least len(fields) columns of those types.
// msg is not retained.
//
// The scanner (scan.go) reads well-formed messages in one pass; anything it
// does not take, and any message with a value that fails to convert, is
// decoded again by decodeTree, which decides what is accepted and words the
// errors.
func (d *JSONDecoder) Decode(msg []byte, b *types.Batch) error {
	if len(msg) <= maxScanLen && d.sc.scan(msg) && d.appendSpans(msg, b) {
		return nil
	}
	return d.decodeTree(msg, b)
}

// maxScanLen keeps spans within int32; longer messages take the tree path.
const maxScanLen = 1<<31 - 1

// appendSpans appends the row from the spans the scanner found, and reports
// false, leaving b as it was, when a field needs decodeTree: a value that
// does not convert, a ROW path through a value that is not an object, or
// nested JSON read as VARCHAR that is not a plain compaction away from what
// the tree decoder writes.
func (d *JSONDecoder) appendSpans(msg []byte, b *types.Batch) bool {
	spans := d.sc.spans
	for _, s := range d.rowSteps {
		if sp := spans[s]; sp.start >= 0 && msg[sp.start] != '{' && msg[sp.start] != 'n' {
			return false // not an object, not null: an error, worded by decodeTree
		}
	}
	for i := range d.fields {
		sp := spans[d.slot[i]]
		if sp.start < 0 { // a missing key, or a leaf of a null or missing ROW
			b.Cols[i].AppendNull()
			continue
		}
		raw := msg[sp.start:sp.end]
		{
			if raw[0] == '{' || raw[0] == '[' {
				if bytes.IndexByte(raw, '\\') >= 0 {
					truncateRow(b, i)
					return false
				}
				d.compact = compactJSON(d.compact[:0], raw)
				raw = d.compact
			}
		}
		if d.convert(i, raw, sp.plain, b.Cols[i]) != nil {
			truncateRow(b, i)
			return false
		}
	}
	return true
}

// truncateRow takes back the values a failed Decode appended to the first
// cols columns: each is one longer than the last column, which it did not
// reach.
func truncateRow(b *types.Batch, cols int) {
	for _, c := range b.Cols[:cols] {
		c.Truncate(c.Len() - 1)
	}
}

// compactJSON appends raw, a strict JSON value without backslashes, with the
// whitespace outside strings removed: the text fastjson marshals it to.
func compactJSON(dst, raw []byte) []byte {
	inStr := false
	for _, c := range raw {
		switch {
		case c == '"':
			inStr = !inStr
		case !inStr && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// decodeTree decodes msg through fastjson's document tree: the reference
// path, which decides every message the scanner passes on.
func (d *JSONDecoder) decodeTree(msg []byte, b *types.Batch) error {
	v, err := d.p.ParseBytes(msg)
	if err != nil {
		return &DecodeError{Reason: "message is not a JSON object: " + err.Error()}
	}
	if t := v.Type(); t != fastjson.TypeObject {
		return &DecodeError{Reason: "message is not a JSON object: it is " + jsonKind(t)}
	}
	obj, _ := v.Object()
	// One Object.Get per distinct key: for 3-12 selected keys this measured
	// 5-50% faster than one Object.Visit matching every key of the message
	// against the selected ones. Get returns the first occurrence of a key.
	for s := range d.steps {
		st := &d.steps[s]
		in := obj
		if st.parent >= 0 {
			pv := d.vals[st.parent]
			if pv == nil {
				d.vals[s] = nil // a missing parent: every field under it is NULL
				continue
			}
			// Value.Type unescapes a string in place, which convert must
			// not see; but a string here fails the message anyway.
			switch pv.Type() {
			case fastjson.TypeObject:
				in, _ = pv.Object()
			case fastjson.TypeNull:
				d.vals[s] = nil
				continue
			default:
				raw := pv.MarshalTo(d.raw[:0])
				d.raw = raw[:0]
				return &DecodeError{Field: d.steps[st.parent].path,
					Reason: "cannot parse " + displayJSON(raw) + " as ROW: expected a JSON object"}
			}
		}
		d.vals[s] = in.Get(st.key)
	}

	for i := range d.fields {
		var raw []byte
		if v := d.vals[d.slot[i]]; v != nil {
			// For the scalars and strings the decoder reads, the marshaled
			// text is the text of the message (string escapes intact).
			// Value.Type is deliberately not called on v: for a string it
			// would unescape in place with fastjson's best-effort rules.
			raw = v.MarshalTo(d.raw[:0])
			d.raw = raw[:0]
		}
		if err := d.convert(i, raw, false, b.Cols[i]); err != nil {
			truncateRow(b, i)
			return err
		}
	}
	return nil
}

func jsonKind(t fastjson.Type) string {
	switch t {
	case fastjson.TypeArray:
		return "an array"
	case fastjson.TypeString:
		return "a string"
	case fastjson.TypeNumber:
		return "a number"
	case fastjson.TypeNull:
		return "null"
	default:
		return "a boolean"
	}
}

// convert appends fields[i]'s value to c, from raw, the value's JSON text
// (nil when the key is missing), or appends nothing and returns the error.
// plain says raw is a string of ASCII text without escapes (the scanner
// saw it), so its body needs no decoding.
// Working from the text lets the number grammar and the string escapes be
// checked strictly here rather than trusting a lenient parse.
func (d *JSONDecoder) convert(i int, raw []byte, plain bool, c *types.Column) error {
	t := d.fields[i].Type
	if raw == nil {
		c.AppendNull()
		return nil
	}
	if len(raw) == 0 { // cannot happen for a parsed value; be defensive
		return d.fail(i, raw, reasonInvalidNumber)
	}

	// Decode a string's body once; every type below may need it.
	var str []byte
	isStr := raw[0] == '"'
	switch {
	case isStr && plain:
		str = raw[1 : len(raw)-1]
	case isStr:
		var ok bool
		str, d.unescaped, ok = unescapeJSON(raw[1:len(raw)-1], d.unescaped)
		if !ok {
			return d.fail(i, raw, "invalid JSON string")
		}
	}

	switch raw[0] {
	case 'n':
		if string(raw) == "null" {
			c.AppendNull()
			return nil
		}
	case '{', '[':
		if t == types.Varchar {
			// fastjson checked the structure but not the scalars inside.
			if err := fastjson.ValidateBytes(raw); err != nil {
				return d.fail(i, raw, "invalid JSON")
			}
			c.AppendString(d.intern[i].str(raw))
			return nil
		}
		return d.fail(i, raw, "")
	}

	switch t {
	case types.Bigint, types.Interval:
		num := raw
		if isStr {
			num = str
		} else if raw[0] == 't' || raw[0] == 'f' {
			return d.fail(i, raw, "")
		}
		n, why := parseJSONInt(num)
		if why != "" {
			return d.fail(i, raw, why)
		}
		c.AppendInt(n)

	case types.Double:
		num := raw
		if isStr {
			num = str
		} else if raw[0] == 't' || raw[0] == 'f' {
			return d.fail(i, raw, "")
		}
		x, why := parseJSONFloat(num)
		if why != "" {
			return d.fail(i, raw, why)
		}
		c.AppendFloat(x)

	case types.Varchar:
		switch {
		case isStr:
			c.AppendString(d.intern[i].str(str))
		case string(raw) == "true":
			c.AppendString("true")
		case string(raw) == "false":
			c.AppendString("false")
		default:
			if _, ok := splitNumber(raw); !ok {
				return d.fail(i, raw, reasonInvalidNumber)
			}
			c.AppendString(d.intern[i].str(raw))
		}

	case types.Boolean:
		switch {
		case string(raw) == "true":
			c.AppendBool(true)
		case string(raw) == "false":
			c.AppendBool(false)
		case isStr:
			switch {
			case asciiEqualFold(str, "true"), asciiEqualFold(str, "t"):
				c.AppendBool(true)
			case asciiEqualFold(str, "false"), asciiEqualFold(str, "f"):
				c.AppendBool(false)
			default:
				return d.fail(i, raw, "")
			}
		default:
			n, why := parseJSONInt(raw)
			if why != "" || (n != 0 && n != 1) {
				return d.fail(i, raw, "")
			}
			c.AppendBool(n == 1)
		}

	case types.Timestamp:
		switch {
		case isStr:
			ms, ok := ParseTimestamp(str)
			if !ok {
				return d.fail(i, raw, "")
			}
			c.AppendInt(ms)
		case raw[0] == 't' || raw[0] == 'f':
			return d.fail(i, raw, "")
		default:
			ms, why := parseJSONInt(raw)
			if why == "" && (ms < minTimestampMs || ms > maxTimestampMs) {
				why = reasonOutOfRange
			}
			if why != "" {
				return d.fail(i, raw, why)
			}
			c.AppendInt(ms)
		}

	default:
		return d.fail(i, raw, "")
	}
	return nil
}

// fail builds the DecodeError for fields[i] whose JSON text is raw. why, if
// not empty, is appended as the detail.
func (d *JSONDecoder) fail(i int, raw []byte, why string) error {
	f := d.fields[i]
	reason := "cannot parse " + displayJSON(raw) + " as " + typeName(f.Type)
	if why != "" {
		reason += ": " + why
	}
	return &DecodeError{Field: f.Name, Reason: reason}
}

// typeName is the SQL name used in error messages (DOUBLE PRECISION is
// shortened, as users write it).
func typeName(t types.Type) string {
	if t == types.Double {
		return "DOUBLE"
	}
	return t.String()
}

// displayMaxLen caps how much of a bad value an error message quotes.
const displayMaxLen = 64

// displayJSON renders a value's JSON text for an error message: cut to
// displayMaxLen bytes on a rune boundary, with control characters escaped and
// invalid UTF-8 replaced so that the message is printable text.
func displayJSON(raw []byte) string {
	cut := false
	if len(raw) > displayMaxLen {
		n := displayMaxLen
		for n > 0 && !utf8.RuneStart(raw[n]) {
			n--
		}
		raw, cut = raw[:n], true
	}
	out := make([]byte, 0, len(raw)+8)
	for len(raw) > 0 {
		r, size := utf8.DecodeRune(raw)
		switch {
		case r < 0x20:
			out = append(out, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xF])
		default:
			out = utf8.AppendRune(out, r) // RuneError for invalid bytes
		}
		raw = raw[size:]
	}
	if cut {
		out = append(out, "..."...)
	}
	return string(out)
}

// asciiEqualFold reports whether b equals the lower-case ASCII word s, ignoring
// ASCII case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if b[i]|0x20 != s[i] {
			return false
		}
	}
	return true
}
