package codec

import (
	"testing"
	"time"

	"github.com/streamsql/streamsql/sql/types"
)

const (
	clickMsg = `{"user_id":4821,"page":"/p/17","ts":"2026-11-23T10:01:00.123Z"}`
	// wideClickMsg is about 100 bytes: the click with keys nobody selects.
	wideClickMsg = `{"user_id":4821,"session":"a9f3","page":"/p/17","ref":"/","ts":"2026-11-23T10:01:00.123Z","dur":1.25}`
)

func benchDecode(b *testing.B, msg string) {
	fields := []Field{{Name: "user_id", Type: types.Bigint}, {Name: "page", Type: types.Varchar}, {Name: "ts", Type: types.Timestamp}}
	d := NewJSONDecoder(fields)
	batch := types.NewBatch(fieldTypes(fields), 1024)
	m := []byte(msg)
	b.SetBytes(int64(len(m)))
	b.ReportAllocs()
	for b.Loop() {
		if batch.Len() == 1024 {
			batch.Reset()
		}
		if err := d.Decode(m, batch); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeClick(b *testing.B) {
	b.Run("63B", func(b *testing.B) { benchDecode(b, clickMsg) })
	b.Run("wide", func(b *testing.B) { benchDecode(b, wideClickMsg) })
}

func BenchmarkParseTimestamp(b *testing.B) {
	s := "2026-11-23T10:01:00.123Z"
	b.Run("codec", func(b *testing.B) {
		in := []byte(s)
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := ParseTimestamp(in); !ok {
				b.Fatal("bad")
			}
		}
	})
	b.Run("codec-offset", func(b *testing.B) {
		in := []byte("2026-11-23T10:01:00.123+08:00")
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := ParseTimestamp(in); !ok {
				b.Fatal("bad")
			}
		}
	})
	b.Run("time.Parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncodeRow(b *testing.B) {
	batch := types.NewBatch([]types.Type{types.Bigint, types.Varchar, types.Timestamp, types.Double, types.Boolean}, 1)
	batch.AppendRow([]types.Value{types.IntValue(4821), types.StringValue("/p/17"),
		types.TimestampValue(1795428060123), types.FloatValue(1.25), types.BoolValue(true)})
	e := NewJSONEncoder([]string{"user_id", "page", "ts", "dur", "ok"})
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		dst = e.AppendRow(dst[:0], batch, 0)
	}
	b.SetBytes(int64(len(dst)))
}
