package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// server is the streamsql process under measurement. The bench builds the
// binary itself (rather than `go run`) so that the pid it samples in /proc is
// the server and not the go tool.
type server struct {
	cmd     *exec.Cmd
	dataDir string
	logPath string
	pgAddr  string
	// httpAddr serves /metrics (the sinks' restart counters).
	httpAddr string
	// brokerAddr is where the bench's own Kafka clients connect: the
	// embedded broker inside the server, or the -brokers cluster.
	brokerAddr string
	embedded   bool
	// profilePath is set when the binary was built with the CPU-profile
	// hook (see profile.go); empty otherwise.
	profilePath string
	// freeMemPath is set when the hook frees memory on request (see
	// freeServerMemory).
	freeMemPath string
}

// repoRoot is the directory of the main module, so the bench works from any
// working directory inside the repository.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the streamsql module (go env GOMOD is empty)")
	}
	return filepath.Dir(mod), nil
}

// buildServer compiles ./cmd/streamsql into dir. With withProfileHook the
// build gets one extra file through -overlay (nothing in the repository
// changes): a signal-driven CPU profiler, described in profile.go.
func buildServer(root, dir string, withProfileHook bool) (string, error) {
	bin := filepath.Join(dir, "streamsql")
	args := []string{"build", "-o", bin}
	if withProfileHook {
		overlay, err := writeProfileOverlay(root, dir)
		if err != nil {
			return "", err
		}
		args = append(args, "-overlay", overlay)
	}
	args = append(args, "./cmd/streamsql")
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/streamsql: %w\n%s", err, stderr.String())
	}
	return bin, nil
}

func writeProfileOverlay(root, dir string) (string, error) {
	src := filepath.Join(dir, "bench_cpuprofile.go")
	if err := os.WriteFile(src, []byte(profileHookSource), 0o644); err != nil {
		return "", err
	}
	overlay := map[string]map[string]string{"Replace": {
		filepath.Join(root, "cmd", "streamsql", "zz_bench_cpuprofile.go"): src,
	}}
	b, err := json.Marshal(overlay)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "overlay.json")
	return path, os.WriteFile(path, b, 0o644)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startServer launches bin with a data directory under dir and free ports,
// its log going to a file (so nothing the server prints lands in the middle
// of a measurement), and waits until it accepts Postgres connections.
// serverHooks are the environment variables of the profiling hook
// (profile.go); all empty for a server built without it.
type serverHooks struct {
	cpuProfile, heapProfile string
	// freeMem enables freeServerMemory.
	freeMem bool
}

func startServer(bin, dir, brokers string, parallelism int, hooks serverHooks) (*server, error) {
	s := &server{dataDir: filepath.Join(dir, "data"), logPath: filepath.Join(dir, "server.log")}
	var err error
	if s.pgAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	if s.httpAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	args := []string{"--data-dir", s.dataDir, "--pg-addr", s.pgAddr, "--http-addr", s.httpAddr}
	if brokers != "" {
		s.brokerAddr = brokers
		args = append(args, "--brokers", brokers)
	} else {
		if s.brokerAddr, err = freeAddr(); err != nil {
			return nil, err
		}
		s.embedded = true
		args = append(args, "--embedded-broker", s.brokerAddr)
	}
	if parallelism > 0 {
		args = append(args, "--parallelism", fmt.Sprint(parallelism))
	}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child keeps its own descriptor
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.Env = os.Environ()
	if hooks.cpuProfile != "" {
		s.profilePath = hooks.cpuProfile
		s.cmd.Env = append(s.cmd.Env, profileEnv+"="+hooks.cpuProfile)
	}
	if hooks.heapProfile != "" {
		s.cmd.Env = append(s.cmd.Env, heapProfileEnv+"="+hooks.heapProfile)
	}
	if hooks.freeMem {
		s.freeMemPath = filepath.Join(dir, "freemem.done")
		s.cmd.Env = append(s.cmd.Env, freeMemEnv+"="+s.freeMemPath)
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return nil, fmt.Errorf("streamsql exited during start-up; log:\n%s", s.logTail(4000))
		default:
		}
		if c, err := net.DialTimeout("tcp", s.pgAddr, 200*time.Millisecond); err == nil {
			c.Close()
			return s, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.kill()
	return nil, fmt.Errorf("streamsql did not listen on %s within 30s; log:\n%s", s.pgAddr, s.logTail(4000))
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) url() string {
	return fmt.Sprintf("postgres://streamsql@%s/streamsql?sslmode=disable", s.pgAddr)
}

// kill stops the server with SIGKILL: the data directory is thrown away.
func (s *server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	s.waitExit(5 * time.Second)
}

// stop asks the server to shut down cleanly (SIGTERM), so that the embedded
// broker writes its state and a kept data directory can be reopened.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	if !s.waitExit(60 * time.Second) {
		s.kill()
	}
}

func (s *server) waitExit(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		// Signal 0 fails once the process is gone (it is reaped by the
		// goroutine started in startServer).
		if err := s.cmd.Process.Signal(syscall.Signal(0)); err != nil {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func (s *server) logTail(n int) string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > n {
		b = append([]byte("..."), b[len(b)-n:]...)
	}
	return string(b)
}
