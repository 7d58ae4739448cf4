package kafka

import (
	"testing"
)

// TestTxnGroupOffsetsRecordCommit checks what exactly-once recovery relies
// on: group offsets added to a transaction become visible, with their
// metadata, exactly when the transaction commits.
func TestTxnGroupOffsetsRecordCommit(t *testing.T) {
	c, _ := testClient(t)
	topic := topicName(t)
	mustCreate(t, c, topic, 2)
	group := "g-" + topic
	p := mustProducer(t, c, "txn-"+topic)

	offs, mds, err := c.GroupOffsets(group, topic, 2)
	if err != nil {
		t.Fatal(err)
	}
	if offs[0] != -1 || offs[1] != -1 || mds[0] != "" {
		t.Fatalf("fresh group: offsets %v metadata %q", offs, mds)
	}

	// An aborted transaction leaves no trace.
	if err := p.BeginTxn(); err != nil {
		t.Fatal(err)
	}
	if err := p.Send([]Message{{Topic: topic, Value: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	if err := p.AddOffsetsToTxn(group, topic, []int64{5, 7}, "epoch=1"); err != nil {
		t.Fatal(err)
	}
	if err := p.AbortTxn(); err != nil {
		t.Fatal(err)
	}
	if offs, _, err = c.GroupOffsets(group, topic, 2); err != nil {
		t.Fatal(err)
	}
	if offs[0] != -1 {
		t.Fatalf("aborted transaction's offsets visible: %v", offs)
	}

	// A committed one is visible with its metadata.
	if err := p.BeginTxn(); err != nil {
		t.Fatal(err)
	}
	if err := p.AddOffsetsToTxn(group, topic, []int64{10, 20}, "epoch=2"); err != nil {
		t.Fatal(err)
	}
	if err := p.CommitTxn(); err != nil {
		t.Fatal(err)
	}
	if offs, mds, err = c.GroupOffsets(group, topic, 2); err != nil {
		t.Fatal(err)
	}
	if offs[0] != 10 || offs[1] != 20 || mds[0] != "epoch=2" || mds[1] != "epoch=2" {
		t.Fatalf("committed: offsets %v metadata %q", offs, mds)
	}
}
