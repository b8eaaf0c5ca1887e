package harness_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/harness"
	"github.com/locktest/locktest/lock"
)

// Two runs at once on one Docker engine (parallel CI jobs) do not disturb each other, nor does a
// clean while they go: each completes with its own cluster, final read and verdict, and each
// removes exactly its own containers.
func TestTwoRunsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts containers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	eng, err := cluster.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	// Whatever happens, nothing of this process's runs outlives the test.
	t.Cleanup(func() {
		runs, _ := eng.RunsOwnedBy(context.Background(), os.Getpid(), true)
		for _, run := range runs {
			cluster.Clean(context.Background(), eng, cluster.CleanOptions{RunID: run, All: true})
		}
	})

	outs := make([]*harness.Outcome, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = harness.Test(ctx, params(t, lock.NoLock, 2, 6*time.Second))
		}()
	}

	// While both go, a clean of each run keeps it.
	seen := map[string]bool{}
	for deadline := time.Now().Add(3 * time.Minute); len(seen) < 2 && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		runs, err := eng.RunsOwnedBy(ctx, os.Getpid(), false)
		if err != nil {
			t.Fatal(err)
		}
		for _, run := range runs {
			seen[run] = true
		}
	}
	if len(seen) != 2 {
		t.Errorf("saw the containers of %d run(s) at once, want 2", len(seen))
	}
	for run := range seen {
		res, err := cluster.Clean(ctx, eng, cluster.CleanOptions{RunID: run})
		if err != nil || res.Removed != (cluster.Leftovers{}) || res.Kept.Containers == 0 {
			t.Errorf("clean of live run %s: removed %+v, kept %+v, %v", run, res.Removed, res.Kept, err)
		}
	}
	wg.Wait()

	for i, out := range outs {
		if errs[i] != nil {
			t.Fatalf("run %d: %v", i, errs[i])
		}
		r := out.Results
		if !seen[r.RunID] {
			t.Errorf("run %s was not among those seen running: %v", r.RunID, seen)
		}
		if r.FinalValue == nil || r.Ops.OK == 0 || r.Incomplete || r.Interrupted {
			t.Errorf("run %s did not complete on its own cluster: final %v, %d ok, incomplete %v", r.RunID, r.FinalValue, r.Ops.OK, r.Incomplete)
		}
		t.Logf("run %s: %s, %d ok, final %d", r.RunID, r.Valid, r.Ops.OK, *r.FinalValue)
		assertNothingLeft(t, r.RunID)
	}
	if outs[0].Results.RunID == outs[1].Results.RunID || outs[0].Dir == outs[1].Dir {
		t.Error("the two runs share a run id or a results directory")
	}
}
