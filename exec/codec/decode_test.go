package codec

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"

	"github.com/streamsql/streamsql/sql/types"
)

// decodeOne decodes msg with a fresh decoder and returns the row it appended,
// checking that Decode appended exactly one row or nothing.
func decodeOne(t testing.TB, fields []Field, msg string) ([]types.Value, error) {
	t.Helper()
	return decodeWith(t, NewJSONDecoder(fields), fields, msg)
}

func decodeWith(t testing.TB, d *JSONDecoder, fields []Field, msg string) ([]types.Value, error) {
	t.Helper()
	b := types.NewBatch(fieldTypes(fields), 4)
	err := d.Decode([]byte(msg), b)
	for i, c := range b.Cols {
		want := 1
		if err != nil {
			want = 0
		}
		if c.Len() != want || len(c.Ints)+len(c.Floats)+len(c.Strs)+len(c.Bools) != want {
			t.Fatalf("Decode(%s) (err %v): column %d has %d rows, want %d", msg, err, i, c.Len(), want)
		}
	}
	if err != nil {
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("Decode(%s) returned %T, want *DecodeError", msg, err)
		}
		return nil, err
	}
	return b.Row(0), nil
}

func fieldTypes(fields []Field) []types.Type {
	ts := make([]types.Type, len(fields))
	for i, f := range fields {
		ts[i] = f.Type
	}
	return ts
}

// sameValue compares values exactly: floats by bits, so -0 and 0 differ.
func sameValue(a, b types.Value) bool {
	if a.Type != b.Type || a.Null != b.Null {
		return false
	}
	if a.Null {
		return true
	}
	return a.I == b.I && a.S == b.S && math.Float64bits(a.F) == math.Float64bits(b.F)
}

func fmtValue(v types.Value) string {
	if v.Null {
		return "NULL(" + v.Type.String() + ")"
	}
	switch v.Type {
	case types.Double:
		return fmt.Sprintf("%v(%b)", v.F, math.Float64bits(v.F))
	case types.Varchar:
		return fmt.Sprintf("%q", v.S)
	}
	return fmt.Sprintf("%s %d", v.Type, v.I)
}

// TestDecodeConversions covers every conversion of SEMANTICS.md for every
// column type: each case decodes {"x": <json>} into one column.
func TestDecodeConversions(t *testing.T) {
	const (
		I = types.Bigint
		D = types.Double
		S = types.Varchar
		B = types.Boolean
		T = types.Timestamp
		N = types.Interval
	)
	base := utcMs(2026, 11, 23, 10, 1, 0, 0)
	ok := func(v types.Value) types.Value { return v }
	str := types.StringValue
	tests := []struct {
		typ  types.Type
		json string
		want types.Value
		err  string // the whole DecodeError text when not empty
	}{
		// BIGINT: integers, integral numbers in any notation, numeric strings.
		{I, `42`, types.IntValue(42), ""},
		{I, `-7`, types.IntValue(-7), ""},
		{I, `0`, types.IntValue(0), ""},
		{I, `-0`, types.IntValue(0), ""},
		{I, `42.0`, types.IntValue(42), ""},
		{I, `4.2e1`, types.IntValue(42), ""},
		{I, `4.20E+1`, types.IntValue(42), ""},
		{I, `420e-1`, types.IntValue(42), ""},
		{I, `1e3`, types.IntValue(1000), ""},
		{I, `0.0e999999999999999999`, types.IntValue(0), ""},
		{I, `"42"`, types.IntValue(42), ""},
		{I, `"-42"`, types.IntValue(-42), ""},
		{I, `"4.2e1"`, types.IntValue(42), ""},
		{I, `"\u0034\u0032"`, types.IntValue(42), ""},
		{I, `123456789012345678`, types.IntValue(123456789012345678), ""},
		{I, `9223372036854775807`, types.IntValue(math.MaxInt64), ""},
		{I, `-9223372036854775808`, types.IntValue(math.MinInt64), ""},
		{I, `9.223372036854775807e18`, types.IntValue(math.MaxInt64), ""},
		{I, `9007199254740993.0`, types.IntValue(9007199254740993), ""},
		{I, `00`, types.Value{}, `field "x": cannot parse 00 as BIGINT: invalid JSON number`},
		{I, `9223372036854775808`, types.Value{}, `field "x": cannot parse 9223372036854775808 as BIGINT: out of range`},
		{I, `-9223372036854775809`, types.Value{}, `field "x": cannot parse -9223372036854775809 as BIGINT: out of range`},
		{I, `1e19`, types.Value{}, `field "x": cannot parse 1e19 as BIGINT: out of range`},
		{I, `1e400`, types.Value{}, `field "x": cannot parse 1e400 as BIGINT: out of range`},
		{I, `4.5`, types.Value{}, `field "x": cannot parse 4.5 as BIGINT: not an integer`},
		{I, `1e-1`, types.Value{}, `field "x": cannot parse 1e-1 as BIGINT: not an integer`},
		{I, `"1.5"`, types.Value{}, `field "x": cannot parse "1.5" as BIGINT: not an integer`},
		{I, `"abc"`, types.Value{}, `field "x": cannot parse "abc" as BIGINT: invalid JSON number`},
		{I, `" 42"`, types.Value{}, `field "x": cannot parse " 42" as BIGINT: invalid JSON number`},
		{I, `""`, types.Value{}, `field "x": cannot parse "" as BIGINT: invalid JSON number`},
		{I, `true`, types.Value{}, `field "x": cannot parse true as BIGINT`},
		{I, `[1]`, types.Value{}, `field "x": cannot parse [1] as BIGINT`},
		{I, `{"a": 1}`, types.Value{}, `field "x": cannot parse {"a":1} as BIGINT`},
		// fastjson's parser lets these through; the decoder does not.
		{I, `01`, types.Value{}, `field "x": cannot parse 01 as BIGINT: invalid JSON number`},
		{I, `1-2`, types.Value{}, `field "x": cannot parse 1-2 as BIGINT: invalid JSON number`},
		{I, `+5`, types.Value{}, `field "x": cannot parse +5 as BIGINT: invalid JSON number`},
		{I, `.5`, types.Value{}, `field "x": cannot parse .5 as BIGINT: invalid JSON number`},
		{I, `5.`, types.Value{}, `field "x": cannot parse 5. as BIGINT: invalid JSON number`},
		{I, `1e`, types.Value{}, `field "x": cannot parse 1e as BIGINT: invalid JSON number`},
		{I, `NaN`, types.Value{}, `field "x": cannot parse NaN as BIGINT: invalid JSON number`},
		{I, `-inf`, types.Value{}, `field "x": cannot parse -inf as BIGINT: invalid JSON number`},
		{N, `60000`, types.IntervalValue(60000), ""},
		{N, `"1.5"`, types.Value{}, `field "x": cannot parse "1.5" as INTERVAL: not an integer`},

		// DOUBLE: any JSON number, numeric strings.
		{D, `3.14`, types.FloatValue(3.14), ""},
		{D, `-0.5`, types.FloatValue(-0.5), ""},
		{D, `42`, types.FloatValue(42), ""},
		{D, `-0`, types.FloatValue(math.Copysign(0, -1)), ""},
		{D, `1e-400`, types.FloatValue(0), ""},
		{D, `5e-324`, types.FloatValue(5e-324), ""},
		{D, `1.7976931348623157e308`, types.FloatValue(math.MaxFloat64), ""},
		{D, `9223372036854775807`, types.FloatValue(9223372036854775807), ""},
		{D, `"2.5"`, types.FloatValue(2.5), ""},
		{D, `"-1E3"`, types.FloatValue(-1000), ""},
		{D, `1e400`, types.Value{}, `field "x": cannot parse 1e400 as DOUBLE: out of range`},
		{D, `"abc"`, types.Value{}, `field "x": cannot parse "abc" as DOUBLE: invalid JSON number`},
		{D, `"NaN"`, types.Value{}, `field "x": cannot parse "NaN" as DOUBLE: invalid JSON number`},
		{D, `NaN`, types.Value{}, `field "x": cannot parse NaN as DOUBLE: invalid JSON number`},
		{D, `"0x1p-2"`, types.Value{}, `field "x": cannot parse "0x1p-2" as DOUBLE: invalid JSON number`},
		{D, `false`, types.Value{}, `field "x": cannot parse false as DOUBLE`},
		{D, `[]`, types.Value{}, `field "x": cannot parse [] as DOUBLE`},

		// VARCHAR: strings unescaped; other values as their JSON text.
		{S, `"hello"`, str("hello"), ""},
		{S, `""`, str(""), ""},
		{S, `"/p/17"`, str("/p/17"), ""},
		{S, `"a\"b\\c\/d"`, str(`a"b\c/d`), ""},
		{S, `"\n\t\r\b\f"`, str("\n\t\r\b\f"), ""},
		{S, `"\u00e9\u00C9"`, str("éÉ"), ""},
		{S, `"é日本😀"`, str("é日本😀"), ""},
		{S, `"x\u0000y"`, str("x\x00y"), ""},
		{S, `"\ud83d\ude00"`, str("😀"), ""},
		{S, `"\ud800"`, str("\uFFFD"), ""},
		{S, `"\ud800x"`, str("\uFFFDx"), ""},
		{S, `"\udc00\ud800"`, str("\uFFFD\uFFFD"), ""},
		{S, `"\ud800\u0041"`, str("\uFFFDA"), ""},
		{S, `"\ud800\\"`, str("\uFFFD\\"), ""},
		{S, "\"a\xffb\"", str("a\uFFFDb"), ""},
		{S, "\"é\xe6\x97\"", str("é\uFFFD\uFFFD"), ""},
		{S, `42`, str("42"), ""},
		{S, `-1.5e3`, str("-1.5e3"), ""},
		{S, `true`, str("true"), ""},
		{S, `false`, str("false"), ""},
		{S, `{"a": [1, 2], "b": "\u00e9"}`, str(`{"a":[1,2],"b":"\u00e9"}`), ""},
		{S, `[]`, str(`[]`), ""},
		{S, `{}`, str(`{}`), ""},
		{S, `"\x"`, types.Value{}, `field "x": cannot parse "\x" as VARCHAR: invalid JSON string`},
		{S, `"\u12"`, types.Value{}, `field "x": cannot parse "\u12" as VARCHAR: invalid JSON string`},
		{S, `"\u12G4"`, types.Value{}, `field "x": cannot parse "\u12G4" as VARCHAR: invalid JSON string`},
		{S, "\"a\tb\"", types.Value{}, `field "x": cannot parse "a\u0009b" as VARCHAR: invalid JSON string`},
		{S, `01`, types.Value{}, `field "x": cannot parse 01 as VARCHAR: invalid JSON number`},
		{S, `{"a":01}`, types.Value{}, `field "x": cannot parse {"a":01} as VARCHAR: invalid JSON`},
		{S, `["\x"]`, types.Value{}, `field "x": cannot parse ["\x"] as VARCHAR: invalid JSON`},

		// BOOLEAN.
		{B, `true`, types.BoolValue(true), ""},
		{B, `false`, types.BoolValue(false), ""},
		{B, `"true"`, types.BoolValue(true), ""},
		{B, `"false"`, types.BoolValue(false), ""},
		{B, `"t"`, types.BoolValue(true), ""},
		{B, `"f"`, types.BoolValue(false), ""},
		{B, `"TRUE"`, types.BoolValue(true), ""},
		{B, `"F"`, types.BoolValue(false), ""},
		{B, `1`, types.BoolValue(true), ""},
		{B, `0`, types.BoolValue(false), ""},
		{B, `1.0`, types.BoolValue(true), ""},
		{B, `2`, types.Value{}, `field "x": cannot parse 2 as BOOLEAN`},
		{B, `-1`, types.Value{}, `field "x": cannot parse -1 as BOOLEAN`},
		{B, `0.5`, types.Value{}, `field "x": cannot parse 0.5 as BOOLEAN`},
		{B, `"yes"`, types.Value{}, `field "x": cannot parse "yes" as BOOLEAN`},
		{B, `"1"`, types.Value{}, `field "x": cannot parse "1" as BOOLEAN`},
		{B, `"tru"`, types.Value{}, `field "x": cannot parse "tru" as BOOLEAN`},
		{B, `{}`, types.Value{}, `field "x": cannot parse {} as BOOLEAN`},

		// TIMESTAMP: text forms (see TestParseTimestamp) and epoch milliseconds.
		{T, `"2026-11-23T10:01:00Z"`, types.TimestampValue(base), ""},
		{T, `"2026-11-23T10:01:00.123+08:00"`, types.TimestampValue(base - 8*3600_000 + 123), ""},
		{T, `"2026-11-23 10:01:00"`, types.TimestampValue(base), ""},
		{T, `"2026-11-23"`, types.TimestampValue(utcMs(2026, 11, 23, 0, 0, 0, 0)), ""},
		{T, `"2026-11-23T10:01:00\u005a"`, types.TimestampValue(base), ""},
		{T, fmt.Sprint(base), types.TimestampValue(base), ""},
		{T, `1.7954280600e12`, types.TimestampValue(1795428060000), ""},
		{T, `-1`, types.TimestampValue(-1), ""},
		{T, `0`, types.TimestampValue(0), ""},
		{T, `-62167219200000`, types.TimestampValue(minTimestampMs), ""},
		{T, `253402300799999`, types.TimestampValue(maxTimestampMs), ""},
		{T, `253402300800000`, types.Value{}, `field "x": cannot parse 253402300800000 as TIMESTAMP: out of range`},
		{T, `-62167219200001`, types.Value{}, `field "x": cannot parse -62167219200001 as TIMESTAMP: out of range`},
		{T, `1e20`, types.Value{}, `field "x": cannot parse 1e20 as TIMESTAMP: out of range`},
		{T, `1.5`, types.Value{}, `field "x": cannot parse 1.5 as TIMESTAMP: not an integer`},
		{T, `"abc"`, types.Value{}, `field "x": cannot parse "abc" as TIMESTAMP`},
		{T, `"2026-02-29T10:01:00Z"`, types.Value{}, `field "x": cannot parse "2026-02-29T10:01:00Z" as TIMESTAMP`},
		{T, `"1795428060000"`, types.Value{}, `field "x": cannot parse "1795428060000" as TIMESTAMP`},
		{T, `true`, types.Value{}, `field "x": cannot parse true as TIMESTAMP`},
		{T, `[1]`, types.Value{}, `field "x": cannot parse [1] as TIMESTAMP`},
	}
	for _, tt := range tests {
		fields := []Field{{Name: "x", Type: tt.typ}}
		msg := `{"x":` + tt.json + `}`
		row, err := decodeOne(t, fields, msg)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("Decode(%s) as %s: error %v; want %s", msg, tt.typ, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Decode(%s) as %s: %v", msg, tt.typ, err)
			continue
		}
		want := ok(tt.want)
		if tt.typ == types.Interval {
			want.Type = types.Interval
		}
		if !sameValue(row[0], want) {
			t.Errorf("Decode(%s) as %s = %s; want %s", msg, tt.typ, fmtValue(row[0]), fmtValue(want))
		}
	}
}

var allTypes = []types.Type{types.Bigint, types.Double, types.Varchar, types.Boolean, types.Timestamp, types.Interval}

func TestDecodeNullAndMissing(t *testing.T) {
	for _, typ := range allTypes {
		for _, msg := range []string{`{}`, `{"x":null}`, `{"y":1}`, `{"X":1}`, `{"x" : null , "y":"z"}`} {
			row, err := decodeOne(t, []Field{{Name: "x", Type: typ}}, msg)
			if err != nil {
				t.Errorf("Decode(%s) as %s: %v", msg, typ, err)
				continue
			}
			if !row[0].Null {
				t.Errorf("Decode(%s) as %s = %s; want NULL", msg, typ, fmtValue(row[0]))
			}
		}
	}
}

func TestDecodeMessageErrors(t *testing.T) {
	fields := []Field{{Name: "x", Type: types.Bigint}}
	tests := []struct {
		msg  string
		want string // exact, or a prefix when it ends in "..."
	}{
		{`[1,2]`, "message is not a JSON object: it is an array"},
		{`42`, "message is not a JSON object: it is a number"},
		{`"x"`, "message is not a JSON object: it is a string"},
		{`null`, "message is not a JSON object: it is null"},
		{`true`, "message is not a JSON object: it is a boolean"},
		{``, `message is not a JSON object: cannot parse JSON: cannot parse empty string; unparsed tail: ""`},
		{`   `, `message is not a JSON object: cannot parse JSON: cannot parse empty string; unparsed tail: ""`},
		{`{"x":1`, `message is not a JSON object: cannot parse JSON: cannot parse object: unexpected end of object; unparsed tail: ""`},
		{`{"x":1} x`, `message is not a JSON object: unexpected tail: "x"`},
		{`{"x":1}{}`, `message is not a JSON object: unexpected tail: "{}"`},
		{`{x:1}`, `message is not a JSON object: cannot parse JSON: ...`},
		{`{"x":1,}`, `message is not a JSON object: cannot parse JSON: ...`},
		{`{"x":tru}`, `message is not a JSON object: cannot parse JSON: ...`},
		{`{"y":[1,}`, `message is not a JSON object: cannot parse JSON: ...`},
		{"\xff", `message is not a JSON object: cannot parse JSON: ...`},
	}
	for _, tt := range tests {
		_, err := decodeOne(t, fields, tt.msg)
		var de *DecodeError
		if !errors.As(err, &de) || de.Field != "" {
			t.Errorf("Decode(%q) = %v; want a message-level DecodeError", tt.msg, err)
			continue
		}
		if prefix, ok := strings.CutSuffix(tt.want, "..."); ok {
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("Decode(%q) = %q; want prefix %q", tt.msg, err, prefix)
			}
		} else if err.Error() != tt.want {
			t.Errorf("Decode(%q) = %q; want %q", tt.msg, err, tt.want)
		}
	}
}

func TestDecodeErrorText(t *testing.T) {
	long := `"` + strings.Repeat("é", 40) + `"`
	_, err := decodeOne(t, []Field{{Name: "ts", Type: types.Timestamp}}, `{"ts":`+long+`}`)
	want := `field "ts": cannot parse "` + strings.Repeat("é", 31) + `... as TIMESTAMP`
	if err == nil || err.Error() != want {
		t.Errorf("long value: got %v; want %s", err, want)
	}
	_, err = decodeOne(t, []Field{{Name: `we"ird`, Type: types.Bigint}}, `{"we\"ird":"a\u0001b"}`)
	want = `field "we\"ird": cannot parse "a\u0001b" as BIGINT: invalid JSON number`
	if err == nil || err.Error() != want {
		t.Errorf("quoted field: got %v; want %s", err, want)
	}
	_, err = decodeOne(t, []Field{{Name: "s", Type: types.Bigint}}, "{\"s\":\"\xff\"}")
	want = "field \"s\": cannot parse \"\uFFFD\" as BIGINT: invalid JSON number"
	if err == nil || err.Error() != want {
		t.Errorf("invalid UTF-8: got %v; want %s", err, want)
	}
}

// TestDecodeRow decodes several fields at once: order of keys, extra keys,
// whitespace, escaped keys, duplicate keys, and one key read by two columns.
func TestDecodeRow(t *testing.T) {
	click := []Field{{Name: "user_id", Type: types.Bigint}, {Name: "page", Type: types.Varchar}, {Name: "ts", Type: types.Timestamp}}
	ts := utcMs(2026, 11, 23, 10, 1, 0, 123)
	tests := []struct {
		name   string
		fields []Field
		msg    string
		want   []types.Value
	}{
		{"click", click, `{"user_id":4821,"page":"/p/17","ts":"2026-11-23T10:01:00.123Z"}`,
			[]types.Value{types.IntValue(4821), types.StringValue("/p/17"), types.TimestampValue(ts)}},
		{"reordered and extra keys", click,
			` { "ts" : "2026-11-23T10:01:00.123Z" , "ref": {"a":[1,{"b":null}]}, "page":"/p/17",` + "\n\t" + `"user_id" : 4821, "z": 1e999 } `,
			[]types.Value{types.IntValue(4821), types.StringValue("/p/17"), types.TimestampValue(ts)}},
		{"missing keys", click, `{"page":"/"}`,
			[]types.Value{types.NullOf(types.Bigint), types.StringValue("/"), types.NullOf(types.Timestamp)}},
		{"escaped key", click, `{"us\u0065r_id":1,"p\u0061ge":"x"}`,
			[]types.Value{types.IntValue(1), types.StringValue("x"), types.NullOf(types.Timestamp)}},
		{"duplicate key: first wins", click, `{"user_id":1,"user_id":2,"page":null,"page":"b"}`,
			[]types.Value{types.IntValue(1), types.NullOf(types.Varchar), types.NullOf(types.Timestamp)}},
		{"duplicate key: bad value after the first is unread", click, `{"user_id":1,"user_id":"x"}`,
			[]types.Value{types.IntValue(1), types.NullOf(types.Varchar), types.NullOf(types.Timestamp)}},
		{"escaped duplicate: the first spelling wins", click, `{"us\u0065r_id":1,"user_id":2}`,
			[]types.Value{types.IntValue(1), types.NullOf(types.Varchar), types.NullOf(types.Timestamp)}},
		{"one key, two columns", []Field{{Name: "a", Type: types.Bigint}, {Name: "a", Type: types.Varchar}, {Name: "b", Type: types.Double}}, `{"a":5,"b":1}`,
			[]types.Value{types.IntValue(5), types.StringValue("5"), types.FloatValue(1)}},
		{"no fields", nil, `{"a":5}`, []types.Value{}},
		{"unread values are not checked", []Field{{Name: "a", Type: types.Bigint}}, `{"a":1,"b":01,"c":"\x","d":NaN}`,
			[]types.Value{types.IntValue(1)}},
		{"empty key", []Field{{Name: "", Type: types.Varchar}}, `{"":"v"}`, []types.Value{types.StringValue("v")}},
	}
	for _, tt := range tests {
		row, err := decodeOne(t, tt.fields, tt.msg)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		for i := range tt.want {
			if !sameValue(row[i], tt.want[i]) {
				t.Errorf("%s: column %d = %s; want %s", tt.name, i, fmtValue(row[i]), fmtValue(tt.want[i]))
			}
		}
	}
}

// TestDecodeAtomic: a message that fails on its last field appends nothing,
// and the decoder goes on appending whole rows afterwards.
func TestDecodeAtomic(t *testing.T) {
	fields := []Field{{Name: "a", Type: types.Bigint}, {Name: "b", Type: types.Varchar}, {Name: "c", Type: types.Timestamp}}
	d := NewJSONDecoder(fields)
	b := types.NewBatch(fieldTypes(fields), 0)
	msgs := []string{
		`{"a":1,"b":"x","c":0}`,
		`{"a":2,"b":"y","c":"bad"}`,
		`{"a":"bad","b":"y","c":0}`,
		`[1]`,
		`{"a":3,"b":"z","c":null}`,
	}
	var errs int
	for _, m := range msgs {
		if d.Decode([]byte(m), b) != nil {
			errs++
		}
	}
	if errs != 3 || b.Len() != 2 {
		t.Fatalf("got %d errors and %d rows; want 3 and 2", errs, b.Len())
	}
	for j, c := range b.Cols {
		if c.Len() != 2 {
			t.Fatalf("column %d has %d rows", j, c.Len())
		}
	}
	if r := b.Row(1); r[0].I != 3 || r[1].S != "z" || !r[2].Null {
		t.Errorf("second row = %v", r)
	}
}

// TestDecodeStringsOutliveMessage: strings in the batch must not alias the
// parser's buffer or the message, on every path (interned, beyond the intern
// limits, unescaped, JSON text of numbers and objects).
func TestDecodeStringsOutliveMessage(t *testing.T) {
	fields := []Field{{Name: "s", Type: types.Varchar}}
	d := NewJSONDecoder(fields)
	b := types.NewBatch(fieldTypes(fields), 0)
	long := strings.Repeat("L", internMaxLen+1)
	want := []string{"abc", "a\nb", long, "123", `{"k":[1]}`, "é"}
	msgs := []string{`{"s":"abc"}`, `{"s":"a\nb"}`, `{"s":"` + long + `"}`, `{"s":123}`, `{"s":{"k":[1]}}`, `{"s":"\u00e9"}`}
	for _, m := range msgs {
		buf := []byte(m)
		if err := d.Decode(buf, b); err != nil {
			t.Fatal(err)
		}
		for i := range buf {
			buf[i] = '#' // the caller reuses its buffer
		}
		// Overwrite the parser's buffer with a message of the same shape.
		if err := d.Decode([]byte(strings.Repeat(" ", len(m)-5)+`{"s":`+"0}"), types.NewBatch(fieldTypes(fields), 0)); err != nil {
			t.Fatal(err)
		}
	}
	for i, w := range want {
		if got := b.Cols[0].Strs[i]; got != w {
			t.Errorf("row %d = %q; want %q", i, got, w)
		}
	}
}

func TestDecodeIntern(t *testing.T) {
	fields := []Field{{Name: "s", Type: types.Varchar}, {Name: "t", Type: types.Varchar}}
	d := NewJSONDecoder(fields)
	b := types.NewBatch(fieldTypes(fields), 0)
	for range 2 {
		if err := d.Decode([]byte(`{"s":"/p/17","t":"/p/17"}`), b); err != nil {
			t.Fatal(err)
		}
	}
	s := b.Cols[0].Strs
	if unsafe.StringData(s[0]) != unsafe.StringData(s[1]) {
		t.Errorf("repeated string was not interned")
	}
	// Past the cap, values are still right; the table stops growing.
	for i := range internMaxEntries + 100 {
		b.Reset()
		v := fmt.Sprint("v", i)
		if err := d.Decode([]byte(`{"s":"`+v+`"}`), b); err != nil || b.Cols[0].Strs[0] != v {
			t.Fatalf("value %d: %v %q", i, err, b.Cols[0].Strs[0])
		}
	}
	if n := len(d.intern[0].m); n != internMaxEntries {
		t.Errorf("intern table has %d entries; want the cap %d", n, internMaxEntries)
	}
	if n := len(d.intern[1].m); n != 1 {
		t.Errorf("second field's table has %d entries; want 1", n)
	}
}

// TestDecodeNoAlloc: the steady state of the click message allocates nothing.
func TestDecodeNoAlloc(t *testing.T) {
	fields := []Field{{Name: "user_id", Type: types.Bigint}, {Name: "page", Type: types.Varchar}, {Name: "ts", Type: types.Timestamp}}
	d := NewJSONDecoder(fields)
	b := types.NewBatch(fieldTypes(fields), 1024)
	msg := []byte(clickMsg)
	n := testing.AllocsPerRun(500, func() {
		if b.Len() == 1024 {
			b.Reset()
		}
		if err := d.Decode(msg, b); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("Decode allocates %v times per message", n)
	}
}

func TestNewJSONDecoderUnknownType(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for a field of type Unknown")
		}
	}()
	NewJSONDecoder([]Field{{Name: "x", Type: types.Unknown}})
}

// fuzzFields reads one key of each type, and one key twice.
var fuzzFields = []Field{
	{Name: "i", Type: types.Bigint}, {Name: "d", Type: types.Double}, {Name: "s", Type: types.Varchar},
	{Name: "b", Type: types.Boolean}, {Name: "t", Type: types.Timestamp}, {Name: "n", Type: types.Interval}, {Name: "i", Type: types.Varchar},
}

// FuzzDecode: Decode never panics; it appends one row or returns a
// *DecodeError and appends nothing; what it decodes is valid UTF-8 and
// survives encoding and decoding again unchanged.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		clickMsg, wideClickMsg,
		`{"i":42,"d":3.5,"s":"x","b":true,"t":"2026-11-23T10:01:00.123+08:00","n":60000}`,
		`{"i":"42","d":"1e3","s":{"a":[1,"\u00e9"]},"b":"f","t":1795428060000}`,
		`{"i":4.2e1,"d":-0,"s":"\ud83d\ude00\ud800","b":0,"t":"2026-11-23 10:01:00"}`,
		`{"i":9223372036854775808,"d":1e400,"s":"\x","b":2,"t":"2026-02-29"}`,
		`{"s":12.5e-3,"i":null,"t":-1}`, `{"s":"` + "a\xffb" + `"}`, `{"i":01}`, `{"d":NaN}`,
		`[]`, `{}`, ``, `{"a":{"b":{"c":[[[]]]}}}`, `{"s":"\u0000\"\\\/\b\f\n\r\t"}`,
	} {
		f.Add([]byte(s))
	}
	d := NewJSONDecoder(fuzzFields)
	d2 := NewJSONDecoder(fuzzFields)
	names := make([]string, len(fuzzFields))
	for i, fl := range fuzzFields {
		names[i] = fl.Name
	}
	// The duplicate key "i" is written once, as the BIGINT column.
	enc := NewJSONEncoder(names[:len(names)-1])
	f.Fuzz(func(t *testing.T, msg []byte) {
		b := types.NewBatch(fieldTypes(fuzzFields), 1)
		err := d.Decode(msg, b)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v is not a *DecodeError", err, err)
			}
			if b.Len() != 0 {
				t.Fatalf("failed Decode appended %d rows", b.Len())
			}
			return
		}
		if b.Len() != 1 {
			t.Fatalf("Decode appended %d rows", b.Len())
		}
		row := b.Row(0)
		for j, v := range row {
			if v.Type == types.Varchar && !utf8.ValidString(v.S) {
				t.Fatalf("column %d is not valid UTF-8: %q", j, v.S)
			}
		}
		out := enc.AppendRow(nil, b, 0)
		b2 := types.NewBatch(fieldTypes(fuzzFields), 1)
		if err := d2.Decode(out, b2); err != nil {
			t.Fatalf("re-decoding %s: %v", out, err)
		}
		row2 := b2.Row(0)
		for j := range len(row) - 1 {
			if !sameValue(row[j], row2[j]) {
				t.Fatalf("column %d: %s, then %s after %s", j, fmtValue(row[j]), fmtValue(row2[j]), out)
			}
		}
	})
}
