package pgwire

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// runPsql runs the psql binary against srv with one -c command, without
// reading ~/.psqlrc or prompting for a password, in the C locale so that its
// messages are in English.
func runPsql(t *testing.T, srv *Server, command string) (stdout, stderr string, exitCode int) {
	t.Helper()
	cmd, out, errOut := psqlCommand(t, srv, command)
	return finishPsql(t, cmd.Run(), out, errOut)
}

// psqlCommand prepares the psql command runPsql runs.
func psqlCommand(t *testing.T, srv *Server, command string) (cmd *exec.Cmd, stdout, stderr *bytes.Buffer) {
	t.Helper()
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql not installed")
	}
	host, port, _ := strings.Cut(srv.Addr().String(), ":")
	cmd = exec.Command(psql, "-h", host, "-p", port, "-U", "streamsql", "-d", "streamsql", "-X", "-w", "-A", "-t", "-c", command)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=5", "LC_ALL=C", "PGPASSWORD=", "PGSERVICEFILE=/dev/null")
	stdout, stderr = new(bytes.Buffer), new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd, stdout, stderr
}

func finishPsql(t *testing.T, err error, out, errOut *bytes.Buffer) (stdout, stderr string, exitCode int) {
	t.Helper()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		exitCode = exitErr.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), exitCode
}

func TestPsql(t *testing.T) {
	srv := startServer(t, newFakeHandler())

	out, errOut, code := runPsql(t, srv, "select 1")
	if out != "1\n" || code != 0 {
		t.Errorf("select 1: stdout %q, stderr %q, exit %d", out, errOut, code)
	}

	out, errOut, code = runPsql(t, srv, "types")
	if want := "42|1.5|t|héllo|2026-11-23 10:01:00.123|1 day 01:01:01.5|\n||||||\n"; out != want || code != 0 {
		t.Errorf("types: stdout %q, want %q; stderr %q, exit %d", out, want, errOut, code)
	}

	// An error shows its position as psql's LINE and caret, then the
	// detail and the hint.
	out, errOut, code = runPsql(t, srv, "select bad")
	want := "ERROR:  column \"bad\" does not exist\n" +
		"LINE 1: select bad\n" +
		"               ^\n" +
		"DETAIL:  The stream has columns foo and bar.\n" +
		"HINT:  Perhaps you meant to reference the column \"bar\".\n"
	if errOut != want || out != "" || code != 1 {
		t.Errorf("select bad: stderr\n%s\nwant\n%s\nstdout %q, exit %d", errOut, want, out, code)
	}
}

// TestPsqlInterrupt checks psql's Ctrl-C: it sends a CancelRequest on a new
// connection and expects the statement to fail with 57014.
func TestPsqlInterrupt(t *testing.T) {
	h := newFakeHandler()
	srv := startServer(t, h)
	cmd, out, errOut := psqlCommand(t, srv, "sleep")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.sleeping:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		t.Fatal("psql did not start the statement")
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := finishPsql(t, cmd.Wait(), out, errOut)
	if want := "Cancel request sent\nERROR:  canceling statement due to user request\n"; stderr != want || stdout != "" || code != 1 {
		t.Errorf("stderr %q, want %q; stdout %q, exit %d", stderr, want, stdout, code)
	}
}
