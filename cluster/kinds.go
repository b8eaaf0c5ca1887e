package cluster

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/locktest/locktest/images"

	"github.com/redis/go-redis/v9"
)

// redisReady is what redis-server logs once it accepts clients.
const redisReady = "Ready to accept connections"

// The kinds of lock node. Each is one value; Kinds lists them.
var (
	// KindRedis lock nodes are independent Redis servers (redis-single, Redlock).
	KindRedis = &Kind{
		Name: "redis", Image: images.Redis, Port: redisPort, MinNodes: 1, Durabilities: redisDurabilities,
		node: func(spec Spec, i int, names []string) nodeReq {
			return nodeReq{name: names[i], image: spec.lockImage(), port: redisPort, cmd: redisArgs(spec.Persistence), ready: redisReady}
		},
		serving: redisServing,
	}
	// KindSentinel lock nodes are a Redis primary (n1) and its asynchronous replicas, watched by
	// three Sentinels; clients ask the Sentinels which node is the primary.
	KindSentinel = &Kind{
		Name: "redis-sentinel", Image: images.Redis, Port: redisPort, MinNodes: 2, Durabilities: redisDurabilities,
		node: func(spec Spec, i int, names []string) nodeReq {
			// No delay before a diskless full sync (default 5 s, waiting for more replicas): a replica
			// that has not synced yet would be promoted empty, a different story than R1's.
			r := nodeReq{name: names[i], image: spec.lockImage(), port: redisPort, ready: redisReady,
				cmd: append(redisArgs(spec.Persistence), "--repl-diskless-sync-delay", "0")}
			if i > 0 {
				// Asynchronous replication from n1, the first primary: the window R1 exploits.
				r.cmd = append(r.cmd, "--replicaof", names[0], strconv.Itoa(redisPort))
			}
			return r
		},
		settle: func(ctx context.Context, c *Containers, spec Spec, labels map[string]string) error {
			// Sentinels are told the primary's address, so they start once it has one, and its
			// replicas are in sync.
			if err := waitReplicas(ctx, c.lockNodes[1:]); err != nil {
				return err
			}
			var err error
			if c.sentinels, err = c.startAll(ctx, spec, labels, sentinelReqs(spec, c.lockNodes[0])); err != nil {
				return err
			}
			return waitSentinels(ctx, c.sentinels, len(c.lockNodes)-1)
		},
		serving:     redisServing,
		clientAddrs: sentinelClientAddrs,
		describe: func(n int) string {
			return fmt.Sprintf("a Redis primary, %d replica(s), 3 Sentinels", n-1)
		},
	}
	// KindEtcd lock nodes are the members of one etcd cluster. etcd writes its WAL before it
	// acknowledges, so a killed member restarts with what it acknowledged, fsynced or not.
	KindEtcd = &Kind{
		Name: "etcd", Image: images.Etcd, Port: etcdPort, MinNodes: 1, Ensemble: true, Durabilities: consensusDurabilities,
		NoClock: "etcd is a Go program that reads the clock through the vDSO, not libc, and expires leases on its monotonic clock, so a per-process wall-clock shift cannot reach it",
		node: func(spec Spec, i int, names []string) nodeReq {
			// The log line says the member has joined a cluster with a leader.
			return nodeReq{name: names[i], image: spec.lockImage(), port: etcdPort, cmd: etcdArgs(spec, names[i], names),
				ready: "ready to serve client requests"}
		},
		serving: etcdServing,
	}
	// KindZooKeeper lock nodes are the servers of one ZooKeeper ensemble. A server logs every
	// transaction before it acknowledges, so a killed one restarts with what it acknowledged.
	KindZooKeeper = &Kind{
		Name: "zookeeper", Image: images.ZooKeeper, Port: zooKeeperPort, MinNodes: 1, Ensemble: true, Durabilities: consensusDurabilities,
		NoClock: "ZooKeeper times sessions on the JVM's monotonic clock (System.nanoTime), so a wall-clock jump does not expire them",
		node: func(spec Spec, i int, names []string) nodeReq {
			// The JVM logs nothing useful here: settle asks each server for its mode.
			forceSync := "yes"
			if spec.Persistence == NoFsync {
				forceSync = "no"
			}
			return nodeReq{name: names[i], image: spec.lockImage(), port: zooKeeperPort,
				env: map[string]string{"ZK_ID": strconv.Itoa(i + 1), "ZK_SERVERS": strings.Join(names, " "), "ZK_FORCE_SYNC": forceSync}}
		},
		settle: func(ctx context.Context, c *Containers, _ Spec, _ map[string]string) error {
			for _, n := range c.lockNodes {
				if err := WaitServing(ctx, n, 90*time.Second); err != nil {
					return fmt.Errorf("zookeeper did not form an ensemble with a leader: %w", err)
				}
			}
			return nil
		},
		serving: zooKeeperServing,
	}
)

// Kinds lists every kind of lock node.
var Kinds = []*Kind{KindRedis, KindSentinel, KindEtcd, KindZooKeeper, KindPostgres}

// lockNodeReqs describes the lock nodes n1..nN of spec.Kind.
func lockNodeReqs(spec Spec) []nodeReq {
	names := make([]string, spec.LockNodes)
	for i := range names {
		names[i] = fmt.Sprintf("n%d", i+1)
	}
	reqs := make([]nodeReq, len(names))
	for i := range names {
		reqs[i] = spec.Kind.node(spec, i, names)
		reqs[i].role, reqs[i].kind = RoleLock, spec.Kind
	}
	return reqs
}

// lockImage is the lock nodes' image reference.
func (s Spec) lockImage() string {
	if s.LockImage != "" {
		return s.LockImage
	}
	return s.Image
}

// sentinelClientAddrs gives clients the Sentinels' addresses, and maps every server's container
// address (which Sentinels hand out, for the primary and for each other) to its 127.0.0.1 port.
func sentinelClientAddrs(cl Cluster) (addrs []string, dial map[string]string) {
	dial = map[string]string{}
	for _, n := range slices.Concat(cl.LockNodes(), cl.Sentinels()) {
		dial[net.JoinHostPort(n.IP, strconv.Itoa(n.Port))] = n.Addr
	}
	for _, s := range cl.Sentinels() {
		addrs = append(addrs, s.Addr)
	}
	return addrs, dial
}

// etcdArgs configures member name of a new cluster of members, with spec's durability.
func etcdArgs(spec Spec, name string, members []string) []string {
	peers := make([]string, len(members))
	for i, m := range members {
		peers[i] = fmt.Sprintf("%s=http://%s:2380", m, m)
	}
	args := []string{
		"--name", name,
		"--data-dir", "/var/lib/etcd/" + name,
		"--listen-client-urls", "http://0.0.0.0:2379",
		// Clients are given every member's 127.0.0.1 address and never sync the member list, so
		// this advertised address is only for the members themselves.
		"--advertise-client-urls", fmt.Sprintf("http://%s:2379", name),
		"--listen-peer-urls", "http://0.0.0.0:2380",
		"--initial-advertise-peer-urls", fmt.Sprintf("http://%s:2380", name),
		"--initial-cluster", strings.Join(peers, ","),
		"--initial-cluster-state", "new",
		"--initial-cluster-token", "locktest-" + spec.RunID,
	}
	if spec.Persistence == NoFsync {
		// Available since etcd 3.4.10; the image has Debian's 3.4.
		args = append(args, "--unsafe-no-fsync")
	}
	return args
}

// sentinelReqs describes three Sentinels watching primary (spec.Kind is KindSentinel: they are its
// nodes too, and answer PING like Redis). A Sentinel rewrites its configuration
// file, so it is written at start inside the container; exec keeps the Sentinel PID 1.
func sentinelReqs(spec Spec, primary Node) []nodeReq {
	conf := strings.Join([]string{
		"port " + strconv.Itoa(sentinelPort),
		// Quorum 2 of 3 to call the primary down; failover needs a majority of Sentinels anyway.
		fmt.Sprintf("sentinel monitor %s %s %d 2", SentinelMaster, primary.IP, redisPort),
		// Short timings so a failover happens within a run's seconds (defaults: 30 s and 3 min).
		// Down after 2 s, not less: a replica whose link to the primary has been down for more
		// than ten times this is not promoted, and R1 keeps the link cut for over ten seconds.
		"sentinel down-after-milliseconds " + SentinelMaster + " 2000",
		"sentinel failover-timeout " + SentinelMaster + " 4000",
		"sentinel parallel-syncs " + SentinelMaster + " 1",
	}, "\n")
	script := fmt.Sprintf("printf '%%s\\n' '%s' > /tmp/sentinel.conf && exec redis-server /tmp/sentinel.conf --sentinel",
		strings.ReplaceAll(conf, "\n", "' '"))
	reqs := make([]nodeReq, 3)
	for i := range reqs {
		reqs[i] = nodeReq{name: fmt.Sprintf("s%d", i+1), role: RoleSentinel, kind: spec.Kind, image: spec.Image,
			port: sentinelPort, entrypoint: []string{"sh", "-c", script}, ready: "+monitor master"}
	}
	return reqs
}

// waitReplicas waits until every replica has finished its first sync with the primary. Sentinels
// started after that see the replicas in their first look at the primary, instead of ten seconds
// later at their next.
func waitReplicas(ctx context.Context, replicas []Node) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for _, n := range replicas {
		rdb := redis.NewClient(&redis.Options{Addr: n.Addr, MaxRetries: -1, DisableIdentity: true})
		err := func() error {
			defer rdb.Close()
			for {
				info, err := rdb.Info(ctx, "replication").Result()
				if err == nil && strings.Contains(info, "master_link_status:up") {
					return nil
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("replica %s did not sync with the primary: %v", n.Name, err)
				case <-time.After(100 * time.Millisecond):
				}
			}
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

// waitSentinels waits until every Sentinel knows the primary's replicas, in sync ("master-link-
// status" ok), and the other Sentinels: before that, a failover cannot happen, or would promote an
// empty replica, and a run would test something else than it says.
func waitSentinels(ctx context.Context, sentinels []Node, replicas int) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for _, s := range sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
		err := func() error {
			defer sc.Close()
			for {
				r, rerr := sc.Replicas(ctx, SentinelMaster).Result()
				p, perr := sc.Sentinels(ctx, SentinelMaster).Result()
				synced := 0
				for _, rep := range r {
					if rep["master-link-status"] == "ok" {
						synced++
					}
				}
				if rerr == nil && perr == nil && synced >= replicas && len(p) >= len(sentinels)-1 {
					return nil
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("sentinel %s knows %d replica(s) in sync and %d other sentinel(s), want %d and %d (%v)",
						s.Name, synced, len(p), replicas, len(sentinels)-1, ctx.Err())
				case <-time.After(200 * time.Millisecond):
				}
			}
		}()
		if err != nil {
			return err
		}
	}
	return nil
}
