// Package e2e drives a real streamsql binary the way users do: over the
// Postgres wire protocol with pgx and psql, and reading and writing Kafka with
// sarama and kcat. Behaviour lives in script files under tests/slt (see
// script.go for the format); this package runs them against the embedded
// broker, or against the Kafka cluster named by STREAMSQL_TEST_BROKERS.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Binary is the streamsql binary under test, built once by TestMain.
var Binary string

// Brokers is the external Kafka cluster (STREAMSQL_TEST_BROKERS), or empty
// for the server's embedded broker.
func Brokers() string { return os.Getenv("STREAMSQL_TEST_BROKERS") }

// BuildBinary compiles cmd/streamsql into dir.
func BuildBinary(dir string) (string, error) {
	out := filepath.Join(dir, "streamsql")
	cmd := exec.Command("go", "build", "-o", out, "github.com/streamsql/streamsql/cmd/streamsql")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building streamsql: %w", err)
	}
	return out, nil
}

// Server is one streamsql process with its own data directory and ports. It
// can be killed (SIGKILL) and started again on the same directory and ports.
type Server struct {
	t       testing.TB
	DataDir string
	PgAddr  string
	HTTP    string
	// BrokerAddr is where Kafka clients of the test connect.
	BrokerAddr string
	embedded   string
	extraArgs  []string
	// Env is added to the process environment at each Start.
	Env []string

	mu  sync.Mutex
	cmd *exec.Cmd
	log *bytes.Buffer
}

func freePort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// StartServer starts streamsql with a fresh data directory. args are extra
// flags (e.g. --checkpoint-interval).
func StartServer(t testing.TB, args ...string) *Server {
	t.Helper()
	return StartServerWith(t, Brokers(), args...)
}

// StartServerWith starts streamsql against brokers, or with its own
// embedded broker when brokers is empty.
func StartServerWith(t testing.TB, brokers string, args ...string) *Server {
	t.Helper()
	s := &Server{t: t, DataDir: t.TempDir(), PgAddr: freePort(t), HTTP: freePort(t), extraArgs: args}
	if b := brokers; b != "" {
		s.BrokerAddr = b
	} else {
		s.embedded = freePort(t)
		s.BrokerAddr = s.embedded
	}
	s.Start()
	t.Cleanup(s.Kill)
	return s
}

// Start launches the process and waits until it accepts connections.
func (s *Server) Start() {
	s.t.Helper()
	args := []string{"--data-dir", s.DataDir, "--pg-addr", s.PgAddr, "--http-addr", s.HTTP}
	if s.embedded != "" {
		args = append(args, "--embedded-broker", s.embedded)
	} else {
		args = append(args, "--brokers", s.BrokerAddr)
	}
	args = append(args, s.extraArgs...)
	cmd := exec.Command(Binary, args...)
	cmd.Env = append(os.Environ(), s.Env...)
	log := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting streamsql: %v", err)
	}
	s.mu.Lock()
	s.cmd, s.log = cmd, log
	s.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", s.PgAddr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("streamsql did not start listening on %s; log:\n%s", s.PgAddr, s.Log())
}

// WaitExit waits up to timeout for the process to end by itself (a crash)
// and reports whether it did.
func (s *Server) WaitExit(timeout time.Duration) bool {
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd == nil {
		return true
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
		s.mu.Lock()
		s.cmd = nil
		s.mu.Unlock()
		return true
	case <-time.After(timeout):
		return false
	}
}

// Log returns what the process has printed so far.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.log == nil {
		return ""
	}
	return s.log.String()
}

// Kill stops the process with SIGKILL, as a crash would.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
}

// Stop shuts the process down cleanly (SIGTERM) and waits for it.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
	}
}

// Restart kills the process and starts it again on the same data directory.
func (s *Server) Restart() {
	s.Kill()
	s.Start()
}

// URL is the connection string for pgx.
func (s *Server) URL() string {
	return fmt.Sprintf("postgres://streamsql@%s/streamsql?sslmode=disable", s.PgAddr)
}

// Connect opens a pgx connection to the server.
func (s *Server) Connect(ctx context.Context) (*pgx.Conn, error) {
	return pgx.Connect(ctx, s.URL())
}

// PsqlArgs are the psql arguments that reach the server.
func (s *Server) PsqlArgs() []string {
	host, port, _ := net.SplitHostPort(s.PgAddr)
	return []string{"-h", host, "-p", port, "-U", "streamsql", "-d", "streamsql", "-X", "-w"}
}

// short trims long logs for failure messages.
func short(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

var _ = strings.TrimSpace
