// Package codec converts between Kafka message payloads and typed batches:
// a JSONDecoder turns one JSON object into one row of a types.Batch, and a
// JSONEncoder turns one row back into one JSON object; a CSVDecoder and a
// CSVEncoder do the same for one CSV record per message (see csv.go). It
// also owns the text forms of TIMESTAMP that input accepts (ParseTimestamp).
//
// Decoding is the hot path of the engine (every event passes through it once),
// so it reuses one fastjson parser per decoder, converts values straight from
// their JSON text, and allocates nothing per message except VARCHAR strings
// that are not already interned.
//
// What it is not: it is not a general JSON library (it reads the values of
// declared keys, at the top level of an object or along a path of nested
// objects for the leaves of a ROW column, into declared SQL types; a missing
// or null object on the path makes the leaf NULL, any other value there is
// an error), it knows nothing of Kafka, schemas or dead-letter topics, and
// it does not count or route bad messages. Decode reports why a message cannot be decoded (a *DecodeError);
// the source decides what to do with it, as SEMANTICS.md ("Bad data") says.
//
// Conversion rules, per declared column type (a missing key or JSON null is
// NULL for every type):
//
//	BIGINT     a JSON integer; a number with an integral value (42.0, 4.2e1);
//	           a string holding such a number ("42"). Anything else, a
//	           fraction or a value outside int64 is an error.
//	DOUBLE     any JSON number, or a string holding one. Overflow (1e400) is
//	           an error; underflow rounds to zero. NaN and Infinity are not
//	           JSON numbers and are errors.
//	VARCHAR    a string (unescaped; invalid UTF-8 and lone surrogates become
//	           U+FFFD, as encoding/json does); a number, true or false becomes
//	           its JSON text; an object or array becomes its compact JSON text.
//	BOOLEAN    true/false; the strings "true", "false", "t", "f" (any case);
//	           the numbers 0 and 1.
//	TIMESTAMP  a string in one of the forms ParseTimestamp accepts, or an
//	           integer (as for BIGINT) of milliseconds since the Unix epoch.
//	           Results must lie in years 0000-9999 so that the encoder can write
//	           them back as ISO-8601.
//	INTERVAL   as BIGINT, in milliseconds (streams cannot declare it; listed
//	           for symmetry with the encoder).
//
// Strictness: the values of the selected keys are checked strictly (JSON
// number grammar, string escapes, control characters). The rest of the message
// is checked only as far as fastjson's parser checks it, which is lenient about
// number syntax and string escapes in values nobody reads; a message that is
// not a well-formed object overall is still an error.
//
// Duplicate keys: the first occurrence wins (encoding/json would take the
// last). The decoder looks each selected key up with fastjson's Object.Get,
// which measured faster than visiting every key and stops at the first match;
// a key spelled with escapes ("us\u0065r") is matched only when no plain
// spelling of it is present.
package codec
