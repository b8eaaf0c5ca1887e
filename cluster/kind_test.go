package cluster

import (
	"testing"
)

// Every kind of lock node has what starting, probing and addressing a cluster asks of it.
func TestEveryKindIsWhole(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Kinds {
		t.Run(k.Name, func(t *testing.T) {
			if k.Name == "" || seen[k.Name] {
				t.Fatalf("kind name %q is empty or used twice", k.Name)
			}
			seen[k.Name] = true
			if k.node == nil || k.serving == nil {
				t.Fatal("a kind needs node (how to start one) and serving (how to ask one)")
			}
			if k.Port <= 0 || k.MinNodes < 1 {
				t.Errorf("port %d, min nodes %d", k.Port, k.MinNodes)
			}
			if _, err := k.Image.Tag(); err != nil {
				t.Errorf("image: %v", err)
			}
			if err := k.CheckSize(k.MinNodes); err != nil {
				t.Errorf("its own smallest size: %v", err)
			}
			if k.Ensemble && k.CheckSize(k.MinNodes+1) == nil {
				t.Error("an ensemble accepts an even size")
			}
			spec := Spec{RunID: "r", Kind: k, LockNodes: 3, Image: "redis:tag", LockImage: "lock:tag"}
			for i, r := range lockNodeReqs(spec) {
				if r.name == "" || r.image == "" || r.port != k.Port || r.role != RoleLock || r.kind != k {
					t.Errorf("node %d: %+v", i, r)
				}
			}
		})
	}
}

func TestSpecRefusesWhatCannotWork(t *testing.T) {
	for _, c := range []Spec{
		{RunID: "r", Kind: KindEtcd, LockNodes: 2, Image: "i", LockImage: "l"},
		{RunID: "r", Kind: KindSentinel, LockNodes: 1, Image: "i"},
		{RunID: "r", Kind: KindEtcd, LockNodes: 3, Image: "i"}, // no etcd image
		{RunID: "r", Kind: KindZooKeeper, LockNodes: 3, Image: "i", LockImage: "l", Persistence: NoPersistence},
		{RunID: "r", Kind: KindPostgres, LockNodes: 1, Image: "i", LockImage: "l", Persistence: NoFsync},
	} {
		if err := c.validate(); err == nil {
			t.Errorf("%s with %d node(s) accepted", c.Kind, c.LockNodes)
		}
	}
	if err := (Spec{RunID: "r", LockNodes: 3, Image: "i", Persistence: AppendAlways}).validate(); err != nil {
		t.Errorf("Redis with persistence: %v", err)
	}
}
