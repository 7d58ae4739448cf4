package kafka

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestMurmur2KafkaVectors(t *testing.T) {
	// From Kafka's UtilsTest.testMurmur2 (clients module).
	tests := []struct {
		in   string
		want int32
	}{
		{"21", -973932308},
		{"foobar", -790332482},
		{"a-little-bit-long-string", -985981536},
		{"a-little-bit-longer-string", -1486304829},
		{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
		{"abc", 479470107},
	}
	for _, tt := range tests {
		if got := murmur2([]byte(tt.in)); got != tt.want {
			t.Errorf("murmur2(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestPartitionForKey(t *testing.T) {
	tests := []struct {
		key  string
		n    int32
		want int32
	}{
		// toPositive(-790332482) = 1357151166; a plain absolute value
		// (790332482) would give 2 each time.
		{"foobar", 10, 6},
		{"foobar", 3, 0},
		{"foobar", 12, 6},
		{"21", 1, 0},
	}
	for _, tt := range tests {
		if got := PartitionForKey([]byte(tt.key), tt.n); got != tt.want {
			t.Errorf("PartitionForKey(%q, %d) = %d, want %d", tt.key, tt.n, got, tt.want)
		}
	}
}

// franz-go's default partitioner implements the Java client's keyed
// placement independently of ours; agreeing on random keys (lengths 0-40,
// so every tail length) and partition counts is a second witness.
func TestPartitionForKeyMatchesFranzGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		key := make([]byte, rng.IntN(41))
		for j := range key {
			key[j] = byte(rng.UintN(256))
		}
		n := 1 + rng.IntN(64)
		want := kgo.StickyKeyPartitioner(nil).ForTopic("t").Partition(&kgo.Record{Key: key}, n)
		if got := PartitionForKey(key, int32(n)); int(got) != want {
			t.Fatalf("PartitionForKey(%x, %d) = %d, franz-go says %d", key, n, got, want)
		}
	}
}

func TestNewClientNoBroker(t *testing.T) {
	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()

	start := time.Now()
	_, err = NewClient([]string{addr}, "test")
	if err == nil {
		t.Fatal("NewClient succeeded with no broker")
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q does not name the broker %s", err, addr)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("NewClient took %v to fail", d)
	}
}

func TestSaramaConfigIsFreshCopy(t *testing.T) {
	c, _ := testClient(t)
	a, b := c.SaramaConfig(), c.SaramaConfig()
	if a == b {
		t.Fatal("SaramaConfig returned the same pointer twice")
	}
	if a.Version != saramaVersion || a.Consumer.IsolationLevel != sarama.ReadCommitted {
		t.Errorf("version %v isolation %v", a.Version, a.Consumer.IsolationLevel)
	}
	if err := a.Validate(); err != nil {
		t.Error(err)
	}
	a.ClientID = "changed"
	if c.SaramaConfig().ClientID == "changed" {
		t.Error("changing a returned config changed the client's")
	}
}

func TestTopicLifecycle(t *testing.T) {
	c, _ := testClient(t)
	name := topicName(t)
	other := name + "-b"

	dropAfter(t, c, name)
	dropAfter(t, c, other)
	created, err := c.CreateTopic(name, 3, 1)
	if err != nil || !created {
		t.Fatalf("CreateTopic = %v, %v; want true, nil", created, err)
	}
	created, err = c.CreateTopic(name, 3, 1)
	if err != nil || created {
		t.Fatalf("CreateTopic again = %v, %v; want false, nil", created, err)
	}
	mustCreate(t, c, other, 1)
	if _, err := c.CreateTopic(name+"-zero", 0, 1); err == nil {
		t.Error("CreateTopic with 0 partitions succeeded")
	}

	info, ok, err := c.Topic(name)
	if err != nil || !ok {
		t.Fatalf("Topic = %v, %v, %v", info, ok, err)
	}
	if want := (TopicInfo{Name: name, Partitions: 3, ReplicationFactor: 1}); info != want {
		t.Errorf("Topic = %+v, want %+v", info, want)
	}

	topics, err := c.Topics()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSortedFunc(topics, func(a, b TopicInfo) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("Topics not sorted: %v", topics)
	}
	var found int
	for _, ti := range topics {
		if strings.HasPrefix(ti.Name, "__") {
			t.Errorf("Topics lists internal topic %q", ti.Name)
		}
		if ti.Name == name || ti.Name == other {
			found++
		}
	}
	if found != 2 {
		t.Errorf("Topics = %v, missing %q or %q", topics, name, other)
	}

	if err := c.DeleteTopic(name); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Topic(name); ok || err != nil {
		t.Errorf("Topic after delete = %v, %v", ok, err)
	}
	if err := c.DeleteTopic(name); !errors.Is(err, ErrUnknownTopic) {
		t.Errorf("DeleteTopic of missing topic = %v, want ErrUnknownTopic", err)
	}
	// The name can be reused at once.
	if created, err := c.CreateTopic(name, 2, 1); err != nil || !created {
		t.Errorf("CreateTopic after delete = %v, %v", created, err)
	}
}

func TestUnknownTopicErrors(t *testing.T) {
	c, _ := testClient(t)
	missing := topicName(t)
	mustCreate(t, c, missing+"-one", 1)
	p := mustProducer(t, c, "")

	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"StartOffsets", func() error { _, err := c.StartOffsets(missing); return err }, ErrUnknownTopic},
		{"EndOffsets", func() error { _, err := c.EndOffsets(missing); return err }, ErrUnknownTopic},
		{"OffsetsForTime", func() error { _, err := c.OffsetsForTime(missing, 1); return err }, ErrUnknownTopic},
		{"NewPartitionReader", func() error { _, err := c.NewPartitionReader(missing, 0, 0); return err }, ErrUnknownTopic},
		{"NewPartitionReader partition", func() error { _, err := c.NewPartitionReader(missing+"-one", 1, 0); return err }, ErrUnknownPartition},
		// Topics are never created implicitly, by the embedded broker
		// either.
		{"Send", func() error { return p.Send([]Message{{Topic: missing, Value: []byte("x")}}) }, ErrUnknownTopic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// Keyed records land where the Java client's partitioner puts them; keyless
// ones spread over partitions.
func TestKeyedPlacement(t *testing.T) {
	c, _ := testClient(t)
	topic := topicName(t)
	const parts = 6
	mustCreate(t, c, topic, parts)
	p := mustProducer(t, c, "")

	var msgs []Message
	keys := []string{"21", "foobar", "abc", "a-little-bit-long-string", "", "x"}
	for i := 0; i < 300; i++ {
		k := fmt.Sprintf("key-%d", i)
		if i < len(keys) {
			k = keys[i]
		}
		msgs = append(msgs, Message{Topic: topic, Key: []byte(k), Value: []byte(k)})
	}
	for i := 0; i < 60; i++ {
		msgs = append(msgs, Message{Topic: topic, Value: []byte(fmt.Sprintf("keyless-%d", i))})
	}
	if err := p.Send(msgs); err != nil {
		t.Fatal(err)
	}

	ends, err := c.EndOffsets(topic)
	if err != nil {
		t.Fatal(err)
	}
	var keyed, keyless int
	keylessParts := map[int32]bool{}
	for part := int32(0); part < parts; part++ {
		r := mustReader(t, c, topic, part, 0)
		for _, rec := range readUntil(t, r, ends[part], 10*time.Second) {
			if rec.Partition != part {
				t.Errorf("record says partition %d, read from %d", rec.Partition, part)
			}
			if rec.Key == nil {
				keyless++
				keylessParts[part] = true
				continue
			}
			keyed++
			if want := PartitionForKey(rec.Key, parts); want != part {
				t.Errorf("key %q in partition %d, murmur2 says %d", rec.Key, part, want)
			}
		}
	}
	if keyed != 300 || keyless != 60 {
		t.Errorf("read %d keyed and %d keyless records, want 300 and 60", keyed, keyless)
	}
	if len(keylessParts) < 2 {
		t.Errorf("keyless records all went to %v", keylessParts)
	}
	// The hand-computed placement: toPositive(murmur2("foobar")) % 6 = 0.
	if got := PartitionForKey([]byte("foobar"), parts); got != 0 {
		t.Errorf("foobar -> %d", got)
	}
}

// Poll returns exactly what was written, in order, with offsets, keys,
// null keys and values, and timestamps.
func TestPollReadsInOrder(t *testing.T) {
	c, _ := testClient(t)
	topic := topicName(t)
	mustCreate(t, c, topic, 1)
	p := mustProducer(t, c, "")

	base := time.Now().Add(-time.Hour).UnixMilli()
	var want []Message
	for i := 0; i < 1000; i++ {
		m := Message{Topic: topic, Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(fmt.Sprintf("v%d", i)), Timestamp: base + int64(i)}
		switch i % 100 {
		case 7:
			m.Value = nil // tombstone
		case 8:
			m.Key = nil
		case 9:
			m.Value = []byte{} // empty, not null
		}
		want = append(want, m)
	}
	// Several sends, so the log has several batches.
	for i := 0; i < len(want); i += 250 {
		if err := p.Send(want[i : i+250]); err != nil {
			t.Fatal(err)
		}
	}

	r := mustReader(t, c, topic, 0, 0)
	// Small max, so records come out of one fetch over several Polls.
	var got []Record
	ctx := context.Background()
	buf := make([]Record, 0, 7)
	for len(got) < len(want) {
		var err error
		buf, err = r.Poll(ctx, buf, 7, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(buf) == 0 {
			t.Fatalf("Poll timed out after %d records", len(got))
		}
		if len(buf) > 7 {
			t.Fatalf("Poll returned %d records, max 7", len(buf))
		}
		got = keep(got, buf)
	}
	for i, rec := range got {
		w := want[i]
		if rec.Offset != int64(i) || rec.Partition != 0 || rec.Timestamp != w.Timestamp ||
			!bytesEqualNil(rec.Key, w.Key) || !bytesEqualNil(rec.Value, w.Value) {
			t.Fatalf("record %d = {key %q (nil %v) value %q (nil %v) offset %d ts %d}, want {key %q value %q (nil %v) ts %d}",
				i, rec.Key, rec.Key == nil, rec.Value, rec.Value == nil, rec.Offset, rec.Timestamp, w.Key, w.Value, w.Value == nil, w.Timestamp)
		}
	}
	if r.Position() != int64(len(want)) {
		t.Errorf("Position = %d, want %d", r.Position(), len(want))
	}

	// A reader starting mid-log starts at its offset, even inside a
	// compressed batch.
	r2 := mustReader(t, c, topic, 0, 333)
	recs := readN(t, r2, 10, 10*time.Second)
	if recs[0].Offset != 333 || recs[9].Offset != 342 {
		t.Errorf("reader from 333 read offsets %d..%d", recs[0].Offset, recs[9].Offset)
	}
}

// bytesEqualNil compares byte slices, telling nil (Kafka null) from empty.
func bytesEqualNil(a, b []byte) bool {
	return (a == nil) == (b == nil) && string(a) == string(b)
}

func TestPollTimeoutCancelAndClose(t *testing.T) {
	c, _ := testClient(t)
	topic := topicName(t)
	mustCreate(t, c, topic, 1)
	r := mustReader(t, c, topic, 0, 0)

	start := time.Now()
	before := r.f.fetches.Load()
	recs, err := r.Poll(context.Background(), nil, 10, 300*time.Millisecond)
	if err != nil || len(recs) != 0 {
		t.Fatalf("Poll on empty partition = %v, %v", recs, err)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 3*time.Second {
		t.Errorf("Poll with wait 300ms returned after %v", d)
	}
	if n := r.f.fetches.Load() - before; n > 4 {
		t.Errorf("%d fetches in 300ms on an idle partition: the reader spins", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	start = time.Now()
	_, err = r.Poll(ctx, nil, 10, time.Minute)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Poll with cancelled ctx = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancelled Poll returned after %v", d)
	}

	// A record produced while Poll waits is returned promptly.
	p := mustProducer(t, c, "")
	go func() {
		time.Sleep(200 * time.Millisecond)
		_ = p.Send([]Message{{Topic: topic, Value: []byte("late")}})
	}()
	recs, err = r.Poll(context.Background(), nil, 10, 10*time.Second)
	if err != nil || len(recs) != 1 || string(recs[0].Value) != "late" {
		t.Fatalf("Poll = %v, %v", values(recs), err)
	}

	start = time.Now()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %v", d)
	}
	if _, err := r.Poll(context.Background(), nil, 10, time.Second); !errors.Is(err, ErrClosed) {
		t.Errorf("Poll after Close = %v, want ErrClosed", err)
	}
}

func TestPollOffsetOutOfRange(t *testing.T) {
	c, _ := testClient(t)
	topic := topicName(t)
	mustCreate(t, c, topic, 1)
	r := mustReader(t, c, topic, 0, 1000)
	_, err := r.Poll(context.Background(), nil, 10, 10*time.Second)
	if !errors.Is(err, sarama.ErrOffsetOutOfRange) {
		t.Fatalf("Poll past the end = %v, want offset out of range", err)
	}
	if _, err2 := r.Poll(context.Background(), nil, 10, time.Second); !errors.Is(err2, sarama.ErrOffsetOutOfRange) {
		t.Errorf("error is not sticky: %v", err2)
	}
}

func TestOffsets(t *testing.T) {
	c, _ := testClient(t)
	topic := topicName(t)
	mustCreate(t, c, topic, 2)
	p := mustProducer(t, c, "")

	// Timestamps an hour back, a second apart, all on partition 0 (by
	// key); partition 1 stays empty.
	base := time.Now().Add(-time.Hour).Truncate(time.Second).UnixMilli()
	key := []byte("foobar") // partition 1 of 2? computed below
	part := PartitionForKey(key, 2)
	var msgs []Message
	for i := 0; i < 10; i++ {
		msgs = append(msgs, Message{Topic: topic, Key: key, Value: []byte{byte(i)}, Timestamp: base + int64(i)*1000})
	}
	if err := p.Send(msgs[:5]); err != nil {
		t.Fatal(err)
	}
	if err := p.Send(msgs[5:]); err != nil {
		t.Fatal(err)
	}
	empty := 1 - part

	starts, err := c.StartOffsets(topic)
	if err != nil {
		t.Fatal(err)
	}
	ends, err := c.EndOffsets(topic)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(starts, []int64{0, 0}) {
		t.Errorf("StartOffsets = %v", starts)
	}
	wantEnds := make([]int64, 2)
	wantEnds[part] = 10
	if !slices.Equal(ends, wantEnds) {
		t.Errorf("EndOffsets = %v, want %v", ends, wantEnds)
	}

	tests := []struct {
		ms   int64
		want int64 // on the written partition; the empty one is always 0
	}{
		{0, 0},
		{base - 1, 0},
		{base, 0},
		{base + 1, 1},
		{base + 3500, 4},
		{base + 9000, 9},
		{base + 9001, 10}, // none that late: the end offset
		{time.Now().Add(time.Hour).UnixMilli(), 10},
	}
	for _, tt := range tests {
		got, err := c.OffsetsForTime(topic, tt.ms)
		if err != nil {
			t.Fatal(err)
		}
		if got[part] != tt.want || got[empty] != 0 {
			t.Errorf("OffsetsForTime(base%+d) = %v, want %d on partition %d", tt.ms-base, got, tt.want, part)
		}
	}
	if _, err := c.OffsetsForTime(topic, -5); err == nil {
		t.Error("OffsetsForTime with a negative time succeeded")
	}

	// OffsetStart and OffsetEnd resolve when the reader is made.
	r := mustReader(t, c, topic, part, OffsetEnd)
	if r.Position() != 10 {
		t.Errorf("reader at OffsetEnd starts at %d", r.Position())
	}
	r = mustReader(t, c, topic, part, OffsetStart)
	if r.Position() != 0 {
		t.Errorf("reader at OffsetStart starts at %d", r.Position())
	}
}

// Records of aborted transactions are never read; EndOffsets stops at the
// first offset of an open transaction, and the reader cannot pass it until
// the transaction commits.
func TestTransactions(t *testing.T) {
	c, _ := testClient(t)
	topic := topicName(t)
	mustCreate(t, c, topic, 1)
	p := mustProducer(t, c, "txn-"+topic)

	send := func(vals ...string) {
		t.Helper()
		var msgs []Message
		for _, v := range vals {
			msgs = append(msgs, Message{Topic: topic, Key: []byte(v), Value: []byte(v)})
		}
		if err := p.Send(msgs); err != nil {
			t.Fatal(err)
		}
	}
	txn := func(commit bool, vals ...string) {
		t.Helper()
		if err := p.BeginTxn(); err != nil {
			t.Fatal(err)
		}
		send(vals...)
		var err error
		if commit {
			err = p.CommitTxn()
		} else {
			err = p.AbortTxn()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	txn(true, "a1", "a2")
	txn(false, "b1", "b2")
	txn(true, "c1")

	// a1 a2 COMMIT b1 b2 ABORT c1 COMMIT
	ends := waitEndOffsets(t, c, topic, []int64{8})
	r := mustReader(t, c, topic, 0, 0)
	recs := readUntil(t, r, ends[0], 10*time.Second)
	if got := values(recs); !slices.Equal(got, []string{"a1", "a2", "c1"}) {
		t.Errorf("read %v, want [a1 a2 c1]", got)
	}
	if len(recs) == 3 && (recs[0].Offset != 0 || recs[1].Offset != 1 || recs[2].Offset != 6) {
		t.Errorf("offsets %d %d %d, want 0 1 6", recs[0].Offset, recs[1].Offset, recs[2].Offset)
	}
	if r.Position() != 8 {
		t.Errorf("Position after the last marker = %d, want 8", r.Position())
	}

	// An open transaction holds the end offset at its first record.
	if err := p.BeginTxn(); err != nil {
		t.Fatal(err)
	}
	send("d1", "d2")
	ends, err := c.EndOffsets(topic)
	if err != nil {
		t.Fatal(err)
	}
	hwm, err := c.client.GetOffset(topic, 0, sarama.OffsetNewest)
	if err != nil {
		t.Fatal(err)
	}
	if ends[0] != 8 || hwm != 10 {
		t.Errorf("with a transaction open: EndOffsets = %v (want [8]), high watermark %d (want 10)", ends, hwm)
	}
	before := r.f.fetches.Load()
	if recs, err := r.Poll(context.Background(), nil, 10, time.Second); err != nil || len(recs) != 0 {
		t.Errorf("Poll past an open transaction = %v, %v; want nothing", values(recs), err)
	}
	// The broker holds each Fetch up to fetchMaxWait even though records
	// exist past the last stable offset; the reader must not spin.
	if n := r.f.fetches.Load() - before; n > 3*int64(time.Second/fetchMaxWait) {
		t.Errorf("%d fetches in a second while waiting on an open transaction", n)
	}
	if err := p.CommitTxn(); err != nil {
		t.Fatal(err)
	}
	ends = waitEndOffsets(t, c, topic, []int64{11})
	if got := values(readUntil(t, r, ends[0], 10*time.Second)); !slices.Equal(got, []string{"d1", "d2"}) {
		t.Errorf("read %v after commit, want [d1 d2]", got)
	}

	// Transaction methods need a transactional producer.
	plain := mustProducer(t, c, "")
	if err := plain.BeginTxn(); !errors.Is(err, ErrNotTransactional) {
		t.Errorf("BeginTxn on a plain producer = %v", err)
	}
}

// Two transactional producers interleave batches on one partition; one
// commits and one aborts, repeatedly. A reader starting at any offset must
// see exactly the committed records from there on. This exercises the
// aborted-transaction bookkeeping against batches of several producers.
func TestInterleavedTransactions(t *testing.T) {
	c, _ := testClient(t)
	topic := topicName(t)
	mustCreate(t, c, topic, 1)
	p1 := mustProducer(t, c, "txn1-"+topic)
	p2 := mustProducer(t, c, "txn2-"+topic)
	plain := mustProducer(t, c, "")

	send := func(p *Producer, v string) {
		t.Helper()
		if err := p.Send([]Message{{Topic: topic, Value: []byte(v)}}); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var committed []string
	for round := 0; round < 4; round++ {
		commit1 := round%2 == 0
		must(p1.BeginTxn())
		must(p2.BeginTxn())
		for i := 0; i < 3; i++ {
			v1, v2 := fmt.Sprintf("p1-r%d-%d", round, i), fmt.Sprintf("p2-r%d-%d", round, i)
			send(p1, v1)
			send(p2, v2)
			if commit1 {
				committed = append(committed, v1)
			} else {
				committed = append(committed, v2)
			}
			if i == 1 {
				v := fmt.Sprintf("plain-r%d", round)
				send(plain, v) // non-transactional records in between
				committed = append(committed, v)
			}
		}
		if commit1 {
			must(p1.CommitTxn())
			must(p2.AbortTxn())
		} else {
			must(p2.CommitTxn())
			must(p1.AbortTxn())
		}
	}
	// Per round: 3 records of each producer, 1 plain, 2 markers.
	ends := waitEndOffsets(t, c, topic, []int64{4 * 9})
	all := readUntil(t, mustReader(t, c, topic, 0, 0), ends[0], 10*time.Second)
	// Committed records come out in offset order, so compare as sets
	// ordered by offset: the send order above is the offset order.
	if got := values(all); !slices.Equal(got, committed) {
		t.Fatalf("read %v\nwant %v", got, committed)
	}
	for start := int64(1); start < ends[0]; start++ {
		r := mustReader(t, c, topic, 0, start)
		got := readUntil(t, r, ends[0], 10*time.Second)
		var want []Record
		for _, rec := range all {
			if rec.Offset >= start {
				want = append(want, rec)
			}
		}
		if !slices.Equal(values(got), values(want)) {
			t.Fatalf("from offset %d read %v, want %v", start, values(got), values(want))
		}
		_ = r.Close()
	}
}

// The embedded broker keeps topics and records across a restart with the
// same data directory.
func TestEmbeddedRestart(t *testing.T) {
	if externalBrokers() != nil {
		t.Skip("restarts the embedded broker")
	}
	dir := t.TempDir()
	e, err := StartEmbedded("127.0.0.1:0", dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient([]string{e.Addr()}, "test")
	if err != nil {
		t.Fatal(err)
	}
	topic := topicName(t)
	mustCreate(t, c, topic, 2)
	p, err := c.NewProducer(ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []Message
	for i := 0; i < 500; i++ {
		msgs = append(msgs, Message{Topic: topic, Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("value-%d", i))})
	}
	if err := p.Send(msgs); err != nil {
		t.Fatal(err)
	}
	endsBefore, err := c.EndOffsets(topic)
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Close()
	_ = c.Close()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e, err = StartEmbedded("127.0.0.1:0", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c, err = NewClient([]string{e.Addr()}, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	info, ok, err := c.Topic(topic)
	if err != nil || !ok || info.Partitions != 2 {
		t.Fatalf("after restart Topic = %+v, %v, %v", info, ok, err)
	}
	ends, err := c.EndOffsets(topic)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ends, endsBefore) {
		t.Fatalf("EndOffsets after restart = %v, before %v", ends, endsBefore)
	}
	seen := map[string]bool{}
	for part := int32(0); part < 2; part++ {
		for _, rec := range readUntil(t, mustReader(t, c, topic, part, 0), ends[part], 10*time.Second) {
			if PartitionForKey(rec.Key, 2) != part || string(rec.Value) != "value-"+string(rec.Key) {
				t.Errorf("partition %d record %q=%q", part, rec.Key, rec.Value)
			}
			seen[string(rec.Key)] = true
		}
	}
	if len(seen) != 500 {
		t.Errorf("read %d distinct records after restart, want 500", len(seen))
	}
	// And it still takes writes.
	p, err = c.NewProducer(ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Send([]Message{{Topic: topic, Key: []byte("new"), Value: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
}

func TestStartEmbeddedAddress(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:0", true},
		{"localhost:0", true},
		{"0.0.0.0:0", false},
		{"127.0.0.1", false},
		{"127.0.0.1:x", false},
	}
	for _, tt := range tests {
		e, err := StartEmbedded(tt.addr, "")
		if (err == nil) != tt.ok {
			t.Errorf("StartEmbedded(%q) error %v, want ok=%v", tt.addr, err, tt.ok)
		}
		if e != nil {
			if !strings.HasPrefix(e.Addr(), "127.0.0.1:") {
				t.Errorf("StartEmbedded(%q).Addr() = %q", tt.addr, e.Addr())
			}
			_ = e.Close()
		}
	}
}

// A reader rides out its broker going away and coming back (here the
// embedded broker restarting on the same port), resuming where it was.
func TestReaderSurvivesBrokerRestart(t *testing.T) {
	if externalBrokers() != nil {
		t.Skip("restarts the embedded broker")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	dir := t.TempDir()
	e, err := StartEmbedded(addr, dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient([]string{addr}, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	topic := topicName(t)
	mustCreate(t, c, topic, 1)
	produce := func(from, to int) {
		t.Helper()
		p, err := c.NewProducer(ProducerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		var msgs []Message
		for i := from; i < to; i++ {
			msgs = append(msgs, Message{Topic: topic, Value: []byte(fmt.Sprint(i))})
		}
		if err := p.Send(msgs); err != nil {
			t.Fatal(err)
		}
	}
	produce(0, 100)
	r := mustReader(t, c, topic, 0, 0)
	first := readN(t, r, 100, 10*time.Second)

	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	// Poll while the broker is down: nothing, and no error yet.
	if recs, err := r.Poll(context.Background(), nil, 10, 500*time.Millisecond); err != nil || len(recs) != 0 {
		t.Fatalf("Poll with the broker down = %v, %v", values(recs), err)
	}
	e, err = StartEmbedded(addr, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	produce(100, 150)
	rest := readN(t, r, 50, 20*time.Second)
	got := values(append(first, rest...))
	for i, v := range got {
		if v != fmt.Sprint(i) {
			t.Fatalf("record %d = %q after restart; read %v", i, v, got)
		}
	}
}

// waitEndOffsets waits until EndOffsets(topic) equals want and returns it.
// Apache Kafka's CommitTxn and AbortTxn return once the coordinator has
// logged the decision; it writes the markers to the partitions, which
// advances their last stable offsets, a moment later.
func waitEndOffsets(t testing.TB, c *Client, topic string, want []int64) []int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ends, err := c.EndOffsets(topic)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(ends, want) {
			return ends
		}
		if time.Now().After(deadline) {
			t.Fatalf("EndOffsets(%s) = %v, want %v", topic, ends, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
