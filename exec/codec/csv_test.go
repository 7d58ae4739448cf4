package codec

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/streamsql/streamsql/sql/types"
)

func csvDecodeOne(t *testing.T, fields []Field, msg string) ([]types.Value, error) {
	t.Helper()
	b := types.NewBatch(fieldTypes(fields), 4)
	err := NewCSVDecoder(fields).Decode([]byte(msg), b)
	for i, c := range b.Cols {
		want := 1
		if err != nil {
			want = 0
		}
		if c.Len() != want || len(c.Ints)+len(c.Floats)+len(c.Strs)+len(c.Bools) != want {
			t.Fatalf("Decode(%q) (err %v): column %d has %d rows, want %d", msg, err, i, c.Len(), want)
		}
	}
	if err != nil {
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("Decode(%q) returned %T, want *DecodeError", msg, err)
		}
		return nil, err
	}
	return b.Row(0), nil
}

// TestCSVConversions decodes one field of each type from its text.
func TestCSVConversions(t *testing.T) {
	ts := utcMs(2026, 11, 23, 10, 1, 0, 123)
	tests := []struct {
		typ  types.Type
		in   string
		want types.Value // Type Unknown: an error whose text is want.S
	}{
		{types.Bigint, "42", types.IntValue(42)},
		{types.Bigint, "-7", types.IntValue(-7)},
		{types.Bigint, "4.2e1", types.IntValue(42)},
		{types.Bigint, `"42"`, types.IntValue(42)},
		{types.Bigint, "9223372036854775807", types.IntValue(math.MaxInt64)},
		{types.Bigint, "4.5", types.Value{S: `field "x": cannot parse "4.5" as BIGINT: not an integer`}},
		{types.Bigint, " 42", types.Value{S: `field "x": cannot parse " 42" as BIGINT: invalid number`}},
		{types.Bigint, "abc", types.Value{S: `field "x": cannot parse "abc" as BIGINT: invalid number`}},
		{types.Bigint, "9223372036854775808", types.Value{S: `field "x": cannot parse "9223372036854775808" as BIGINT: out of range`}},
		{types.Bigint, `""`, types.Value{S: `field "x": cannot parse "" as BIGINT`}},
		{types.Double, "2.5", types.FloatValue(2.5)},
		{types.Double, "-1e3", types.FloatValue(-1000)},
		{types.Double, "NaN", types.Value{S: `field "x": cannot parse "NaN" as DOUBLE: invalid number`}},
		{types.Varchar, "hello world", types.StringValue("hello world")},
		{types.Varchar, `""`, types.StringValue("")},
		{types.Varchar, `" a, ""b""` + "\n" + `c "`, types.StringValue(" a, \"b\"\nc ")},
		{types.Varchar, "é\xff", types.StringValue("é\uFFFD")},
		{types.Varchar, "  spaces kept ", types.StringValue("  spaces kept ")},
		{types.Boolean, "true", types.BoolValue(true)},
		{types.Boolean, "F", types.BoolValue(false)},
		{types.Boolean, "1", types.BoolValue(true)},
		{types.Boolean, "0", types.BoolValue(false)},
		{types.Boolean, "yes", types.Value{S: `field "x": cannot parse "yes" as BOOLEAN`}},
		{types.Timestamp, "2026-11-23T10:01:00.123Z", types.TimestampValue(ts)},
		{types.Timestamp, "2026-11-23 10:01:00.123", types.TimestampValue(ts)},
		{types.Timestamp, `"2026-11-23T18:01:00.123+08:00"`, types.TimestampValue(ts)},
		{types.Timestamp, "1795428060123", types.TimestampValue(1795428060123)},
		{types.Timestamp, "-1000", types.TimestampValue(-1000)},
		{types.Timestamp, "2026", types.TimestampValue(2026)},
		{types.Timestamp, "yesterday", types.Value{S: `field "x": cannot parse "yesterday" as TIMESTAMP`}},
		{types.Timestamp, "2026-02-30", types.Value{S: `field "x": cannot parse "2026-02-30" as TIMESTAMP`}},
		{types.Timestamp, "999999999999999999", types.Value{S: `field "x": cannot parse "999999999999999999" as TIMESTAMP: out of range`}},
		{types.Interval, "60000", types.IntervalValue(60000)},
	}
	for _, tt := range tests {
		row, err := csvDecodeOne(t, []Field{{Name: "x", Type: tt.typ}}, tt.in)
		if tt.want.Type == types.Unknown {
			if err == nil || err.Error() != tt.want.S {
				t.Errorf("%s %q: got %v; want error %s", tt.typ, tt.in, err, tt.want.S)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: %v", tt.typ, tt.in, err)
			continue
		}
		if !sameValue(row[0], tt.want) {
			t.Errorf("%s %q = %s; want %s", tt.typ, tt.in, fmtValue(row[0]), fmtValue(tt.want))
		}
	}
}

// TestCSVRecords covers the record level: separators, quoting, empty
// fields as NULL, the trailing line break, and wrong field counts.
func TestCSVRecords(t *testing.T) {
	fields := []Field{{Name: "id", Type: types.Bigint}, {Name: "page", Type: types.Varchar}, {Name: "ts", Type: types.Timestamp}}
	ts := utcMs(2026, 11, 23, 10, 0, 0, 0)
	id, page, at := types.IntValue(1), types.StringValue("/a"), types.TimestampValue(ts)
	nb, nv, nt := types.NullOf(types.Bigint), types.NullOf(types.Varchar), types.NullOf(types.Timestamp)
	tests := []struct {
		msg  string
		want []types.Value // nil: an error whose text is err
		err  string
	}{
		{msg: "1,/a,2026-11-23T10:00:00Z", want: []types.Value{id, page, at}},
		{msg: "1,/a,2026-11-23T10:00:00Z\n", want: []types.Value{id, page, at}},
		{msg: "1,/a,2026-11-23T10:00:00Z\r\n", want: []types.Value{id, page, at}},
		{msg: `"1","/a","2026-11-23T10:00:00Z"`, want: []types.Value{id, page, at}},
		{msg: ",,", want: []types.Value{nb, nv, nt}},
		{msg: `1,"",`, want: []types.Value{id, types.StringValue(""), nt}},
		{msg: `,"a,b",`, want: []types.Value{nb, types.StringValue("a,b"), nt}},
		{msg: "1,/a", err: "record has 2 fields, expected 3"},
		{msg: "1,/a,2026-11-23T10:00:00Z,x", err: "record has 4 fields, expected 3"},
		{msg: "", err: "record has 1 fields, expected 3"},
		{msg: "1,/a,2026-11-23T10:00:00Z\n\n", err: "record has 3 fields, expected 3"}, // replaced below
		{msg: `1,"/a,`, err: "record is not valid CSV: unterminated quoted field"},
		{msg: `1,"/a"x,`, err: "record is not valid CSV: text after the closing quote of field 2"},
		{msg: `1,/"a",`, err: "record is not valid CSV: a quote inside unquoted field 2"},
		{msg: `{"id":1}`, err: "record is not valid CSV: a quote inside unquoted field 1"},
		{msg: "x,/a,", err: `field "id": cannot parse "x" as BIGINT: invalid number`},
	}
	// A second line break is part of the last field, which then is no
	// timestamp.
	tests[10].err = `field "ts": cannot parse "2026-11-23T10:00:00Z\u000a" as TIMESTAMP`
	for _, tt := range tests {
		row, err := csvDecodeOne(t, fields, tt.msg)
		if tt.want == nil {
			if err == nil || err.Error() != tt.err {
				t.Errorf("Decode(%q) = %v; want error %s", tt.msg, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Decode(%q): %v", tt.msg, err)
			continue
		}
		for i := range tt.want {
			if !sameValue(row[i], tt.want[i]) {
				t.Errorf("Decode(%q) column %d = %s; want %s", tt.msg, i, fmtValue(row[i]), fmtValue(tt.want[i]))
			}
		}
	}
}

func TestCSVEncode(t *testing.T) {
	b := types.NewBatch([]types.Type{types.Bigint, types.Varchar, types.Double, types.Boolean, types.Timestamp, types.Varchar}, 3)
	b.AppendRow([]types.Value{types.IntValue(-5), types.StringValue(`say "hi", then`), types.FloatValue(1e21),
		types.BoolValue(true), types.TimestampValue(utcMs(2026, 11, 23, 10, 1, 0, 5)), types.StringValue("")})
	b.AppendRow([]types.Value{types.NullOf(types.Bigint), types.NullOf(types.Varchar), types.FloatValue(math.NaN()),
		types.BoolValue(false), types.NullOf(types.Timestamp), types.StringValue("a\nb")})
	want := []string{
		`-5,"say ""hi"", then",1e+21,true,2026-11-23T10:01:00.005Z,""`,
		`,,,false,,"a` + "\n" + `b"`,
	}
	e := NewCSVEncoder(6)
	for i, w := range want {
		if got := string(e.AppendRow(nil, b, i)); got != w {
			t.Errorf("row %d = %q; want %q", i, got, w)
		}
	}
}

// TestCSVRoundTrip: decode(encode(row)) == row for random rows of every
// type, NULLs and awkward strings included.
func TestCSVRoundTrip(t *testing.T) {
	fields := []Field{
		{Name: "i", Type: types.Bigint}, {Name: "d", Type: types.Double}, {Name: "s", Type: types.Varchar},
		{Name: "b", Type: types.Boolean}, {Name: "t", Type: types.Timestamp}, {Name: "n", Type: types.Interval},
	}
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"", "a", ",", `"`, "\n", "\r\n", " ", "é", "x,y", `""`}
	enc := NewCSVEncoder(len(fields))
	dec := NewCSVDecoder(fields)
	in := types.NewBatch(fieldTypes(fields), 1)
	for n := 0; n < 2000; n++ {
		in.Reset()
		row := []types.Value{
			types.IntValue(r.Int64() - r.Int64()), types.FloatValue(r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20))),
			types.StringValue(""), types.BoolValue(r.IntN(2) == 0),
			types.TimestampValue(r.Int64N(maxTimestampMs-minTimestampMs) + minTimestampMs), types.IntervalValue(r.Int64N(1e12)),
		}
		var sb strings.Builder
		for k := r.IntN(4); k > 0; k-- {
			sb.WriteString(pieces[r.IntN(len(pieces))])
		}
		row[2].S = sb.String()
		for j := range row {
			if r.IntN(5) == 0 {
				row[j] = types.NullOf(row[j].Type)
			}
		}
		in.AppendRow(row)
		msg := enc.AppendRow(nil, in, 0)
		out := types.NewBatch(fieldTypes(fields), 1)
		if err := dec.Decode(msg, out); err != nil {
			t.Fatalf("Decode(%q): %v", msg, err)
		}
		for j := range row {
			if got := out.Cols[j].Value(0); !sameValue(got, row[j]) {
				t.Fatalf("%q: column %s = %s; want %s", msg, fields[j].Name, fmtValue(got), fmtValue(row[j]))
			}
		}
	}
}

// FuzzCSVDecode: Decode never panics, appends one row or nothing, and what
// it decodes survives encoding and decoding again.
func FuzzCSVDecode(f *testing.F) {
	for _, s := range []string{"1,2.5,x,t,2026-11-23T10:00:00Z,5", `,,"",,,`, `"1","a""b",`, "\"\n", ",,,,,\r\n"} {
		f.Add(s)
	}
	fields := []Field{
		{Name: "i", Type: types.Bigint}, {Name: "d", Type: types.Double}, {Name: "s", Type: types.Varchar},
		{Name: "b", Type: types.Boolean}, {Name: "t", Type: types.Timestamp}, {Name: "n", Type: types.Interval},
	}
	f.Fuzz(func(t *testing.T, msg string) {
		dec := NewCSVDecoder(fields)
		b := types.NewBatch(fieldTypes(fields), 1)
		if err := dec.Decode([]byte(msg), b); err != nil {
			if b.Len() != 0 {
				t.Fatalf("failed Decode appended a row")
			}
			return
		}
		again := types.NewBatch(fieldTypes(fields), 1)
		enc := NewCSVEncoder(len(fields)).AppendRow(nil, b, 0)
		if err := dec.Decode(enc, again); err != nil {
			t.Fatalf("re-decoding %q (from %q): %v", enc, msg, err)
		}
		for j := range fields {
			if !sameValue(b.Cols[j].Value(0), again.Cols[j].Value(0)) {
				t.Fatalf("%q: column %d changed", msg, j)
			}
		}
	})
}
