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
