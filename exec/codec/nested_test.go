package codec

import (
	"errors"
	"testing"

	"github.com/streamsql/streamsql/sql/types"
)

// bidFields are the leaves of a ROW column bid plus a flat column and a
// two-level leaf, as the catalog expands `event_type INT, bid ROW<auction
// BIGINT, price BIGINT, "dateTime" TIMESTAMP, url ROW<host VARCHAR>>`.
var bidFields = []Field{
	{Name: "event_type", Type: types.Bigint},
	{Name: "bid.auction", Type: types.Bigint, Path: []string{"bid", "auction"}},
	{Name: "bid.price", Type: types.Double, Path: []string{"bid", "price"}},
	{Name: "bid.dateTime", Type: types.Timestamp, Path: []string{"bid", "dateTime"}},
	{Name: "bid.url.host", Type: types.Varchar, Path: []string{"bid", "url", "host"}},
}

// TestDecodeNested reads fields nested in objects: missing and null
// parents make every leaf under them NULL; keys keep their case.
func TestDecodeNested(t *testing.T) {
	ts := utcMs(2026, 11, 23, 10, 1, 0, 0)
	null := func(t types.Type) types.Value { return types.NullOf(t) }
	tests := []struct {
		name, msg string
		want      []types.Value
	}{
		{"all there", `{"event_type":2,"bid":{"auction":1000,"price":7.5,"dateTime":"2026-11-23T10:01:00Z","url":{"host":"h"}}}`,
			[]types.Value{types.IntValue(2), types.IntValue(1000), types.FloatValue(7.5), types.TimestampValue(ts), types.StringValue("h")}},
		{"parent missing", `{"event_type":0,"person":{"id":1}}`,
			[]types.Value{types.IntValue(0), null(types.Bigint), null(types.Double), null(types.Timestamp), null(types.Varchar)}},
		{"parent null", `{"event_type":0,"bid":null}`,
			[]types.Value{types.IntValue(0), null(types.Bigint), null(types.Double), null(types.Timestamp), null(types.Varchar)}},
		{"inner parent null", `{"bid":{"auction":1,"url":null}}`,
			[]types.Value{null(types.Bigint), types.IntValue(1), null(types.Double), null(types.Timestamp), null(types.Varchar)}},
		{"leaf missing and null", `{"bid":{"auction":null,"url":{}}}`,
			[]types.Value{null(types.Bigint), null(types.Bigint), null(types.Double), null(types.Timestamp), null(types.Varchar)}},
		{"case matters", `{"bid":{"datetime":"2026-11-23T10:01:00Z","dateTime":1795428060000}}`,
			[]types.Value{null(types.Bigint), null(types.Bigint), null(types.Double), types.TimestampValue(1795428060000), null(types.Varchar)}},
		{"key order and extra keys", `{"bid":{"x":[1,{"y":2}],"price":"1e2","auction":"5"},"event_type":"2","z":{}}`,
			[]types.Value{types.IntValue(2), types.IntValue(5), types.FloatValue(100), null(types.Timestamp), null(types.Varchar)}},
		{"first duplicate parent wins", `{"bid":{"auction":1},"bid":{"auction":2}}`,
			[]types.Value{null(types.Bigint), types.IntValue(1), null(types.Double), null(types.Timestamp), null(types.Varchar)}},
	}
	for _, tt := range tests {
		row, err := decodeOne(t, bidFields, tt.msg)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		for i := range tt.want {
			if !sameValue(row[i], tt.want[i]) {
				t.Errorf("%s: %s = %s; want %s", tt.name, bidFields[i].Name, fmtValue(row[i]), fmtValue(tt.want[i]))
			}
		}
	}
}

// TestDecodeNestedErrors: a value on the path that is neither an object nor
// null fails the message, naming the path to it.
func TestDecodeNestedErrors(t *testing.T) {
	tests := []struct{ msg, want string }{
		{`{"bid":5}`, `field "bid": cannot parse 5 as ROW: expected a JSON object`},
		{`{"bid":"x"}`, `field "bid": cannot parse "x" as ROW: expected a JSON object`},
		{`{"bid":[{"auction":1}]}`, `field "bid": cannot parse [{"auction":1}] as ROW: expected a JSON object`},
		{`{"bid":{"url":true}}`, `field "bid.url": cannot parse true as ROW: expected a JSON object`},
		{`{"bid":{"auction":"one"}}`, `field "bid.auction": cannot parse "one" as BIGINT: invalid JSON number`},
		{`{"bid":{"auction":{"a":1}}}`, `field "bid.auction": cannot parse {"a":1} as BIGINT`},
	}
	for _, tt := range tests {
		_, err := decodeOne(t, bidFields, tt.msg)
		var de *DecodeError
		if !errors.As(err, &de) || err.Error() != tt.want {
			t.Errorf("Decode(%s) = %v; want %s", tt.msg, err, tt.want)
		}
	}
}

// TestDecodeNestedVarcharParent: a column may read an object whole as
// VARCHAR while others read inside it.
func TestDecodeNestedVarcharParent(t *testing.T) {
	fields := []Field{
		{Name: "bid", Type: types.Varchar},
		{Name: "bid.price", Type: types.Bigint, Path: []string{"bid", "price"}},
	}
	row, err := decodeOne(t, fields, `{"bid":{"price":3}}`)
	if err != nil {
		t.Fatal(err)
	}
	if row[0].S != `{"price":3}` || row[1].I != 3 {
		t.Errorf("got %s, %s", fmtValue(row[0]), fmtValue(row[1]))
	}
}

func TestDecodeNestedNoAlloc(t *testing.T) {
	d := NewJSONDecoder(bidFields)
	b := types.NewBatch(fieldTypes(bidFields), 256)
	msg := []byte(`{"event_type":2,"bid":{"auction":1000,"price":7.5,"dateTime":1795428060000}}`)
	allocs := testing.AllocsPerRun(100, func() {
		if b.Len() == 256 {
			b.Reset()
		}
		if err := d.Decode(msg, b); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Decode allocates %v times per nested message; want 0", allocs)
	}
}

func BenchmarkDecodeNexmarkBid(b *testing.B) {
	fields := []Field{{Name: "event_type", Type: types.Bigint}}
	for _, parent := range []struct {
		name   string
		leaves []Field
	}{
		{"person", []Field{{Name: "id", Type: types.Bigint}, {Name: "name", Type: types.Varchar}, {Name: "dateTime", Type: types.Timestamp}}},
		{"auction", []Field{{Name: "id", Type: types.Bigint}, {Name: "seller", Type: types.Bigint}, {Name: "dateTime", Type: types.Timestamp}}},
		{"bid", []Field{{Name: "auction", Type: types.Bigint}, {Name: "bidder", Type: types.Bigint}, {Name: "price", Type: types.Bigint},
			{Name: "channel", Type: types.Varchar}, {Name: "url", Type: types.Varchar}, {Name: "dateTime", Type: types.Timestamp}, {Name: "extra", Type: types.Varchar}}},
	} {
		for _, l := range parent.leaves {
			fields = append(fields, Field{Name: parent.name + "." + l.Name, Type: l.Type, Path: []string{parent.name, l.Name}})
		}
	}
	m := []byte(nexmarkBidMsg)
	// "scan" is Decode; "tree" the fastjson path it falls back to.
	for _, mode := range []string{"scan", "tree"} {
		b.Run(mode, func(b *testing.B) {
			d := NewJSONDecoder(fields)
			batch := types.NewBatch(fieldTypes(fields), 1024)
			decode := d.Decode
			if mode == "tree" {
				decode = d.decodeTree
			}
			b.SetBytes(int64(len(m)))
			b.ReportAllocs()
			for b.Loop() {
				if batch.Len() == 1024 {
					batch.Reset()
				}
				if err := decode(m, batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
