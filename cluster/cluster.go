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

// StorageName is the storage node's name in every cluster: what faults and links call it.
const StorageName = "storage"

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
	// Kind is the node's server software (nil means Redis).
	Kind *Kind
	// Port is the server's port inside the container: with IP, the address other nodes (and a
	// Sentinel's answers) give for it.
	Port int
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

// Spec says what cluster to start.
type Spec struct {
	// RunID labels every container and network of the run.
	RunID string
	// Kind is the lock nodes' server software (nil is KindRedis).
	Kind *Kind
	// LockNodes is how many lock nodes to start (0 for nolock, which needs only the storage).
	LockNodes int
	// Image is the Redis image reference (see EnsureImage): the storage node's, and the lock
	// nodes' and Sentinels' for the Redis kinds.
	Image string
	// LockImage is the reference of the lock nodes' image, Kind.Image ("" for a kind whose nodes
	// run the Redis image: Image is used).
	LockImage string
	// Persistence is the lock nodes' durability: how much a killed node remembers when it
	// restarts ("" is the kind's default). The storage node never persists: it is not a fault target, and the write log that
	// resolves unknown writes lives in its memory for the run.
	Persistence Persistence
	// Log receives debug logs of container lifecycle; nil discards them.
	Log *slog.Logger
}

// Persistence is a durability setting of the lock nodes: how much a killed node remembers when it
// restarts. Which settings a kind of server accepts, and its default, are in Kind.Durabilities.
//
// Every fault locktest injects kills or stops processes, never the machine, so what a server has
// handed to the operating system survives it (the page cache outlives the process): an fsync adds
// nothing our faults can observe. That is why etcd and ZooKeeper run without fsync by default.
type Persistence string

const (
	// NoPersistence keeps data in memory only: a restarted node has forgotten every key (Redis).
	NoPersistence Persistence = "none"
	// AppendEverySec writes an append-only file fsynced once a second (Redis): a killed node keeps
	// what it wrote, a machine crash would lose up to a second.
	AppendEverySec Persistence = "everysec"
	// AppendAlways writes and fsyncs before it replies (Redis appendfsync always; etcd's and
	// ZooKeeper's own default): an acknowledged write survives even a machine crash.
	AppendAlways Persistence = "always"
	// NoFsync writes the log to the operating system before replying but never fsyncs it (etcd
	// --unsafe-no-fsync, ZooKeeper forceSync=no): a killed server keeps every acknowledged write, a
	// machine crash (which locktest never causes) could lose them.
	NoFsync Persistence = "nofsync"
)

// ParsePersistence parses a persistence setting; "" is the backend's default.
func ParsePersistence(s string) (Persistence, error) {
	switch p := Persistence(s); p {
	case "", NoPersistence, AppendEverySec, AppendAlways, NoFsync:
		return p, nil
	}
	return "", fmt.Errorf("unknown persistence %q (choose none, everysec, always or nofsync; empty is the backend's default)", s)
}

// redisDurabilities are what Redis lock nodes accept (the default: none, the fastest).
var redisDurabilities = []Durability{
	{NoPersistence, "nothing: every key is gone"},
	{AppendEverySec, "every acknowledged write (the append-only file is written at once, fsynced every second)"},
	{AppendAlways, "every acknowledged write, fsynced before the reply"},
}

// consensusDurabilities are what etcd and ZooKeeper accept. Their log is written before they
// acknowledge either way; nofsync is the default because fsync costs them an order of magnitude
// in throughput and guards only against machine crashes, which locktest never causes.
var consensusDurabilities = []Durability{
	{NoFsync, "every acknowledged write (the log is written before the reply, not fsynced)"},
	{AppendAlways, "every acknowledged write, fsynced before the reply"},
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
	k := s.Kind
	if k == nil {
		k = KindRedis
	}
	if s.LockImage == "" && k.Image != images.Redis {
		return fmt.Errorf("cluster spec: %s needs its lock node image", k.Name)
	}
	if err := k.CheckPersistence(s.Persistence); err != nil {
		return err
	}
	if s.LockNodes > 0 {
		return k.CheckSize(s.LockNodes)
	}
	return nil
}
