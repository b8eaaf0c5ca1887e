package lock

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pgLock is a PostgreSQL session-level advisory lock, as applications use it: each client owns one
// session (one connection), takes the lock with pg_try_advisory_lock on a key derived from the
// lock's name, and gives it back with pg_advisory_unlock. The server holds the lock for as long as
// the session lives: there is no lease, so nothing expires while the holder is paused (everyone
// else just waits: safe, and nobody progresses), but when the server ends the session (a restart,
// its TCP keepalives giving up on a client that was cut off, idle_session_timeout) the lock is
// freed behind the holder's back, and the holder learns of it only at its next statement
// (docs/scenarios.md, P1 and P2).
//
// The fencing token is a counter in a table, incremented in the transaction that takes the lock
// (see Acquire for why a sequence will not do).
type pgLock struct {
	cfg  *pgx.ConnConfig
	name string
	// key is the advisory lock's key, a hash of name; setupKey serialises creating the token table.
	key, setupKey int64
	// timeout bounds one statement (Config.NodeTimeout); connectTimeout one connection attempt.
	timeout, connectTimeout time.Duration
	retry                   time.Duration
	// ready says the token table and this lock's row exist.
	ready bool

	// sess is the client's session, nil when there is none (never opened, or dropped).
	sess *pgSession
	// abandoned are sessions dropped while they held the lock or may have: each may hold it until
	// the server notices it is gone, and is forgotten once the server no longer lists it.
	abandoned []*pgSession
	// call counts Acquire calls, so an Acquire can tell the sessions its own attempts abandoned.
	call int
}

// pgSession is one connection, named by its application_name (unique per session, so the server
// can be asked later whether it still exists: backend pids are reused).
type pgSession struct {
	conn *pgx.Conn
	app  string
	// owner is the lease held on this session, "" when it holds none.
	owner string
	// droppedIn is the Acquire call whose attempt abandoned this session (0: none did).
	droppedIn int
}

// pgTokenTable holds one row per lock name: the last fencing token handed out.
const pgTokenTable = "locktest_fencing_tokens"

// pgNoLease is how far ahead a lease's deadline is put. The server never takes the lock back on
// a timer; a holder whose session lives has every reason to believe it holds the lock, so its
// validity has no end it could know of. An overlap within validity (checker) therefore says the
// server ended a holder's session and gave the lock to another client behind its back.
const pgNoLease = 10 * 365 * 24 * time.Hour

// errPgTaken says another session holds the lock.
var errPgTaken = errors.New("the advisory lock is held by another session")

func newPostgres(cfg Config) (*pgLock, error) {
	// One server (the backend's only size): the first address.
	host, port, err := net.SplitHostPort(cfg.Addrs[0])
	if err != nil {
		return nil, fmt.Errorf("lock: postgres address %q: %w", cfg.Addrs[0], err)
	}
	// The role and database images/postgres/start-postgres.sh creates, trusted without a password.
	pc, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%s user=locktest dbname=locktest sslmode=disable", host, port))
	if err != nil {
		return nil, fmt.Errorf("lock: postgres: %w", err)
	}
	// One round trip per statement, and no prepared statements to go stale across sessions.
	pc.DefaultQueryExecMode = pgx.QueryExecModeExec
	return &pgLock{
		cfg: pc, name: cfg.Name, key: pgKey(cfg.Name), setupKey: pgKey(cfg.Name + "/setup"),
		timeout: cfg.NodeTimeout, connectTimeout: max(cfg.NodeTimeout, time.Second), retry: cfg.RetryDelay,
	}, nil
}

// pgKey maps a lock name to an advisory lock key (64-bit FNV-1a).
func pgKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// Acquire takes the lock with pg_try_advisory_lock, retried every RetryDelay until ctx ends: a
// blocking pg_advisory_lock would wait inside the server, where ctx cannot reach it.
//
// The fencing token is drawn in the transaction that takes the lock, and only handed out once
// that transaction has committed: UPDATE of the lock's row, token = token + 1. A write, not
// nextval(): a sequence logs to the write-ahead log only every 32 values, and a transaction whose
// only change is a step in between gets no transaction id, so its commit does not flush the WAL;
// after a kill -9 the sequence can hand out a value again (the PostgreSQL documentation warns
// that a crash may leave a sequence in its earlier state). The UPDATE gives the transaction an
// id, and its commit returns only once the WAL is flushed (synchronous_commit on), so a token
// handed out survives any crash of the server and the next holder's is higher.
//
// The advisory lock is session-level: the transaction's commit (or rollback) does not release it,
// only pg_advisory_unlock or the end of the session does.
func (l *pgLock) Acquire(ctx context.Context) (Lease, error) {
	l.call++
	for {
		lease, err := l.attempt(ctx)
		if err == nil {
			return lease, nil
		}
		if ctx.Err() != nil || !sleepRetry(ctx, l.retry) {
			// Unknown only if one of this call's attempts may have taken the lock on a session
			// the server still lists (a session left over from an earlier lease is not this
			// call's doing).
			for _, a := range l.abandoned {
				if a.droppedIn == l.call {
					return Lease{}, fmt.Errorf("acquire: outcome unknown (session %s, dropped mid-attempt, may hold the lock until the server notices it is gone): %w", a.app, err)
				}
			}
			return Lease{}, notAcquired(err)
		}
	}
}

// attempt makes one try. An error wrapping ErrNotAcquired means no lock was taken by it; any
// other error means the lock may have been taken on a session that has been dropped since
// (remembered in l.abandoned until the server no longer lists it).
func (l *pgLock) attempt(ctx context.Context) (Lease, error) {
	s, err := l.session(ctx)
	if err != nil {
		return Lease{}, notAcquired(err)
	}
	// A session dropped earlier may still hold the lock; once the server no longer lists it, it
	// certainly does not.
	if len(l.abandoned) > 0 {
		live, err := l.listed(ctx, s, l.abandoned)
		if err != nil {
			l.drop(s) // nothing was asked of the lock
			return Lease{}, notAcquired(fmt.Errorf("ask the server about dropped sessions: %w", err))
		}
		l.abandoned = slices.DeleteFunc(l.abandoned, func(a *pgSession) bool { return !live[a.app] })
	}
	if s.owner != "" {
		// This client holds it already (a second Acquire before Release): advisory locks are
		// reentrant per session, so taking it again would hand out a second lease at once.
		return Lease{}, notAcquired(errPgTaken)
	}
	tx, err := l.begin(ctx, s)
	if err != nil {
		l.drop(s) // nothing was asked of the lock
		return Lease{}, notAcquired(err)
	}
	var got bool
	if err := l.stmt(ctx, func(c context.Context) error {
		return tx.QueryRow(c, "SELECT pg_try_advisory_lock($1)", l.key).Scan(&got)
	}); err != nil {
		l.abandon(s)
		return Lease{}, fmt.Errorf("pg_try_advisory_lock: %w", err)
	}
	if !got {
		if err := l.stmt(ctx, func(c context.Context) error { return tx.Rollback(c) }); err != nil {
			l.drop(s) // the session holds no lock: the try said so
		}
		return Lease{}, notAcquired(errPgTaken)
	}
	var token int64
	err = l.stmt(ctx, func(c context.Context) error {
		return tx.QueryRow(c, "UPDATE "+pgTokenTable+" SET token = token + 1 WHERE name = $1 RETURNING token", l.name).Scan(&token)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		l.ready = false // the row is gone: make it again on the next session
	}
	if err == nil {
		err = l.stmt(ctx, func(c context.Context) error { return tx.Commit(c) })
	}
	if err != nil {
		// The session holds the lock, or may: closing it frees the lock once the server notices.
		l.abandon(s)
		return Lease{}, fmt.Errorf("draw fencing token: %w", err)
	}
	s.owner = newOwner()
	return Lease{Owner: s.owner, Token: uint64(token), Deadline: time.Now().Add(pgNoLease)}, nil
}

// begin opens a transaction on s.
func (l *pgLock) begin(ctx context.Context, s *pgSession) (pgx.Tx, error) {
	var tx pgx.Tx
	err := l.stmt(ctx, func(c context.Context) (err error) { tx, err = s.conn.Begin(c); return err })
	return tx, err
}

// stmt runs one statement bounded by the node timeout, not by ctx: the caller's deadline is
// checked between attempts, never in the middle of one. A try-lock cut by a deadline could have
// taken the lock, so cutting it would turn a clean "not acquired" into an unknown outcome and a
// dropped session; letting it finish costs at most a few node timeouts past the deadline. A
// statement cut short by the timeout leaves the connection closed (pgx closes a connection whose
// read timed out).
func (l *pgLock) stmt(ctx context.Context, f func(context.Context) error) error {
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.timeout)
	defer cancel()
	return f(c)
}

// session returns the client's live session, opening one (and the token table, the first time)
// when there is none. A session the server ended is noticed here only once pgx has seen its
// connection fail.
func (l *pgLock) session(ctx context.Context) (*pgSession, error) {
	if l.sess != nil && !l.sess.conn.IsClosed() {
		return l.sess, nil
	}
	if l.sess != nil {
		l.drop(l.sess)
	}
	s, err := l.connect(ctx)
	if err != nil {
		return nil, err
	}
	if !l.ready {
		if err := l.setup(ctx, s); err != nil {
			l.drop(s) // the setup takes only a transaction-level lock
			return nil, fmt.Errorf("create %s: %w", pgTokenTable, err)
		}
		l.ready = true
	}
	l.sess = s
	return s, nil
}

// connect opens a new session, named uniquely.
func (l *pgLock) connect(ctx context.Context) (*pgSession, error) {
	cfg := l.cfg.Copy()
	app := "locktest-" + newOwner()
	cfg.RuntimeParams["application_name"] = app
	c, cancel := context.WithTimeout(ctx, l.connectTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(c, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	return &pgSession{conn: conn, app: app}, nil
}

// setup creates the token table and this lock's row if they do not exist yet. A transaction-level
// advisory lock serialises it: concurrent CREATE TABLE IF NOT EXISTS can fail on the catalog's
// unique index.
func (l *pgLock) setup(ctx context.Context, s *pgSession) error {
	c, cancel := context.WithTimeout(ctx, max(4*l.timeout, time.Second))
	defer cancel()
	return pgx.BeginFunc(c, s.conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(c, "SELECT pg_advisory_xact_lock($1)", l.setupKey); err != nil {
			return err
		}
		if _, err := tx.Exec(c, "CREATE TABLE IF NOT EXISTS "+pgTokenTable+" (name text PRIMARY KEY, token bigint NOT NULL)"); err != nil {
			return err
		}
		_, err := tx.Exec(c, "INSERT INTO "+pgTokenTable+" (name, token) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING", l.name)
		return err
	})
}

// listed asks the server, on session via, which of sessions ss still exist. One that does not
// holds no lock: the server releases a backend's advisory locks before it removes the backend
// from pg_stat_activity.
func (l *pgLock) listed(ctx context.Context, via *pgSession, ss []*pgSession) (map[string]bool, error) {
	apps := make([]string, len(ss))
	for i, s := range ss {
		apps[i] = s.app
	}
	var live []string
	err := l.stmt(ctx, func(c context.Context) error {
		return via.conn.QueryRow(c, "SELECT coalesce(array_agg(application_name), '{}') FROM pg_stat_activity WHERE application_name = ANY($1)", apps).Scan(&live)
	})
	if err != nil {
		return nil, err
	}
	m := make(map[string]bool, len(live))
	for _, a := range live {
		m[a] = true
	}
	return m, nil
}

// drop closes s and forgets it; closing a session frees its locks once the server notices.
func (l *pgLock) drop(s *pgSession) {
	c, cancel := context.WithTimeout(context.Background(), l.timeout)
	s.conn.Close(c) // a clean close tells the server at once; a broken connection is just closed
	cancel()
	if l.sess == s {
		l.sess = nil
	}
}

// abandon drops s, which holds the lock or may, and remembers it until the server no longer
// lists it.
func (l *pgLock) abandon(s *pgSession) {
	l.drop(s)
	s.droppedIn = l.call
	l.abandoned = append(l.abandoned, s)
}

// Release unlocks with pg_advisory_unlock on the lease's session. It is certain the release had
// no effect (ErrNotHeld) when the session is no longer there: dropped after an earlier error, or
// ended by the server, which then no longer lists it (asked on a new session) or said so itself.
// When the unlock fails and the old session cannot be seen to be gone, the outcome is unknown, and
// the session is dropped: closing it frees the lock once the server notices.
func (l *pgLock) Release(ctx context.Context, lease Lease) error {
	s := l.sess
	if s == nil || s.owner != lease.Owner || s.conn.IsClosed() {
		if s != nil && s.owner == lease.Owner {
			l.drop(s) // pgx saw the connection fail: nothing of it is left to use
		}
		return fmt.Errorf("%w: its session is gone", ErrNotHeld)
	}
	var unlocked bool
	err := l.stmt(ctx, func(c context.Context) error {
		return s.conn.QueryRow(c, "SELECT pg_advisory_unlock($1)", l.key).Scan(&unlocked)
	})
	if err == nil {
		s.owner = ""
		if !unlocked {
			return fmt.Errorf("%w: the session no longer holds it", ErrNotHeld)
		}
		return nil
	}
	l.drop(s)
	var pgErr *pgconn.PgError
	switch {
	case pgconn.SafeToRetry(err):
		// Nothing was sent: pgx found the connection broken before writing.
		return fmt.Errorf("%w: its session is gone: %w", ErrNotHeld, err)
	case errors.As(err, &pgErr) && pgErr.Severity == "FATAL":
		// The server ended the session itself, before reading the unlock (restart, shutdown,
		// idle_session_timeout), and said so.
		return fmt.Errorf("%w: the server ended its session: %w", ErrNotHeld, err)
	}
	// Ask the server, on a new session (kept as the next one), whether the old one still exists.
	// If it is gone, the lock is not this lease's any more. (The unlock may in principle have run
	// just before the session ended; either way the lock went with the session.)
	if ns, cerr := l.connect(ctx); cerr == nil {
		live, gerr := l.listed(ctx, ns, []*pgSession{s})
		l.sess = ns
		if gerr == nil && !live[s.app] {
			return fmt.Errorf("%w: the server ended its session: %w", ErrNotHeld, err)
		}
	}
	// Still listed, or not known: the lock may stay with that session until the server notices
	// the connection is gone.
	l.abandoned = append(l.abandoned, s)
	return fmt.Errorf("release: outcome unknown: %w", err)
}

func (l *pgLock) Close() error {
	if l.sess != nil {
		l.drop(l.sess) // ends the session: the server frees its locks
	}
	return nil
}
