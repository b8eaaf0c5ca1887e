package nemesis_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/cluster/clustertest"
	"github.com/locktest/locktest/nemesis"
)

// TestClockFaults runs the clock faults against a real Redis container: the offset must move
// redis-server's key expiry and TIME, and nothing else (not the host, not other processes in the
// container). Timings here are slack bounds on what Redis reports, not performance assertions.
func TestClockFaults(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	d, c := clustertest.Start(t, 1, cluster.NoPersistence)
	node := c.LockNodes()[0]
	if !strings.HasPrefix(node.Addr, "127.0.0.1:") {
		t.Fatalf("node %s published on %s, want 127.0.0.1", node.Name, node.Addr)
	}
	rdb := redis.NewClient(&redis.Options{Addr: node.Addr})
	defer rdb.Close()
	// Whatever fails below, the node goes back to the real clock (the container goes anyway).
	defer nemesis.SetClockOffset(context.Background(), d, node.ContainerID, 0)

	// The host's wall clock must not move: over the whole test, wall-clock and monotonic time
	// on the host advance together.
	hostStart := time.Now()
	defer func() {
		now := time.Now()
		mono, wall := now.Sub(hostStart), now.Round(0).Sub(hostStart.Round(0))
		if diff := (wall - mono).Abs(); diff > time.Second {
			t.Errorf("host wall clock moved by %v relative to its monotonic clock during the test", wall-mono)
		}
	}()

	e := &clockEnv{ctx: ctx, d: d, node: node, rdb: rdb}

	t.Run("shim loaded into redis-server only", func(t *testing.T) {
		if got := e.exec(t, "cat", "/proc/1/comm"); got != "redis-server" {
			t.Errorf("PID 1 is %q, want redis-server", got)
		}
		state := e.exec(t, "sh", "-c", "grep '^State:' /proc/1/status")
		if !strings.Contains(state, "S (sleeping)") && !strings.Contains(state, "R (running)") {
			t.Errorf("redis-server %s", state)
		}
		if err := rdb.Ping(ctx).Err(); err != nil {
			t.Errorf("PING: %v", err)
		}
		// (Not /proc/1/environ: redis-server overwrites that memory with its process title.)
		if maps := e.exec(t, "cat", "/proc/1/maps"); !strings.Contains(maps, "/usr/local/lib/locktest-clockshim.so") {
			t.Error("redis-server has not loaded /usr/local/lib/locktest-clockshim.so")
		}
		e.exec(t, "locktest-clock", "mapped", "1") // fails the test if the offset file is not mapped
		if got := e.exec(t, "sh", "-c", "echo ${LD_PRELOAD:-none}"); got != "none" {
			t.Errorf("a docker exec gets LD_PRELOAD=%s; the shim must be preloaded into redis-server only", got)
		}
		if got := e.offset(t); got != 0 {
			t.Errorf("initial offset %v, want 0", got)
		}
		e.near(t, "TIME skew at offset 0", e.skew(t), 0, time.Second)
	})

	bump30 := nemesis.NewClockBump(d, node, 30*time.Second)
	bump120 := nemesis.NewClockBump(d, node, 120*time.Second)
	t.Run("bump", func(t *testing.T) {
		if bump30.Kind() != nemesis.Clock || len(bump30.Targets()) != 1 || bump30.Targets()[0] != node.Name {
			t.Errorf("kind %q targets %v, want clock on [%s]", bump30.Kind(), bump30.Targets(), node.Name)
		}
		e.setPX(t, "k1")
		e.near(t, "PTTL at offset 0", e.pttl(t, "k1"), 60*time.Second, 2*time.Second)

		if err := bump30.Inject(ctx); err != nil {
			t.Fatal(err)
		}
		if got := e.offset(t); got != 30*time.Second {
			t.Errorf("offset after +30s bump reads %v", got)
		}
		e.near(t, "PTTL after +30s", e.pttl(t, "k1"), 30*time.Second, 2*time.Second)
		e.near(t, "TIME skew after +30s", e.skew(t), 30*time.Second, time.Second)
		e.near(t, "skew of `date` in the container after +30s", e.containerSkew(t), 0, 2*time.Second)

		if err := bump120.Inject(ctx); err != nil { // absolute: +120s, not +150s
			t.Fatal(err)
		}
		if got := e.offset(t); got != 120*time.Second {
			t.Errorf("offset after +120s bump reads %v", got)
		}
		if v, err := rdb.Get(ctx, "k1").Result(); !errors.Is(err, redis.Nil) {
			t.Errorf("after +120s, GET k1 = %q, %v; want nil (expired)", v, err)
		}
		e.near(t, "TIME skew after +120s", e.skew(t), 120*time.Second, time.Second)
		e.near(t, "skew of `date` in the container after +120s", e.containerSkew(t), 0, 2*time.Second)
	})

	t.Run("heal", func(t *testing.T) {
		for i := 0; i < 2; i++ { // Heal is idempotent
			if err := bump120.Heal(ctx); err != nil {
				t.Fatal(err)
			}
			if err := bump30.Heal(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := e.offset(t); got != 0 {
			t.Errorf("offset after heal reads %v, want 0", got)
		}
		e.setPX(t, "k2")
		e.near(t, "PTTL after heal", e.pttl(t, "k2"), 60*time.Second, 2*time.Second)
		e.near(t, "TIME skew after heal", e.skew(t), 0, time.Second)
		if err := nemesis.NewClockBump(d, node, time.Hour).Heal(ctx); err != nil {
			t.Errorf("Heal without Inject: %v", err)
		}
	})

	t.Run("backwards", func(t *testing.T) {
		e.setPX(t, "k3")
		back := nemesis.NewClockBump(d, node, -30*time.Second)
		if err := back.Inject(ctx); err != nil {
			t.Fatal(err)
		}
		e.near(t, "PTTL after -30s", e.pttl(t, "k3"), 90*time.Second, 2*time.Second)
		e.near(t, "TIME skew after -30s", e.skew(t), -30*time.Second, time.Second)
		if err := back.Heal(ctx); err != nil {
			t.Fatal(err)
		}
		e.near(t, "PTTL after heal", e.pttl(t, "k3"), 60*time.Second, 3*time.Second)
	})

	t.Run("strobe", func(t *testing.T) {
		a, b, period := 5*time.Second, 45*time.Second, 300*time.Millisecond
		f := nemesis.NewClockStrobe(d, node, a, b, period)
		if err := f.Heal(ctx); err != nil {
			t.Fatalf("Heal without Inject: %v", err)
		}
		if err := f.Inject(ctx); err != nil {
			t.Fatal(err)
		}
		if err := f.Inject(ctx); err == nil {
			t.Error("a second Inject while flipping succeeded")
		}
		seen := map[time.Duration]int{}
		var skews []time.Duration
		for i := 0; i < 16; i++ {
			seen[e.offset(t)]++
			skews = append(skews, e.skew(t).Round(time.Second))
			time.Sleep(period / 3)
		}
		t.Logf("offsets seen: %v; TIME skews seen: %v", seen, skews)
		if len(seen) != 2 || seen[a] == 0 || seen[b] == 0 {
			t.Errorf("offsets seen %v, want both %v and %v and nothing else", seen, a, b)
		}
		var nearA, nearB bool
		for _, s := range skews {
			nearA = nearA || (s-a).Abs() <= time.Second
			nearB = nearB || (s-b).Abs() <= time.Second
			if (s-a).Abs() > time.Second && (s-b).Abs() > time.Second {
				t.Errorf("TIME skew %v is neither %v nor %v", s, a, b)
			}
		}
		if !nearA || !nearB {
			t.Errorf("TIME did not follow the strobe: skews %v", skews)
		}
		if err := f.Heal(ctx); err != nil {
			t.Fatal(err)
		}
		flips, failed, firstErr := f.(*nemesis.ClockStrobe).Flips()
		t.Logf("%d flips, %d failed", flips, failed)
		if flips == 0 || failed != 0 {
			t.Errorf("%d flips, %d failed (first: %v)", flips, failed, firstErr)
		}
		for i := 0; i < 4; i++ { // stays at 0: the flipper has stopped
			if got := e.offset(t); got != 0 {
				t.Fatalf("offset %v after Heal, want 0", got)
			}
			time.Sleep(period)
		}
		e.near(t, "TIME skew after strobe heal", e.skew(t), 0, time.Second)
		if err := f.Heal(ctx); err != nil {
			t.Errorf("second Heal: %v", err)
		}
	})

	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Errorf("redis-server unhealthy at the end: %v", err)
	}
}

// clockEnv holds what the clock test's steps share; its helpers take the running (sub)test's t.
type clockEnv struct {
	ctx  context.Context
	d    nemesis.NodeControl
	node cluster.Node
	rdb  *redis.Client
}

func (e *clockEnv) exec(t *testing.T, cmd ...string) string {
	t.Helper()
	out, err := e.d.Exec(e.ctx, e.node.ContainerID, cmd...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

func (e *clockEnv) offset(t *testing.T) time.Duration {
	t.Helper()
	off, err := nemesis.ClockOffset(e.ctx, e.d, e.node.ContainerID)
	if err != nil {
		t.Fatal(err)
	}
	return off
}

// setPX sets key with a 60 s time to live.
func (e *clockEnv) setPX(t *testing.T, key string) {
	t.Helper()
	if err := e.rdb.Do(e.ctx, "SET", key, "v", "PX", 60000).Err(); err != nil {
		t.Fatal(err)
	}
}

func (e *clockEnv) pttl(t *testing.T, key string) time.Duration {
	t.Helper()
	ttl, err := e.rdb.PTTL(e.ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	return ttl
}

// skew is how far redis-server's TIME is from the host's clock.
func (e *clockEnv) skew(t *testing.T) time.Duration {
	t.Helper()
	before := time.Now()
	st, err := e.rdb.Time(e.ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	return st.Sub(before.Add(after.Sub(before) / 2))
}

// containerSkew is how far a fresh process in the container (date, without the shim) is from the
// host's clock, to a second.
func (e *clockEnv) containerSkew(t *testing.T) time.Duration {
	t.Helper()
	s, err := strconv.ParseInt(e.exec(t, "date", "+%s"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(s-time.Now().Unix()) * time.Second
}

func (e *clockEnv) near(t *testing.T, what string, got, want, slack time.Duration) {
	t.Helper()
	if (got - want).Abs() > slack {
		t.Errorf("%s = %v, want %v ± %v", what, got, want, slack)
	} else {
		t.Logf("%s = %v (want %v ± %v)", what, got, want, slack)
	}
}
