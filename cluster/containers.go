package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	mobynet "github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
)

const (
	redisPort     = 6379
	sentinelPort  = 26379
	etcdPort      = 2379
	zooKeeperPort = 2181
)

// Containers is a cluster of containers on a private network, started for one run.
type Containers struct {
	network   *testcontainers.DockerNetwork
	lockNodes []Node
	sentinels []Node
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

// nodeReq is one container to start.
type nodeReq struct {
	name  string
	role  Role
	kind  *Kind
	image string
	port  int // the server's port in the container, published on 127.0.0.1
	// entrypoint replaces the image's, if set; cmd are the arguments.
	entrypoint []string
	cmd        []string
	env        map[string]string
	// ready is the log line that says the server is up ("" means: its port accepts connections).
	ready string
}

// Start starts the lock nodes of spec.Kind and one storage node on a new network, and waits until
// they are ready to serve (an ensemble has a leader, Sentinels know the primary's replicas and
// each other). On error, whatever was started is removed before returning.
func Start(ctx context.Context, spec Spec) (_ *Containers, err error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	if spec.Kind == nil {
		spec.Kind = KindRedis
	}
	spec.Persistence = spec.Kind.Persistence(spec.Persistence)
	configureTestcontainers()
	begin := time.Now()
	// The owner labels let `locktest clean` tell this run, while it lasts, from a dead one's leftovers.
	labels := Self().Labels()
	labels[LabelProject], labels[LabelRun] = "true", spec.RunID

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

	reqs := append(lockNodeReqs(spec), nodeReq{name: StorageName, role: RoleStorage, kind: KindRedis, image: spec.Image,
		port: redisPort, cmd: redisArgs(NoPersistence), ready: redisReady})
	nodes, err := c.startAll(ctx, spec, labels, reqs)
	if err != nil {
		return nil, err
	}
	c.lockNodes, c.storage = nodes[:spec.LockNodes], nodes[spec.LockNodes]
	if spec.Kind.settle != nil {
		if err := spec.Kind.settle(ctx, c, spec, labels); err != nil {
			return nil, err
		}
	}
	c.Timings.Start = time.Since(begin)
	return c, nil
}

// startAll starts reqs in parallel: five sequential starts would take several seconds.
func (c *Containers) startAll(ctx context.Context, spec Spec, labels map[string]string, reqs []nodeReq) ([]Node, error) {
	nodes := make([]Node, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nodes[i], errs[i] = c.startNode(ctx, spec, r, labels)
		}()
	}
	wg.Wait()
	return nodes, errors.Join(errs...)
}

func (c *Containers) startNode(ctx context.Context, spec Spec, r nodeReq, labels map[string]string) (Node, error) {
	nodeLabels := map[string]string{LabelRole: string(r.role)}
	for k, v := range labels {
		nodeLabels[k] = v
	}
	port := fmt.Sprintf("%d/tcp", r.port)
	var (
		gc  testcontainers.Container
		err error
	)
	for attempt := 1; ; attempt++ {
		var hostPort int
		if hostPort, err = freePort(); err != nil {
			return Node{}, fmt.Errorf("node %s: %w", r.name, err)
		}
		gc, err = testcontainers.GenericContainer(ctx, c.nodeRequest(spec, r, nodeLabels, port, hostPort))
		if err == nil || gc == nil || attempt == startAttempts || !portTaken(err) {
			break
		}
		// Another process took the port between freePort and Docker's bind: remove the container
		// (its name is needed again) and try another port.
		spec.Log.Warn("host port taken before Docker bound it; trying another", "node", r.name, "port", hostPort, "attempt", attempt)
		if terr := gc.Terminate(context.WithoutCancel(ctx)); terr != nil {
			spec.Log.Warn("could not remove the container for another try", "node", r.name, "err", terr)
			break // kept for Close to remove; the start error is reported
		}
	}
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
		return Node{}, fmt.Errorf("start node %s: %w", r.name, err)
	}
	mapped, err := ctr.MappedPort(ctx, port)
	if err != nil {
		return Node{}, fmt.Errorf("node %s: published port: %w", r.name, err)
	}
	ip, err := ctr.ContainerIP(ctx)
	if err != nil {
		return Node{}, fmt.Errorf("node %s: container address: %w", r.name, err)
	}
	return Node{
		Name:        r.name,
		Role:        r.role,
		Kind:        r.kind,
		Addr:        net.JoinHostPort("127.0.0.1", mapped.Port()),
		IP:          ip,
		Port:        r.port,
		ContainerID: ctr.GetContainerID(),
	}, nil
}

// startAttempts is how many host ports a node's start tries before it gives up.
const startAttempts = 3

// portTaken says whether a container start failed because its host port was taken.
func portTaken(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "port is already allocated") || strings.Contains(msg, "address already in use")
}

// nodeRequest is the container request of node r, published on hostPort.
func (c *Containers) nodeRequest(spec Spec, r nodeReq, nodeLabels map[string]string, port string, hostPort int) testcontainers.GenericContainerRequest {
	var waitFor wait.Strategy = wait.ForListeningPort(port).WithStartupTimeout(90 * time.Second)
	if r.ready != "" {
		waitFor = wait.ForLog(r.ready).WithStartupTimeout(90 * time.Second)
	}
	nw := c.network
	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:          r.image,
			Entrypoint:     r.entrypoint,
			Cmd:            r.cmd,
			Env:            r.env,
			Name:           fmt.Sprintf("locktest-%s-%s", spec.RunID, r.name),
			Labels:         nodeLabels,
			ExposedPorts:   []string{port},
			Networks:       []string{nw.Name},
			NetworkAliases: map[string][]string{nw.Name: {r.name}},
			WaitingFor:     waitFor,
			HostConfigModifier: func(hc *container.HostConfig) {
				// Publish on loopback only: test traffic must never leave this machine. The host port
				// is fixed (not "0") so a node killed and started again comes back on the same one.
				p, _ := mobynet.ParsePort(port)
				hc.PortBindings = mobynet.PortMap{p: {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: strconv.Itoa(hostPort)}}}
				// The nemesis needs iptables inside the container.
				hc.CapAdd = append(hc.CapAdd, "NET_ADMIN")
			},
		},
		Started: true,
		Logger:  tcLogger{spec.Log},
	}
	return req
}

// LockNodes implements Cluster.
func (c *Containers) LockNodes() []Node { return c.lockNodes }

// Storage implements Cluster.
func (c *Containers) Storage() Node { return c.storage }

// Sentinels implements Cluster.
func (c *Containers) Sentinels() []Node { return c.sentinels }

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
// Docker binds it (any outgoing connection may get it as its local port); startNode then tries
// another.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
