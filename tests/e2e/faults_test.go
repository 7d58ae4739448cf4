package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestExactlyOnceCrashBetweenSteps kills the engine at each of the two
// moments where Badger and Kafka disagree — state prepared but the Kafka
// transaction still open, and transaction committed but state not yet
// applied — and checks that recovery resolves the checkpoint the right way
// (discard, resp. apply) and that the output is still exactly once.
func TestExactlyOnceCrashBetweenSteps(t *testing.T) {
	for _, c := range []struct {
		point     string
		committed string
	}{
		{"after-prepare", "committed_in_kafka=false"},
		{"after-commit", "committed_in_kafka=true"},
	} {
		t.Run(c.point, func(t *testing.T) {
			const events = 60_000
			brokers := Brokers()
			if brokers == "" {
				brokers = StartServerWith(t, "").BrokerAddr
			}
			srv := StartServerWith(t, brokers, "--checkpoint-interval", "300ms")
			k, err := NewKafka(brokers)
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			if Brokers() != "" {
				cleanTopics(t, k)
				defer cleanTopics(t, k)
			}
			// The crash comes at the third exactly-once checkpoint of the run.
			srv.Stop()
			srv.Env = []string{"STREAMSQL_TEST_CRASH_AT=" + c.point + ":3"}
			srv.Start()
			setupCrashQuery(t, srv, "exactly_once")
			// Events trickle in so that every checkpoint, the crashing one
			// included, carries new results.
			produceEvents(t, k, 0, events/2, 1_000, 50*time.Millisecond)
			if !srv.WaitExit(60 * time.Second) {
				t.Fatalf("the engine did not crash at %s; log:\n%s", c.point, short(srv.Log(), 3000))
			}
			srv.Env = nil
			srv.Start()
			produceEvents(t, k, events/2, events, 10_000, 0)
			closeAllWindows(t, k, events)
			checkCounts(t, k, events, true)
			log := srv.Log()
			if !strings.Contains(log, "resolving the checkpoint a crash left pending") || !strings.Contains(log, c.committed) {
				t.Errorf("recovery did not resolve the pending checkpoint with %s; log:\n%s", c.committed, short(log, 3000))
			}
		})
	}
}
