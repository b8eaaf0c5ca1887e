package cluster

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisReady is what redis-server logs once it accepts clients.
const redisReady = "Ready to accept connections"

// lockNodeReqs describes the lock nodes n1..nN of spec.Kind.
func lockNodeReqs(spec Spec) []nodeReq {
	names := make([]string, spec.LockNodes)
	for i := range names {
		names[i] = fmt.Sprintf("n%d", i+1)
	}
	reqs := make([]nodeReq, len(names))
	for i, name := range names {
		r := nodeReq{name: name, role: RoleLock, kind: spec.Kind}
		switch spec.Kind {
		case KindRedis:
			r.image, r.port, r.cmd, r.ready = spec.Image, redisPort, redisArgs(spec.Persistence), redisReady
		case KindSentinel:
			// No delay before a diskless full sync (default 5 s, waiting for more replicas): a replica
			// that has not synced yet would be promoted empty, a different story than R1's.
			r.image, r.port, r.ready = spec.Image, redisPort, redisReady
			r.cmd = append(redisArgs(spec.Persistence), "--repl-diskless-sync-delay", "0")
			if i > 0 {
				// Asynchronous replication from n1, the first primary: the window R1 exploits.
				r.cmd = append(r.cmd, "--replicaof", names[0], strconv.Itoa(redisPort))
			}
		case KindEtcd:
			r.image, r.port, r.cmd = spec.LockImage, etcdPort, etcdArgs(spec.RunID, name, names)
			// Logged once the member has joined a cluster with a leader.
			r.ready = "ready to serve client requests"
		case KindZooKeeper:
			r.image, r.port = spec.LockImage, zooKeeperPort
			r.env = map[string]string{"ZK_ID": strconv.Itoa(i + 1), "ZK_SERVERS": strings.Join(names, " ")}
			// The JVM logs nothing useful here; waitZooKeeper asks each server for its mode.
		}
		reqs[i] = r
	}
	return reqs
}

// etcdArgs configures member name of a new cluster of members. etcd always persists (its WAL is
// fsynced before it acknowledges), so a killed member restarts with what it acknowledged.
func etcdArgs(runID, name string, members []string) []string {
	peers := make([]string, len(members))
	for i, m := range members {
		peers[i] = fmt.Sprintf("%s=http://%s:2380", m, m)
	}
	return []string{
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
		"--initial-cluster-token", "locktest-" + runID,
	}
}

// sentinelReqs describes three Sentinels watching primary. A Sentinel rewrites its configuration
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
		reqs[i] = nodeReq{name: fmt.Sprintf("s%d", i+1), role: RoleSentinel, kind: KindSentinel, image: spec.Image,
			port: sentinelPort, entrypoint: []string{"sh", "-c", script}, ready: "+monitor master"}
	}
	return reqs
}

// waitZooKeeper waits until every server of the ensemble serves as leader or follower.
func waitZooKeeper(ctx context.Context, nodes []Node) error {
	for _, n := range nodes {
		if err := WaitServing(ctx, n, 90*time.Second); err != nil {
			return fmt.Errorf("zookeeper did not form an ensemble with a leader: %w", err)
		}
	}
	return nil
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
