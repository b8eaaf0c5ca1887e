package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/locktest/locktest/history"
	"github.com/locktest/locktest/internal/histgen"
	"github.com/locktest/locktest/report"
)

// runDir stores a generated history as a run directory's binary history.
func runDir(t *testing.T) (string, []history.Op) {
	t.Helper()
	dir := t.TempDir()
	ops := histgen.RedisSingle(1, 300)
	w, err := history.Create(filepath.Join(dir, report.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	for i, op := range ops {
		if err := w.Append(op); err != nil {
			t.Fatal(err)
		}
		if i == len(ops)/2 {
			w.Flush() // two blocks, so a cut of the last one leaves a history
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, ops
}

func TestExportJSONL(t *testing.T) {
	dir, ops := runDir(t)
	out := filepath.Join(t.TempDir(), "h.jsonl")
	if code := run([]string{"export", "--jsonl", dir, "-o", out}); code != exitValid {
		t.Fatalf("exit %d", code)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte(`{"time":`)) {
		t.Errorf("not JSON lines: %.40q", b)
	}
	got, err := history.ReadFile(out)
	if err != nil || !reflect.DeepEqual(got.Ops, ops) {
		t.Fatalf("exported history reads back as %d records (%v), want the %d written", len(got.Ops), err, len(ops))
	}
	// A history file named directly, to stdout.
	var stdout, stderr bytes.Buffer
	if err := exportJSONL(filepath.Join(dir, report.HistoryFile), "", &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stdout.Bytes(), b) || stderr.Len() > 0 {
		t.Errorf("stdout differs from the -o file (%d vs %d bytes); stderr %q", stdout.Len(), len(b), stderr.String())
	}
}

// A cut-short history is exported up to the cut, and said so.
func TestExportCutShort(t *testing.T) {
	dir, ops := runDir(t)
	path := filepath.Join(dir, report.HistoryFile)
	fi, _ := os.Stat(path)
	os.Truncate(path, fi.Size()-4)
	var stdout, stderr bytes.Buffer
	if err := exportJSONL(dir, "", &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	n := bytes.Count(stdout.Bytes(), []byte("\n"))
	if n == 0 || n >= len(ops) || !strings.Contains(stderr.String(), "cut short") {
		t.Errorf("%d of %d records exported; stderr %q", n, len(ops), stderr.String())
	}
}

// Input that is not a readable history is bad input: exit 254, and no output file.
func TestExportBadInput(t *testing.T) {
	dir, _ := runDir(t)
	corrupt := t.TempDir()
	b, _ := os.ReadFile(filepath.Join(dir, report.HistoryFile))
	b[len(b)/2] ^= 0x10
	os.WriteFile(filepath.Join(corrupt, report.HistoryFile), b, 0o644)
	text := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(text, []byte("hello\n"), 0o644)
	out := filepath.Join(t.TempDir(), "out.jsonl")
	for _, args := range [][]string{
		{"export", "--jsonl", filepath.Join(t.TempDir(), "nope")},
		{"export", "--jsonl", t.TempDir()},
		{"export", "--jsonl", text, "-o", out},
		{"export", "--jsonl", corrupt, "-o", out},
		{"export", dir},
		{"export", "--jsonl"},
		{"export", "--jsonl", dir, dir},
	} {
		if got := run(args); got != exitUsage {
			t.Errorf("locktest %s: exit %d, want %d", strings.Join(args, " "), got, exitUsage)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed export left its output file")
	}
	if matches, _ := filepath.Glob(out + "*"); len(matches) > 0 {
		t.Errorf("a failed export left %v", matches)
	}
}
