#!/bin/sh
# Starts the PostgreSQL server of a locktest lock node in the foreground, as PID 1.
#
# On the container's first start it creates the cluster: trust authentication from anywhere (the
# container is reachable only on its private network and on 127.0.0.1 of the host) and a role and
# database named locktest. A container that was killed and is started again keeps its filesystem,
# so it finds the data directory there and starts with what was committed: crash recovery replays
# the write-ahead log, as after a real crash.
#
# Arguments are passed on to the server (locktest passes `-c name=value` settings).
set -eu
bin=/usr/lib/postgresql/15/bin
data=/var/lib/postgresql/data
as_postgres="setpriv --reuid=postgres --regid=postgres --init-groups"

if [ ! -s "$data/PG_VERSION" ]; then
  mkdir -p "$data"
  chown postgres:postgres "$data"
  chmod 0700 "$data"
  # --no-sync: the files initdb writes reach the kernel's page cache, which a killed server (the
  # only crash the nemesis causes) does not lose. Commits are fsynced as usual.
  $as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync >/dev/null
  {
    echo "host all all 0.0.0.0/0 trust"
    echo "host all all ::/0 trust"
  } >> "$data/pg_hba.conf"
  # Single-user mode creates the role and database without starting the server, so the only
  # "ready to accept connections" in the log is the real server's.
  printf 'CREATE ROLE locktest LOGIN;\nCREATE DATABASE locktest OWNER locktest;\n' \
    | $as_postgres "$bin/postgres" --single -D "$data" postgres >/dev/null
fi

# The socket directory lives outside the data directory.
mkdir -p /var/run/postgresql
chown postgres:postgres /var/run/postgresql
exec $as_postgres "$bin/postgres" -D "$data" -c listen_addresses='*' "$@"
