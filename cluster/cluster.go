package cluster

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/locktest/locktest/images"
)

// Role says what a node is for.
type Role string

const (
	// RoleLock nodes hold the lock (one for redis-single, N for Redlock).
	RoleLock Role = "lock"
	// RoleStorage is the node holding the protected counter and its write log.
	RoleStorage Role = "storage"
	// RoleSentinel nodes watch a Redis primary and promote a replica when it fails.
	RoleSentinel Role = "sentinel"
)

// Kind is the server software of a cluster's lock nodes. The storage node is always Redis.
type Kind string

const (
	// KindRedis lock nodes are independent Redis servers (redis-single, Redlock).
	KindRedis Kind = "redis"
	// KindEtcd lock nodes are the members of one etcd cluster.
	KindEtcd Kind = "etcd"
	// KindZooKeeper lock nodes are the servers of one ZooKeeper ensemble.
	KindZooKeeper Kind = "zookeeper"
	// KindSentinel lock nodes are a Redis primary (n1) and its asynchronous replicas, watched by
	// three Sentinels.
	KindSentinel Kind = "redis-sentinel"
)

// SentinelMaster is the name the Sentinels monitor the primary under.
const SentinelMaster = "locktest"

// Node is one server of a cluster.
type Node struct {
	// Name is short and stable within a run ("n1".."n5", "storage"); faults and reports use it.
	Name string
	Role Role
	// Addr is where clients on this host reach the node: always on 127.0.0.1.
	Addr string
	// IP is the node's address on the run's private network (what other nodes see).
	IP string
	// ContainerID identifies the node's container, for faults that act on it.
	ContainerID string
	// Kind is the node's server software ("" means Redis, as on a standing cluster).
	Kind Kind
	// Port is the server's port inside the container: with IP, the address other nodes (and a
	// Sentinel's answers) give for it.
	Port int
}

// ClockShim says whether servers of kind k read the wall clock through the clock shim, so a clock
// fault can shift it. Only Redis does ("" is Redis, as on a standing cluster): etcd is a Go
// program that reads the clock through the vDSO, and ZooKeeper times sessions on the JVM's
// monotonic clock.
func (k Kind) ClockShim() bool {
	return k == "" || k == KindRedis || k == KindSentinel
}

// Cluster is a running set of nodes. Providers: Start (containers per run); a standing
// docker-compose cluster may be another.
type Cluster interface {
	// LockNodes are the nodes the lock backend uses, in name order.
	LockNodes() []Node
	// Storage is the node holding the protected counter.
	Storage() Node
	// Sentinels are the Sentinels watching the lock nodes (KindSentinel only).
	Sentinels() []Node
	// Close removes what the provider created. It must work on a cancelled context's values
	// (callers pass a fresh one) and is safe to call twice.
	Close(ctx context.Context) error
}

// Images lists the images a cluster of kind k runs besides the Redis image.
func (k Kind) Images() []images.Image {
	switch k {
	case KindEtcd:
		return []images.Image{images.Etcd}
	case KindZooKeeper:
		return []images.Image{images.ZooKeeper}
	}
	return nil
}

// Spec says what cluster to start.
type Spec struct {
	// RunID labels every container and network of the run.
	RunID string
	// Kind is the lock nodes' server software ("" is KindRedis).
	Kind Kind
	// LockNodes is how many lock nodes to start (0 for nolock, which needs only the storage).
	LockNodes int
	// Image is the Redis image reference (see EnsureImage): the storage node's, and the lock
	// nodes' and Sentinels' for the Redis kinds.
	Image string
	// LockImage is the lock nodes' image for KindEtcd and KindZooKeeper.
	LockImage string
	// Persistence is the lock nodes' durability: how much a killed node remembers when it
	// restarts. The storage node never persists: it is not a fault target, and the write log that
	// resolves unknown writes lives in its memory for the run.
	Persistence Persistence
	// Log receives debug logs of container lifecycle; nil discards them.
	Log *slog.Logger
}

// Persistence is a Redis durability setting.
type Persistence string

const (
	// NoPersistence keeps data in memory only: a restarted node has forgotten every key.
	NoPersistence Persistence = "none"
	// AppendEverySec writes an append-only file fsynced once a second: a crash loses up to a second.
	AppendEverySec Persistence = "everysec"
	// AppendAlways fsyncs the append-only file before replying: an acknowledged SET survives a crash.
	AppendAlways Persistence = "always"
)

// ParsePersistence parses none, everysec or always ("" is none).
func ParsePersistence(s string) (Persistence, error) {
	switch p := Persistence(s); p {
	case "", NoPersistence:
		return NoPersistence, nil
	case AppendEverySec, AppendAlways:
		return p, nil
	}
	return "", fmt.Errorf("unknown persistence %q (choose none, everysec or always)", s)
}

// redisArgs returns redis-server's arguments for a node with durability p.
func redisArgs(p Persistence) []string {
	args := []string{"--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--dir", "/var/lib/redis"}
	if p == AppendEverySec || p == AppendAlways {
		return append(args, "--appendonly", "yes", "--appendfsync", string(p))
	}
	return append(args, "--appendonly", "no")
}

func (s Spec) validate() error {
	if s.RunID == "" {
		return fmt.Errorf("cluster spec: run id is empty")
	}
	if s.LockNodes < 0 {
		return fmt.Errorf("cluster spec: negative lock node count %d", s.LockNodes)
	}
	if _, err := ParsePersistence(string(s.Persistence)); err != nil {
		return err
	}
	if s.Image == "" {
		return fmt.Errorf("cluster spec: image is empty")
	}
	switch s.Kind {
	case "", KindRedis:
	case KindEtcd, KindZooKeeper:
		if s.LockImage == "" {
			return fmt.Errorf("cluster spec: %s needs its lock node image", s.Kind)
		}
		if s.LockNodes%2 == 0 {
			// An even ensemble tolerates no more failures than one node fewer: a mistake, not a choice.
			return fmt.Errorf("%s needs an odd number of members (1, 3, 5), got %d", s.Kind, s.LockNodes)
		}
	case KindSentinel:
		if s.LockNodes < 2 {
			return fmt.Errorf("redis-sentinel needs a primary and at least one replica, got %d node(s)", s.LockNodes)
		}
	default:
		return fmt.Errorf("cluster spec: unknown kind %q", s.Kind)
	}
	return nil
}
