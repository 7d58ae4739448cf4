package kafka

import "errors"

// Error kinds callers can test for with errors.Is. Errors returned by this
// package wrap one of these, or the underlying sarama error, with context.
var (
	// ErrUnknownTopic marks an operation on a topic the cluster does not
	// have.
	ErrUnknownTopic = errors.New("kafka: unknown topic")
	// ErrUnknownPartition marks an operation on a partition number the
	// topic does not have.
	ErrUnknownPartition = errors.New("kafka: unknown partition")
	// ErrClosed is returned by methods called after Close.
	ErrClosed = errors.New("kafka: closed")
	// ErrNotTransactional is returned by the transaction methods of a
	// producer created without a TransactionalID.
	ErrNotTransactional = errors.New("kafka: producer is not transactional")
	// ErrCorrupt marks a record batch that fails its checksum or does not
	// parse: the reader stops on it, as Kafka's Java consumer does.
	ErrCorrupt = errors.New("kafka: corrupt record batch")
)
