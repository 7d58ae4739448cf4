package exec

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/streamsql/streamsql/sql/types"
)

// Group keys are encoded into bytes to index state and to pick the task that
// owns a group. The encoding is deterministic across processes (restored
// state must land in the same task) and self-delimiting:
// per value one tag byte (0 = NULL, else type) then the payload, with strings
// length-prefixed.

func appendKeyValue(dst []byte, c *types.Column, row int) []byte {
	if c.Nulls[row] {
		return append(dst, 0)
	}
	dst = append(dst, byte(c.Type))
	switch c.Type {
	case types.Double:
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(c.Floats[row]))
	case types.Varchar:
		dst = binary.AppendUvarint(dst, uint64(len(c.Strs[row])))
		return append(dst, c.Strs[row]...)
	case types.Boolean:
		if c.Bools[row] {
			return append(dst, 1)
		}
		return append(dst, 0)
	default:
		return binary.BigEndian.AppendUint64(dst, uint64(c.Ints[row]))
	}
}

func appendValue(dst []byte, v types.Value) []byte {
	if v.Null {
		return append(dst, 0)
	}
	dst = append(dst, byte(v.Type))
	switch v.Type {
	case types.Double:
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(v.F))
	case types.Varchar:
		dst = binary.AppendUvarint(dst, uint64(len(v.S)))
		return append(dst, v.S...)
	case types.Boolean:
		return append(dst, byte(v.I))
	default:
		return binary.BigEndian.AppendUint64(dst, uint64(v.I))
	}
}

var errCorrupt = errors.New("exec: corrupt state entry")

// readValue decodes one value written by appendValue / appendKeyValue.
func readValue(b []byte, t types.Type) (types.Value, []byte, error) {
	if len(b) == 0 {
		return types.Value{}, nil, errCorrupt
	}
	tag := types.Type(b[0])
	b = b[1:]
	if tag == 0 {
		return types.NullOf(t), b, nil
	}
	switch tag {
	case types.Double:
		if len(b) < 8 {
			return types.Value{}, nil, errCorrupt
		}
		return types.FloatValue(math.Float64frombits(binary.BigEndian.Uint64(b))), b[8:], nil
	case types.Varchar:
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return types.Value{}, nil, errCorrupt
		}
		return types.StringValue(string(b[k : k+int(n)])), b[k+int(n):], nil
	case types.Boolean:
		if len(b) < 1 {
			return types.Value{}, nil, errCorrupt
		}
		return types.BoolValue(b[0] != 0), b[1:], nil
	default:
		if len(b) < 8 {
			return types.Value{}, nil, errCorrupt
		}
		return types.Value{Type: tag, I: int64(binary.BigEndian.Uint64(b))}, b[8:], nil
	}
}

// hashKey is FNV-1a over the encoded key: stable across processes and
// restarts, which task assignment of restored state relies on.
func hashKey(k []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range k {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}
