package codec

import (
	"bytes"
	"testing"

	"github.com/streamsql/streamsql/sql/types"
)

// nestedFields reads flat keys and ROW leaves, Nexmark style.
var nestedFields = []Field{
	{Name: "event_type", Type: types.Bigint},
	{Name: "auction", Type: types.Bigint, Path: []string{"bid", "auction"}},
	{Name: "price", Type: types.Double, Path: []string{"bid", "price"}},
	{Name: "url", Type: types.Varchar, Path: []string{"bid", "url"}},
	{Name: "dt", Type: types.Timestamp, Path: []string{"bid", "dateTime"}},
	{Name: "deep", Type: types.Varchar, Path: []string{"bid", "x", "y"}},
	{Name: "pdt", Type: types.Timestamp, Path: []string{"person", "dateTime"}},
	{Name: "bid", Type: types.Varchar},
}

// scanCorpus is messages the scanner takes, and messages it must hand to the
// tree decoder.
var scanCorpus = []string{
	nexmarkBidMsg, clickMsg, wideClickMsg,
	`{"event_type":0,"person":{"id":1,"dateTime":"2026-11-23 00:00:00.000"},"auction":null,"bid":null}`,
	`{"bid":{"x":{"y":"z"}, "auction" : 7 , "price":-1.5e3},"event_type":2}`,
	`{"bid":{"x":{"y":{"k": [1, 2.5, true, null, "s"]}}},"event_type":2}`,
	`{"bid":{"x":[1]}}`, `{"bid":{"x":"str"}}`, `{"bid":7}`, `{"bid":[1, {"a":2}]}`, `{"bid":null,"person":"p"}`,
	`{"bid":{"auction":1,"auction":"dup"}}`, `{"bid":{"auction":1},"bid":{"auction":2}}`,
	`{"i":42,"d":3.5,"s":"x","b":true,"t":"2026-11-23T10:01:00.123+08:00","n":60000}`,
	`{"i":"42","d":"1e3","s":{"a":[1,"\u00e9"]},"b":"f","t":1795428060000}`,
	`{"i":4.2e1,"d":-0,"s":"\ud83d\ude00\ud800","b":0,"t":"2026-11-23 10:01:00"}`,
	`{"i":9223372036854775808,"d":1e400,"s":"\x","b":2,"t":"2026-02-29"}`,
	`{"s":12.5e-3,"i":null,"t":-1}`, `{"s":"` + "a\xffb" + `"}`, `{"i":01}`, `{"d":NaN}`,
	`[]`, `{}`, ``, ` `, `{"a":{"b":{"c":[[[]]]}}}`, `{"s":"\u0000\"\\\/\b\f\n\r\t"}`,
	`{"s":"a` + "\x01" + `b"}`, `{"z":"a` + "\x01" + `b","i":1}`, `{"z":01,"i":1}`, `{"z":1.,"i":1}`, `{"z":-,"i":1}`,
	`{"z":tru,"i":1}`, `{"z":truex,"i":1}`, `{"z":[1,],"i":1}`, `{"z":{"a":1,},"i":1}`, `{"i":1} `, `{"i":1} x`,
	`{"i":1}{}`, `{"i":1`, `{"i"1}`, `{"i":1,}`, `{i:1}`, `{"s": { "a" : [ 1 , 2 ] } }`,
	`{"s":[]}`, `{"s":{}}`, `{"s":"\u12"}`, `{"z":"\q","i":1}`, `{"i":1e5}`, `{"i":-0}`, `{"i":2E+2}`,
	"\t{\"i\":1}\r\n", `{"s":"é"}`, `{"b":"TRUE"}`, `{"t":"2026-11-23T10:01:00Z"}`,
	`{"bid":{"x":{"y":1}}}`, `{"bid":{"x":null}}`, `{"bid":{"x":{"y":null}}}`,
}

const nexmarkBidMsg = `{"event_type":2,"person":null,"auction":null,"bid":{"auction":1000,"bidder":1001,"price":337332,"channel":"Google","url":"https://www.nexmark.com/tykm/i_of/irxm/item.htm?query=1","dateTime":"2026-11-23 00:00:05.500","extra":"ogeovlgbqcolcgfmeklxadummjvtvzgcjjelugygjqioxgtwvtwjzm"}}`

// checkScannerMatchesTree decodes msg through Decode (the scanner, falling
// back to the tree) and through decodeTree alone, and fails on any difference
// in the row or the error.
func checkScannerMatchesTree(t *testing.T, fields []Field, msg []byte) {
	t.Helper()
	checkDecoderMatchesTree(t, NewJSONDecoder(fields), fields, msg)
}

// checkDecoderMatchesTree is checkScannerMatchesTree with a decoder that may
// have decoded other messages before (and learned their keys).
func checkDecoderMatchesTree(t *testing.T, d *JSONDecoder, fields []Field, msg []byte) {
	t.Helper()
	tree := NewJSONDecoder(fields)
	b1 := types.NewBatch(fieldTypes(fields), 1)
	b2 := types.NewBatch(fieldTypes(fields), 1)
	err1 := d.Decode(msg, b1)
	err2 := tree.decodeTree(msg, b2)
	if bytes.IndexByte(msg, '\\') >= 0 && (err1 == nil) == (err2 == nil) && err1 == nil {
		// A key spelled twice, once with escapes, may legitimately differ
		// (the scanner takes the first spelling, fastjson a plain one);
		// TestDecodeRow pins that case.
		if !sameRow(b1, b2) {
			return
		}
	}
	if (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
		t.Fatalf("%q: Decode error %v, decodeTree error %v", msg, err1, err2)
	}
	if !sameRow(b1, b2) {
		t.Fatalf("%q: Decode %v, decodeTree %v", msg, rowText(b1), rowText(b2))
	}
}

func sameRow(a, b *types.Batch) bool {
	if a.Len() != b.Len() {
		return false
	}
	for r := range a.Len() {
		ra, rb := a.Row(r), b.Row(r)
		for j := range ra {
			if !sameValue(ra[j], rb[j]) {
				return false
			}
		}
	}
	return true
}

func rowText(b *types.Batch) []string {
	var out []string
	for r := range b.Len() {
		for _, v := range b.Row(r) {
			out = append(out, fmtValue(v))
		}
	}
	return out
}

func TestScannerMatchesTree(t *testing.T) {
	for _, fields := range [][]Field{fuzzFields, nestedFields, nil} {
		for _, msg := range scanCorpus {
			checkScannerMatchesTree(t, fields, []byte(msg))
		}
		// One decoder through the corpus twice, and through messages
		// whose keys it learned as unknown in other places: what a
		// decoder has learned never changes a row.
		warm := NewJSONDecoder(fields)
		for range 2 {
			for _, msg := range append(scanCorpus, unknownKeyCorpus...) {
				checkDecoderMatchesTree(t, warm, fields, []byte(msg))
			}
		}
		// And the scanner itself takes them once it knows their keys
		// (a scanner that gave up would pass the comparison above).
		if fields == nil {
			continue
		}
		for _, msg := range unknownKeyCorpus {
			b := types.NewBatch(fieldTypes(fields), 1)
			if !warm.sc.scan([]byte(msg)) || !warm.appendSpans([]byte(msg), b) {
				t.Errorf("%s: the warm scanner did not take it", msg)
			}
		}
		if len(warm.sc.nodes[0].unknown) == 0 {
			t.Errorf("no unknown top-level keys learned")
		}
	}
}

// unknownKeyCorpus has keys no field reads, seen again in other positions,
// near a message's end, as prefixes of keys that are read, and escaped.
var unknownKeyCorpus = []string{
	`{"zz":1,"i":2,"yy":"a","s":"b"}`, `{"i":3,"zz":{"i":9},"s":"c","yy":[1]}`, `{"s":"d","i":4,"zz":5}`,
	`{"zz":6}`, `{"yy":7,"zz":8}`, `{"i":5,"zz":9}`, `{"user":1,"user_i":2,"user_id":3,"i":6}`, `{"us":1,"i":7}`,
	`{"zz":1,"i":8}`, `{"event_typ":1,"event_type":2,"bid":{"pric":1,"price":2,"auctio":3,"auction":4}}`,
	`{"bid":{"channel":"c","url":"u","price":1,"channel":"d"},"event_type":5}`,
	`{"bid":{"url":"u","channel":"c"},"person":{"name":"n","dateTime":"2026-11-23 00:00:00.000"}}`,
}

// warmDecoders are FuzzScannerMatchesTree's long-lived decoders, one per
// field set: each fuzz input also goes through a decoder that has seen the
// inputs before it.
var warmDecoders = map[*Field]*JSONDecoder{}

func warmDecoder(fields []Field) *JSONDecoder {
	d := warmDecoders[&fields[0]]
	if d == nil {
		d = NewJSONDecoder(fields)
		warmDecoders[&fields[0]] = d
	}
	return d
}

// TestScannerTakesWellFormed: the fast path really runs on well-formed
// messages (a scanner that rejected everything would pass the test above).
func TestScannerTakesWellFormed(t *testing.T) {
	for _, tt := range []struct {
		fields []Field
		msg    string
		want   bool
	}{
		{nestedFields, nexmarkBidMsg, true},
		{nestedFields, `{"bid":{"x":{"y":{"k": [1, 2.5, true, null, "s"]}}},"event_type":2}`, true},
		{nestedFields, `{"bid":7}`, false},
		{fuzzFields, clickMsg, true},
		{fuzzFields, `{"i":01}`, false},
		{fuzzFields, `{"z":01,"i":1}`, false},
		{fuzzFields, `{"i":"x"}`, false},
		{fuzzFields, `{"us\u0065r_id":1,"i":3}`, true},
	} {
		d := NewJSONDecoder(tt.fields)
		b := types.NewBatch(fieldTypes(tt.fields), 1)
		got := d.sc.scan([]byte(tt.msg)) && d.appendSpans([]byte(tt.msg), b)
		if got != tt.want {
			t.Errorf("%s: scanner took it = %v; want %v", tt.msg, got, tt.want)
		}
		want := 0
		if got {
			want = 1
		}
		for j, c := range b.Cols {
			if c.Len() != want {
				t.Errorf("%s: column %d has %d rows after the scanner; want %d", tt.msg, j, c.Len(), want)
			}
		}
	}
}

func FuzzScannerMatchesTree(f *testing.F) {
	for _, s := range scanCorpus {
		f.Add([]byte(s))
	}
	for _, s := range unknownKeyCorpus {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		checkScannerMatchesTree(t, fuzzFields, msg)
		checkScannerMatchesTree(t, nestedFields, msg)
		checkDecoderMatchesTree(t, warmDecoder(fuzzFields), fuzzFields, msg)
		checkDecoderMatchesTree(t, warmDecoder(nestedFields), nestedFields, msg)
	})
}
