package pgwire

import (
	"github.com/jackc/pgproto3/v2"

	"github.com/streamsql/streamsql/sql/sqlerr"
	"github.com/streamsql/streamsql/sql/types"
)

// CopyFormat is how a COPY TO STDOUT result encodes each row as one line of
// text. Every field is used as given: the caller fills in PostgreSQL's
// defaults (Delimiter '\t' and Null `\N` for the text format, ',' and "" for
// CSV) and validates the combination, as the SQL front does.
type CopyFormat struct {
	// CSV selects the CSV format: a value is double-quoted when it holds the
	// delimiter, a quote, CR or LF, or equals Null, and quotes inside it are
	// doubled. Otherwise the text format: backslash, the delimiter and the
	// control characters \b \f \n \r \t \v are backslash-escaped.
	CSV bool
	// Delimiter separates the columns of a line.
	Delimiter byte
	// Null is written for a NULL value.
	Null string
	// Header makes the first line the column names.
	Header bool
}

// CopyOutWriter is the ResultWriter extension for COPY ... TO STDOUT. The
// ResultWriter the server passes to Session.Execute implements it.
type CopyOutWriter interface {
	ResultWriter
	// CopyOut starts a COPY TO STDOUT result in place of Columns: the client
	// receives CopyOutResponse (text format), each Row becomes one CopyData
	// message holding one line in format f, and Complete sends CopyDone
	// before the command tag, which should be "COPY n". A statement that
	// fails after CopyOut ends the copy with its ErrorResponse, as in
	// PostgreSQL; psql prints the rows it received and then the error.
	CopyOut(cols []Column, f CopyFormat) error
}

var _ CopyOutWriter = (*resultWriter)(nil)

func (w *resultWriter) CopyOut(cols []Column, f CopyFormat) error {
	if w.open {
		return sqlerr.New(sqlerr.InternalError, "pgwire: CopyOut called while a statement is open")
	}
	if w.portal && w.statements > 0 {
		return errMultipleCommands
	}
	w.cols = append(w.cols[:0], cols...)
	w.colFormats = nil
	w.open = true
	w.copy = &f
	if err := w.out.send(&pgproto3.CopyOutResponse{OverallFormat: formatText, ColumnFormatCodes: make([]uint16, len(cols))}); err != nil {
		return err
	}
	if !f.Header {
		return nil
	}
	names := make([]types.Value, len(cols))
	for i, c := range cols {
		names[i] = types.StringValue(c.Name)
	}
	return w.out.copyData(&f, names)
}

// appendCopyLine appends one COPY line holding vals, newline included.
func appendCopyLine(dst []byte, f *CopyFormat, vals []types.Value) []byte {
	for i, v := range vals {
		if i > 0 {
			dst = append(dst, f.Delimiter)
		}
		if v.Null {
			dst = append(dst, f.Null...)
			continue
		}
		start := len(dst)
		dst = appendText(dst, v)
		if f.CSV {
			dst = quoteCSV(dst, start, f, len(vals) == 1)
		} else {
			dst = escapeText(dst, start, f.Delimiter)
		}
	}
	return append(dst, '\n')
}

// escapeText applies the text format's escapes to dst[start:], the value
// just appended, following PostgreSQL's CopyAttributeOutText. UTF-8 never
// embeds ASCII bytes in a multi-byte character, so working byte by byte is
// safe.
func escapeText(dst []byte, start int, delim byte) []byte {
	clean := true
	for _, b := range dst[start:] {
		if b < 0x20 || b == '\\' || b == delim {
			clean = false
			break
		}
	}
	if clean {
		return dst
	}
	val := string(dst[start:])
	dst = dst[:start]
	for i := 0; i < len(val); i++ {
		b := val[i]
		// The control characters come first: a tab delimiter is written
		// \t, like any tab.
		switch {
		case b == '\b':
			dst = append(dst, '\\', 'b')
		case b == '\f':
			dst = append(dst, '\\', 'f')
		case b == '\n':
			dst = append(dst, '\\', 'n')
		case b == '\r':
			dst = append(dst, '\\', 'r')
		case b == '\t':
			dst = append(dst, '\\', 't')
		case b == '\v':
			dst = append(dst, '\\', 'v')
		case b == '\\' || b == delim:
			dst = append(dst, '\\', b)
		default:
			dst = append(dst, b)
		}
	}
	return dst
}

// quoteCSV quotes dst[start:], the value just appended, when CSV needs it,
// following PostgreSQL's CopyAttributeOutCSV: a value equal to the NULL
// string is quoted so that it reads back as a value, and so is a lone `\.`
// in a one-column result, which would read back as the end-of-data marker.
func quoteCSV(dst []byte, start int, f *CopyFormat, single bool) []byte {
	val := dst[start:]
	need := string(val) == f.Null || (single && string(val) == `\.`)
	for _, b := range val {
		if need {
			break
		}
		need = b == f.Delimiter || b == '"' || b == '\n' || b == '\r'
	}
	if !need {
		return dst
	}
	s := string(val)
	dst = append(dst[:start], '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}
