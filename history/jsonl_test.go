package history

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.lkh")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Op{
		{Time: 1, Process: HarnessProcess, F: RunMeta, Meta: &Meta{Format: FormatVersion, Backend: "redlock", Clients: 2}},
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
	in := metaLine + "\n" + `{"time":1,"process":0,"client":0,"type":"invoke","f":"incr","id":"p0-1"}` + "\n" + `{"time":2,"proc`
	got, err := Decode(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Truncated || len(got.Ops) != 2 {
		t.Errorf("got %d ops truncated=%v, want 2 ops and truncated", len(got.Ops), got.Truncated)
	}
}

// Garbage in the middle is corruption, reported with its line number.
func TestCorruptMiddleLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.jsonl")
	in := metaLine + "\nnot json\n" + `{"time":2,"process":0,"client":0,"type":"ok","f":"incr","id":"p0-1","value":0}` + "\n"
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

// metaLine is a valid first record of this format.
var metaLine = `{"time":0,"process":-1,"client":0,"type":"","f":"meta","meta":{"format":2,"backend":"redlock","clients":2,"nodes":5,"ttl_ms":2000,"seed":1,"run_id":"r","initial":0,"started":""}}`

// Anything that is not a history of this format is refused with the line that shows it, never read
// as records with empty fields (which the checker would take for a valid run).
func TestStrictReading(t *testing.T) {
	incr := `{"time":1,"process":0,"client":0,"type":"invoke","f":"incr","id":"p0-1"}`
	tests := []struct {
		name string
		in   string
		line int
		says string
	}{
		{"null line", metaLine + "\nnull\n", 2, "not a JSON object"},
		{"foreign object", metaLine + "\n" + `{"name":"x","age":3}` + "\n", 2, "unknown field"},
		{"unknown f", metaLine + "\n" + `{"time":1,"process":0,"client":0,"type":"ok","f":"frob"}` + "\n", 2, "unknown f"},
		{"unknown type", metaLine + "\n" + `{"time":1,"process":0,"client":0,"type":"maybe","f":"incr","id":"p0-1"}` + "\n", 2, "unknown type"},
		{"ok increment without its value", metaLine + "\n" + incr + "\n" + `{"time":2,"process":0,"client":0,"type":"ok","f":"incr","id":"p0-1"}` + "\n", 3, "without the value it read"},
		{"write-log entry without seq", metaLine + "\n" + `{"time":1,"process":-1,"client":-1,"type":"ok","f":"write-log","id":"p0-1","value":1}` + "\n", 2, "seq"},
		{"fenced on a record that is not a failed increment", metaLine + "\n" + `{"time":1,"process":0,"client":0,"type":"ok","f":"incr","id":"p0-1","value":0,"fenced":true}` + "\n", 2, "fenced"},
		{"two values on a line", metaLine + "\n" + incr + incr + "\n", 2, "more than one"},
		{"no meta record first", incr + "\n" + metaLine + "\n", 1, "not the run's meta record"},
		{"an older format", strings.Replace(metaLine, `"format":2,`, "", 1) + "\n", 1, "format 1"},
		{"a newer format", strings.Replace(metaLine, `"format":2`, `"format":4`, 1) + "\n", 1, "format 4"},
		{"binary junk without newlines", "\x00\x01\xff\xfe junk", 1, "not a JSON object"},
		{"only a cut-short meta line", metaLine[:40], 1, ""},
		{"empty", "", 0, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tt.in))
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Line != tt.line || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("got %v, want a CorruptError at line %d saying %q", err, tt.line, tt.says)
			}
		})
	}
}

func TestReadFileRefusesADirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "history.jsonl")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(dir)
	var ce *CorruptError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "directory") {
		t.Errorf("got %v, want a CorruptError naming a directory", err)
	}
}

// A line longer than any record is refused without reading it whole.
func TestOverlongLine(t *testing.T) {
	_, err := Decode(strings.NewReader(metaLine + "\n" + strings.Repeat("x", maxLine+10)))
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Line != 2 {
		t.Errorf("got %v, want a CorruptError at line 2", err)
	}
}
