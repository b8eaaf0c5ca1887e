#!/bin/sh
# Writes the configuration of one ensemble member and execs ZooKeeper in the foreground.
#   ZK_ID       this server's id (1, 2, 3, ...)
#   ZK_SERVERS  space-separated host names of all members, in id order (n1 n2 n3)
#   ZK_FORCE_SYNC  yes (fsync the transaction log before acknowledging, ZooKeeper's default) or no
#               (write it, do not fsync: a killed server keeps it, only a machine crash would not)
set -eu
: "${ZK_ID:?ZK_ID is not set}" "${ZK_SERVERS:?ZK_SERVERS is not set}"
conf=/etc/zookeeper/conf
data=/var/lib/zookeeper
mkdir -p "$data"
echo "$ZK_ID" > "$data/myid"
# tickTime 500 ms lets sessions be as short as 1 s (2 ticks), so the pause scenarios can outlast a
# session in seconds; the upper bound is raised so longer sessions are honoured as asked.
# A server that was killed and restarts keeps its data directory (the container's filesystem), as
# a crashed ZooKeeper server does.
{
  echo "tickTime=500"
  echo "initLimit=20"
  echo "syncLimit=10"
  echo "minSessionTimeout=1000"
  echo "maxSessionTimeout=60000"
  echo "dataDir=$data"
  # A key ZooKeeper does not know in zoo.cfg becomes the system property zookeeper.<key>.
  echo "forceSync=${ZK_FORCE_SYNC:-yes}"
  echo "clientPort=2181"
  echo "4lw.commands.whitelist=srvr,ruok,mntr"
  echo "admin.enableServer=false"
  i=1
  for h in $ZK_SERVERS; do
    echo "server.$i=$h:2888:3888"
    i=$((i + 1))
  done
} > "$conf/zoo.cfg"
echo "$ZK_ID" > "$conf/myid"
export ZOO_LOG_DIR=/var/log/zookeeper ZOO_LOG4J_PROP="INFO,CONSOLE" ZOO_LOG_FILE=zookeeper.log
export JVMFLAGS="${JVMFLAGS:--Xmx256m -XX:+UseSerialGC}"
exec /usr/share/zookeeper/bin/zkServer.sh start-foreground
