//go:build linux

package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// TestPushPsqlInteractive is Ctrl-C as a user presses it: psql runs on a
// terminal (a pseudo-terminal here; opening one needs Linux ioctls, hence
// this file), the test types ^C while an endless push query streams, psql
// sends a CancelRequest, prints the error and returns to its prompt; the
// same connection then answers another push query (through FETCH_COUNT's
// cursor), another ^C, a bounded query, and psql exits with status 0 at
// end of input (^D).
func TestPushPsqlInteractive(t *testing.T) {
	bin := requireClient(t, "psql", "postgresql-client")
	srv := StartServer(t, "--checkpoint-interval", "500ms")
	k := clientKafka(t, srv, "pi")
	clientLogOnFailure(t, srv)
	conn := pushConnect(t, srv)
	pushExec(t, conn, pushStreamDDL("pi", 1))
	produceClicks(t, k, "pi", click{1, "/home", "10:00:01"}, click{2, "/cart", "10:00:02"})

	ptmx, pts, err := openPTY()
	if err != nil {
		t.Fatalf("opening a pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	// -n: no readline, so the terminal's own line editing applies.
	cmd := exec.Command(bin, append(srv.PsqlArgs(), "-n", "-P", "pager=off")...)
	cmd.Env = append(clientEnv(), "TERM=dumb")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
	// psql leads its own session with the terminal as its controlling one,
	// so ^C typed on it is a SIGINT to psql.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pts.Close()
	defer cmd.Process.Kill()
	out := &pushOutput{}
	copied := make(chan struct{})
	go func() {
		// Reading the master fails (EIO) once psql has exited.
		_, _ = io.Copy(out, ptmx)
		close(copied)
	}()
	typeLine := func(s string) {
		t.Helper()
		if _, err := ptmx.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}

	const canceled = "Cancel request sent\nERROR:  canceling statement due to user request\n"
	pos := out.waitFor(t, 0, "streamsql=# ")
	typeLine("COPY (SELECT page FROM pi EMIT CHANGES) TO STDOUT;\n")
	pos = out.waitFor(t, pos, "/home\n/cart\n")
	time.Sleep(300 * time.Millisecond)
	typeLine("\x03") // ^C
	pos = out.waitFor(t, pos, canceled)
	pos = out.waitFor(t, pos, "streamsql=# ")

	typeLine("\\set FETCH_COUNT 1\n")
	pos = out.waitFor(t, pos, "streamsql=# ")
	typeLine("SELECT page FROM pi EMIT CHANGES;\n")
	pos = out.waitFor(t, pos, " /cart\n")
	time.Sleep(300 * time.Millisecond)
	typeLine("\x03")
	pos = out.waitFor(t, pos, canceled)
	pos = out.waitFor(t, pos, "streamsql=# ")

	typeLine("\\unset FETCH_COUNT\nSELECT COUNT(*) AS clicks FROM pi;\n")
	pos = out.waitFor(t, pos, " clicks \n--------\n      2\n(1 row)\n")
	out.waitFor(t, pos, "streamsql=# ")
	typeLine("\x04") // ^D: end of input

	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) || err != nil {
			t.Fatalf("psql: %v\n%s", err, out.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("psql did not exit at end of input\n%s", out.String())
	}
	<-copied
	if n := strings.Count(out.String(), "Cancel request sent"); n != 2 {
		t.Errorf("%d cancel requests in the session, want 2\n%s", n, out.String())
	}
}

// openPTY opens a pseudo-terminal pair: the master, which the test reads and
// types into, and the slave, which becomes psql's terminal.
func openPTY() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		master.Close()
		return nil, nil, e
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		master.Close()
		return nil, nil, e
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	return master, slave, nil
}

// pushOutput collects what psql writes to its terminal.
type pushOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *pushOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	// The terminal turns "\n" into "\r\n"; the test compares plain lines.
	o.buf.Write(bytes.ReplaceAll(p, []byte("\r\n"), []byte("\n")))
	return len(p), nil
}

func (o *pushOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// waitFor waits until the output after offset from contains want and
// returns the offset just past it.
func (o *pushOutput) waitFor(t *testing.T, from int, want string) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := o.String()
		if i := strings.Index(s[from:], want); i >= 0 {
			return from + i + len(want)
		}
		if time.Now().After(deadline) {
			t.Fatalf("psql did not print %q within 30s; output since the last step:\n%s", want, s[from:])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
