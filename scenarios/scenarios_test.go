package scenarios

import (
	"slices"
	"testing"
)

func TestFindByNameFileOrPath(t *testing.T) {
	for _, ref := range []string{"K1-W", "k1-w", "k1w-write-fencing-only"} {
		sc, file, err := Find(ref)
		if err != nil || sc.Name != "K1-W" || file != "scenarios/k1w-write-fencing-only.yaml" {
			t.Errorf("Find(%q) = %v, %q, %v; want K1-W from its shipped file", ref, sc, file, err)
		}
	}
	if _, _, err := Find("no-such-scenario"); err == nil {
		t.Error("an unknown scenario was found")
	}
	names := Names()
	for _, want := range []string{"N0", "V0", "K1", "K1-F", "K1-W", "K2", "K3", "K3-1", "K4", "E1", "E1-F", "Z1", "Z1-F", "R1", "P1", "P2", "P2-F", "K1-G", "K1-GL", "X0", "X1", "K1-A", "N0-A", "X2"} {
		if !slices.Contains(names, want) {
			t.Errorf("shipped scenarios %v lack %s", names, want)
		}
	}
}
