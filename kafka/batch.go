package kafka

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy/xerial"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Record batches (the v2 "magic 2" format every broker since Kafka 0.11
// writes) walked in place: a batch's records point into the response
// buffer, or into the decompression arena for compressed batches, so a
// fetch costs one copy of its data at most and no allocation per record.

// batchHeaderLen is the v2 record batch header: baseOffset int64,
// batchLength int32, partitionLeaderEpoch int32, magic int8, crc uint32,
// attributes int16, lastOffsetDelta int32, baseTimestamp int64,
// maxTimestamp int64, producerId int64, producerEpoch int16,
// baseSequence int32, records count int32.
const batchHeaderLen = 61

// Record batch attributes.
const (
	attrCodecMask     = 0x07
	attrLogAppendTime = 0x08
	attrTransactional = 0x10
	attrControl       = 0x20
)

// Compression codecs of the attributes' low bits.
const (
	codecNone   = 0
	codecGzip   = 1
	codecSnappy = 2
	codecLz4    = 3
	codecZstd   = 4
)

// maxDecompressedBatch bounds what one batch may decompress to, so that a
// corrupt or hostile batch cannot exhaust memory.
const maxDecompressedBatch = 256 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// recordBatch is one batch's header and its records' bytes (decompressed).
type recordBatch struct {
	baseOffset, lastOffset int64
	baseTimestamp, maxTs   int64
	producerID             int64
	attrs                  int16
	count                  int32
	records                []byte
}

func (b *recordBatch) control() bool       { return b.attrs&attrControl != 0 }
func (b *recordBatch) transactional() bool { return b.attrs&attrTransactional != 0 }

// nextBatch splits the first batch off raw. partial reports a truncated
// trailing batch (a fetch size limit cuts the last batch short); err a
// batch that is not v2 or fails its CRC. The records are still compressed.
func nextBatch(raw []byte) (b recordBatch, rest []byte, partial bool, err error) {
	if len(raw) < 17 { // up to and including magic
		return b, nil, true, nil
	}
	b.baseOffset = int64(binary.BigEndian.Uint64(raw))
	size := int64(int32(binary.BigEndian.Uint32(raw[8:])))
	if magic := raw[16]; magic != 2 {
		return b, nil, false, fmt.Errorf("kafka: record batch at offset %d has message format v%d; only v2 is supported", b.baseOffset, magic)
	}
	if size < batchHeaderLen-12 {
		return b, nil, false, fmt.Errorf("%w at offset %d: length %d", ErrCorrupt, b.baseOffset, size)
	}
	if int64(len(raw)) < 12+size {
		return b, nil, true, nil
	}
	batch := raw[:12+size]
	if crc := binary.BigEndian.Uint32(batch[17:]); crc32.Checksum(batch[21:], castagnoli) != crc {
		return b, nil, false, fmt.Errorf("%w at offset %d: CRC mismatch", ErrCorrupt, b.baseOffset)
	}
	b.attrs = int16(binary.BigEndian.Uint16(batch[21:]))
	b.lastOffset = b.baseOffset + int64(int32(binary.BigEndian.Uint32(batch[23:])))
	b.baseTimestamp = int64(binary.BigEndian.Uint64(batch[27:]))
	b.maxTs = int64(binary.BigEndian.Uint64(batch[35:]))
	b.producerID = int64(binary.BigEndian.Uint64(batch[43:]))
	b.count = int32(binary.BigEndian.Uint32(batch[57:]))
	b.records = batch[batchHeaderLen:]
	return b, raw[12+size:], false, nil
}

// cursor hands out the records of a fetch's data batches in offset order,
// parsing each as it is asked for: a fetch keeps its batches, not a slice
// of records, so what a reader holds is the fetched and decompressed bytes
// and nothing per record.
type cursor struct {
	batches   []recordBatch // not started yet; records decompressed
	cur       recordBatch   // the batch being read
	data      []byte        // cur's records not read yet
	left      int32         // how many
	from      int64         // records before it are skipped
	partition int32
}

// next returns the next record, false at the end of the fetch, or a
// corrupt record's error (after which the cursor is at its end).
func (c *cursor) next() (r Record, ok bool, err error) {
	for {
		if c.left == 0 {
			if len(c.batches) == 0 {
				return r, false, nil
			}
			c.cur, c.batches = c.batches[0], c.batches[1:]
			c.data, c.left = c.cur.records, c.cur.count
		}
		var rest []byte
		if r, rest, err = parseRecord(c.data); err != nil {
			c.left, c.batches = 0, nil
			return r, false, fmt.Errorf("%w at offset %d: %v", ErrCorrupt, c.cur.baseOffset, err)
		}
		c.data = rest
		c.left--
		r.Offset += c.cur.baseOffset
		if r.Offset < c.from {
			continue // compressed batches start before the offset asked
		}
		if c.cur.attrs&attrLogAppendTime != 0 {
			r.Timestamp = c.cur.maxTs
		} else {
			r.Timestamp += c.cur.baseTimestamp
		}
		r.Partition = c.partition
		return r, true, nil
	}
}

// parseRecord reads one record: length varint, attributes int8,
// timestampDelta varlong, offsetDelta varint, key and value (varint
// length, -1 for null, then bytes), headers (skipped with the rest of the
// record). Offset and Timestamp are returned as deltas.
func parseRecord(data []byte) (r Record, rest []byte, err error) {
	length, n := binary.Varint(data)
	if n <= 0 || length < 0 || int64(len(data)-n) < length {
		return r, nil, errors.New("truncated record")
	}
	rec, rest := data[n:n+int(length)], data[n+int(length):]
	if len(rec) < 1 {
		return r, nil, errors.New("empty record")
	}
	rec = rec[1:] // attributes: unused
	var ok bool
	if r.Timestamp, rec, ok = varint(rec); !ok {
		return r, nil, errors.New("bad timestamp delta")
	}
	if r.Offset, rec, ok = varint(rec); !ok {
		return r, nil, errors.New("bad offset delta")
	}
	if r.Key, rec, ok = varBytes(rec); !ok {
		return r, nil, errors.New("bad key")
	}
	if r.Value, _, ok = varBytes(rec); !ok {
		return r, nil, errors.New("bad value")
	}
	return r, rest, nil
}

func varint(b []byte) (int64, []byte, bool) {
	v, n := binary.Varint(b)
	if n <= 0 {
		return 0, nil, false
	}
	return v, b[n:], true
}

// varBytes reads a varint length and that many bytes; -1 is null (nil).
func varBytes(b []byte) ([]byte, []byte, bool) {
	l, b, ok := varint(b)
	switch {
	case !ok || l < -1 || l > int64(len(b)):
		return nil, nil, false
	case l == -1:
		return nil, b, true
	}
	return b[:l:l], b[l:], true
}

// isAbortMarker reports whether a control batch is a transaction abort
// marker: its record's key is (version int16, type int16) with type 0.
func (b *recordBatch) isAbortMarker() bool {
	if b.count < 1 || b.attrs&attrCodecMask != codecNone {
		return false
	}
	r, _, err := parseRecord(b.records)
	return err == nil && len(r.Key) >= 4 && binary.BigEndian.Uint16(r.Key[2:4]) == 0
}

// arena is decompression space reused from fetch to fetch. Batches are
// decompressed into its current chunk while they fit; a batch that does
// not goes into a new chunk (the records of the batches before it keep the
// old one alive until the fetch is recycled). Before each fetch, reserve
// makes room for what its records are expected to inflate to, so a steady
// read settles within a few fetches on one chunk per buffer and then
// allocates nothing.
type arena struct {
	chunk []byte
	// perRecord is the most bytes per record a batch has inflated to:
	// walkBatches reserves that much per compressed record of a fetch
	// before it starts, so a fetch rarely has to move to a new chunk.
	perRecord int
}

// minArenaChunk is the smallest chunk: a 128 KiB fetch of JSON typically
// decompresses to 0.4-1 MB.
const minArenaChunk = 1 << 20

func (a *arena) reset() {
	a.chunk = a.chunk[:0]
}

// reserve makes sure the current chunk has n bytes free, starting a new
// chunk twice that size when it has not: fetches vary (a whole batch, or
// several up to the fetch size), and a chunk sized for each new largest
// would be replaced, a little larger, for as long as the reader runs.
func (a *arena) reserve(n int) {
	if cap(a.chunk)-len(a.chunk) < n {
		a.chunk = make([]byte, 0, max(minArenaChunk, 2*n))
	}
}

// room returns the free space at the end of the current chunk, at least n
// bytes of it, starting a new chunk when there is less and copying keep
// (the part of the batch being decompressed already written at the end of
// the chunk) into it. newKeep is keep, or its copy, as a slice of the
// chunk that ends where the free space begins, so that appending n bytes
// written there is out = out[:len(out)+n].
func (a *arena) room(n int, keep []byte) (newKeep, free []byte) {
	switch {
	case cap(a.chunk)-len(a.chunk) < n:
		c := make([]byte, len(keep), max(minArenaChunk, 2*(len(keep)+n)))
		copy(c, keep)
		a.chunk, keep = c, c
	case keep == nil:
		keep = a.chunk[len(a.chunk):len(a.chunk)]
	}
	return keep, a.chunk[len(a.chunk):cap(a.chunk)]
}

// wrote extends out and the chunk by the n bytes just written at its end.
func (a *arena) wrote(out []byte, n int) []byte {
	a.chunk = a.chunk[:len(a.chunk)+n]
	return out[:len(out)+n]
}

// decompress returns the batch's records decompressed into the arena.
func (a *arena) decompress(codec int16, src []byte) ([]byte, error) {
	switch codec {
	case codecNone:
		return src, nil
	case codecLz4:
		return a.lz4Frame(src)
	case codecGzip:
		return a.gzip(src)
	case codecSnappy:
		_, free := a.room(2*len(src), nil)
		out, err := xerial.DecodeInto(free[:0], src)
		if err != nil {
			return nil, err
		}
		return a.took(out), nil
	case codecZstd:
		_, free := a.room(4*len(src), nil)
		out, err := zstdDecoder().DecodeAll(src, free[:0])
		if err != nil {
			return nil, err
		}
		return a.took(out), nil
	}
	return nil, fmt.Errorf("unknown compression codec %d", codec)
}

// took accounts for out, written at the end of the current chunk or, when
// it did not fit, allocated by the decoder (the next fetch's reserve,
// sized from perRecord, then makes room for such a batch).
func (a *arena) took(out []byte) []byte {
	free := a.chunk[len(a.chunk):cap(a.chunk)]
	if len(out) > 0 && len(free) >= len(out) && &free[0] == &out[0] {
		a.chunk = a.chunk[:len(a.chunk)+len(out)]
	}
	return out
}

// lz4Frame decompresses an LZ4 frame (what Kafka's lz4 codec writes) block
// by block straight into the arena. Block and content checksums are not
// verified: the batch's CRC-32C, checked before, covers the compressed
// bytes, as in Kafka's own consumer.
func (a *arena) lz4Frame(src []byte) ([]byte, error) {
	if len(src) < 7 || binary.LittleEndian.Uint32(src) != 0x184D2204 {
		return nil, errors.New("lz4: not a frame")
	}
	flg, bd := src[4], src[5]
	if flg>>6 != 1 {
		return nil, errors.New("lz4: unsupported frame version")
	}
	blockMax := 1 << (8 + 2*int(bd>>4&7)) // 4: 64 KiB ... 7: 4 MiB
	if bd>>4&7 < 4 {
		return nil, errors.New("lz4: bad block size")
	}
	pos := 6
	if flg&0x08 != 0 { // content size
		pos += 8
	}
	if flg&0x01 != 0 { // dictionary id
		return nil, errors.New("lz4: dictionaries are not supported")
	}
	pos++ // header checksum
	blockChecksum := flg&0x10 != 0
	var out []byte // this frame's output so far, at the end of the chunk
	for {
		if pos+4 > len(src) {
			return nil, io.ErrUnexpectedEOF
		}
		size := binary.LittleEndian.Uint32(src[pos:])
		pos += 4
		if size == 0 {
			break // end mark; a content checksum may follow
		}
		raw := size&0x80000000 != 0
		size &= 0x7FFFFFFF
		if int(size) > len(src)-pos || int(size) > blockMax {
			return nil, io.ErrUnexpectedEOF
		}
		block := src[pos : pos+int(size)]
		pos += int(size)
		if blockChecksum {
			pos += 4
		}
		if len(out)+blockMax > maxDecompressedBatch {
			return nil, fmt.Errorf("lz4: batch decompresses to more than %d bytes", maxDecompressedBatch)
		}
		var free []byte
		if raw {
			out, free = a.room(len(block), out)
			out = a.wrote(out, copy(free, block))
			continue
		}
		// Decompress into the space there is; a block that does not
		// fit goes into a new chunk with room for eight times it (JSON
		// rarely compresses more), and then for the largest block the
		// frame allows.
		want := 0
		var lastErr error
		for {
			out, free = a.room(want, out)
			if len(free) > 0 { // lz4's assembly faults on an empty destination
				n, err := lz4.UncompressBlock(block, free)
				if err == nil {
					out = a.wrote(out, n)
					break
				}
				lastErr = err
			}
			switch {
			case len(free) >= blockMax:
				return nil, fmt.Errorf("lz4: %w", lastErr)
			case want == 0:
				want = min(blockMax, max(8*len(block)+64, len(free)+1))
			default:
				want = blockMax
			}
		}
	}
	return out, nil
}

// gzip decompresses into the arena, growing it as the stream goes.
func (a *arena) gzip(src []byte) ([]byte, error) {
	zr, _ := gzipReaders.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(bytes.NewReader(src))
	} else {
		err = zr.Reset(bytes.NewReader(src))
	}
	if err != nil {
		return nil, err
	}
	defer gzipReaders.Put(zr)
	var out []byte
	for {
		var free []byte
		out, free = a.room(max(4*len(src), 64<<10), out)
		n, err := io.ReadFull(zr, free)
		out = a.wrote(out, n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(out) > maxDecompressedBatch {
			return nil, fmt.Errorf("gzip: batch decompresses to more than %d bytes", maxDecompressedBatch)
		}
	}
}

var gzipReaders sync.Pool

var zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxDecompressedBatch))
	if err != nil {
		panic(err) // only for invalid options
	}
	return d
})

// compressedSize counts the records of raw's whole compressed batches and
// their bytes. It reads headers only; walkBatches checks what it relies
// on.
func compressedSize(raw []byte) (records, bytes int) {
	for len(raw) >= batchHeaderLen {
		size := int(int32(binary.BigEndian.Uint32(raw[8:])))
		if size < batchHeaderLen-12 || len(raw) < 12+size {
			break
		}
		attrs := int16(binary.BigEndian.Uint16(raw[21:]))
		n := int(int32(binary.BigEndian.Uint32(raw[57:])))
		if attrs&attrControl == 0 && attrs&attrCodecMask != codecNone && n > 0 {
			records += n
			bytes += size
		}
		raw = raw[12+size:]
	}
	return records, bytes
}

// walkBatches appends the data batches of a fetched partition that hold
// records at or after from to out, read_committed and decompressed (a
// cursor reads their records), and returns the offset after the last
// whole batch (from if there was none) and whether a truncated trailing
// batch was left out.
//
// It follows the Java consumer's CompletedFetch: the response lists the
// aborted transactions (producer id, first offset) overlapping the fetched
// range. Walking batches in offset order, a producer id becomes aborted
// once a transaction of it starts at or before the batch's last offset; its
// transactional data batches are then skipped until its abort marker (a
// control batch) clears it. Control batches are never returned.
func walkBatches(p *fetchPartition, a *arena, from int64, out []recordBatch) (_ []recordBatch, next int64, partial bool, err error) {
	next = from
	aborted := p.aborted
	if len(aborted) > 1 {
		slices.SortFunc(aborted, func(x, y abortedTxn) int { return cmp.Compare(x.firstOffset, y.firstOffset) })
	}
	var abortedPIDs map[int64]struct{}
	// Size the arena for the whole fetch at once, with room to spare, so
	// that it reaches its size in a few fetches and then stops
	// allocating, instead of growing a little at every larger fetch for
	// as long as the reader runs.
	compressed, compressedBytes := compressedSize(p.batches)
	if a.perRecord > 0 {
		a.reserve(compressed * a.perRecord)
	} else {
		// No batch seen yet: guess from the compressed size (JSON
		// typically compresses 4-8 times).
		a.reserve(8 * compressedBytes)
	}
	out = out[:0]
	for raw := p.batches; len(raw) > 0; {
		var b recordBatch
		b, raw, partial, err = nextBatch(raw)
		if err != nil || partial {
			return out, next, partial, err
		}
		if b.lastOffset < next {
			continue // a batch wholly before our offset
		}
		if b.producerID >= 0 {
			for len(aborted) > 0 && aborted[0].firstOffset <= b.lastOffset {
				if abortedPIDs == nil {
					abortedPIDs = make(map[int64]struct{})
				}
				abortedPIDs[aborted[0].producerID] = struct{}{}
				aborted = aborted[1:]
			}
			if b.control() {
				if b.isAbortMarker() {
					delete(abortedPIDs, b.producerID)
				}
			} else if _, ok := abortedPIDs[b.producerID]; ok && b.transactional() {
				next = b.lastOffset + 1
				continue
			}
		}
		if b.control() || b.count == 0 {
			next = b.lastOffset + 1
			continue
		}
		if codec := b.attrs & attrCodecMask; codec != codecNone {
			if b.records, err = a.decompress(codec, b.records); err != nil {
				return out, next, false, fmt.Errorf("%w at offset %d: %v", ErrCorrupt, b.baseOffset, err)
			}
			a.perRecord = max(a.perRecord, (len(b.records)+int(b.count)-1)/int(b.count))
		}
		out = append(out, b)
		next = b.lastOffset + 1
	}
	return out, next, false, nil
}
