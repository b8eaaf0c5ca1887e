package cluster

import (
	"context"
	"fmt"
	"net"

	"github.com/jackc/pgx/v5"

	"github.com/locktest/locktest/images"
)

// postgresPort is PostgreSQL's client port.
const postgresPort = 5432

// The role and database images/postgres/start-postgres.sh creates (trust authentication), which
// lock/postgres.go connects to as well.
const (
	postgresUser = "locktest"
	postgresDB   = "locktest"
)

// KindPostgres lock nodes are single PostgreSQL 15 servers; the lock is a session-level advisory
// lock (lock/postgres.go). Its story is the opposite of a lease's: nothing expires, so a paused
// holder keeps the lock (and everyone waits), while a server that ends the holder's session (a
// restart, its TCP keepalives giving up on a cut-off client) frees it behind the holder's back.
var KindPostgres = &Kind{
	Name: "postgres", Image: images.Postgres, Port: postgresPort, MinNodes: 1,
	NoClock: "PostgreSQL advisory locks have no time component: they are held until released or the session ends, so a wall-clock shift cannot free one",
	// The lock lives in the server's memory, not in a table: durability changes nothing about it.
	Durabilities: []Durability{{AppendAlways, "no lock (advisory locks end with the sessions); its write-ahead log is fsynced at every commit"}},
	node: func(spec Spec, i int, names []string) nodeReq {
		return nodeReq{name: names[i], image: spec.lockImage(), port: postgresPort, cmd: postgresArgs(),
			ready: "database system is ready to accept connections"}
	},
	serving: postgresServing,
}

// postgresArgs are the server settings of a lock node, beside the image's listen_addresses.
func postgresArgs() []string {
	return []string{
		// TCP keepalives on client connections: idle 2 s, then a probe a second, given up after 2
		// unanswered. Operators shorten the default (the kernel's two hours) so that the advisory
		// locks of a client that vanished are freed; here it means a client cut off for about four
		// seconds loses its session, and any lock it held, while it still believes it holds it.
		// A paused client is not affected: its kernel answers the probes.
		"-c", "tcp_keepalives_idle=2",
		"-c", "tcp_keepalives_interval=1",
		"-c", "tcp_keepalives_count=2",
	}
}

// postgresServing opens a session and runs a query: a server still recovering from a crash
// refuses sessions ("the database system is starting up").
func postgresServing(ctx context.Context, n Node) error {
	host, port, err := net.SplitHostPort(n.Addr)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, fmt.Sprintf("host=%s port=%s user=%s dbname=%s sslmode=disable", host, port, postgresUser, postgresDB))
	if err != nil {
		return err
	}
	defer conn.Close(ctx) // closes the socket even when ctx has ended
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return err
	}
	return nil
}
