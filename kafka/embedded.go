package kafka

import (
	"fmt"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Embedded is a single-broker Kafka cluster running in this process:
// franz-go's kfake, persisted under a data directory so topics and records
// survive a restart. It speaks the Kafka protocol on a TCP port, so the rest
// of this package (and any other client) uses it like a real cluster. It is
// for development and tests: no replication, no quotas.
//
// Topics are not created automatically on produce or metadata requests;
// create them explicitly, as against a production cluster.
type Embedded struct {
	cluster *kfake.Cluster
	addr    string
}

// StartEmbedded starts the broker listening on addr ("host:port"; port 0
// picks a free one, see Addr) and persisting under dataDir, which is
// created if needed and reloaded if it holds an earlier run's state. An
// empty dataDir keeps everything in memory. The host must be a concrete
// address (such as 127.0.0.1), not 0.0.0.0: the broker advertises its
// listening address to clients, who connect back to it.
func StartEmbedded(addr string, dataDir string) (*Embedded, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("kafka: embedded broker address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("kafka: embedded broker address %q: bad port", addr)
	}
	switch host {
	case "", "localhost":
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return nil, fmt.Errorf("kafka: embedded broker address %q: give a concrete host, not %s: clients connect to the advertised listening address", addr, host)
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.ClusterID("streamsql-embedded"),
		// kfake always asks for 127.0.0.1:port; listen on the host we
		// were given instead.
		kfake.ListenFn(func(network, address string) (net.Listener, error) {
			_, p, err := net.SplitHostPort(address)
			if err != nil {
				return nil, err
			}
			return net.Listen(network, net.JoinHostPort(host, p))
		}),
	}
	if dataDir != "" {
		opts = append(opts, kfake.DataDir(dataDir))
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: start embedded broker on %s (data in %q): %w", addr, dataDir, err)
	}
	addrs := cluster.ListenAddrs()
	if len(addrs) != 1 {
		cluster.Close()
		return nil, fmt.Errorf("kafka: start embedded broker on %s: expected one listener, got %v", addr, addrs)
	}
	return &Embedded{cluster: cluster, addr: addrs[0]}, nil
}

// Addr returns the "host:port" the broker listens on, to pass to NewClient.
func (e *Embedded) Addr() string { return e.addr }

// Close stops the broker, writing its state to the data directory first.
// Clients still connected see their connections drop.
func (e *Embedded) Close() error {
	e.cluster.Close()
	return nil
}
