// Package kafka is the Kafka service beneath the engine: topic admin,
// partition readers, producers and the embedded development broker.
//
// It knows nothing of SQL, rows or plans. Callers speak in topics,
// partitions, offsets and raw key/value bytes; decoding records into typed
// values and mapping errors to user-facing codes happen above this package.
//
// The pieces:
//
//   - [Client] wraps a sarama client and cluster admin for metadata, topic
//     creation and deletion, and offset look-ups (start, end and by time).
//     End offsets are the last stable offsets, the end a read_committed
//     reader can reach.
//   - [PartitionReader] reads one partition, read_committed, batch at a
//     time from Fetch responses; it is not a consumer group member and
//     commits nothing (the engine keeps offsets in its own checkpoints).
//     It sends its Fetch requests itself (fetch.go, encoded with franz-go's
//     kmsg) and walks the record batches in place (batch.go), so the bytes
//     of the records it returns are valid until its next Poll.
//   - [Producer] writes with acks=all, idempotently, optionally inside
//     transactions, placing keyed records by Kafka's murmur2 partitioner so
//     keys land where Java producers put them.
//   - [Embedded] runs franz-go's kfake broker in-process, persisted under a
//     data directory, for development and tests.
//
// Errors wrap their cause with context; [ErrUnknownTopic] and
// [ErrUnknownPartition] mark missing topics and partitions.
package kafka
