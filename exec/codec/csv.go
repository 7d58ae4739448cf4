package codec

import (
	"bytes"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/streamsql/streamsql/sql/types"
)

// The CSV format (value_format = 'csv') carries one record per message, as
// RFC 4180 writes it, without a header line:
//
//   - fields are separated by commas, in the order the stream declares its
//     (decoded) columns; a message must have exactly one field per column;
//   - a field may be enclosed in double quotes, and must be when it holds a
//     comma, a quote or a line break; a quote inside is written twice;
//   - an empty unquoted field is NULL; a quoted empty field ("") is the
//     empty string, as in PostgreSQL's COPY ... CSV;
//   - one line break (LF or CRLF) ending the message is not part of the
//     last field.
//
// Values are converted from their text as JSON strings are (see doc.go):
// BIGINT and INTERVAL from an integral number, DOUBLE from a number,
// BOOLEAN from true/false/t/f (any case) or 1/0, TIMESTAMP from the forms
// ParseTimestamp accepts or an integer of epoch milliseconds. Spaces are
// part of a field, so " 42" is not a BIGINT.

// CSVDecoder decodes CSV records into rows of a Batch. It is not safe for
// concurrent use: each source task owns one, as it reuses its scratch
// buffers across messages.
type CSVDecoder struct {
	fields []Field
	// row stages the converted values, so that a bad field leaves the batch
	// untouched.
	row []types.Value
	// intern[i] is the intern table of fields[i] (nil unless VARCHAR).
	intern []*interner
	// text holds the current record's field contents, unquoted; cells
	// delimit them.
	text  []byte
	cells []csvCell
}

// csvCell is one field of the current record: text[start:end], and whether
// it was quoted.
type csvCell struct {
	start, end int
	quoted     bool
}

// NewCSVDecoder returns a decoder for records whose fields are fields, in
// order. Field.Path is ignored: CSV is flat. It panics on a field of type
// Unknown, which the planner never declares.
func NewCSVDecoder(fields []Field) *CSVDecoder {
	d := &CSVDecoder{
		fields: append([]Field(nil), fields...),
		row:    make([]types.Value, len(fields)),
		intern: make([]*interner, len(fields)),
	}
	for i, f := range fields {
		if f.Type == types.Unknown {
			panic("codec: field " + strconv.Quote(f.Name) + " has no type")
		}
		if f.Type == types.Varchar {
			d.intern[i] = newInterner()
		}
	}
	return d
}

// Decode parses one record and appends exactly one row to
// b.Cols[0:len(fields)], or appends nothing and returns a *DecodeError.
// msg is not retained.
func (d *CSVDecoder) Decode(msg []byte, b *types.Batch) error {
	if err := d.split(msg); err != nil {
		return err
	}
	if len(d.cells) != len(d.fields) {
		return &DecodeError{Reason: "record has " + strconv.Itoa(len(d.cells)) + " fields, expected " +
			strconv.Itoa(len(d.fields))}
	}
	for i := range d.fields {
		if err := d.convert(i, d.cells[i]); err != nil {
			return err
		}
	}
	commitRow(b, d.fields, d.row)
	return nil
}

// split cuts msg into fields, unquoting quoted ones into d.text.
func (d *CSVDecoder) split(msg []byte) error {
	d.text, d.cells = d.text[:0], d.cells[:0]
	if n := len(msg); n > 0 && msg[n-1] == '\n' {
		msg = msg[:n-1]
		if n > 1 && msg[n-2] == '\r' {
			msg = msg[:n-2]
		}
	}
	for i := 0; ; {
		start := len(d.text)
		if i < len(msg) && msg[i] == '"' {
			i++
			for {
				j := bytes.IndexByte(msg[i:], '"')
				if j < 0 {
					return &DecodeError{Reason: "record is not valid CSV: unterminated quoted field"}
				}
				d.text = append(d.text, msg[i:i+j]...)
				i += j + 1
				if i < len(msg) && msg[i] == '"' { // "" stands for one quote
					d.text = append(d.text, '"')
					i++
					continue
				}
				break
			}
			d.cells = append(d.cells, csvCell{start: start, end: len(d.text), quoted: true})
			if i == len(msg) {
				return nil
			}
			if msg[i] != ',' {
				return &DecodeError{Reason: "record is not valid CSV: text after the closing quote of field " +
					strconv.Itoa(len(d.cells))}
			}
			i++
			continue
		}
		end := len(msg)
		if j := bytes.IndexByte(msg[i:], ','); j >= 0 {
			end = i + j
		}
		field := msg[i:end]
		if bytes.IndexByte(field, '"') >= 0 {
			return &DecodeError{Reason: "record is not valid CSV: a quote inside unquoted field " +
				strconv.Itoa(len(d.cells)+1)}
		}
		d.text = append(d.text, field...)
		d.cells = append(d.cells, csvCell{start: start, end: len(d.text)})
		if end == len(msg) {
			return nil
		}
		i = end + 1
	}
}

// convert stages fields[i] from cell in d.row[i].
func (d *CSVDecoder) convert(i int, cell csvCell) error {
	f := &d.fields[i]
	out := &d.row[i]
	*out = types.Value{Type: f.Type}
	s := d.text[cell.start:cell.end]
	if len(s) == 0 {
		if !cell.quoted {
			out.Null = true
			return nil
		}
		if f.Type != types.Varchar {
			return d.fail(i, s, "")
		}
		return nil
	}
	switch f.Type {
	case types.Bigint, types.Interval:
		n, why := parseJSONInt(s)
		if why != "" {
			return d.fail(i, s, csvReason(why))
		}
		out.I = n
	case types.Double:
		x, why := parseJSONFloat(s)
		if why != "" {
			return d.fail(i, s, csvReason(why))
		}
		out.F = x
	case types.Varchar:
		if !utf8.Valid(s) {
			// As for JSON: each invalid byte becomes U+FFFD.
			var fixed []byte
			for rest := s; len(rest) > 0; {
				r, size := utf8.DecodeRune(rest)
				fixed = utf8.AppendRune(fixed, r)
				rest = rest[size:]
			}
			s = fixed
		}
		out.S = d.intern[i].str(s)
	case types.Boolean:
		switch {
		case asciiEqualFold(s, "true"), asciiEqualFold(s, "t"), string(s) == "1":
			out.I = 1
		case asciiEqualFold(s, "false"), asciiEqualFold(s, "f"), string(s) == "0":
		default:
			return d.fail(i, s, "")
		}
	case types.Timestamp:
		if s[0] == '-' || isDigit(s[0]) && (len(s) < 5 || s[4] != '-') {
			ms, why := parseJSONInt(s)
			if why == "" && (ms < minTimestampMs || ms > maxTimestampMs) {
				why = reasonOutOfRange
			}
			if why != "" {
				return d.fail(i, s, csvReason(why))
			}
			out.I = ms
			break
		}
		ms, ok := ParseTimestamp(s)
		if !ok {
			return d.fail(i, s, "")
		}
		out.I = ms
	default:
		return d.fail(i, s, "")
	}
	return nil
}

// csvReason rewords a number parser's reason for CSV text.
func csvReason(why string) string {
	if why == reasonInvalidNumber {
		return "invalid number"
	}
	return why
}

// fail builds the DecodeError for fields[i] whose text is s.
func (d *CSVDecoder) fail(i int, s []byte, why string) error {
	f := d.fields[i]
	reason := "cannot parse \"" + displayJSON(s) + "\" as " + typeName(f.Type)
	if why != "" {
		reason += ": " + why
	}
	return &DecodeError{Field: f.Name, Reason: reason}
}

// CSVEncoder writes rows of a Batch as CSV records, one record per row and
// no line break after it, in the format CSVDecoder reads: NULL as an empty
// field, the empty string as "", BIGINT and INTERVAL as integers, DOUBLE as
// the shortest decimal that reads back to the same float64 (NaN and ±Inf,
// which the decoder does not read, as NULL), BOOLEAN as true/false, and
// TIMESTAMP as an ISO-8601 UTC string with milliseconds. A field is quoted
// when it holds a comma, a quote, CR or LF. It holds no per-row state.
type CSVEncoder struct {
	n int
}

// NewCSVEncoder returns an encoder writing the first n columns of a batch.
func NewCSVEncoder(n int) *CSVEncoder { return &CSVEncoder{n: n} }

// AppendRow appends row i of b as one CSV record to dst.
func (e *CSVEncoder) AppendRow(dst []byte, b *types.Batch, i int) []byte {
	for j := 0; j < e.n; j++ {
		if j > 0 {
			dst = append(dst, ',')
		}
		c := b.Cols[j]
		if c.Nulls[i] {
			continue
		}
		switch c.Type {
		case types.Bigint, types.Interval:
			dst = strconv.AppendInt(dst, c.Ints[i], 10)
		case types.Double:
			if f := c.Floats[i]; !math.IsNaN(f) && !math.IsInf(f, 0) {
				dst = appendJSONFloat(dst, f)
			}
		case types.Varchar:
			dst = appendCSVString(dst, c.Strs[i])
		case types.Boolean:
			if c.Bools[i] {
				dst = append(dst, "true"...)
			} else {
				dst = append(dst, "false"...)
			}
		case types.Timestamp:
			dst = types.AppendTimestampJSON(dst, c.Ints[i])
		}
	}
	return dst
}

// appendCSVString writes s as a CSV field, quoted when it must be (or is
// empty, which unquoted would read back as NULL).
func appendCSVString(dst []byte, s string) []byte {
	quote := s == ""
	for k := 0; k < len(s) && !quote; k++ {
		switch s[k] {
		case ',', '"', '\r', '\n':
			quote = true
		}
	}
	if !quote {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for k := 0; k < len(s); k++ {
		if s[k] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, s[k])
	}
	return append(dst, '"')
}

// commitRow appends the staged row (one value per field, all converted) to
// b.Cols[0:len(fields)].
func commitRow(b *types.Batch, fields []Field, row []types.Value) {
	for i, f := range fields {
		c, val := b.Cols[i], &row[i]
		c.Nulls = append(c.Nulls, val.Null)
		switch f.Type {
		case types.Double:
			c.Floats = append(c.Floats, val.F)
		case types.Varchar:
			c.Strs = append(c.Strs, val.S)
			val.S = "" // don't pin the string in the staging row
		case types.Boolean:
			c.Bools = append(c.Bools, val.I != 0)
		default:
			c.Ints = append(c.Ints, val.I)
		}
	}
}
