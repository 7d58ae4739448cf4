package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// With -cpuprofile the bench profiles the server during the last query run
// without any change to the repository: it builds ./cmd/streamsql with
// `go build -overlay`, which adds the file below to package main of the
// server for that one build. The hook does nothing unless profileEnv is set;
// then SIGUSR1 starts a CPU profile into the named file and SIGUSR2 stops it
// and writes "<file>.done". Around the profile the hook also writes the
// allocation profile ("<file>.allocs0" before, "<file>.allocs" after), so
// that `go tool pprof -diff_base` shows what the query allocated. Figures
// from a -cpuprofile run include the profiler's own small overhead.
const profileEnv = "STREAMSQL_BENCH_CPUPROFILE"

const profileHookSource = `// Added by tests/bench through go build -overlay; not part of the repository.

package main

import (
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

func init() {
	path := os.Getenv("` + profileEnv + `")
	if path == "" {
		return
	}
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		var f *os.File
		for s := range sig {
			switch {
			case s == syscall.SIGUSR1 && f == nil:
				var err error
				if f, err = os.Create(path); err != nil {
					f = nil
					continue
				}
				writeAllocs(path + ".allocs0")
				if err := pprof.StartCPUProfile(f); err != nil {
					f.Close()
					f = nil
				}
			case s == syscall.SIGUSR2 && f != nil:
				pprof.StopCPUProfile()
				f.Close()
				f = nil
				writeAllocs(path + ".allocs")
				_ = os.WriteFile(path+".done", nil, 0o644)
			}
		}
	}()
}

// writeAllocs writes the allocation profile (allocations since start-up);
// the difference of the two taken around the query is the query's.
func writeAllocs(path string) {
	if h, err := os.Create(path); err == nil {
		_ = pprof.Lookup("allocs").WriteTo(h, 0)
		h.Close()
	}
}
`

// startServerProfile signals the server to start profiling and waits until
// the profile file exists, so the query is profiled from its first moment.
func startServerProfile(s *server) error {
	_ = os.Remove(s.profilePath)
	_ = os.Remove(s.profilePath + ".done")
	if err := s.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		return err
	}
	return waitForFile(s.profilePath, "start")
}

// stopServerProfile ends the profile; after it the file is complete.
func stopServerProfile(s *server) error {
	if err := s.cmd.Process.Signal(syscall.SIGUSR2); err != nil {
		return err
	}
	if err := waitForFile(s.profilePath+".done", "stop"); err != nil {
		return err
	}
	_ = os.Remove(s.profilePath + ".done")
	return nil
}

func waitForFile(path, what string) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("-cpuprofile: the server did not %s profiling (was it built with the hook?)", what)
}
