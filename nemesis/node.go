package nemesis

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/locktest/locktest/cluster"
)

// NewPauseNode returns a fault that SIGSTOPs each node's server process (its container's PID 1)
// and SIGCONTs it on heal. A stopped Redis does not expire keys early: time keeps running and keys
// expire on resume; meanwhile clients see timeouts.
func NewPauseNode(d NodeControl, nodes ...cluster.Node) Fault {
	return &pauseNode{d: d, nodes: nodes}
}

type pauseNode struct {
	d     NodeControl
	nodes []cluster.Node
}

func (f *pauseNode) Kind() Kind        { return PauseNode }
func (f *pauseNode) Targets() []string { return nodeNames(f.nodes) }
func (f *pauseNode) Detail() string    { return "SIGSTOP" }

func (f *pauseNode) Inject(ctx context.Context) error {
	for _, n := range f.nodes {
		if err := f.d.Signal(ctx, n.ContainerID, "STOP"); err != nil {
			return fmt.Errorf("pause %s: %w", n.Name, err)
		}
	}
	return nil
}

func (f *pauseNode) Heal(ctx context.Context) error {
	return eachNode(f.nodes, func(n cluster.Node) error { return f.d.Signal(ctx, n.ContainerID, "CONT") })
}

// NewKill returns a fault that SIGKILLs each node's server. With restartAtOnce the node is started
// again within Inject (crash-restart); otherwise it stays down until Heal. The container keeps its
// address, port and filesystem, so whether the lock keys survive depends only on the node's
// persistence settings (docs/scenarios.md, K4).
func NewKill(d NodeControl, restartAtOnce bool, nodes ...cluster.Node) Fault {
	return &kill{d: d, nodes: nodes, atOnce: restartAtOnce}
}

type kill struct {
	d      NodeControl
	nodes  []cluster.Node
	atOnce bool

	mu     sync.Mutex
	killed bool
}

func (f *kill) Kind() Kind        { return Kill }
func (f *kill) Targets() []string { return nodeNames(f.nodes) }
func (f *kill) Detail() string {
	if f.atOnce {
		return "SIGKILL, restart at once"
	}
	return "SIGKILL, restart on heal"
}

func (f *kill) Inject(ctx context.Context) error {
	f.mu.Lock()
	f.killed = true
	f.mu.Unlock()
	for _, n := range f.nodes {
		if err := f.d.Signal(ctx, n.ContainerID, "KILL"); err != nil {
			return fmt.Errorf("kill %s: %w", n.Name, err)
		}
	}
	if f.atOnce {
		return f.restart(ctx)
	}
	return nil
}

// Heal restarts the nodes (if Inject did not already) and waits until they answer.
func (f *kill) Heal(ctx context.Context) error {
	f.mu.Lock()
	killed := f.killed
	f.mu.Unlock()
	if !killed {
		return nil
	}
	return f.restart(ctx)
}

func (f *kill) restart(ctx context.Context) error {
	err := eachNode(f.nodes, func(n cluster.Node) error {
		if err := f.d.Start(ctx, n.ContainerID); err != nil && !strings.Contains(err.Error(), "already") {
			return err
		}
		return cluster.WaitServing(ctx, n, 30*time.Second)
	})
	if err == nil {
		f.mu.Lock()
		f.killed = false
		f.mu.Unlock()
	}
	return err
}

// eachNode runs fn on every node, continuing past errors (a heal must try everything).
func eachNode(nodes []cluster.Node, fn func(cluster.Node) error) error {
	var errs []string
	for _, n := range nodes {
		if err := fn(n); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", n.Name, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func nodeNames(nodes []cluster.Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Name
	}
	return out
}
