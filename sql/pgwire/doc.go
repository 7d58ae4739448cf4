// Package pgwire is StreamSQL's PostgreSQL wire-protocol (v3) server: it lets
// psql, pgx, psycopg, JDBC and other PostgreSQL clients run statements
// against the engine.
//
// The package owns the protocol and nothing else. It accepts connections,
// answers the startup handshake (SSL and GSS encryption are declined; every
// user is trusted, as the server listens on loopback in this version), and
// turns the simple and extended query protocols into calls on a Session,
// which the engine implements (see session.go, the contract between the two).
// It does not parse SQL: beyond spotting empty statements and $n parameter
// placeholders it passes statement text through untouched, and it maps errors
// to SQLSTATE codes only by reading the *sqlerr.Error the engine returns.
//
// # Connections
//
// Each connection is served by one goroutine that reads a message, handles
// it, and calls the Session synchronously, so Session methods are never called
// concurrently. A second goroutine per connection only copies bytes from the
// socket into a pipe the first one reads; it exists so that a client that
// disconnects while a statement runs (for example a psql killed during an
// endless push query) is noticed at once and the statement's context is
// cancelled. A CancelRequest, sent by the client on a separate connection,
// cancels the context of whatever the target connection is running; the
// statement then ends with SQLSTATE 57014.
//
// # Output
//
// Outgoing messages are encoded into a per-connection buffer rather than
// written one by one. The buffer is written when a query cycle ends
// (ReadyForQuery), when the client sends Flush, when it grows past 32 KiB,
// and at the latest a few milliseconds after the first unwritten message was
// queued, so a big result travels in large writes while the rows of a slow
// push query still reach the client promptly.
//
// # Result formats
//
// StreamSQL types map to PostgreSQL types as follows (OID in parentheses):
// BIGINT to int8 (20), DOUBLE PRECISION to float8 (701), VARCHAR to text (25),
// BOOLEAN to bool (16), TIMESTAMP to timestamp (1114), INTERVAL to interval
// (1186), and the type of an untyped NULL to text. The simple protocol sends
// text; the extended protocol sends text or binary per column as the client
// asks in Bind.
//
// # COPY TO STDOUT
//
// A Session answers COPY ... TO STDOUT through CopyOutWriter, which the
// server's ResultWriter implements: CopyOutResponse (text format), one
// CopyData message per row in PostgreSQL's COPY text or CSV format, CopyDone
// and the command tag. Rows go out as the Session produces them, which makes
// COPY the way to follow an endless push query from psql: psql writes each
// CopyData as it arrives, while it holds a plain SELECT's rows until the end.
//
// # Limitations
//
// Bind parameters are not supported: Parse rejects statements that declare
// parameter types or contain $n placeholders with SQLSTATE 0A000. Execute
// ignores its row limit and always runs a portal to completion, so
// PortalSuspended is never sent (clients that fetch in chunks, such as JDBC
// with a fetch size, receive all rows of the first Execute; SQL cursors,
// DECLARE and FETCH, are the engine's and do work). COPY FROM STDIN and the
// function-call protocol are not supported, and TLS is not offered. A client
// that half-closes its side of the connection right after sending a query is
// taken to have gone away and the query is cancelled; PostgreSQL clients do
// not do that.
package pgwire
