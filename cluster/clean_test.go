package cluster_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/redis/go-redis/v9"

	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/cluster/clustertest"
	"github.com/locktest/locktest/images"
)

// runOf reads a cluster's run id from its storage container's labels.
func runOf(t *testing.T, eng *cluster.Engine, c *cluster.Containers) string {
	t.Helper()
	insp, err := eng.API().ContainerInspect(context.Background(), c.Storage().ContainerID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return insp.Container.Config.Labels[cluster.LabelRun]
}

// assertServing fails the test unless every node of c answers PING.
func assertServing(t *testing.T, c *cluster.Containers) {
	t.Helper()
	for _, n := range append(c.LockNodes(), c.Storage()) {
		rdb := redis.NewClient(&redis.Options{Addr: n.Addr})
		if err := rdb.Ping(context.Background()).Err(); err != nil {
			t.Errorf("node %s at %s: %v", n.Name, n.Addr, err)
		}
		rdb.Close()
	}
}

// cleanRun runs Clean limited to run id and checks what it removed and kept.
func cleanRun(t *testing.T, eng *cluster.Engine, run string, removed, kept cluster.Leftovers) cluster.CleanResult {
	t.Helper()
	res, err := cluster.Clean(context.Background(), eng, cluster.CleanOptions{RunID: run})
	if err != nil {
		t.Fatalf("clean %s: %v", run, err)
	}
	if res.Removed != removed || res.Kept != kept {
		t.Errorf("clean %s: removed %+v, kept %+v; want removed %+v, kept %+v (live: %+v)", run, res.Removed, res.Kept, removed, kept, res.Live)
	}
	return res
}

// engineWithRedis connects to the engine (closed when the test ends) and builds the Redis image.
func engineWithRedis(t *testing.T) (*cluster.Engine, string) {
	t.Helper()
	ctx := context.Background()
	eng, err := cluster.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	tag, err := cluster.EnsureImage(ctx, eng, images.Redis, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	return eng, tag
}

// exitedOwner is this process as owner, but with the pid of a process that has exited.
func exitedOwner(t *testing.T) cluster.Owner {
	t.Helper()
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	o := cluster.Self()
	o.PID = exited.Process.Pid
	return o
}

// A run that is going keeps its cluster through a clean; containers and networks whose owner is
// gone (an exited pid, this pid with another start time, no owner at all) are removed.
func TestCleanKeepsLiveRuns(t *testing.T) {
	eng, c := clustertest.Start(t, 1, cluster.NoPersistence) // redis-single's cluster
	run := runOf(t, eng, c)
	res := cleanRun(t, eng, run, cluster.Leftovers{}, cluster.Leftovers{Containers: 2, Networks: 1})
	if len(res.Live) != 1 || res.Live[0].RunID != run {
		t.Errorf("live runs %+v, want %s", res.Live, run)
	}
	t.Logf("live: %+v", res.Live)
	assertServing(t, c)

	gone := exitedOwner(t)
	recycled := cluster.Self()
	recycled.Start--
	stamp := time.Now().Format("150405.000")
	for name, owner := range map[string]map[string]string{
		"exited-pid":    gone.Labels(),
		"recycled-pid":  recycled.Labels(),
		"no-owner":      {},
		"earlier-boot":  (func() map[string]string { o := cluster.Self(); o.BootID = "0-earlier"; return o.Labels() })(),
		"exited-no-net": gone.Labels(),
	} {
		dead := "test-dead-" + name + "-" + stamp
		labels := map[string]string{cluster.LabelProject: "true", cluster.LabelRun: dead}
		for k, v := range owner {
			labels[k] = v
		}
		createLeftover(t, eng, dead, labels, name != "exited-no-net")
		want := cluster.Leftovers{Containers: 1, Networks: 1}
		if name == "exited-no-net" {
			want.Networks = 0
		}
		cleanRun(t, eng, dead, want, cluster.Leftovers{})
		clustertest.AssertNothingLeft(t, eng, dead)
	}
	// Still there after all that.
	cleanRun(t, eng, run, cluster.Leftovers{}, cluster.Leftovers{Containers: 2, Networks: 1})
	assertServing(t, c)
}

// createLeftover makes what a dead run leaves: a (never started) container labelled labels and,
// if withNet, a network; both are removed when the test ends, whatever happens.
func createLeftover(t *testing.T, eng *cluster.Engine, run string, labels map[string]string, withNet bool) {
	t.Helper()
	ctx := context.Background()
	tag, err := cluster.EnsureImage(ctx, eng, images.Redis, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	ctr, err := eng.API().ContainerCreate(ctx, client.ContainerCreateOptions{Config: &container.Config{Image: tag, Labels: labels}, Name: "locktest-" + run})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = eng.API().ContainerRemove(context.Background(), ctr.ID, client.ContainerRemoveOptions{Force: true})
	})
	if !withNet {
		return
	}
	nw, err := eng.API().NetworkCreate(ctx, "locktest-"+run, client.NetworkCreateOptions{Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = eng.API().NetworkRemove(context.Background(), nw.ID, client.NetworkRemoveOptions{}) })
}

// Two runs at once on one Docker engine (parallel CI jobs) do not disturb each other: both start,
// a clean in between keeps both, and closing one leaves the other serving.
func TestTwoClustersAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts containers")
	}
	eng, tag := engineWithRedis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stamp := time.Now().Format("150405.000")
	runs := []string{"test-twin-a-" + stamp, "test-twin-b-" + stamp}
	cs := make([]*cluster.Containers, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs[i], errs[i] = cluster.Start(ctx, cluster.Spec{RunID: runs[i], LockNodes: 1, Image: tag})
		}()
	}
	wg.Wait()
	for i := range cs {
		if c := cs[i]; c != nil {
			t.Cleanup(func() { c.Close(context.Background()) })
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for i, run := range runs {
		cleanRun(t, eng, run, cluster.Leftovers{}, cluster.Leftovers{Containers: 2, Networks: 1})
		assertServing(t, cs[i])
	}
	if err := cs[0].Close(ctx); err != nil {
		t.Fatal(err)
	}
	clustertest.AssertNothingLeft(t, eng, runs[0])
	assertServing(t, cs[1])
	if err := cs[1].Close(ctx); err != nil {
		t.Fatal(err)
	}
	clustertest.AssertNothingLeft(t, eng, runs[1])
}

// A dead run's network that a container of no run still uses is left to that container, and said
// so, without failing the clean (a job's first clean must not stop on an engine it shares); once
// that container is gone, the next clean removes the network.
func TestCleanLeavesNetworkInUse(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a container")
	}
	ctx := context.Background()
	eng, tag := engineWithRedis(t)
	dead := "test-dead-shared-" + time.Now().Format("150405.000")
	labels := exitedOwner(t).Labels()
	labels[cluster.LabelProject], labels[cluster.LabelRun] = "true", dead
	nw, err := eng.API().NetworkCreate(ctx, "locktest-"+dead, client.NetworkCreateOptions{Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = eng.API().NetworkRemove(context.Background(), nw.ID, client.NetworkRemoveOptions{}) })
	// Of no run: no run or owner labels (it has only the image's io.locktest=true), and a run-scoped
	// clean does not list it.
	foreign, err := eng.API().ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{Image: tag}, Name: "not-locktest-" + dead,
		HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode(nw.ID)},
	})
	if err != nil {
		t.Fatal(err)
	}
	removeForeign := func() {
		_, _ = eng.API().ContainerRemove(context.Background(), foreign.ID, client.ContainerRemoveOptions{Force: true})
	}
	t.Cleanup(removeForeign)
	if _, err := eng.API().ContainerStart(ctx, foreign.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}

	res := cleanRun(t, eng, dead, cluster.Leftovers{}, cluster.Leftovers{})
	if len(res.Stuck) != 1 || !strings.Contains(res.Stuck[0].Why, "in use by container not-locktest-"+dead) {
		t.Fatalf("stuck %+v, want the network, held by the foreign container", res.Stuck)
	}
	insp, err := eng.API().ContainerInspect(ctx, foreign.ID, client.ContainerInspectOptions{})
	if err != nil || !insp.Container.State.Running {
		t.Fatalf("the foreign container was disturbed: %v", err)
	}
	removeForeign()
	res = cleanRun(t, eng, dead, cluster.Leftovers{Networks: 1}, cluster.Leftovers{})
	if len(res.Stuck) != 0 {
		t.Errorf("stuck %+v after the foreign container left", res.Stuck)
	}
	clustertest.AssertNothingLeft(t, eng, dead)
}

// A container a user starts by hand from an image locktest built inherits the image's project
// label but belongs to no run: a clean of every dead run leaves it alone.
func TestCleanLeavesContainersOfNoRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts containers")
	}
	eng, tag := engineWithRedis(t)
	ctx := context.Background()
	ctr, err := eng.API().ContainerCreate(ctx, client.ContainerCreateOptions{Config: &container.Config{Image: tag},
		Name: "locktest-by-hand-" + time.Now().Format("150405.000")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = eng.API().ContainerRemove(context.Background(), ctr.ID, client.ContainerRemoveOptions{Force: true})
	})
	insp, err := eng.API().ContainerInspect(ctx, ctr.ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if insp.Container.Config.Labels[cluster.LabelProject] != "true" {
		t.Fatalf("the image's label is not inherited (%v): this test would prove nothing", insp.Container.Config.Labels)
	}
	if _, err := cluster.Clean(ctx, eng, cluster.CleanOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.API().ContainerInspect(ctx, ctr.ID, client.ContainerInspectOptions{}); err != nil {
		t.Errorf("the container of no run is gone after a clean: %v", err)
	}
}
