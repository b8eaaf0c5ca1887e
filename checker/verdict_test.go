package checker

import (
	"encoding/json"
	"testing"
)

func TestValidityJSON(t *testing.T) {
	tests := []struct {
		v    Validity
		json string
		str  string
	}{
		{Valid, `{"valid":true}`, "valid"},
		{Invalid, `{"valid":false}`, "invalid"},
		{Unknown, `{"valid":"unknown"}`, "unknown"},
	}
	for _, tt := range tests {
		b, err := json.Marshal(struct {
			V Validity `json:"valid"`
		}{tt.v})
		if err != nil || string(b) != tt.json {
			t.Errorf("Marshal(%v) = %s, %v; want %s", tt.v, b, err, tt.json)
		}
		var back struct {
			V Validity `json:"valid"`
		}
		if err := json.Unmarshal([]byte(tt.json), &back); err != nil || back.V != tt.v {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", tt.json, back.V, err, tt.v)
		}
		if tt.v.String() != tt.str {
			t.Errorf("String() = %q, want %q", tt.v.String(), tt.str)
		}
	}
	var v Validity
	if err := json.Unmarshal([]byte(`"maybe"`), &v); err == nil {
		t.Error("Unmarshal accepted \"maybe\"")
	}
}

// TestResultJSON checks the shape results.json relies on.
func TestResultJSON(t *testing.T) {
	res := Check(twoIncrements(0, 0).final(30, 1).ops, Options{})
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["valid"] != false {
		t.Errorf("valid = %v, want false", m["valid"])
	}
	an, _ := m["anomalies"].(map[string]any)
	for _, key := range []string{"lost_updates", "overlaps", "duplicate_reads", "stale_writes", "nonlinearizable", "unresolved"} {
		if _, ok := an[key]; !ok {
			t.Errorf("anomalies lack %q: %s", key, b)
		}
	}
	if an["duplicate_reads"] != 1.0 {
		t.Errorf("duplicate_reads = %v, want 1", an["duplicate_reads"])
	}
	if _, ok := m["holds"]; ok {
		t.Error("holds are in the JSON; they are too many for results.json")
	}
}

func TestAnomalyCountNames(t *testing.T) {
	a := Anomalies{LostUpdates: 1, Overlaps: 2, OverlapsWithinValidity: 3, DuplicateReads: 4, StaleWrites: 5, Nonlinearizable: 6, LogMismatch: 7}
	for i, name := range AnomalyNames {
		if n, ok := a.Count(name); !ok || n != int64(i+1) {
			t.Errorf("Count(%q) = %d, %v; want %d", name, n, ok, i+1)
		}
	}
	if _, ok := a.Count("nope"); ok {
		t.Error("unknown name accepted")
	}
}

func TestFirstAnomalyPrefersPreciseTimes(t *testing.T) {
	ex := []Example{
		{Kind: "nonlinearizable", Time: 1e9}, // the start of a chunk, not of the anomaly
		{Kind: "stale_writes", Time: 5e9},
		{Kind: "lost_updates", Time: 9e9},
	}
	if got := firstAnomaly(ex, 0); got != 5 {
		t.Errorf("first anomaly at %vs, want 5s (the stale write)", got)
	}
	if got := firstAnomaly(ex[:1], 0); got != 1 {
		t.Errorf("with only a chunk-timed example: %vs, want 1s", got)
	}
	if got := firstAnomaly(nil, 0); got != 0 {
		t.Errorf("no anomaly: %v", got)
	}
}
