package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/locktest/locktest/images"
)

// Kind is the server software of a cluster's lock nodes. Everything locktest knows about one kind
// (its image and port, how a node is started and when it is ready, how to ask it whether it
// serves, how clients address the cluster, which faults and settings reach it) is in its value;
// Kinds lists them all. The storage node is always Redis, whatever the kind.
type Kind struct {
	// Name names the kind in messages ("redis", "etcd").
	Name string
	// Image is the lock nodes' image.
	Image images.Image
	// Port is the server's client port inside the container.
	Port int
	// MinNodes is the smallest cluster of this kind that works.
	MinNodes int
	// Ensemble says the nodes form one majority-quorum group, whose size must be odd: an even one
	// tolerates no more failures than one node fewer, a mistake rather than a choice.
	Ensemble bool
	// NoClock, if set, says why a per-process clock fault cannot reach these servers; empty means
	// they read the wall clock through the clock shim (images/redis/clockshim.c).
	NoClock string
	// Durabilities are the persistence settings these servers accept, each with what a killed
	// server keeps under it; the first is the default (Spec.Persistence "").
	Durabilities []Durability

	// node describes lock node i of the nodes named names.
	node func(spec Spec, i int, names []string) nodeReq
	// settle, if set, runs once the lock nodes are up and returns when the cluster can serve
	// clients as a whole (an ensemble has a leader; Sentinels are started and know the replicas).
	settle func(ctx context.Context, c *Containers, spec Spec, labels map[string]string) error
	// serving asks one node, through its 127.0.0.1 address, whether it serves clients.
	serving func(ctx context.Context, n Node) error
	// clientAddrs, if set, are the addresses the lock clients are given, and how to dial the
	// addresses the servers hand out; unset means the lock nodes' addresses, dialled as they are.
	clientAddrs func(cl Cluster) (addrs []string, dial map[string]string)
	// describe, if set, says in a few words what a cluster of n lock nodes is.
	describe func(n int) string
}

func (k *Kind) String() string { return k.Name }

// ClockShim says whether a clock fault can shift these servers' wall clock.
func (k *Kind) ClockShim() bool { return k.NoClock == "" }

// CheckSize says whether n lock nodes make a cluster of this kind.
func (k *Kind) CheckSize(n int) error {
	switch {
	case n < k.MinNodes:
		return fmt.Errorf("%s needs at least %d node(s), got %d", k.Name, k.MinNodes, n)
	case k.Ensemble && n%2 == 0:
		return fmt.Errorf("%s needs an odd number of members (1, 3, 5), got %d", k.Name, n)
	}
	return nil
}

// Durability is one persistence setting of a kind of server.
type Durability struct {
	Setting Persistence
	// Keeps says what a server killed under this setting remembers when it restarts.
	Keeps string
}

// CheckPersistence says whether durability p can be set on these servers ("" is their default).
func (k *Kind) CheckPersistence(p Persistence) error {
	if p == "" || slices.ContainsFunc(k.Durabilities, func(d Durability) bool { return d.Setting == p }) {
		return nil
	}
	settings := make([]string, len(k.Durabilities))
	for i, d := range k.Durabilities {
		settings[i] = string(d.Setting)
	}
	return fmt.Errorf("persistence %s does not apply to %s (choose %s)", p, k.Name, strings.Join(settings, ", "))
}

// Persistence is the durability these servers run with when p is asked for: p itself, or their
// default when p is "".
func (k *Kind) Persistence(p Persistence) Persistence {
	if p == "" {
		return k.Durabilities[0].Setting
	}
	return p
}

// Describe says in a few words what a cluster of n lock nodes of this kind is.
func (k *Kind) Describe(n int) string {
	if k.describe != nil {
		return k.describe(n)
	}
	return fmt.Sprintf("%d %s lock node(s)", n, k.Name)
}

// ClientAddrs are the addresses a lock client of cl is given, and dial maps addresses the servers
// hand out (a Sentinel naming the primary by its container address) to the ones to dial instead.
func (k *Kind) ClientAddrs(cl Cluster) (addrs []string, dial map[string]string) {
	if k.clientAddrs != nil {
		return k.clientAddrs(cl)
	}
	for _, n := range cl.LockNodes() {
		addrs = append(addrs, n.Addr)
	}
	return addrs, nil
}

// KindOf returns the kind of node n (Redis when unset).
func KindOf(n Node) *Kind {
	if n.Kind == nil {
		return KindRedis
	}
	return n.Kind
}
