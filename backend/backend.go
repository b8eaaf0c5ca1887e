// Package backend lists the lock backends locktest can test. A backend is one value: its lock
// driver (package lock: name, fencing tokens, TTL rules, constructor), the kind of server its lock
// nodes run (package cluster: image, start arguments, readiness, how clients address them, which
// faults and settings reach them), and its cluster sizes. Everything else asks the value; nothing
// switches on a backend's name.
//
// Adding a backend: a driver in package lock (one file and an entry in lock.Drivers), a node kind
// in package cluster if its servers are new (an image under images/ and an entry in
// cluster.Kinds), and one entry in All below. TestEveryBackendIsWhole walks the lists.
package backend

import (
	"fmt"

	"github.com/locktest/locktest/clients/python"
	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/lock"

	"github.com/locktest/locktest/internal/named"
)

// Backend is one lock backend.
type Backend struct {
	*lock.Driver
	// Nodes is the server software of its lock nodes; nil for a backend that has none (nolock,
	// whose run has a storage node only).
	Nodes *cluster.Kind
	// DefaultNodes is how many lock nodes it runs on when the user asks for no size in particular.
	DefaultNodes int
	// FixedNodes says DefaultNodes is its only size: redis-single is one node by definition, and
	// a --nodes meant for the other backends of a matrix does not change it.
	FixedNodes bool
	// Client, if set, is the client program its clients run instead of locktest's own worker (a
	// lock library in another language; Driver.External says which).
	Client *ExternalClient
}

// ExternalClient is a client program shipped with locktest that speaks the worker protocol.
type ExternalClient struct {
	// Check says whether the program can run on this machine, and if not, what to install.
	Check func() error
	// Command writes the program into a run's directory, if it needs to, and returns the command
	// that runs it.
	Command func(dir string) ([]string, error)
}

// All lists every backend, in the order help texts and matrices show them.
var All = []*Backend{
	{Driver: driver(lock.NoLock)},
	{Driver: driver(lock.RedisSingle), Nodes: cluster.KindRedis, DefaultNodes: 1, FixedNodes: true},
	{Driver: driver(lock.RedisSentinel), Nodes: cluster.KindSentinel, DefaultNodes: 2},
	{Driver: driver(lock.Redlock), Nodes: cluster.KindRedis, DefaultNodes: 5},
	{Driver: driver(lock.Etcd), Nodes: cluster.KindEtcd, DefaultNodes: 3},
	{Driver: driver(lock.ZooKeeper), Nodes: cluster.KindZooKeeper, DefaultNodes: 3},
	{Driver: driver(lock.Postgres), Nodes: cluster.KindPostgres, DefaultNodes: 1, FixedNodes: true},
	{Driver: driver(lock.RedisPy), Nodes: cluster.KindRedis, DefaultNodes: 1, FixedNodes: true,
		Client: &ExternalClient{Check: python.Check, Command: python.Command}},
}

// driver returns the lock driver named name; a name with no driver is a programming error, found
// by the first test that loads this package.
func driver(name lock.Backend) *lock.Driver {
	d, err := lock.DriverFor(name)
	if err != nil {
		panic(err)
	}
	return d
}

// Get returns the backend named name, or an error listing the valid names.
func Get(name lock.Backend) (*Backend, error) {
	return named.Find(All, nameOf, name, "backend")
}

// Names are the backends' names, in the order of All.
func Names() []string { return named.Names(All, nameOf) }

func nameOf(b *Backend) lock.Backend { return b.Name }

func (b *Backend) String() string { return string(b.Name) }

// NodeCount is how many lock nodes a run of b starts when requested were asked for (0: its usual
// size), or an error saying why that size cannot work.
func (b *Backend) NodeCount(requested int) (int, error) {
	switch {
	case b.Nodes == nil:
		return 0, nil
	case b.FixedNodes || requested == 0:
		return b.DefaultNodes, nil
	}
	if err := b.Nodes.CheckSize(requested); err != nil {
		return 0, fmt.Errorf("--nodes %d: %w", requested, err)
	}
	return requested, nil
}

// Kind is the server software the run's cluster is started with: its lock nodes', or Redis for a
// backend with none (the storage node is Redis).
func (b *Backend) Kind() *cluster.Kind {
	if b.Nodes == nil {
		return cluster.KindRedis
	}
	return b.Nodes
}

// OnStanding says whether b can run on the standing docker-compose cluster, whose lock nodes are
// plain Redis servers.
func (b *Backend) OnStanding() bool { return b.Nodes == nil || b.Nodes == cluster.KindRedis }
