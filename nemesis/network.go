package nemesis

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/locktest/locktest/cluster"
)

// ClientsPeer stands for "the clients on the host" as a partition peer. Host clients reach a node
// through its published port, so inside the container they all come from the network's gateway;
// the fault looks that address up in each container (its default route).
const ClientsPeer = "clients"

// PartitionMode says how a partition cuts traffic.
type PartitionMode string

const (
	// Drop silently drops packets both ways: peers see timeouts, and whatever TCP data was in
	// flight is retransmitted and delivered when the partition heals (a late SET can still land).
	Drop PartitionMode = "drop"
	// Reject answers the peer's packets with a TCP reset: connections fail at once and nothing
	// sent during the partition is delivered later.
	Reject PartitionMode = "reject"
)

// NewPartition returns a fault that cuts each of nodes off from peers with iptables rules inside
// the nodes' containers. A peer is ClientsPeer or another node's IP address. Heal deletes exactly
// the rules Inject added.
func NewPartition(d NodeControl, nodes []cluster.Node, peers []string, mode PartitionMode) Fault {
	if mode == "" {
		mode = Drop
	}
	return &partition{d: d, nodes: nodes, peers: peers, mode: mode}
}

type partition struct {
	d     NodeControl
	nodes []cluster.Node
	peers []string
	mode  PartitionMode

	mu    sync.Mutex
	added map[string][][]string // container → rule specs added (without -A/-D)
}

func (f *partition) Kind() Kind        { return Partition }
func (f *partition) Targets() []string { return nodeNames(f.nodes) }
func (f *partition) Detail() string {
	return fmt.Sprintf("isolated from %s (%s)", strings.Join(f.peers, ","), f.mode)
}

func (f *partition) Inject(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.added == nil {
		f.added = map[string][][]string{}
	}
	for _, n := range f.nodes {
		for _, peer := range f.peers {
			ip := peer
			if peer == ClientsPeer {
				gw, err := gateway(ctx, f.d, n)
				if err != nil {
					return err
				}
				ip = gw
			}
			specs := [][]string{
				{"INPUT", "-s", ip, "-j", "DROP", "-m", "comment", "--comment", "locktest"},
				{"OUTPUT", "-d", ip, "-j", "DROP", "-m", "comment", "--comment", "locktest"},
			}
			if f.mode == Reject {
				// Both ways: inbound packets are answered with a reset, and so is the node's own
				// outbound traffic (a primary's replication stream to a cut-off replica must not get
				// through). The resets themselves are let out.
				specs = [][]string{
					{"INPUT", "-s", ip, "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset",
						"-m", "comment", "--comment", "locktest"},
					{"OUTPUT", "-d", ip, "-p", "tcp", "!", "--tcp-flags", "RST", "RST", "-j", "REJECT", "--reject-with", "tcp-reset",
						"-m", "comment", "--comment", "locktest"},
				}
			}
			for _, spec := range specs {
				if _, err := f.d.Exec(ctx, n.ContainerID, append([]string{"iptables", "-A"}, spec...)...); err != nil {
					return fmt.Errorf("partition %s from %s: %w", n.Name, peer, err)
				}
				f.added[n.ContainerID] = append(f.added[n.ContainerID], spec)
			}
		}
	}
	return nil
}

func (f *partition) Heal(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return eachNode(f.nodes, func(n cluster.Node) error {
		var errs []string
		var kept [][]string
		for _, spec := range f.added[n.ContainerID] {
			_, err := f.d.Exec(ctx, n.ContainerID, append([]string{"iptables", "-D"}, spec...)...)
			if err != nil && strings.Contains(err.Error(), "does a matching rule exist") {
				// The rule is gone already: the node was killed and restarted since, and its
				// container came back with a fresh network namespace.
				err = nil
			}
			if err != nil {
				errs = append(errs, err.Error())
				kept = append(kept, spec)
			}
		}
		f.added[n.ContainerID] = kept
		if len(errs) > 0 {
			return fmt.Errorf("%s", strings.Join(errs, "; "))
		}
		return nil
	})
}

// gateway returns the address host clients appear to come from inside n's container.
func gateway(ctx context.Context, d NodeControl, n cluster.Node) (string, error) {
	out, err := d.Exec(ctx, n.ContainerID, "ip", "-4", "route", "show", "default")
	if err != nil {
		return "", fmt.Errorf("find %s's gateway: %w", n.Name, err)
	}
	// "default via 172.18.0.1 dev eth0"
	f := strings.Fields(out)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "via" {
			return f[i+1], nil
		}
	}
	return "", fmt.Errorf("find %s's gateway: no default route in %q", n.Name, strings.TrimSpace(out))
}
