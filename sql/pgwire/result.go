package pgwire

import (
	"encoding/binary"
	"math"

	"github.com/jackc/pgproto3/v2"

	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// PostgreSQL type OIDs of the types StreamSQL values are sent as.
const (
	oidBool      = 16
	oidInt8      = 20
	oidText      = 25
	oidFloat8    = 701
	oidTimestamp = 1114
	oidInterval  = 1186
)

// Result format codes.
const (
	formatText   = 0
	formatBinary = 1
)

// pgEpochMillis is 2000-01-01 00:00:00 UTC, the epoch of PostgreSQL's binary
// timestamps, in Unix milliseconds.
const pgEpochMillis = 946_684_800_000

// typeOID returns the PostgreSQL type OID and fixed size (-1 for variable) a
// column of type t is described with. Unknown, the type of an untyped NULL,
// is sent as text, as PostgreSQL does for an unknown-typed literal.
func typeOID(t types.Type) (oid uint32, size int16) {
	switch t {
	case types.Bigint:
		return oidInt8, 8
	case types.Double:
		return oidFloat8, 8
	case types.Boolean:
		return oidBool, 1
	case types.Timestamp:
		return oidTimestamp, 8
	case types.Interval:
		return oidInterval, 16
	default:
		return oidText, -1
	}
}

// rowDescription describes cols with the given per-column formats (nil means
// all text).
func rowDescription(cols []Column, formats []int16) *pgproto3.RowDescription {
	fields := make([]pgproto3.FieldDescription, len(cols))
	for i, col := range cols {
		oid, size := typeOID(col.Type)
		fields[i] = pgproto3.FieldDescription{
			Name:         []byte(cstring(col.Name)),
			DataTypeOID:  oid,
			DataTypeSize: size,
			TypeModifier: -1,
		}
		if formats != nil {
			fields[i].Format = formats[i]
		}
	}
	return &pgproto3.RowDescription{Fields: fields}
}

// resolveFormats expands the result format codes of a Bind message to one
// per column: none means all text, one applies to every column, otherwise
// there must be one per column. It returns nil for all text. Each code was
// checked to be 0 or 1 when the Bind arrived.
func resolveFormats(codes []int16, ncols int) ([]int16, error) {
	switch {
	case len(codes) == 0:
		return nil, nil
	case len(codes) == 1:
		if codes[0] == formatText {
			return nil, nil
		}
		all := make([]int16, ncols)
		for i := range all {
			all[i] = codes[0]
		}
		return all, nil
	case len(codes) == ncols:
		return codes, nil
	default:
		return nil, sqlerr.New(sqlerr.ProtocolViolation,
			"bind message has %d result formats but query has %d columns", len(codes), ncols)
	}
}

// appendDataRow appends a complete DataRow message to dst. NULL is sent as
// length -1 in either format.
func appendDataRow(dst []byte, cols []Column, formats []int16, vals []types.Value) []byte {
	start := len(dst)
	dst = append(dst, 'D', 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(vals)))
	for i, v := range vals {
		if v.Null {
			dst = binary.BigEndian.AppendUint32(dst, math.MaxUint32)
			continue
		}
		lenAt := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		if formats != nil && formats[i] == formatBinary {
			dst = appendBinary(dst, cols[i].Type, v)
		} else {
			dst = appendText(dst, v)
		}
		binary.BigEndian.PutUint32(dst[lenAt:], uint32(len(dst)-lenAt-4))
	}
	// The length field counts itself but not the type byte.
	binary.BigEndian.PutUint32(dst[start+1:], uint32(len(dst)-start-1))
	return dst
}

// appendColDataRow appends row r of the first len(cols) columns of b as a
// DataRow message: appendDataRow reading the columns in place, TIMESTAMPs
// through tf.
func appendColDataRow(dst []byte, cols []Column, formats []int16, b *types.Batch, r int, tf *types.TimestampFormatter) []byte {
	start := len(dst)
	dst = append(dst, 'D', 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(cols)))
	for j := range cols {
		c := b.Cols[j]
		if c.Nulls[r] {
			dst = binary.BigEndian.AppendUint32(dst, math.MaxUint32)
			continue
		}
		lenAt := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		switch {
		case formats != nil && formats[j] == formatBinary:
			dst = appendBinary(dst, cols[j].Type, c.Value(r))
		case c.Type == types.Bigint:
			dst = types.AppendInt(dst, c.Ints[r])
		case c.Type == types.Varchar:
			dst = append(dst, c.Strs[r]...)
		case c.Type == types.Timestamp:
			dst = tf.AppendSQL(dst, c.Ints[r])
		case c.Type == types.Double:
			dst = types.AppendFloat(dst, c.Floats[r])
		default:
			dst = appendText(dst, c.Value(r))
		}
		binary.BigEndian.PutUint32(dst[lenAt:], uint32(len(dst)-lenAt-4))
	}
	binary.BigEndian.PutUint32(dst[start+1:], uint32(len(dst)-start-1))
	return dst
}

// appendText appends v in PostgreSQL text format. It agrees with
// types.Value.String, which is authoritative; the common types are appended
// directly to save an allocation per value.
func appendText(dst []byte, v types.Value) []byte {
	switch v.Type {
	case types.Bigint:
		return types.AppendInt(dst, v.I)
	case types.Varchar:
		return append(dst, v.S...)
	case types.Timestamp:
		return types.AppendTimestampSQL(dst, v.I)
	case types.Boolean:
		if v.I != 0 {
			return append(dst, 't')
		}
		return append(dst, 'f')
	case types.Double:
		return types.AppendFloat(dst, v.F)
	}
	return append(dst, v.String()...)
}

// appendBinary appends v in the binary format of the PostgreSQL type its
// column is described as (see typeOID), so that the bytes always match the
// RowDescription even if a value's own type differs from its column's (a
// Bigint value in a Double column is widened).
func appendBinary(dst []byte, t types.Type, v types.Value) []byte {
	switch t {
	case types.Bigint:
		n := v.I
		if v.Type == types.Double {
			n = int64(v.F)
		}
		return binary.BigEndian.AppendUint64(dst, uint64(n))
	case types.Double:
		f := v.F
		if v.Type == types.Bigint {
			f = float64(v.I)
		}
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(f))
	case types.Boolean:
		if v.I != 0 {
			return append(dst, 1)
		}
		return append(dst, 0)
	case types.Timestamp:
		// int64 microseconds since 2000-01-01 (integer_datetimes=on).
		return binary.BigEndian.AppendUint64(dst, uint64((v.I-pgEpochMillis)*1000))
	case types.Interval:
		// int64 microseconds, int32 days, int32 months. StreamSQL intervals
		// are exact durations, so days and months are always zero.
		dst = binary.BigEndian.AppendUint64(dst, uint64(v.I*1000))
		return append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	default:
		// text: the binary format is the UTF-8 bytes themselves.
		return appendText(dst, v)
	}
}

// resultWriter is the ResultWriter a Session reports to. In the simple
// protocol it sends a RowDescription for each statement that returns rows;
// when executing a portal of the extended protocol it does not, because the
// client learned the columns from Describe, and it encodes values in the
// formats requested by Bind.
type resultWriter struct {
	out *output
	// portal is set when executing a portal of the extended protocol, which
	// holds exactly one statement.
	portal bool
	// formats are the Bind message's result format codes (portal only).
	formats []int16

	cols       []Column // columns of the open statement
	colFormats []int16  // one format per column, or nil for all text
	open       bool     // Columns or CopyOut called, Complete not yet
	statements int      // statements completed
	tag        string   // command tag of the last completed statement
	// copy is the format of the open statement's rows while it is a COPY TO
	// STDOUT (see CopyOut); nil otherwise.
	copy *CopyFormat
}

var _ ResultWriter = (*resultWriter)(nil)

// errMultipleCommands is returned when a portal's text holds more than one
// statement, which the extended protocol does not allow.
var errMultipleCommands = sqlerr.New(sqlerr.SyntaxError, "cannot insert multiple commands into a prepared statement")

func (w *resultWriter) Columns(cols []Column) error {
	if w.open {
		return sqlerr.New(sqlerr.InternalError, "pgwire: Columns called twice for one statement")
	}
	if w.portal && w.statements > 0 {
		return errMultipleCommands
	}
	formats, err := resolveFormats(w.formats, len(cols))
	if err != nil {
		return err
	}
	w.cols = append(w.cols[:0], cols...)
	w.colFormats = formats
	w.open = true
	if w.portal {
		return nil
	}
	return w.out.send(rowDescription(cols, nil))
}

func (w *resultWriter) Row(values []types.Value) error {
	if !w.open {
		return sqlerr.New(sqlerr.InternalError, "pgwire: Row called before Columns")
	}
	if len(values) != len(w.cols) {
		return sqlerr.New(sqlerr.InternalError, "pgwire: row has %d values but the statement has %d columns", len(values), len(w.cols))
	}
	if w.copy != nil {
		return w.out.copyData(w.copy, values)
	}
	return w.out.dataRow(w.cols, w.colFormats, values)
}

func (w *resultWriter) Rows(b *types.Batch) error {
	if !w.open {
		return sqlerr.New(sqlerr.InternalError, "pgwire: Rows called before Columns")
	}
	if len(b.Cols) < len(w.cols) {
		return sqlerr.New(sqlerr.InternalError, "pgwire: batch has %d columns but the statement has %d", len(b.Cols), len(w.cols))
	}
	if w.copy != nil {
		vals := make([]types.Value, len(w.cols))
		for r := range b.Len() {
			for j := range vals {
				vals[j] = b.Cols[j].Value(r)
			}
			if err := w.out.copyData(w.copy, vals); err != nil {
				return err
			}
		}
		return nil
	}
	return w.out.dataRows(w.cols, w.colFormats, b)
}

func (w *resultWriter) Complete(tag string) error {
	if w.portal && w.statements > 0 {
		return errMultipleCommands
	}
	w.open = false
	w.statements++
	w.tag = tag
	if w.copy != nil {
		w.copy = nil
		if err := w.out.send(&pgproto3.CopyDone{}); err != nil {
			return err
		}
	}
	return w.out.send(&pgproto3.CommandComplete{CommandTag: []byte(cstring(tag))})
}

func (w *resultWriter) Notice(msg string) error {
	return w.out.send(&pgproto3.NoticeResponse{
		Severity:            "NOTICE",
		SeverityUnlocalized: "NOTICE",
		Code:                "00000",
		Message:             cstring(msg),
	})
}
