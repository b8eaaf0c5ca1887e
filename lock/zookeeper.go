package lock

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
)

// zkLock is the lock recipe of the ZooKeeper documentation, written here because the library's
// own (zk.Lock) hides the znode and its zxid: each acquisition creates an ephemeral sequential
// znode under the lock's directory; the lowest sequence number holds the lock; the others each
// watch the znode just before theirs. The fencing token is the holder's znode's czxid, which grows
// in queue order - the token Kleppmann suggests for ZooKeeper.
//
// The znode is ephemeral: it disappears when the session expires. A client paused (or cut off)
// longer than the session timeout loses the lock while it still believes it holds it
// (docs/scenarios.md, Z1): the recipe is a lease like any other, with a consensus system
// behind it.
type zkLock struct {
	conn    *zk.Conn
	dir     string
	timeout time.Duration // session timeout
	dirMade bool
	// strays are the owners whose znode may still exist after a release or an abandoned
	// acquisition whose outcome is unknown (the connection dropped mid-request). The session
	// outlives a short cut (the client reconnects to it), and so does the znode: left there it
	// would be first in the queue for good, and no client could take the lock again. They are
	// removed before the next acquisition, as the recipe's "retry the delete" asks.
	strays []string
}

func newZooKeeper(cfg Config) (*zkLock, error) {
	conn, _, err := zk.Connect(cfg.Addrs, cfg.TTL, zk.WithLogger(quietZK{}))
	if err != nil {
		return nil, fmt.Errorf("lock: zookeeper client: %w", err)
	}
	return &zkLock{conn: conn, dir: "/" + cfg.Name, timeout: cfg.TTL}, nil
}

// call runs one ZooKeeper request, giving up when ctx ends. The library's calls take no context:
// they return when the server answers or the connection is lost, so an abandoned call finishes
// on its own.
func call[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

func (l *zkLock) Acquire(ctx context.Context) (Lease, error) {
	start := time.Now()
	if err := l.removeStrays(ctx); err != nil {
		return Lease{}, notAcquired(err)
	}
	if !l.dirMade {
		_, err := call(ctx, func() (string, error) { return l.conn.Create(l.dir, nil, 0, zk.WorldACL(zk.PermAll)) })
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return Lease{}, notAcquired(fmt.Errorf("create %s: %w", l.dir, err))
		}
		l.dirMade = true
	}
	owner := newOwner()
	// The owner in the name finds our znode again when the create's answer is lost.
	prefix := path.Join(l.dir, "lock-"+owner+"-")
	me, err := call(ctx, func() (string, error) {
		return l.conn.Create(prefix, []byte(owner), zk.FlagEphemeral|zk.FlagSequence, zk.WorldACL(zk.PermAll))
	})
	if err != nil {
		return Lease{}, l.abandon(ctx, owner, fmt.Errorf("create lock znode: %w", err))
	}
	for {
		children, err := call(ctx, func() ([]string, error) { ch, _, err := l.conn.Children(l.dir); return ch, err })
		if err != nil {
			return Lease{}, l.abandon(ctx, owner, fmt.Errorf("list waiters: %w", err))
		}
		slices.SortFunc(children, func(a, b string) int { return sequence(a) - sequence(b) })
		i := slices.Index(children, path.Base(me))
		if i < 0 {
			// Our ephemeral znode is gone: the session expired while we waited.
			return Lease{}, notAcquired(errors.New("lock znode vanished (session expired)"))
		}
		if i == 0 {
			st, err := call(ctx, func() (*zk.Stat, error) { _, st, err := l.conn.Exists(me); return st, err })
			switch {
			case err != nil:
				return Lease{}, l.abandon(ctx, owner, fmt.Errorf("read token: %w", err))
			case st == nil || st.Czxid == 0:
				return Lease{}, notAcquired(errors.New("lock znode vanished (session expired)"))
			}
			// The client declares its session lost after 2/3 of the timeout without an answer;
			// until then it has no reason to doubt the lock.
			return Lease{Owner: me, Token: uint64(st.Czxid), Deadline: start.Add(l.timeout * 2 / 3)}, nil
		}
		pred := path.Join(l.dir, children[i-1])
		type watch struct {
			exists bool
			ch     <-chan zk.Event
		}
		w, err := call(ctx, func() (watch, error) { ok, _, ch, err := l.conn.ExistsW(pred); return watch{ok, ch}, err })
		if err != nil {
			return Lease{}, l.abandon(ctx, owner, fmt.Errorf("watch predecessor: %w", err))
		}
		if !w.exists {
			continue
		}
		select {
		case <-w.ch: // deleted, or the connection changed: look again
		case <-ctx.Done():
			return Lease{}, l.abandon(ctx, owner, ctx.Err())
		}
	}
}

// abandon removes owner's znode after a failed acquisition. If it is certainly gone (removed now,
// or never created), the lock is certainly not held; otherwise the outcome is unknown.
func (l *zkLock) abandon(ctx context.Context, owner string, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.timeout)
	defer cancel()
	if err := l.removeOwned(ctx, owner); err != nil {
		l.strays = append(l.strays, owner)
		return fmt.Errorf("acquire: outcome unknown: %w", cause)
	}
	return notAcquired(cause)
}

// removeOwned deletes the znodes of the given owners, if any are left, listing the queue once.
func (l *zkLock) removeOwned(ctx context.Context, owners ...string) error {
	children, err := call(ctx, func() ([]string, error) { ch, _, err := l.conn.Children(l.dir); return ch, err })
	if err != nil {
		return err
	}
	for _, c := range children {
		if !slices.Contains(owners, ownerOf(c)) {
			continue
		}
		if _, err := call(ctx, func() (struct{}, error) { return struct{}{}, l.conn.Delete(path.Join(l.dir, c), -1) }); err != nil && !errors.Is(err, zk.ErrNoNode) {
			return err
		}
	}
	return nil
}

// removeStrays deletes the znodes of earlier leases whose release or abandonment had an unknown
// outcome; it fails while one may still be there.
func (l *zkLock) removeStrays(ctx context.Context) error {
	if len(l.strays) == 0 {
		return nil
	}
	if err := l.removeOwned(ctx, l.strays...); err != nil {
		return fmt.Errorf("remove the znode of an earlier lease first: %w", err)
	}
	l.strays = nil
	return nil
}

// sequence is the sequence number ZooKeeper appended to a znode name (10 digits).
func sequence(name string) int {
	n, _ := strconv.Atoi(name[max(len(name)-10, 0):])
	return n
}

func (l *zkLock) Release(ctx context.Context, lease Lease) error {
	_, err := call(ctx, func() (struct{}, error) { return struct{}{}, l.conn.Delete(lease.Owner, -1) })
	switch {
	case errors.Is(err, zk.ErrNoNode):
		return ErrNotHeld // the session expired and took the znode with it
	case err != nil:
		l.strays = append(l.strays, ownerOf(lease.Owner))
		return fmt.Errorf("release: outcome unknown: %w", err)
	}
	return nil
}

// ownerOf is the owner in a lock znode's path (dir/lock-OWNER-SEQUENCE).
func ownerOf(znode string) string {
	name := strings.TrimPrefix(path.Base(znode), "lock-")
	return name[:max(len(name)-11, 0)]
}

func (l *zkLock) Close() error {
	l.conn.Close() // ends the session: its ephemeral znodes go with it
	return nil
}

// quietZK drops the library's connection chatter, which would flood the worker log under faults.
type quietZK struct{}

func (quietZK) Printf(string, ...any) {}
