// Package sqlerr defines the errors StreamSQL shows to users: a SQLSTATE code,
// a message, and where it helps a 1-based character position in the statement
// text, a detail and a hint. Packages create them with the helpers here; only
// the wire server turns them into protocol messages. It imports nothing of ours.
package sqlerr

import (
	"errors"
	"fmt"
)

// SQLSTATE codes StreamSQL uses, named as in PostgreSQL's errcodes.
const (
	SyntaxError          = "42601"
	UndefinedColumn      = "42703"
	UndefinedTable       = "42P01"
	UndefinedObject      = "42704"
	UndefinedFunction    = "42883"
	DuplicateObject      = "42710"
	DuplicateTable       = "42P07"
	GroupingError        = "42803"
	DatatypeMismatch     = "42804"
	AmbiguousColumn      = "42702"
	InvalidParameter     = "22023"
	InvalidTextRep       = "22P02"
	DivisionByZero       = "22012"
	NumericOutOfRange    = "22003"
	FeatureNotSupported  = "0A000"
	DependentObjects     = "2BP01"
	ObjectInUse          = "55006"
	QueryCanceled        = "57014"
	InternalError        = "XX000"
	ConnectionException  = "08000"
	InvalidSQLStatement  = "26000"
	ProtocolViolation    = "08P01"
	ObjectNotInPrereq    = "55000"
	InvalidName          = "42602"
	WrongObjectType      = "42809"
	InvalidColumnRef     = "42P10"
	InvalidTableDef      = "42P16"
	ExternalRoutineError = "38000"
)

// Error is a user-facing error. Position is a 1-based character (rune) offset
// into the statement the user sent; 0 means none.
type Error struct {
	Code     string
	Message  string
	Detail   string
	Hint     string
	Position int
	// Err is an underlying cause kept for errors.Is/As; it is not shown.
	Err error
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a code and a formatted message.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// At returns a copy of e positioned at pos (1-based; 0 leaves it unset).
func (e *Error) At(pos int) *Error {
	c := *e
	c.Position = pos
	return &c
}

// WithHint returns a copy of e carrying a hint.
func (e *Error) WithHint(format string, args ...any) *Error {
	c := *e
	c.Hint = fmt.Sprintf(format, args...)
	return &c
}

// WithDetail returns a copy of e carrying a detail line.
func (e *Error) WithDetail(format string, args ...any) *Error {
	c := *e
	c.Detail = fmt.Sprintf(format, args...)
	return &c
}

// As returns the *Error in err's chain, or wraps err as an internal error so
// every error reaching a client has a code.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: InternalError, Message: err.Error(), Err: err}
}

// Code returns the SQLSTATE of err, or InternalError if it carries none.
func Code(err error) string { return As(err).Code }
