package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	mobynet "github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
)

const redisPort = "6379/tcp"

// Containers is a cluster of Redis containers on a private network, started for one run.
type Containers struct {
	network   *testcontainers.DockerNetwork
	lockNodes []Node
	storage   Node

	mu       sync.Mutex
	ctrs     []*testcontainers.DockerContainer
	closed   bool
	closeErr error
	Timings  Timings
}

// Timings says how long the cluster took to start and stop.
type Timings struct {
	Start time.Duration
	Stop  time.Duration
}

// Start starts spec.LockNodes lock nodes and one storage node, each a Redis container, on a new
// network. On error, whatever was started is removed before returning.
func Start(ctx context.Context, spec Spec) (_ *Containers, err error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	configureTestcontainers()
	begin := time.Now()
	labels := map[string]string{LabelProject: "true", LabelRun: spec.RunID}

	if spec.Log == nil {
		spec.Log = slog.New(slog.DiscardHandler)
	}
	nw, err := tcnetwork.New(ctx, tcnetwork.WithLabels(labels))
	if err != nil {
		return nil, fmt.Errorf("create network: %w", err)
	}
	c := &Containers{network: nw}
	defer func() {
		if err != nil {
			c.Close(context.WithoutCancel(ctx))
		}
	}()

	names := make([]string, 0, spec.LockNodes+1)
	for i := 1; i <= spec.LockNodes; i++ {
		names = append(names, fmt.Sprintf("n%d", i))
	}
	names = append(names, "storage")

	// Start in parallel: five sequential starts would take several seconds.
	nodes := make([]Node, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		role := RoleLock
		if name == "storage" {
			role = RoleStorage
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			nodes[i], errs[i] = c.startNode(ctx, spec, nw, name, role, labels)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c.lockNodes, c.storage = nodes[:spec.LockNodes], nodes[spec.LockNodes]
	c.Timings.Start = time.Since(begin)
	return c, nil
}

func (c *Containers) startNode(ctx context.Context, spec Spec, nw *testcontainers.DockerNetwork, name string, role Role, labels map[string]string) (Node, error) {
	hostPort, err := freePort()
	if err != nil {
		return Node{}, fmt.Errorf("node %s: %w", name, err)
	}
	cmd := redisArgs(spec.Persistence)
	if role == RoleStorage {
		cmd = redisArgs(NoPersistence)
	}
	nodeLabels := map[string]string{LabelRole: string(role)}
	for k, v := range labels {
		nodeLabels[k] = v
	}
	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:          spec.Image,
			Cmd:            cmd,
			Name:           fmt.Sprintf("locktest-%s-%s", spec.RunID, name),
			Labels:         nodeLabels,
			ExposedPorts:   []string{redisPort},
			Networks:       []string{nw.Name},
			NetworkAliases: map[string][]string{nw.Name: {name}},
			WaitingFor:     wait.ForLog("Ready to accept connections").WithStartupTimeout(60 * time.Second),
			HostConfigModifier: func(hc *container.HostConfig) {
				// Publish on loopback only: test traffic must never leave this machine. The host port
				// is fixed (not "0") so a node killed and started again comes back on the same one.
				port, _ := mobynet.ParsePort(redisPort)
				hc.PortBindings = mobynet.PortMap{port: {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: strconv.Itoa(hostPort)}}}
				// The nemesis needs iptables and tc inside the container.
				hc.CapAdd = append(hc.CapAdd, "NET_ADMIN")
			},
		},
		Started: true,
		Logger:  tcLogger{spec.Log},
	}
	gc, err := testcontainers.GenericContainer(ctx, req)
	var ctr *testcontainers.DockerContainer
	if gc != nil {
		ctr, _ = gc.(*testcontainers.DockerContainer)
	}
	if ctr != nil {
		c.mu.Lock()
		c.ctrs = append(c.ctrs, ctr)
		c.mu.Unlock()
	}
	if err != nil {
		return Node{}, fmt.Errorf("start node %s: %w", name, err)
	}
	port, err := ctr.MappedPort(ctx, redisPort)
	if err != nil {
		return Node{}, fmt.Errorf("node %s: published port: %w", name, err)
	}
	ip, err := ctr.ContainerIP(ctx)
	if err != nil {
		return Node{}, fmt.Errorf("node %s: container address: %w", name, err)
	}
	return Node{
		Name:        name,
		Role:        role,
		Addr:        net.JoinHostPort("127.0.0.1", port.Port()),
		IP:          ip,
		ContainerID: ctr.GetContainerID(),
	}, nil
}

// LockNodes implements Cluster.
func (c *Containers) LockNodes() []Node { return c.lockNodes }

// Storage implements Cluster.
func (c *Containers) Storage() Node { return c.storage }

// Close removes every container and then the network. Safe to call more than once; later calls
// return the first call's error.
func (c *Containers) Close(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.closeErr
	}
	c.closed = true
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
	defer cancel()
	errs := make([]error, len(c.ctrs))
	var wg sync.WaitGroup
	for i, ctr := range c.ctrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A zero stop timeout: the containers hold nothing worth a graceful shutdown, and a
			// SIGSTOPped server would otherwise sit out the whole timeout.
			errs[i] = ctr.Terminate(ctx, testcontainers.StopTimeout(0))
		}()
	}
	wg.Wait()
	if c.network != nil {
		errs = append(errs, c.network.Remove(ctx))
	}
	c.closeErr = errors.Join(errs...)
	c.Timings.Stop = time.Since(begin)
	return c.closeErr
}

// tcLogger sends testcontainers' chatter (one line per container state change) to debug logs.
type tcLogger struct{ log *slog.Logger }

func (l tcLogger) Printf(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...), "component", "testcontainers")
}

// freePort asks the kernel for a free port on 127.0.0.1. Another process could take it before
// Docker binds it; the container start then fails loudly rather than silently using another port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
