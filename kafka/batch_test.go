package kafka

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestReadCompressedBatches: records written with every compression codec
// Kafka has, by franz-go's producer (not the reader's own code), read back
// exactly: keys, values (null, empty, large and incompressible among them),
// offsets and timestamps, across many fetches whose buffers are reused.
func TestReadCompressedBatches(t *testing.T) {
	brokers, _ := testCluster(t)
	c, err := NewClient(brokers, "streamsql-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	rng := rand.New(rand.NewPCG(7, 8))
	noise := make([]byte, 200<<10)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	for _, codec := range []struct {
		name string
		c    kgo.CompressionCodec
	}{
		{"none", kgo.NoCompression()}, {"gzip", kgo.GzipCompression()}, {"snappy", kgo.SnappyCompression()},
		{"lz4", kgo.Lz4Compression()}, {"zstd", kgo.ZstdCompression()},
	} {
		t.Run(codec.name, func(t *testing.T) {
			topic := topicName(t)
			mustCreate(t, c, topic, 1)
			cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerBatchCompression(codec.c),
				kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(5*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
			var want []*kgo.Record
			for i := range 6000 {
				r := &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "user-%d", i%97),
					Value:     fmt.Appendf(nil, `{"i":%d,"page":"/p/%d","pad":"%s"}`, i, i%13, bytes.Repeat([]byte{'a' + byte(i%26)}, i%300)),
					Timestamp: base.Add(time.Duration(i) * time.Millisecond)}
				switch i % 1000 {
				case 3:
					r.Key = nil
				case 4:
					r.Value = nil
				case 5:
					r.Value = []byte{}
				case 6:
					r.Value = noise[:50<<10+i] // incompressible: lz4 stores it raw
				}
				want = append(want, r)
			}
			for i := 0; i < len(want); i += 500 {
				if err := cl.ProduceSync(context.Background(), want[i:i+500]...).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
			r := mustReader(t, c, topic, 0, 0)
			got := readUntil(t, r, int64(len(want)), 30*time.Second)
			if len(got) != len(want) {
				t.Fatalf("read %d records, want %d", len(got), len(want))
			}
			for i, g := range got {
				w := want[i]
				if g.Offset != int64(i) || g.Timestamp != w.Timestamp.UnixMilli() ||
					!bytesEqualNil(g.Key, w.Key) || !bytesEqualNil(g.Value, w.Value) {
					t.Fatalf("record %d: offset %d ts %d key %q value %.40q (nil %v); want ts %d key %q value %.40q (nil %v)",
						i, g.Offset, g.Timestamp, g.Key, g.Value, g.Value == nil, w.Timestamp.UnixMilli(), w.Key, w.Value, w.Value == nil)
				}
			}
		})
	}
}

// TestLz4Frames: the frame reader takes what lz4 writers produce (64 KiB
// to 4 MiB blocks, block and content checksums, content size, raw blocks
// for incompressible data), including frames whose output must move to a
// new arena chunk halfway.
func TestLz4Frames(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	text := bytes.Repeat([]byte(`{"auction":1000,"bidder":1001,"price":17204093,"channel":"Baidu"},`), 6000)
	noise := make([]byte, 300<<10)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	for _, data := range [][]byte{nil, []byte("x"), text[:1000], text, noise, append(cloneBytes(text[:100<<10]), noise[:100<<10]...)} {
		for _, opts := range [][]lz4.Option{
			{lz4.BlockSizeOption(lz4.Block64Kb)},
			{lz4.BlockSizeOption(lz4.Block256Kb), lz4.BlockChecksumOption(true), lz4.ChecksumOption(true)},
			{lz4.BlockSizeOption(lz4.Block4Mb), lz4.SizeOption(uint64(len(data)))},
			{lz4.BlockSizeOption(lz4.Block1Mb), lz4.ChecksumOption(false)},
		} {
			var frame bytes.Buffer
			w := lz4.NewWriter(&frame)
			if err := w.Apply(opts...); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(data); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			for _, free := range []int{-1, 0, 100, 70 << 10, 8 << 20} {
				var a arena // -1: a new arena, with no chunk yet
				if free >= 0 {
					a.chunk = make([]byte, 10, 10+free) // free bytes left before a new chunk
				}
				got, err := a.decompress(codecLz4, frame.Bytes())
				if err != nil {
					t.Fatalf("%d bytes, %d free: %v", len(data), free, err)
				}
				if !bytes.Equal(got, data) {
					t.Fatalf("%d bytes, %d free: decompressed %d bytes that differ", len(data), free, len(got))
				}
			}
		}
	}
}

func cloneBytes(b []byte) []byte { return append([]byte(nil), b...) }

// testBatch encodes an uncompressed v2 record batch of values at
// baseOffset, with a correct CRC.
func testBatch(baseOffset int64, attrs int16, producerID int64, values ...string) []byte {
	var recs []byte
	for i, v := range values {
		var r []byte
		r = append(r, 0)                          // attributes
		r = binary.AppendVarint(r, int64(i))      // timestamp delta
		r = binary.AppendVarint(r, int64(i))      // offset delta
		r = binary.AppendVarint(r, -1)            // null key
		r = binary.AppendVarint(r, int64(len(v))) // value
		r = append(r, v...)                       //
		r = binary.AppendVarint(r, 0)             // no headers
		recs = append(binary.AppendVarint(recs, int64(len(r))), r...)
	}
	b := binary.BigEndian.AppendUint64(nil, uint64(baseOffset))
	b = binary.BigEndian.AppendUint32(b, uint32(batchHeaderLen-12+len(recs)))
	b = binary.BigEndian.AppendUint32(b, 0) // leader epoch
	b = append(b, 2)                        // magic
	b = binary.BigEndian.AppendUint32(b, 0) // crc, below
	b = binary.BigEndian.AppendUint16(b, uint16(attrs))
	b = binary.BigEndian.AppendUint32(b, uint32(max(len(values)-1, 0)))
	b = binary.BigEndian.AppendUint64(b, 1000) // base timestamp
	b = binary.BigEndian.AppendUint64(b, 2000) // max timestamp
	b = binary.BigEndian.AppendUint64(b, uint64(producerID))
	b = binary.BigEndian.AppendUint16(b, 0) // producer epoch
	b = binary.BigEndian.AppendUint32(b, 0) // base sequence
	b = binary.BigEndian.AppendUint32(b, uint32(len(values)))
	b = append(b, recs...)
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], castagnoli))
	return b
}

// TestWalkBatches: the batch walker's own cases, on hand-built batches:
// records from the offset asked, empty batches stepped over, a truncated
// last batch left for the next fetch, a corrupt one refused.
func TestWalkBatches(t *testing.T) {
	walk := func(raw []byte, from int64) ([]string, int64, bool, error) {
		var a arena
		batches, next, partial, err := walkBatches(&fetchPartition{batches: raw}, &a, from, nil)
		var vals []string
		c := cursor{batches: batches, from: from}
		for {
			r, ok, cerr := c.next()
			if cerr != nil {
				return vals, next, partial, cerr
			}
			if !ok {
				break
			}
			vals = append(vals, fmt.Sprintf("%d:%s@%d", r.Offset, r.Value, r.Timestamp))
		}
		return vals, next, partial, err
	}
	two := append(testBatch(10, 0, -1, "a", "b", "c"), testBatch(13, 0, -1)...) // the second is empty
	three := append(cloneBytes(two), testBatch(14, attrLogAppendTime, -1, "d")...)
	badRecord := testBatch(10, 0, -1, "a", "b", "c")
	badRecord[batchHeaderLen+8] = 0x7e // the second record's length: 63
	binary.BigEndian.PutUint32(badRecord[17:], crc32.Checksum(badRecord[21:], castagnoli))
	for _, tt := range []struct {
		name    string
		raw     []byte
		from    int64
		want    string
		next    int64
		partial bool
		err     error
	}{
		{"whole", three, 10, "[10:a@1000 11:b@1001 12:c@1002 14:d@2000]", 15, false, nil},
		{"from the middle of a batch", three, 11, "[11:b@1001 12:c@1002 14:d@2000]", 15, false, nil},
		{"truncated last batch", three[:len(three)-3], 10, "[10:a@1000 11:b@1001 12:c@1002]", 14, true, nil},
		{"truncated header", three[:len(two)+10], 10, "[10:a@1000 11:b@1001 12:c@1002]", 14, true, nil},
		{"flipped bit", flip(three, len(two)+62), 10, "[10:a@1000 11:b@1001 12:c@1002]", 14, false, ErrCorrupt},
		// A batch whose CRC holds but whose second record's length runs
		// past the batch: the records before it, then the error.
		{"corrupt record", badRecord, 10, "[10:a@1000]", 13, false, ErrCorrupt},
	} {
		got, next, partial, err := walk(tt.raw, tt.from)
		if fmt.Sprint(got) != tt.want || next != tt.next || partial != tt.partial || !errors.Is(err, tt.err) {
			t.Errorf("%s: %v next %d partial %v err %v; want %s next %d partial %v err %v",
				tt.name, got, next, partial, err, tt.want, tt.next, tt.partial, tt.err)
		}
	}
	old := testBatch(0, 0, -1, "x")
	old[16] = 1
	if _, _, _, err := walk(old, 0); err == nil || !bytes.Contains([]byte(err.Error()), []byte("format v1")) {
		t.Errorf("a v1 message set: err %v; want it refused", err)
	}
}

func flip(b []byte, i int) []byte {
	c := cloneBytes(b)
	c[i] ^= 0x40
	return c
}
