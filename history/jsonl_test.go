package history

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.jsonl")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Op{
		{Time: 1, Process: HarnessProcess, F: RunMeta, Meta: &Meta{Backend: "redlock", Clients: 2}},
		{Time: 2, Process: 0, Client: 0, Type: Invoke, F: Incr, ID: "p0-1"},
		{Time: 3, Process: 0, Client: 0, Type: OK, F: Incr, ID: "p0-1", Value: Int64(0)},
		{Time: 4, Process: 1, Client: 1, Type: OK, F: Acquire, Owner: "o", Token: 7, Deadline: 99},
	}
	for _, op := range want {
		if err := w.Append(op); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Truncated || len(got.Ops) != len(want) {
		t.Fatalf("read %d ops (truncated=%v), want %d", len(got.Ops), got.Truncated, len(want))
	}
	if got.Ops[2].Value == nil || *got.Ops[2].Value != 0 {
		t.Errorf("a read of 0 must survive the round trip, got %v", got.Ops[2].Value)
	}
	if got.Ops[0].Meta == nil || got.Ops[0].Meta.Backend != "redlock" || got.Ops[3].Token != 7 {
		t.Errorf("fields lost: %+v %+v", got.Ops[0], got.Ops[3])
	}
}

// A harness killed mid-write leaves a cut-short last line: the prefix is still a history.
func TestTruncatedLastLine(t *testing.T) {
	in := `{"time":1,"process":0,"client":0,"type":"invoke","f":"incr","id":"p0-1"}` + "\n" + `{"time":2,"proc`
	got, err := Decode(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Truncated || len(got.Ops) != 1 {
		t.Errorf("got %d ops truncated=%v, want 1 op and truncated", len(got.Ops), got.Truncated)
	}
}

// Garbage in the middle is corruption, reported with its line number.
func TestCorruptMiddleLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.jsonl")
	in := `{"time":1,"process":0,"client":0,"type":"invoke","f":"incr"}` + "\nnot json\n" + `{"time":2,"process":0,"client":0,"type":"ok","f":"incr"}` + "\n"
	if err := os.WriteFile(path, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path)
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Line != 2 || ce.Path != path {
		t.Fatalf("got %v, want a CorruptError at %s:2", err, path)
	}
}

func TestNowIsMonotonic(t *testing.T) {
	a := Now()
	b := Now()
	if a <= 0 || b < a {
		t.Errorf("Now went %d then %d", a, b)
	}
}
