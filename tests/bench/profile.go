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

// With -heapprofile the same hook, told by heapProfileEnv, watches the
// server's live heap (runtime/metrics, every 20 ms) and, whenever it is 5%
// above the largest seen so far, writes the in-use heap profile to the named
// file (as of the garbage collection that measured it): at the end the file
// holds the heap at its peak, and "<file>.live" says how large it was.
const heapProfileEnv = "STREAMSQL_BENCH_HEAPPROFILE"

// -suite nexmark builds the server with the hook too, and sets freeMemEnv to
// a file name: on SIGWINCH the hook then runs a garbage collection, returns
// the freed memory to the OS (debug.FreeOSMemory) and creates the file. The
// bench does this before each measurement, so that a query's "RSS before"
// and peak are not those the previous query left behind (Go keeps freed
// heap for a while).
const freeMemEnv = "STREAMSQL_BENCH_FREEMEM"

const profileHookSource = `// Added by tests/bench through go build -overlay; not part of the repository.

package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"syscall"
	"time"
)

func init() {
	if path := os.Getenv("` + heapProfileEnv + `"); path != "" {
		go watchHeap(path)
	}
	if path := os.Getenv("` + freeMemEnv + `"); path != "" {
		free := make(chan os.Signal, 1)
		signal.Notify(free, syscall.SIGWINCH)
		go func() {
			for range free {
				debug.FreeOSMemory()
				_ = os.WriteFile(path, nil, 0o644)
			}
		}()
	}
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

// watchHeap writes the heap profile whenever the live heap reaches a new
// high (by 5%).
func watchHeap(path string) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var high uint64
	for range time.Tick(20 * time.Millisecond) {
		metrics.Read(sample)
		live := sample[0].Value.Uint64()
		if live <= high+high/20 {
			continue
		}
		high = live
		if f, err := os.Create(path + ".tmp"); err == nil {
			err = pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
			if err == nil {
				_ = os.Rename(path+".tmp", path)
				_ = os.WriteFile(path+".live", []byte(fmt.Sprintf("%d bytes live at %s\n", live, time.Now().Format(time.RFC3339Nano))), 0o644)
			}
		}
	}
}

// writeAllocs writes the allocation profile (allocations since start-up);
// the difference of the two taken around the query is the query's. The
// profile is published by garbage collections, so one runs first: without
// it the profile stops at the last collection, which in a query that
// hardly allocates can be before the query started.
func writeAllocs(path string) {
	runtime.GC()
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

// freeServerMemory asks a server built with the hook and freeMemEnv to
// collect its garbage and return it to the OS, and waits until it has.
func freeServerMemory(s *server) error {
	if s.freeMemPath == "" {
		return nil
	}
	_ = os.Remove(s.freeMemPath)
	if err := s.cmd.Process.Signal(syscall.SIGWINCH); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(s.freeMemPath); err == nil {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("the server did not free its memory within 10s (was it built with the hook?)")
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
