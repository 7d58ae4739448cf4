package pgwire

import (
	"context"

	"github.com/streamsql/streamsql/sql/types"
)

// Handler creates a Session for each client connection. The engine implements
// it; the wire server knows nothing about statements beyond what Session says.
type Handler interface {
	// NewSession is called after a successful startup. params are the
	// client's startup parameters (user, database, application_name, ...).
	NewSession(params map[string]string) Session
}

// Column describes one result column.
type Column struct {
	Name string
	Type types.Type
}

// Session runs a client's statements. Its methods are never called
// concurrently for one session.
type Session interface {
	// Execute runs every statement in query (the simple query protocol may
	// send several separated by semicolons) and reports each statement's
	// result to w, in order. It stops at the first error and returns it; a
	// *sqlerr.Error becomes an ErrorResponse with its code and position.
	// ctx is cancelled when the client sends a CancelRequest or disconnects.
	Execute(ctx context.Context, query string, w ResultWriter) error

	// Describe returns the result columns query would produce (nil for a
	// statement that returns no rows) without running it. query holds one
	// statement. Used by the extended protocol's Describe message.
	Describe(ctx context.Context, query string) ([]Column, error)

	// Close releases the session's resources when the connection ends.
	Close()
}

// ResultWriter receives one statement's result at a time. For a statement that
// returns rows: Columns once, Row per row, then Complete. For one that does not:
// Complete only. Row may be called long after Columns (a push query streams
// rows as they are produced); the server sends each row to the client promptly.
// The server's ResultWriter also implements CopyOutWriter, for COPY ... TO
// STDOUT.
type ResultWriter interface {
	Columns(cols []Column) error
	Row(values []types.Value) error
	// Rows sends every row of b (its first len(cols) columns, the columns
	// of the open statement) as Row would one at a time, reading the
	// columns in place: for results that come as batches.
	Rows(b *types.Batch) error
	// Complete ends the statement with its command tag, e.g. "SELECT 3",
	// "CREATE STREAM", "SHOW".
	Complete(tag string) error
	// Notice sends a NoticeResponse (severity NOTICE) to the client.
	Notice(msg string) error
}

// TxStatuser is an optional interface a Session implements when it tracks
// transaction blocks (BEGIN ... COMMIT). The server asks it after every query
// cycle and reports the answer in ReadyForQuery, which clients rely on: psql's
// \set FETCH_COUNT, for one, expects 'T' inside the block it opens. A Session
// that does not implement it is always reported idle ('I').
type TxStatuser interface {
	// TxStatus returns 'I' (idle, outside a transaction block), 'T' (inside a
	// transaction block) or 'E' (inside a failed transaction block). Any
	// other byte is reported as 'I'.
	TxStatus() byte
}
