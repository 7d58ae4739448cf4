package codec

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/streamsql/streamsql/sql/types"
)

func encodeOne(names []string, row []types.Value) string {
	ts := make([]types.Type, len(row))
	for i, v := range row {
		ts[i] = v.Type
	}
	b := types.NewBatch(ts, 1)
	b.AppendRow(row)
	return string(NewJSONEncoder(names).AppendRow(nil, b, 0))
}

func TestEncodeValues(t *testing.T) {
	tests := []struct {
		v    types.Value
		want string
	}{
		{types.IntValue(42), `42`},
		{types.IntValue(math.MinInt64), `-9223372036854775808`},
		{types.IntervalValue(60000), `60000`},
		{types.BoolValue(true), `true`},
		{types.BoolValue(false), `false`},
		{types.TimestampValue(utcMs(2026, 11, 23, 10, 1, 0, 0)), `"2026-11-23T10:01:00.000Z"`},
		{types.TimestampValue(-1), `"1969-12-31T23:59:59.999Z"`},
		{types.TimestampValue(minTimestampMs), `"0000-01-01T00:00:00.000Z"`},
		{types.TimestampValue(maxTimestampMs), `"9999-12-31T23:59:59.999Z"`},

		{types.FloatValue(1.25), `1.25`},
		{types.FloatValue(0.1), `0.1`},
		{types.FloatValue(0), `0`},
		{types.FloatValue(math.Copysign(0, -1)), `-0`},
		{types.FloatValue(1e8), `100000000`},
		{types.FloatValue(123456789012345680000), `123456789012345680000`},
		{types.FloatValue(1e21), `1e+21`},
		{types.FloatValue(-1.5e300), `-1.5e+300`},
		{types.FloatValue(1e-6), `0.000001`},
		{types.FloatValue(1e-7), `1e-7`},
		{types.FloatValue(5e-324), `5e-324`},
		{types.FloatValue(math.MaxFloat64), `1.7976931348623157e+308`},
		{types.FloatValue(math.NaN()), `null`},
		{types.FloatValue(math.Inf(1)), `null`},
		{types.FloatValue(math.Inf(-1)), `null`},

		{types.StringValue(""), `""`},
		{types.StringValue("/p/17"), `"/p/17"`},
		{types.StringValue(`a"b\c/d`), `"a\"b\\c/d"`},
		{types.StringValue("\n\r\t\b\f"), `"\n\r\t\b\f"`},
		{types.StringValue("\x00\x01\x1f\x7f"), `"\u0000\u0001\u001f` + "\x7f" + `"`},
		{types.StringValue("é日本😀"), `"é日本😀"`},
		{types.StringValue("a\u2028b\u2029c"), `"a\u2028b\u2029c"`},
		{types.StringValue("a\xffb\xe6\x97"), `"a\ufffdb\ufffd\ufffd"`},
		{types.StringValue("<&>"), `"<&>"`},

		{types.NullOf(types.Bigint), `null`},
		{types.NullOf(types.Double), `null`},
		{types.NullOf(types.Varchar), `null`},
		{types.NullOf(types.Boolean), `null`},
		{types.NullOf(types.Timestamp), `null`},
		{types.NullOf(types.Interval), `null`},
	}
	for _, tt := range tests {
		got := encodeOne([]string{"v"}, []types.Value{tt.v})
		want := `{"v":` + tt.want + `}`
		if got != want {
			t.Errorf("encode %s = %s; want %s", fmtValue(tt.v), got, want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("encode %s = %s: not valid JSON", fmtValue(tt.v), got)
		}
	}
}

func TestEncodeNames(t *testing.T) {
	row := []types.Value{types.IntValue(1), types.StringValue("x"), types.NullOf(types.Double)}
	if got, want := encodeOne([]string{"a", `we"ird`, "é\n"}, row), `{"a":1,"we\"ird":"x","é\n":null}`; got != want {
		t.Errorf("got %s; want %s", got, want)
	}
	if got := encodeOne(nil, nil); got != `{}` {
		t.Errorf("no names: got %s", got)
	}
	// Appends to dst rather than overwriting it.
	b := types.NewBatch([]types.Type{types.Bigint}, 1)
	b.AppendRow([]types.Value{types.IntValue(7)})
	if got := string(NewJSONEncoder([]string{"a"}).AppendRow([]byte("[x,"), b, 0)); got != `[x,{"a":7}` {
		t.Errorf("append: got %s", got)
	}
}

// TestEncodeMatchesEncodingJSON: strings and floats read back through
// encoding/json give the same values.
func TestEncodeMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		s := randomString(r)
		out := encodeOne([]string{"f", "s"}, []types.Value{types.FloatValue(f), types.StringValue(s)})
		var got struct {
			F float64
			S string
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		if math.Float64bits(got.F) != math.Float64bits(f) || got.S != replaceInvalid(s) {
			t.Fatalf("%s read back as %v %q; want %v %q", out, got.F, got.S, f, s)
		}
		// Same float text as encoding/json writes.
		want, _ := json.Marshal(f)
		if !strings.Contains(out, `"f":`+string(want)+",") {
			t.Fatalf("float %v: encoding/json writes %s, we wrote %s", f, want, out)
		}
	}
}

// replaceInvalid replaces each byte of s that is not part of valid UTF-8
// with U+FFFD, as the encoder (and encoding/json) does.
func replaceInvalid(s string) string {
	var sb strings.Builder
	for _, r := range s { // range yields RuneError for each invalid byte
		sb.WriteRune(r)
	}
	return sb.String()
}

// randomString mixes ASCII, escapes, multi-byte runes and invalid bytes.
func randomString(r *rand.Rand) string {
	pieces := []string{"a", "Z", "/", " ", `"`, `\`, "\n", "\x00", "\x1f", "\x7f", "é", "日", "😀", "\u2028", "\xff", "\xe6\x97"}
	var sb strings.Builder
	for range r.IntN(12) {
		sb.WriteString(pieces[r.IntN(len(pieces))])
	}
	return sb.String()
}

// TestRoundTrip: decode(encode(row)) == row for every type, with edge values
// and random ones.
func TestRoundTrip(t *testing.T) {
	fields := []Field{
		{Name: "i", Type: types.Bigint}, {Name: "d", Type: types.Double}, {Name: "s", Type: types.Varchar},
		{Name: "b", Type: types.Boolean}, {Name: "t", Type: types.Timestamp}, {Name: "n", Type: types.Interval},
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	enc := NewJSONEncoder(names)
	dec := NewJSONDecoder(fields)
	in := types.NewBatch(fieldTypes(fields), 0)

	edge := [][]types.Value{
		{types.IntValue(math.MaxInt64), types.FloatValue(math.MaxFloat64), types.StringValue(""),
			types.BoolValue(true), types.TimestampValue(maxTimestampMs), types.IntervalValue(math.MinInt64)},
		{types.IntValue(math.MinInt64), types.FloatValue(math.Copysign(0, -1)), types.StringValue("\x00\"\\\u2028😀"),
			types.BoolValue(false), types.TimestampValue(minTimestampMs), types.IntervalValue(-1)},
		{types.IntValue(0), types.FloatValue(5e-324), types.StringValue(`{"not":"an object"}`),
			types.BoolValue(true), types.TimestampValue(-1), types.IntervalValue(0)},
		{types.NullOf(types.Bigint), types.NullOf(types.Double), types.NullOf(types.Varchar),
			types.NullOf(types.Boolean), types.NullOf(types.Timestamp), types.NullOf(types.Interval)},
	}
	for _, row := range edge {
		in.AppendRow(row)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			f = r.NormFloat64()
		}
		in.AppendRow([]types.Value{
			types.IntValue(int64(r.Uint64())), types.FloatValue(f),
			types.StringValue(replaceInvalid(randomString(r))), types.BoolValue(r.IntN(2) == 1),
			types.TimestampValue(minTimestampMs + r.Int64N(maxTimestampMs-minTimestampMs+1)),
			types.IntervalValue(int64(r.Uint64())),
		})
	}

	out := types.NewBatch(fieldTypes(fields), in.Len())
	var buf []byte
	for i := range in.Len() {
		buf = enc.AppendRow(buf[:0], in, i)
		if err := dec.Decode(buf, out); err != nil {
			t.Fatalf("row %d: %s: %v", i, buf, err)
		}
		want, got := in.Row(i), out.Row(i)
		for j := range want {
			if !sameValue(want[j], got[j]) {
				t.Fatalf("row %d column %d: %s became %s via %s", i, j, fmtValue(want[j]), fmtValue(got[j]), buf)
			}
		}
	}
}

func TestEncodeNoAlloc(t *testing.T) {
	b := types.NewBatch([]types.Type{types.Bigint, types.Varchar, types.Timestamp, types.Double, types.Boolean, types.Interval}, 1)
	b.AppendRow([]types.Value{types.IntValue(4821), types.StringValue("/p/\"17\"\n\xff"), types.TimestampValue(1795428060123),
		types.FloatValue(1e-9), types.NullOf(types.Boolean), types.IntervalValue(5)})
	e := NewJSONEncoder([]string{"user_id", "page", "ts", "dur", "ok", "iv"})
	dst := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() { dst = e.AppendRow(dst[:0], b, 0) }); n != 0 {
		t.Errorf("AppendRow allocates %v times per row", n)
	}
}
