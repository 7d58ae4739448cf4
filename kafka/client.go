package kafka

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

// saramaVersion is the protocol version sarama is configured for. sarama
// treats it as the client's ceiling and, per request, clamps to the range the
// broker advertises in ApiVersions, so a newer setting is safe against older
// brokers and against kfake (which advertises its own maxima). 4.1 is the
// oldest Kafka we target; any setting from 2.8 up selects the same request
// versions for what this package sends (Fetch v12, Produce v10, ListOffsets
// v6, Metadata v11), all still served by Kafka 4.x after KIP-896 removed the
// old ones.
var saramaVersion = sarama.V4_1_0_0

// Tuning of the base configuration. Each is a trade-off noted where it is
// used; none is exposed as a flag yet.
const (
	// dialTimeout bounds one TCP connect; NewClient tries each seed broker
	// metadataRetries+1 times, so a dead cluster fails in seconds, not the
	// 30 s sarama defaults to.
	dialTimeout     = 5 * time.Second
	metadataRetries = 3
	metadataBackoff = 250 * time.Millisecond

	// topicWaitTimeout bounds how long CreateTopic and DeleteTopic wait for
	// metadata to reflect the change.
	topicWaitTimeout = 30 * time.Second
)

// Client is a connection to a Kafka cluster for metadata, admin and offset
// look-ups, and the factory for readers and producers.
//
// It is safe for concurrent use. Readers and producers it creates hold their
// own connections (a reader's long-polling Fetch must not queue admin
// requests behind it on a shared connection, and a producer's
// configuration, such as its transactional id, is per producer); they stay
// usable only while the Client is open, so close them first.
type Client struct {
	brokers  []string
	clientID string

	// client carries metadata, ListOffsets and admin traffic only; nothing
	// long-polls on its connections.
	client sarama.Client
	admin  sarama.ClusterAdmin

	mu     sync.Mutex
	closed bool
}

// NewClient connects to the cluster through the given seed brokers
// ("host:port") and identifies itself as clientID. It fails, naming the
// brokers, when none of them answers a metadata request within a few
// bounded attempts.
func NewClient(brokers []string, clientID string) (*Client, error) {
	if len(brokers) == 0 {
		return nil, errors.New("kafka: no brokers given")
	}
	brokers = slices.Clone(brokers)
	conf := newBaseConfig(clientID)
	sc, err := sarama.NewClient(brokers, conf)
	if err != nil {
		return nil, fmt.Errorf("kafka: no broker answered at %s: %w", strings.Join(brokers, ","), err)
	}
	admin, err := sarama.NewClusterAdminFromClient(sc)
	if err != nil {
		_ = sc.Close()
		return nil, fmt.Errorf("kafka: admin connection to %s: %w", strings.Join(brokers, ","), err)
	}
	return &Client{brokers: brokers, clientID: clientID, client: sc, admin: admin}, nil
}

// newBaseConfig is the configuration every connection of this package
// starts from. Producers and readers adjust their copies.
func newBaseConfig(clientID string) *sarama.Config {
	conf := sarama.NewConfig()
	if clientID != "" {
		conf.ClientID = clientID
	}
	conf.Version = saramaVersion
	conf.Net.DialTimeout = dialTimeout
	conf.Metadata.Retry.Max = metadataRetries
	conf.Metadata.Retry.Backoff = metadataBackoff
	conf.Consumer.IsolationLevel = sarama.ReadCommitted
	conf.Consumer.Return.Errors = true
	conf.Consumer.Fetch.Default = fetchPartitionBytes
	conf.ChannelBufferSize = 4096
	return conf
}

// Close closes the client's connections. Readers and producers created
// from it must be closed by their owners.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	// The admin was built from c.client and closes it.
	if err := c.admin.Close(); err != nil {
		return fmt.Errorf("kafka: close client: %w", err)
	}
	return nil
}

// Brokers returns the seed brokers the client was created with.
func (c *Client) Brokers() []string { return slices.Clone(c.brokers) }

// SaramaConfig returns a fresh copy of the base configuration (protocol
// version, timeouts, read_committed isolation, fetches of the reader's
// size, 4096-message channel buffers) for callers that build their own
// sarama clients, such as consumer groups. Consumer.Return.Errors is set:
// drain Errors().
func (c *Client) SaramaConfig() *sarama.Config { return newBaseConfig(c.clientID) }

// TopicInfo describes a topic as metadata reports it.
type TopicInfo struct {
	Name              string
	Partitions        int
	ReplicationFactor int
}

// Topics lists the cluster's topics sorted by name, leaving out internal
// ones (names starting with "__", such as __consumer_offsets). It asks a
// broker afresh rather than trusting a cache.
func (c *Client) Topics() ([]TopicInfo, error) {
	md, err := c.metadata(nil)
	if err != nil {
		return nil, fmt.Errorf("kafka: list topics: %w", err)
	}
	out := make([]TopicInfo, 0, len(md.Topics))
	for _, t := range md.Topics {
		if strings.HasPrefix(t.Name, "__") || !errors.Is(t.Err, sarama.ErrNoError) {
			continue
		}
		out = append(out, topicInfo(t))
	}
	slices.SortFunc(out, func(a, b TopicInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Topic describes one topic; ok is false when the cluster has no such
// topic.
func (c *Client) Topic(name string) (info TopicInfo, ok bool, err error) {
	t, err := c.topicMetadata(name)
	if errors.Is(err, ErrUnknownTopic) {
		return TopicInfo{}, false, nil
	}
	if err != nil {
		return TopicInfo{}, false, fmt.Errorf("kafka: describe topic %q: %w", name, err)
	}
	return topicInfo(t), true, nil
}

func topicInfo(t *sarama.TopicMetadata) TopicInfo {
	info := TopicInfo{Name: t.Name, Partitions: len(t.Partitions)}
	if len(t.Partitions) > 0 {
		info.ReplicationFactor = len(t.Partitions[0].Replicas)
	}
	return info
}

// CreateTopic creates a topic. An existing topic is not an error: created
// is false and its partitioning is left as it is. Either way CreateTopic
// returns only once metadata shows the topic with a leader for every
// partition, so readers and producers can use it at once. A
// replicationFactor of 0 or less takes the broker's default.
func (c *Client) CreateTopic(name string, partitions, replicationFactor int) (created bool, err error) {
	if partitions < 1 {
		return false, fmt.Errorf("kafka: create topic %q: partitions must be at least 1, got %d", name, partitions)
	}
	rf := int16(replicationFactor)
	if replicationFactor <= 0 {
		rf = -1
	}
	err = c.admin.CreateTopic(name, &sarama.TopicDetail{NumPartitions: int32(partitions), ReplicationFactor: rf}, false)
	switch {
	case err == nil:
		created = true
	case errors.Is(err, sarama.ErrTopicAlreadyExists):
	default:
		return false, fmt.Errorf("kafka: create topic %q: %w", name, err)
	}
	if err := c.waitTopic(name, true); err != nil {
		return created, fmt.Errorf("kafka: create topic %q: %w", name, err)
	}
	return created, nil
}

// DeleteTopic deletes a topic and waits until metadata no longer shows it,
// so the name can be created again at once. A missing topic is
// ErrUnknownTopic.
func (c *Client) DeleteTopic(name string) error {
	if err := c.admin.DeleteTopic(name); err != nil {
		if errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
			err = ErrUnknownTopic
		}
		return fmt.Errorf("kafka: delete topic %q: %w", name, err)
	}
	if err := c.waitTopic(name, false); err != nil {
		return fmt.Errorf("kafka: delete topic %q: %w", name, err)
	}
	return nil
}

// waitTopic polls metadata until the topic exists with a leader for every
// partition (present) or is gone (!present).
func (c *Client) waitTopic(name string, present bool) error {
	deadline := time.Now().Add(topicWaitTimeout)
	for {
		t, err := c.topicMetadata(name)
		switch {
		case present && err == nil && allLed(t):
			// Let the sarama client's cache learn the topic too; the
			// admin and producers route by it.
			_ = c.client.RefreshMetadata(name)
			return nil
		case !present && errors.Is(err, ErrUnknownTopic):
			return nil
		case err != nil && !errors.Is(err, ErrUnknownTopic) && !isRetriable(err):
			return err
		}
		if time.Now().After(deadline) {
			if present {
				return fmt.Errorf("metadata did not show the topic with all partition leaders within %v", topicWaitTimeout)
			}
			return fmt.Errorf("metadata still showed the topic after %v", topicWaitTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func allLed(t *sarama.TopicMetadata) bool {
	if len(t.Partitions) == 0 {
		return false
	}
	for _, p := range t.Partitions {
		if !errors.Is(p.Err, sarama.ErrNoError) || p.Leader < 0 {
			return false
		}
	}
	return true
}

// metadata asks one broker for metadata of the given topics (nil: all),
// never creating topics. It retries on a different connection when a
// broker does not answer.
func (c *Client) metadata(topics []string) (*sarama.MetadataResponse, error) {
	var lastErr error
	for attempt := 0; attempt <= metadataRetries; attempt++ {
		if attempt > 0 {
			time.Sleep(metadataBackoff)
		}
		b := c.client.LeastLoadedBroker()
		if b == nil {
			return nil, ErrClosed
		}
		req := sarama.NewMetadataRequest(saramaVersion, topics)
		req.AllowAutoTopicCreation = false
		resp, err := b.GetMetadata(req)
		if err == nil {
			return resp, nil
		}
		lastErr = err
		// A failed connection is reopened by the next LeastLoadedBroker.
		_ = b.Close()
	}
	return nil, lastErr
}

// topicMetadata returns one topic's metadata, ErrUnknownTopic if it does
// not exist, with partitions sorted by id.
func (c *Client) topicMetadata(name string) (*sarama.TopicMetadata, error) {
	md, err := c.metadata([]string{name})
	if err != nil {
		return nil, err
	}
	for _, t := range md.Topics {
		if t.Name != name {
			continue
		}
		switch {
		case errors.Is(t.Err, sarama.ErrNoError):
			slices.SortFunc(t.Partitions, func(a, b *sarama.PartitionMetadata) int { return int(a.ID - b.ID) })
			return t, nil
		case errors.Is(t.Err, sarama.ErrUnknownTopicOrPartition):
			return nil, ErrUnknownTopic
		default:
			return nil, t.Err
		}
	}
	return nil, ErrUnknownTopic
}

// leaderAddr returns the address of the broker leading a partition.
func (c *Client) leaderAddr(topic string, partition int32) (string, error) {
	md, err := c.metadata([]string{topic})
	if err != nil {
		return "", err
	}
	for _, t := range md.Topics {
		if t.Name != topic {
			continue
		}
		if errors.Is(t.Err, sarama.ErrUnknownTopicOrPartition) {
			return "", ErrUnknownTopic
		}
		if !errors.Is(t.Err, sarama.ErrNoError) {
			return "", t.Err
		}
		for _, p := range t.Partitions {
			if p.ID != partition {
				continue
			}
			if !errors.Is(p.Err, sarama.ErrNoError) && !errors.Is(p.Err, sarama.ErrReplicaNotAvailable) {
				return "", p.Err
			}
			for _, b := range md.Brokers {
				if b.ID() == p.Leader {
					return b.Addr(), nil
				}
			}
			return "", sarama.ErrLeaderNotAvailable
		}
		return "", ErrUnknownPartition
	}
	return "", ErrUnknownTopic
}

// StartOffsets returns each partition's log start offset, indexed by
// partition.
func (c *Client) StartOffsets(topic string) ([]int64, error) {
	offs, err := c.listOffsets(topic, sarama.OffsetOldest)
	if err != nil {
		return nil, fmt.Errorf("kafka: start offsets of %q: %w", topic, err)
	}
	return offs, nil
}

// EndOffsets returns, per partition, the offset a read_committed reader
// reaches: the last stable offset, which is below the high watermark while
// a transaction is open. A bounded read of a partition is complete when the
// reader's Position reaches it. On Apache Kafka a transaction's records
// become reachable a moment after CommitTxn returns: the coordinator writes
// the commit markers that advance the last stable offset asynchronously.
func (c *Client) EndOffsets(topic string) ([]int64, error) {
	offs, err := c.listOffsets(topic, sarama.OffsetNewest)
	if err != nil {
		return nil, fmt.Errorf("kafka: end offsets of %q: %w", topic, err)
	}
	return offs, nil
}

// OffsetsForTime returns, per partition, the first offset whose record
// timestamp is at or after ms (Unix milliseconds), or the end offset where
// no record is that late.
func (c *Client) OffsetsForTime(topic string, ms int64) ([]int64, error) {
	if ms < 0 {
		return nil, fmt.Errorf("kafka: offsets of %q for time %d: negative timestamp", topic, ms)
	}
	offs, err := c.listOffsets(topic, ms)
	if err != nil {
		return nil, fmt.Errorf("kafka: offsets of %q for time %d: %w", topic, ms, err)
	}
	var ends []int64
	for p, o := range offs {
		if o >= 0 {
			continue
		}
		if ends == nil {
			if ends, err = c.listOffsets(topic, sarama.OffsetNewest); err != nil {
				return nil, fmt.Errorf("kafka: offsets of %q for time %d: %w", topic, ms, err)
			}
			if len(ends) != len(offs) {
				return nil, fmt.Errorf("kafka: offsets of %q for time %d: partition count changed", topic, ms)
			}
		}
		offs[p] = ends[p]
	}
	return offs, nil
}

// listOffsets sends read_committed ListOffsets requests for every partition
// of topic, one per leader, retrying when leadership moves underneath.
func (c *Client) listOffsets(topic string, ts int64) ([]int64, error) {
	var lastErr error
	for attempt := 0; attempt <= metadataRetries; attempt++ {
		if attempt > 0 {
			time.Sleep(metadataBackoff)
		}
		offs, err := c.tryListOffsets(topic, ts)
		if err == nil || !isRetriable(err) {
			return offs, err
		}
		lastErr = err
	}
	return nil, lastErr
}

func (c *Client) tryListOffsets(topic string, ts int64) ([]int64, error) {
	md, err := c.metadata([]string{topic})
	if err != nil {
		return nil, err
	}
	var t *sarama.TopicMetadata
	for _, mt := range md.Topics {
		if mt.Name == topic {
			t = mt
		}
	}
	if t == nil || errors.Is(t.Err, sarama.ErrUnknownTopicOrPartition) {
		return nil, ErrUnknownTopic
	}
	if !errors.Is(t.Err, sarama.ErrNoError) {
		return nil, t.Err
	}
	addrs := make(map[int32]string, len(md.Brokers))
	for _, b := range md.Brokers {
		addrs[b.ID()] = b.Addr()
	}
	// Group partitions by leader so each broker gets one request.
	byLeader := make(map[int32][]int32)
	for _, p := range t.Partitions {
		if p.ID < 0 || int(p.ID) >= len(t.Partitions) {
			return nil, fmt.Errorf("partition ids of %q are not 0..%d", topic, len(t.Partitions)-1)
		}
		if p.Leader < 0 {
			return nil, sarama.ErrLeaderNotAvailable
		}
		byLeader[p.Leader] = append(byLeader[p.Leader], p.ID)
	}
	out := make([]int64, len(t.Partitions))
	for leader, parts := range byLeader {
		b, err := c.client.Broker(leader)
		if err != nil {
			// The sarama client learns brokers from its own metadata;
			// refresh it when ours names one it has not seen.
			if rerr := c.client.RefreshMetadata(topic); rerr != nil {
				return nil, rerr
			}
			if b, err = c.client.Broker(leader); err != nil {
				return nil, fmt.Errorf("leader %d (%s): %w", leader, addrs[leader], sarama.ErrLeaderNotAvailable)
			}
		}
		req := sarama.NewOffsetRequest(saramaVersion)
		req.IsolationLevel = sarama.ReadCommitted
		for _, p := range parts {
			req.AddBlock(topic, p, ts, 1)
		}
		resp, err := b.GetAvailableOffsets(req)
		if err != nil {
			_ = b.Close()
			return nil, err
		}
		for _, p := range parts {
			blk := resp.GetBlock(topic, p)
			if blk == nil {
				return nil, sarama.ErrIncompleteResponse
			}
			if !errors.Is(blk.Err, sarama.ErrNoError) {
				if errors.Is(blk.Err, sarama.ErrUnknownTopicOrPartition) {
					return nil, ErrUnknownTopic
				}
				return nil, blk.Err
			}
			out[p] = blk.Offset
		}
	}
	return out, nil
}

// isRetriable reports errors that a metadata refresh and another attempt
// can cure: lost connections and leadership changes.
func isRetriable(err error) bool {
	var kerr sarama.KError
	if errors.As(err, &kerr) {
		switch kerr {
		case sarama.ErrNotLeaderForPartition, sarama.ErrLeaderNotAvailable,
			sarama.ErrReplicaNotAvailable, sarama.ErrFencedLeaderEpoch,
			sarama.ErrUnknownLeaderEpoch, sarama.ErrRequestTimedOut,
			sarama.ErrKafkaStorageError, sarama.ErrNotEnoughReplicas,
			sarama.ErrOffsetNotAvailable, sarama.ErrBrokerNotAvailable,
			sarama.ErrNotController:
			return true
		}
		return false
	}
	var nerr net.Error
	return errors.As(err, &nerr) ||
		errors.Is(err, sarama.ErrNotConnected) ||
		errors.Is(err, sarama.ErrOutOfBrokers) ||
		errors.Is(err, sarama.ErrBrokerNotFound) ||
		errors.Is(err, sarama.ErrIncompleteResponse) ||
		errors.Is(err, sarama.ErrLeaderNotAvailable) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// GroupOffsets returns group's committed offsets for topic's partitions
// (-1 where none) and their metadata strings. Offsets written by a
// transaction appear only once it has committed; while a transaction that
// wrote them is still completing, the request (sent with require_stable)
// is retried, so the answer is final.
func (c *Client) GroupOffsets(group, topic string, partitions int) ([]int64, []string, error) {
	ps := make([]int32, partitions)
	for i := range ps {
		ps[i] = int32(i)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		offs, mds, err := c.fetchGroupOffsets(group, topic, ps)
		retry := errors.Is(err, sarama.ErrUnstableOffsetCommit) || errors.Is(err, sarama.ErrOffsetsLoadInProgress) ||
			errors.Is(err, sarama.ErrNotCoordinatorForConsumer) || errors.Is(err, sarama.ErrConsumerCoordinatorNotAvailable)
		if !retry || time.Now().After(deadline) {
			if err != nil {
				return nil, nil, fmt.Errorf("kafka: offsets of group %q: %w", group, err)
			}
			return offs, mds, nil
		}
		if errors.Is(err, sarama.ErrNotCoordinatorForConsumer) {
			_ = c.client.RefreshCoordinator(group)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *Client) fetchGroupOffsets(group, topic string, ps []int32) ([]int64, []string, error) {
	coord, err := c.client.Coordinator(group)
	if err != nil {
		return nil, nil, err
	}
	req := sarama.NewOffsetFetchRequest(c.client.Config().Version, group, map[string][]int32{topic: ps})
	req.RequireStable = true
	resp, err := coord.FetchOffset(req)
	if err != nil {
		return nil, nil, err
	}
	offs := make([]int64, len(ps))
	mds := make([]string, len(ps))
	for i := range offs {
		offs[i] = -1
	}
	if resp.Err == sarama.ErrGroupIDNotFound {
		return offs, mds, nil
	}
	if resp.Err != sarama.ErrNoError {
		return nil, nil, resp.Err
	}
	for i, p := range ps {
		b := resp.GetBlock(topic, p)
		if b == nil {
			continue
		}
		if b.Err != sarama.ErrNoError {
			return nil, nil, b.Err
		}
		offs[i], mds[i] = b.Offset, b.Metadata
	}
	return offs, mds, nil
}
