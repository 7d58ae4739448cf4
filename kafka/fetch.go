package kafka

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The reader's own Fetch connection. A PartitionReader's fetcher sends
// Fetch requests on a plain TCP connection to the partition leader and
// reads each response into a buffer it reuses, then walks the record
// batches in place (batch.go). The messages are encoded and decoded with
// franz-go's kmsg, the protocol package of a maintained client; everything
// else (metadata, offsets, producing, transactions) stays with sarama.
//
// Why not sarama's Broker.Fetch: it decodes every record into its own
// structures, copying each decompressed batch twice and allocating per
// record, and gives no access to the response's bytes. On Nexmark that was
// about 30% of the server's CPU, and its short-lived buffers (a fresh
// decompression buffer per batch, 4 MB lz4 blocks from a pool the GC
// empties) were the part of the heap that made peak RSS grow with the
// length of a run. See docs/architecture.md, "Reading Kafka".

// fetchMaxVersion is the newest Fetch version the reader speaks: v13 and
// later name topics by id. v4 is the oldest with read_committed.
const (
	fetchMaxVersion = 12
	fetchMinVersion = 4
	// maxResponseSize bounds what a broker's response may claim to hold.
	maxResponseSize = fetchMaxBytesLimit + 1<<20
)

// errMalformed marks a response the reader could not parse; it is treated
// like a broken connection (reconnect and fetch again).
var errMalformed = errors.New("kafka: malformed fetch response")

// fetchConn is one connection to a broker for Fetch requests.
type fetchConn struct {
	nc      net.Conn
	fmt     *kmsg.RequestFormatter
	corr    int32
	req     []byte // the encoded request, reused
	version int16  // Fetch version both sides speak
	timeout time.Duration
}

// dialFetch connects to addr and agrees on a Fetch version with an
// ApiVersions request (v0, which every broker answers).
func dialFetch(addr, clientID string, timeout time.Duration) (*fetchConn, error) {
	nc, err := net.DialTimeout("tcp", addr, dialTimeout)
	if err != nil {
		return nil, err
	}
	c := &fetchConn{nc: nc, fmt: kmsg.NewRequestFormatter(kmsg.FormatterClientID(clientID)), timeout: timeout}
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 0
	var buf []byte
	body, err := c.roundTrip(req, &buf)
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	if err := resp.ReadFrom(body); err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("%w: ApiVersions: %v", errMalformed, err)
	}
	if resp.ErrorCode != 0 {
		_ = nc.Close()
		return nil, sarama.KError(resp.ErrorCode)
	}
	c.version = -1
	for _, k := range resp.ApiKeys {
		if k.ApiKey == kmsg.Fetch.Int16() && k.MaxVersion >= fetchMinVersion && k.MinVersion <= fetchMaxVersion {
			c.version = min(k.MaxVersion, fetchMaxVersion)
		}
	}
	if c.version < 0 {
		_ = nc.Close()
		return nil, fmt.Errorf("kafka: broker %s supports no Fetch version in %d-%d", addr, fetchMinVersion, fetchMaxVersion)
	}
	return c, nil
}

func (c *fetchConn) close() error { return c.nc.Close() }

// roundTrip sends req and reads the response into *buf (grown as needed),
// returning its body: what follows the response header.
func (c *fetchConn) roundTrip(req kmsg.Request, buf *[]byte) ([]byte, error) {
	c.corr++
	c.req = c.fmt.AppendRequest(c.req[:0], req, c.corr)
	if err := c.nc.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return nil, err
	}
	if _, err := c.nc.Write(c.req); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(c.nc, size[:]); err != nil {
		return nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(size[:])))
	if n < 4 || n > maxResponseSize {
		return nil, fmt.Errorf("%w: response of %d bytes", errMalformed, n)
	}
	if cap(*buf) < n {
		// Twice the size: responses vary (one batch whole, or several
		// up to the fetch size), and a buffer sized for each new
		// largest would grow for as long as the reader runs.
		*buf = make([]byte, n, 2*n)
	}
	b := (*buf)[:n]
	if _, err := io.ReadFull(c.nc, b); err != nil {
		return nil, err
	}
	if corr := int32(binary.BigEndian.Uint32(b)); corr != c.corr {
		return nil, fmt.Errorf("%w: correlation id %d, want %d", errMalformed, corr, c.corr)
	}
	b = b[4:]
	// Flexible responses carry tagged fields in their header, except
	// ApiVersions' (always header v0).
	if req.IsFlexible() && req.Key() != kmsg.ApiVersions.Int16() {
		var ok bool
		if b, ok = skipTags(b); !ok {
			return nil, fmt.Errorf("%w: header", errMalformed)
		}
	}
	return b, nil
}

// skipTags skips a tagged-field section: a count, then per field a tag, a
// size and that many bytes.
func skipTags(b []byte) ([]byte, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, false
	}
	b = b[k:]
	for ; n > 0; n-- {
		if _, k = binary.Uvarint(b); k <= 0 {
			return nil, false
		}
		b = b[k:]
		size, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < size {
			return nil, false
		}
		b = b[k+int(size):]
	}
	return b, true
}

// fetchPartition is what a Fetch response says about the one partition
// asked for.
type fetchPartition struct {
	err              error
	highWatermark    int64
	lastStableOffset int64
	aborted          []abortedTxn
	// redirected: the response names a preferred read replica (KIP-392)
	// or a diverging epoch rather than carrying what the range holds.
	redirected bool
	// throttle is how long the broker asks the client to wait before its
	// next request (a quota was exceeded); zero when it does not.
	throttle time.Duration
	batches  []byte // the record batches, aliasing the response buffer
}

type abortedTxn struct{ producerID, firstOffset int64 }

// fetch asks for topic/partition from offset, read_committed, and decodes
// the response into *buf (the raw response, reused) and the returned
// partition.
func (c *fetchConn) fetch(req *kmsg.FetchRequest, buf *[]byte) (fetchPartition, error) {
	req.Version = c.version
	body, err := c.roundTrip(req, buf)
	if err != nil {
		return fetchPartition{}, err
	}
	resp := kmsg.FetchResponse{Version: c.version}
	if err := resp.UnsafeReadFrom(body); err != nil {
		return fetchPartition{}, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if resp.ErrorCode != 0 {
		return fetchPartition{}, sarama.KError(resp.ErrorCode)
	}
	want := req.Topics[0].Partitions[0].Partition
	for _, t := range resp.Topics {
		if t.Topic != req.Topics[0].Topic {
			continue
		}
		for _, p := range t.Partitions {
			if p.Partition != want {
				continue
			}
			fp := fetchPartition{
				highWatermark:    p.HighWatermark,
				lastStableOffset: p.LastStableOffset,
				redirected:       p.PreferredReadReplica >= 0 || p.DivergingEpoch.EndOffset >= 0,
				throttle:         time.Duration(resp.ThrottleMillis) * time.Millisecond,
				batches:          p.RecordBatches,
			}
			if p.ErrorCode != 0 {
				fp.err = sarama.KError(p.ErrorCode)
			}
			for _, a := range p.AbortedTransactions {
				fp.aborted = append(fp.aborted, abortedTxn{a.ProducerID, a.FirstOffset})
			}
			return fp, nil
		}
	}
	return fetchPartition{}, sarama.ErrIncompleteResponse
}
