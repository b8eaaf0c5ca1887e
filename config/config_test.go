package config

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/locktest/locktest/nemesis"
	"github.com/locktest/locktest/workload"
)

// What is recorded is what is read back: repro runs the same configuration.
func TestRoundTrip(t *testing.T) {
	r := Run{Backend: "redis-single", Nodes: 1, Clients: 4, TTL: 1500 * time.Millisecond, TimeLimit: time.Minute, Seed: -7,
		AcquireTimeout: 3 * time.Second, StorageTimeout: 250 * time.Millisecond, Think: 10 * time.Millisecond,
		Fencing: "writes-only", Persistence: "always", Faults: []nemesis.Kind{nemesis.Kill, nemesis.Clock},
		FaultInterval: 2 * time.Second, Profile: "kleppmann", Cluster: Compose, ScenarioFile: "scenarios/k1-pause-holder.yaml",
		Client: workload.Client{Guard: workload.GuardValidity, GuardMargin: 150 * time.Millisecond,
			Work: workload.Work{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}, Extend: true},
		ClientCmd: "python3 clients/python/locktest_client.py"}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"ttl":"1.5s"`) || !strings.Contains(string(b), `"work":"20ms-200ms"`) || !strings.Contains(string(b), `"guard_margin":"150ms"`) {
		t.Errorf("durations are not written for people: %s", b)
	}
	var back Run
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, r)
	}
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, r) {
		t.Error("unmarshalling into a used value changed the result")
	}
}

// A stored configuration that lacks a parameter gets its default, not a zero that would mean
// something else (a zero storage timeout, no clients).
func TestMissingParametersGetDefaults(t *testing.T) {
	var r Run
	if err := json.Unmarshal([]byte(`{"backend":"etcd","seed":3}`), &r); err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Backend, want.Seed = "etcd", 3
	if !reflect.DeepEqual(r, want) {
		t.Errorf("got %+v\nwant %+v", r, want)
	}
	if err := json.Unmarshal([]byte(`{"ttl":"5x"}`), &r); err == nil || !strings.Contains(err.Error(), "5x") {
		t.Errorf("a corrupt duration: %v", err)
	}
}

func TestMatrixDefaultDiffersOnlyInPace(t *testing.T) {
	m, d := MatrixDefault(), Default()
	m.Clients, m.TTL, m.TimeLimit, m.FaultInterval = d.Clients, d.TTL, d.TimeLimit, d.FaultInterval
	if !reflect.DeepEqual(m, d) {
		t.Errorf("MatrixDefault differs from Default in more than clients, ttl, time limit and fault interval: %+v", m)
	}
}
