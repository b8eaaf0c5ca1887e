package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"

	"github.com/moby/moby/client"
)

// Labels of a standing cluster's containers (docker-compose.yml). They are not LabelProject:
// `locktest clean` must never remove a cluster somebody keeps running on purpose.
const (
	LabelStanding = "io.locktest.standing" // "true"
	LabelNode     = "io.locktest.node"     // the node's name: n1..n5, storage
)

// ErrNoStanding means no standing cluster is running.
var ErrNoStanding = errors.New("no standing locktest cluster is running (start one with `docker-compose up -d` in the locktest checkout)")

// Standing is a cluster somebody else started and keeps running (docker-compose.yml): locktest
// uses it and heals what it broke, but never removes it.
type Standing struct {
	lockNodes []Node
	storage   Node
}

// FindStanding finds the running standing cluster's nodes.
func FindStanding(ctx context.Context, e *Engine) (*Standing, error) {
	list, err := e.api.ContainerList(ctx, client.ContainerListOptions{Filters: client.Filters{}.Add("label", LabelStanding+"=true")})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	s := &Standing{}
	haveStorage := false
	for _, c := range list.Items {
		n := Node{Name: c.Labels[LabelNode], Role: Role(c.Labels[LabelRole]), ContainerID: c.ID, Kind: KindRedis, Port: redisPort}
		for _, p := range c.Ports {
			if p.PrivatePort == 6379 && p.PublicPort != 0 && p.IP == netip.AddrFrom4([4]byte{127, 0, 0, 1}) {
				n.Addr = net.JoinHostPort("127.0.0.1", fmt.Sprint(p.PublicPort))
			}
		}
		if c.NetworkSettings != nil {
			for _, ep := range c.NetworkSettings.Networks {
				n.IP = ""
				if ep.IPAddress.IsValid() {
					n.IP = ep.IPAddress.String()
				}
			}
		}
		if n.Addr == "" {
			return nil, fmt.Errorf("standing node %s publishes no 127.0.0.1 port for 6379", n.Name)
		}
		switch n.Role {
		case RoleStorage:
			s.storage, haveStorage = n, true
		case RoleLock:
			s.lockNodes = append(s.lockNodes, n)
		}
	}
	if len(list.Items) == 0 {
		return nil, ErrNoStanding
	}
	if !haveStorage {
		return nil, errors.New("the standing cluster has no storage node running")
	}
	sort.Slice(s.lockNodes, func(i, j int) bool { return s.lockNodes[i].Name < s.lockNodes[j].Name })
	return s, nil
}

// LockNodes implements Cluster.
func (s *Standing) LockNodes() []Node { return s.lockNodes }

// Storage implements Cluster.
func (s *Standing) Storage() Node { return s.storage }

// Sentinels implements Cluster: the standing cluster has none.
func (s *Standing) Sentinels() []Node { return nil }

// Close implements Cluster: a standing cluster is left running.
func (s *Standing) Close(context.Context) error { return nil }

// Use keeps the first n lock nodes (a backend may need fewer than the cluster has).
func (s *Standing) Use(n int) error {
	if n > len(s.lockNodes) {
		return fmt.Errorf("the standing cluster has %d lock node(s), the run needs %d", len(s.lockNodes), n)
	}
	s.lockNodes = s.lockNodes[:n]
	return nil
}
