package lock

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"
)

// etcdLock is etcd's own lock, concurrency.Mutex, as an application would use it: one session
// (a lease kept alive in the background) per client, the lock a key under the session's lease.
// The fencing token is the lock key's create revision: waiters queue in create-revision order, so
// each holder's revision is higher than every earlier holder's.
//
// The lease is what makes it a lease-based lock: a client that stops sending keepalives for the
// session TTL (paused, partitioned) loses its key while it still believes it holds the lock
// (docs/scenarios.md, E1: the Jepsen etcd 3.4.3 finding).
type etcdLock struct {
	cli    *clientv3.Client
	prefix string
	ttl    time.Duration
	// timeout bounds the calls that must not hang: granting a session, cleaning up after an
	// unknown outcome.
	timeout time.Duration

	sess *concurrency.Session
}

func newEtcd(cfg Config) (*etcdLock, error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   cfg.Addrs,
		DialTimeout: 2 * time.Second,
		// The member list is not synced: members advertise addresses on the run's private
		// network, and every client must keep dialling 127.0.0.1 (or its delaying proxy).
		AutoSyncInterval: 0,
		// Notice a dead connection and move to another member; without keepalives a call on a
		// connection into a partition that drops packets waits until the partition heals. gRPC
		// raises any keepalive time under 10 s to 10 s, so such a call fails over after about
		// 11 s: etcd runs stall for 10-11 s when a member is cut off from the clients in drop
		// mode (seen in the kleppmann profile's runs).
		DialKeepAliveTime:    10 * time.Second,
		DialKeepAliveTimeout: time.Second,
		Logger:               zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("lock: etcd client: %w", err)
	}
	return &etcdLock{cli: cli, prefix: "/" + cfg.Name + "/", ttl: cfg.TTL, timeout: max(cfg.TTL/2, time.Second)}, nil
}

// session returns the client's live session, granting a new lease if the last one expired.
func (l *etcdLock) session(ctx context.Context) (*concurrency.Session, error) {
	if l.sess != nil {
		select {
		case <-l.sess.Done():
			l.sess = nil // expired, or its keepalives gave up
		default:
			return l.sess, nil
		}
	}
	// Granting here, not in NewSession, bounds the call by ctx: NewSession's own grant waits on
	// the client's context, which never ends.
	gctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	g, err := l.cli.Grant(gctx, int64(l.ttl/time.Second))
	if err != nil {
		return nil, err
	}
	s, err := concurrency.NewSession(l.cli, concurrency.WithLease(g.ID), concurrency.WithTTL(int(l.ttl/time.Second)))
	if err != nil {
		return nil, err
	}
	l.sess = s
	return s, nil
}

func (l *etcdLock) Acquire(ctx context.Context) (Lease, error) {
	start := time.Now()
	s, err := l.session(ctx)
	if err != nil {
		// No lock key was written without a session: certainly not held. (A grant whose answer
		// was lost leaves an orphan lease that expires on its own.)
		return Lease{}, notAcquired(fmt.Errorf("etcd session: %w", err))
	}
	m := concurrency.NewMutex(s, l.prefix)
	// Mutex.Lock removes its key on the client's context when waiting fails, which is not
	// bounded: on a cluster the client cannot reach, it returns when the cluster is back.
	if err := m.Lock(ctx); err != nil {
		if errors.Is(err, concurrency.ErrSessionExpired) {
			return Lease{}, notAcquired(err)
		}
		// The key may have been written (the request went out) and may still be there: if it
		// can be seen to be gone, or removed, the lock is certainly not ours.
		if l.forget(ctx, m.Key()) == nil {
			return Lease{}, notAcquired(err)
		}
		return Lease{}, fmt.Errorf("acquire: outcome unknown: %w", err)
	}
	// The token is the key's create revision, read back (the Mutex keeps it private). The read
	// also proves the key still exists under a live lease.
	resp, err := l.cli.Get(ctx, m.Key())
	switch {
	case err != nil:
		if l.forget(ctx, m.Key()) == nil {
			return Lease{}, notAcquired(fmt.Errorf("read token: %w", err))
		}
		return Lease{}, fmt.Errorf("acquire: outcome unknown (held, but reading the token failed): %w", err)
	case len(resp.Kvs) == 0:
		return Lease{}, notAcquired(concurrency.ErrSessionExpired)
	}
	rev := resp.Kvs[0].CreateRevision
	// The owner names the key and its revision: unique per acquisition, and all Release needs.
	owner := fmt.Sprintf("%s@%d", m.Key(), rev)
	// The holder cannot see when its last keepalive landed: the session renews the lease every
	// TTL/3 in the background. Measured under E1, a lease expired 1.2 s into a 2 s TTL counted
	// from the acquisition, so only one keepalive interval is counted as sure.
	return Lease{Owner: owner, Token: uint64(rev), Deadline: start.Add(l.ttl / 3)}, nil
}

// forget deletes key if it still exists; nil means it is certainly gone.
func (l *etcdLock) forget(ctx context.Context, key string) error {
	if key == "" {
		return nil // never written
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.timeout)
	defer cancel()
	_, err := l.cli.Delete(ctx, key)
	return err
}

func (l *etcdLock) Release(ctx context.Context, lease Lease) error {
	key, _, ok := strings.Cut(lease.Owner, "@")
	if !ok {
		return fmt.Errorf("release: %q is not an etcd lease owner", lease.Owner)
	}
	// Delete only the key this lease created: if the session expired and a new acquisition of
	// this client created it again, that is not ours to delete.
	resp, err := l.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", int64(lease.Token))).
		Then(clientv3.OpDelete(key)).
		Commit()
	if err != nil {
		return fmt.Errorf("release: outcome unknown: %w", err)
	}
	if !resp.Succeeded {
		return ErrNotHeld
	}
	return nil
}

func (l *etcdLock) Close() error {
	if l.sess != nil {
		// Revoke the lease so the next run's clients do not wait for it (bounded: Close must not
		// hang on a partitioned cluster).
		ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
		l.cli.Revoke(ctx, l.sess.Lease())
		cancel()
		l.sess.Orphan()
	}
	return l.cli.Close()
}
