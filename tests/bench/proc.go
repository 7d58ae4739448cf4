package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Linux reports process and machine CPU in USER_HZ ticks, which is 100 on
// every architecture Go supports there (it is fixed by the kernel ABI, not
// by CONFIG_HZ).
const userHZ = 100

const tick = time.Second / userHZ

// selfCPU is the CPU time (user + system, all threads) this process has
// used, at rusage's microsecond resolution.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procTimes is what /proc/pid/stat says about a process's CPU use so far
// (all threads, including exited ones).
type procTimes struct {
	user, sys time.Duration // 10 ms resolution
	minFaults int64         // page faults served without I/O: mostly fresh heap being touched
}

func (p procTimes) cpu() time.Duration { return p.user + p.sys }

func readProcTimes(pid int) (procTimes, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procTimes{}, err
	}
	// The command name (field 2) is parenthesised and may contain spaces;
	// the numeric fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procTimes{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); minflt is field 10, utime and stime are
	// fields 14 and 15.
	if len(f) < 13 {
		return procTimes{}, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	minflt, err1 := strconv.ParseInt(f[7], 10, 64)
	ut, err2 := strconv.ParseInt(f[11], 10, 64)
	st, err3 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return procTimes{}, fmt.Errorf("/proc/%d/stat: bad minflt/utime/stime", pid)
	}
	return procTimes{user: time.Duration(ut) * tick, sys: time.Duration(st) * tick, minFaults: minflt}, nil
}

// procCPU is the CPU time (utime + stime) of process pid.
func procCPU(pid int) (time.Duration, error) {
	t, err := readProcTimes(pid)
	return t.cpu(), err
}

// procStatusKB reads a "Vm...:  N kB" line of /proc/pid/status.
func procStatusKB(pid int, key string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, key)
}

// resetPeakRSS resets the kernel's high-water mark of pid's resident set
// (VmHWM) to its current RSS, so that a later VmHWM is the peak of what ran
// in between. It needs Linux 4.0+ and the right to write the process's
// clear_refs (same user); ok is false otherwise.
func resetPeakRSS(pid int) bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
}

// machineCPU is the busy and total CPU time of the whole machine, summed
// over cores, from the first line of /proc/stat.
type machineCPU struct{ busy, total time.Duration }

func readMachineCPU() machineCPU {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return machineCPU{}
	}
	var m machineCPU
	// user nice system idle iowait irq softirq steal (guest time is already
	// counted in user).
	for i, s := range f[1:9] {
		v, _ := strconv.ParseInt(s, 10, 64)
		d := time.Duration(v) * tick
		m.total += d
		if i != 3 && i != 4 {
			m.busy += d
		}
	}
	return m
}

// cpuSample is taken at the start and the end of a timed part.
type cpuSample struct {
	at      time.Time
	self    time.Duration
	server  procTimes
	machine machineCPU
}

func sampleCPU(serverPID int) (cpuSample, error) {
	s := cpuSample{at: time.Now(), self: selfCPU(), machine: readMachineCPU()}
	var err error
	s.server, err = readProcTimes(serverPID)
	return s, err
}

// cpuUse is what a timed part cost in CPU: the bench process, the server
// process, and everything else on the machine (busy time not accounted to
// either, which is other work competing for the cores).
type cpuUse struct {
	Wall   time.Duration `json:"wall_ns"`
	Self   time.Duration `json:"bench_cpu_ns"`
	Server time.Duration `json:"server_cpu_ns"`
	// ServerSys is the kernel's part of Server; with ServerFaults (minor
	// page faults) it shows the cost of the server touching fresh memory.
	ServerSys    time.Duration `json:"server_sys_cpu_ns"`
	ServerFaults int64         `json:"server_minor_faults"`
	Others       time.Duration `json:"others_cpu_ns"`
}

func cpuBetween(a, b cpuSample) cpuUse {
	u := cpuUse{
		Wall:         b.at.Sub(a.at),
		Self:         b.self - a.self,
		Server:       b.server.cpu() - a.server.cpu(),
		ServerSys:    b.server.sys - a.server.sys,
		ServerFaults: b.server.minFaults - a.server.minFaults,
	}
	u.Others = (b.machine.busy - a.machine.busy) - u.Self - u.Server
	if u.Others < 0 {
		u.Others = 0 // tick rounding
	}
	return u
}

// othersCores is the average number of cores other processes kept busy.
func (u cpuUse) othersCores() float64 {
	if u.Wall <= 0 {
		return 0
	}
	return u.Others.Seconds() / u.Wall.Seconds()
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func numCPU() int { return runtime.NumCPU() }
