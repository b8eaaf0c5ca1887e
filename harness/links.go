package harness

import (
	"fmt"

	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/delayproxy"
	"github.com/locktest/locktest/nemesis"
)

// proxyLinks routes every client process to every node through a delaying proxy of its own, so
// the delay fault can slow one client's traffic to one node (docs/scenarios.md, K2) or
// everybody's.
// Runs without delay faults connect directly: a proxy costs about one local round trip.
type proxyLinks struct {
	processes int
	nodeOf    map[string]string // node address → node name
	lockNodes []string
	proxies   map[link]*delayproxy.Proxy
}

type link struct {
	process int
	node    string
}

func startLinks(processes int, nodes []cluster.Node) (*proxyLinks, error) {
	l := &proxyLinks{processes: processes, nodeOf: map[string]string{}, proxies: map[link]*delayproxy.Proxy{}}
	for _, n := range nodes {
		l.nodeOf[n.Addr] = n.Name
		if n.Role == cluster.RoleLock {
			l.lockNodes = append(l.lockNodes, n.Name)
		}
		for p := 0; p < processes; p++ {
			px, err := delayproxy.Start(n.Addr)
			if err != nil {
				l.Close()
				return nil, fmt.Errorf("proxy p%d→%s: %w", p, n.Name, err)
			}
			l.proxies[link{p, n.Name}] = px
		}
	}
	return l, nil
}

// Link implements nemesis.Links.
func (l *proxyLinks) Link(process int, node string) (nemesis.Link, bool) {
	px, ok := l.proxies[link{process, node}]
	if !ok {
		return nil, false
	}
	return nemesis.ProxyLink(px), true
}

// Processes implements nemesis.Links.
func (l *proxyLinks) Processes() int { return l.processes }

// LockNodes implements nemesis.Links.
func (l *proxyLinks) LockNodes() []string { return l.lockNodes }

// route is workload.Params.Route: the proxy address process dials for a node.
func (l *proxyLinks) route(process int, addr string) string {
	if px, ok := l.proxies[link{process, l.nodeOf[addr]}]; ok {
		return px.Addr()
	}
	return addr
}

// Close closes every proxy (after the workers stopped; queued data is dropped).
func (l *proxyLinks) Close() {
	for _, px := range l.proxies {
		px.Close()
	}
}
