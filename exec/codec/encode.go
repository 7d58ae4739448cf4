package codec

import (
	"math"
	"strconv"

	"github.com/streamsql/streamsql/sql/types"
)

// JSONEncoder writes rows of a Batch as JSON objects, one object per row,
// with a fixed list of keys. It holds no per-row state, so one encoder may be
// shared by goroutines.
//
// Values are written as SQL types map to JSON: NULL as null, BIGINT and
// INTERVAL (milliseconds) as integers, DOUBLE as the shortest number that
// reads back to the same float64 (NaN and ±Inf, which JSON cannot express,
// as null), BOOLEAN as true/false, VARCHAR as an escaped string, and
// TIMESTAMP as an ISO-8601 UTC string with milliseconds
// ("2026-11-23T10:01:00.000Z"). A JSONDecoder with the same names and types
// reads the output back to the same row.
type JSONEncoder struct {
	// prefix[j] is the text before value j: `{"name":` for the first key,
	// `,"name":` for the others. Escaping the names once here keeps
	// AppendRow to plain copies.
	prefix [][]byte
}

// NewJSONEncoder returns an encoder writing the keys names, in order; value j
// of a row comes from column j.
func NewJSONEncoder(names []string) *JSONEncoder {
	e := &JSONEncoder{prefix: make([][]byte, len(names))}
	for j, name := range names {
		sep := byte(',')
		if j == 0 {
			sep = '{'
		}
		p := appendJSONString([]byte{sep}, name)
		e.prefix[j] = append(p, ':')
	}
	return e
}

// AppendRow appends row i of b as one JSON object {"name":value,...} (names in
// order, values from b.Cols[j]) to dst. It allocates only when dst has to
// grow. b must have at least len(names) columns.
func (e *JSONEncoder) AppendRow(dst []byte, b *types.Batch, i int) []byte {
	if len(e.prefix) == 0 {
		return append(dst, '{', '}')
	}
	for j, p := range e.prefix {
		dst = append(dst, p...)
		dst = appendValue(dst, b.Cols[j], i)
	}
	return append(dst, '}')
}

// appendValue appends row i of c as a JSON value.
func appendValue(dst []byte, c *types.Column, i int) []byte {
	if c.Nulls[i] {
		return append(dst, "null"...)
	}
	switch c.Type {
	case types.Bigint, types.Interval:
		return types.AppendInt(dst, c.Ints[i])
	case types.Double:
		return appendJSONFloat(dst, c.Floats[i])
	case types.Varchar:
		return appendJSONString(dst, c.Strs[i])
	case types.Boolean:
		if c.Bools[i] {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case types.Timestamp:
		dst = append(dst, '"')
		dst = types.AppendTimestampJSON(dst, c.Ints[i])
		return append(dst, '"')
	}
	return append(dst, "null"...)
}

// appendJSONFloat writes f as encoding/json does (the ES6 number-to-string
// rule): the shortest decimal that parses back to f, in plain notation for
// 1e-6 <= |f| < 1e21 and in exponent notation ("1e+21", "1e-7") outside,
// so that 1e8 prints as 100000000 rather than strconv's 'g' form 1e+08.
// NaN and ±Inf have no JSON form and are written as null.
func appendJSONFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// Shorten a two-digit negative exponent: 1e-07 to 1e-7.
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
