package kafka

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The tests run against an embedded kfake broker started per test, or,
// when STREAMSQL_TEST_BROKERS=host:port[,host:port] is set, against that
// cluster (tests/kafka/broker.sh starts a real Apache Kafka). Topic names
// are unique per run so a shared cluster needs no cleanup between runs.
const brokersEnv = "STREAMSQL_TEST_BROKERS"

func externalBrokers() []string {
	if v := os.Getenv(brokersEnv); v != "" {
		return strings.Split(v, ",")
	}
	return nil
}

// testCluster returns the seed brokers to test against and, when it
// started one, the embedded broker (nil against an external cluster).
func testCluster(t testing.TB) ([]string, *Embedded) {
	t.Helper()
	if b := externalBrokers(); b != nil {
		return b, nil
	}
	e, err := StartEmbedded("127.0.0.1:0", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return []string{e.Addr()}, e
}

func testClient(t testing.TB) (*Client, *Embedded) {
	t.Helper()
	brokers, e := testCluster(t)
	c, err := NewClient(brokers, "streamsql-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, e
}

var topicSeq atomic.Int64

var nonTopicChars = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// topicName returns a topic name unique to this test and run.
func topicName(t testing.TB) string {
	name := nonTopicChars.ReplaceAllString(t.Name(), "-")
	return fmt.Sprintf("%s-%d-%d", name, time.Now().UnixNano()%1e9, topicSeq.Add(1))
}

func mustCreate(t testing.TB, c *Client, topic string, partitions int) {
	t.Helper()
	if _, err := c.CreateTopic(topic, partitions, 1); err != nil {
		t.Fatal(err)
	}
	dropAfter(t, c, topic)
}

// dropAfter deletes topic when the test ends, so a shared cluster is left
// as it was found.
func dropAfter(t testing.TB, c *Client, topic string) {
	t.Cleanup(func() { _ = c.DeleteTopic(topic) })
}

func mustProducer(t testing.TB, c *Client, txnID string) *Producer {
	t.Helper()
	p, err := c.NewProducer(ProducerOptions{TransactionalID: txnID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func mustReader(t testing.TB, c *Client, topic string, partition int32, offset int64) *PartitionReader {
	t.Helper()
	r, err := c.NewPartitionReader(topic, partition, offset)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// readUntil polls r until Position reaches end, failing the test after
// timeout. It returns every record read.
func readUntil(t testing.TB, r *PartitionReader, end int64, timeout time.Duration) []Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var all []Record
	buf := make([]Record, 0, 64)
	for r.Position() < end {
		var err error
		buf, err = r.Poll(ctx, buf, 64, 200*time.Millisecond)
		if err != nil {
			t.Fatalf("poll %s/%d at %d (want end %d, read %d): %v", r.Topic(), r.Partition(), r.Position(), end, len(all), err)
		}
		all = keep(all, buf)
	}
	return all
}

// readN polls r until it has n records, failing after timeout.
func readN(t testing.TB, r *PartitionReader, n int, timeout time.Duration) []Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var all []Record
	buf := make([]Record, 0, 64)
	for len(all) < n {
		var err error
		buf, err = r.Poll(ctx, buf, n-len(all), 200*time.Millisecond)
		if err != nil {
			t.Fatalf("poll %s/%d: read %d of %d: %v", r.Topic(), r.Partition(), len(all), n, err)
		}
		all = keep(all, buf)
	}
	return all
}

// keep appends recs to all with their keys and values copied: a record's
// bytes are the reader's only until its next Poll.
func keep(all, recs []Record) []Record {
	for _, r := range recs {
		r.Key, r.Value = bytes.Clone(r.Key), bytes.Clone(r.Value)
		all = append(all, r)
	}
	return all
}

func values(recs []Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Value)
	}
	return out
}
