package harness

import (
	"testing"

	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/config"
	"github.com/locktest/locktest/lock"
)

// A run recorded before etcd, ZooKeeper and PostgreSQL had durability settings says "none" for
// them, and meant fsync: replayed, it gets always, not a refusal. Everything else is kept as is.
func TestLegacyPersistence(t *testing.T) {
	for _, c := range []struct {
		backend lock.Backend
		rec     cluster.Persistence
		want    cluster.Persistence
	}{
		{lock.Etcd, cluster.NoPersistence, cluster.AppendAlways},
		{lock.ZooKeeper, cluster.NoPersistence, cluster.AppendAlways},
		{lock.Postgres, cluster.NoPersistence, cluster.AppendAlways},
		{lock.Etcd, cluster.NoFsync, cluster.NoFsync},
		{lock.Redlock, cluster.NoPersistence, cluster.NoPersistence},
		{lock.RedisSingle, cluster.AppendEverySec, cluster.AppendEverySec},
		{lock.Etcd, "", ""},
	} {
		cfg := config.Default()
		cfg.Backend, cfg.Persistence = c.backend, c.rec
		if got := legacyPersistence(cfg); got != c.want {
			t.Errorf("%s recorded with %q: replayed with %q, want %q", c.backend, c.rec, got, c.want)
		}
	}
}
