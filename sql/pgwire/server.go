package pgwire

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Defaults for Config fields left empty.
const (
	// DefaultAddr is the address the server listens on when Config.Addr is
	// empty: the loopback interface only, because every user is trusted
	// without a password in this version.
	DefaultAddr = "127.0.0.1:5432"
	// DefaultServerVersion is reported as server_version when
	// Config.ServerVersion is empty. psql and drivers choose their catalog
	// queries by its major version; 15 is the version StreamSQL's pg_catalog
	// emulation is written against.
	DefaultServerVersion = "15.0 (StreamSQL)"
)

// Config configures a Server.
type Config struct {
	// Addr is the TCP address to listen on, as host:port. Default
	// DefaultAddr ("127.0.0.1:5432"). Port 0 picks a free port, which
	// Server.Addr reports after Listen.
	Addr string

	// Logger receives connection events (at Debug), protocol violations (at
	// Warn) and panics caught in a Session (at Error, with the stack). Nil
	// means slog.Default().
	Logger *slog.Logger

	// ServerVersion is reported to clients as the server_version parameter.
	// Clients parse its leading number to decide which features and catalog
	// queries to use, so it must start with a PostgreSQL version number.
	// Default DefaultServerVersion ("15.0 (StreamSQL)").
	ServerVersion string
}

// Server accepts PostgreSQL wire-protocol connections and runs each one's
// statements through a Session obtained from its Handler.
//
// Use it as NewServer, Listen (which reports a port already in use before
// anything starts), Serve in a goroutine, and Close to stop.
type Server struct {
	cfg     Config
	handler Handler
	log     *slog.Logger

	// wg counts the goroutines of live connections (two per connection);
	// Close waits for it. A goroutine is added only under mu while closed is
	// false, so no Add can race with Close's Wait.
	wg sync.WaitGroup

	mu     sync.Mutex // guards the fields below
	ln     net.Listener
	closed bool
	// conns holds every live connection, including those still in startup,
	// so that Close can end them all.
	conns map[*conn]struct{}
	// byPID holds the connections that completed startup, by the process ID
	// they were given in BackendKeyData; CancelRequest looks them up here.
	// Process IDs are unique among live connections.
	byPID map[uint32]*conn
}

// NewServer returns a server for cfg that creates sessions with h. It does
// not listen yet; call Listen and Serve.
func NewServer(cfg Config, h Handler) *Server {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.ServerVersion == "" {
		cfg.ServerVersion = DefaultServerVersion
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Server{
		cfg:     cfg,
		handler: h,
		log:     log,
		conns:   make(map[*conn]struct{}),
		byPID:   make(map[uint32]*conn),
	}
}

// errServerClosed is returned by Listen after Close.
var errServerClosed = errors.New("pgwire: server closed")

// Listen validates the configuration and binds the listening socket, so that
// a port in use is reported before the caller starts anything else. Serve
// calls it if it has not been called.
func (s *Server) Listen() error {
	if v := s.cfg.ServerVersion; v[0] < '0' || v[0] > '9' {
		return fmt.Errorf("pgwire: ServerVersion %q must start with a PostgreSQL version number such as %q", v, DefaultServerVersion)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errServerClosed
	}
	if s.ln != nil {
		return fmt.Errorf("pgwire: already listening on %s", s.ln.Addr())
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("pgwire: listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	return nil
}

// Addr returns the address the server listens on, or nil before Listen.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Serve accepts connections until Close and serves each in its own
// goroutine. It returns nil after Close, or the error of Listen if it had to
// call it and that failed. Accept errors other than the listener being closed
// (running out of file descriptors, say) are logged and retried with a
// growing pause, so a burst of them does not stop the server.
func (s *Server) Serve() error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		if err := s.Listen(); err != nil {
			return err
		}
		s.mu.Lock()
		ln = s.ln
		s.mu.Unlock()
	}
	var pause time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			s.log.Error("pgwire: accept failed; retrying", "err", err, "pause", pause)
			time.Sleep(pause)
			continue
		}
		pause = 0
		c := newConn(s, nc)
		if !s.track(c) {
			nc.Close()
			return nil
		}
		go c.readLoop()
		go c.serve()
	}
}

// Close stops accepting connections, closes every open connection (cancelling
// the statements they run) and waits until their goroutines have ended and
// their sessions are closed. A Session whose Execute ignores its context
// delays Close until it returns. Close may be called more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	var err error
	if !s.closed {
		s.closed = true
		if s.ln != nil {
			err = s.ln.Close()
		}
		for c := range s.conns {
			c.abort()
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// track registers a new connection and counts its two goroutines. It
// returns false if the server is closing, in which case the connection must
// not be served.
func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(2)
	return true
}

// untrack forgets a connection whose serving goroutine is ending.
func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if c.pid != 0 && s.byPID[c.pid] == c {
		delete(s.byPID, c.pid)
	}
}

// assignKey gives c a process ID unique among live connections and a random
// secret key, and makes it reachable by CancelRequest. Process IDs stay below
// 2^31 because some clients (JDBC) hold them in a signed 32-bit integer.
func (s *Server) assignKey(c *conn) {
	for {
		pid := randomUint32() & 0x7fffffff
		if pid == 0 {
			continue
		}
		s.mu.Lock()
		if _, taken := s.byPID[pid]; !taken {
			c.pid, c.key = pid, randomUint32()
			s.byPID[pid] = c
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
}

// cancelRequest handles a CancelRequest: if pid and key name a live
// connection, the statement it is running (if any) is cancelled. As in
// PostgreSQL, a request that names no connection is ignored silently, so
// that it reveals nothing to a guesser.
func (s *Server) cancelRequest(pid, key uint32) {
	s.mu.Lock()
	c := s.byPID[pid]
	s.mu.Unlock()
	if c == nil || subtle.ConstantTimeEq(int32(c.key), int32(key)) != 1 {
		s.log.Debug("pgwire: cancel request for unknown connection", "pid", pid)
		return
	}
	s.log.Debug("pgwire: cancel request", "pid", pid)
	c.cancelRunning()
}

func randomUint32() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error.
	return binary.BigEndian.Uint32(b[:])
}
