package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "streamsql-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	Binary, err = BuildBinary(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestScripts runs every tests/slt/*.slt file against a fresh server.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("../slt/*.slt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no script files found under tests/slt")
	}
	sort.Strings(files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			runScript(t, f)
		})
	}
}

func runScript(t *testing.T, path string) {
	srv := StartServer(t, "--checkpoint-interval", "500ms")
	k, err := NewKafka(srv.BrokerAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if Brokers() != "" {
		// A shared cluster: start and leave it without this script's topics.
		cleanTopics(t, k)
		defer cleanTopics(t, k)
	}
	r := &Runner{Server: srv, Kafka: k}
	if err := r.Run(context.Background(), path); err != nil {
		t.Fatalf("%v\n--- server log (tail)\n%s", err, short(srv.Log(), 4000))
	}
}

func cleanTopics(t *testing.T, k *Kafka) {
	topics, err := k.Topics()
	if err != nil {
		t.Fatal(err)
	}
	if err := k.DeleteTopics(topics); err != nil {
		t.Fatal(err)
	}
}
