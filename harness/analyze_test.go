package harness_test

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/harness"
	"github.com/locktest/locktest/history"
	"github.com/locktest/locktest/internal/fixtures"
	"github.com/locktest/locktest/report"
)

// writeHistory stores a small history: two processes taking turns (or, with lost, both reading
// the same value), then, if final, the final read and the write log.
func writeHistory(t *testing.T, dir string, lost, final bool) {
	t.Helper()
	w, err := history.Create(filepath.Join(dir, report.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	at := int64(1_000_000)
	add := func(op history.Op) {
		at += 1000
		op.Time = at
		if err := w.Append(op); err != nil {
			t.Fatal(err)
		}
	}
	add(history.Op{Process: history.HarnessProcess, F: history.RunMeta, Meta: &history.Meta{Format: history.FormatVersion, Backend: "redlock", Clients: 2, Seed: 9, RunID: "r"}})
	reads := []int64{0, 1, 2, 3}
	if lost {
		reads = []int64{0, 1, 1, 2}
	}
	var log []history.Op
	for i, v := range reads {
		p := i % 2
		id := "p" + string(rune('0'+p)) + "-" + string(rune('a'+i))
		add(history.Op{Process: p, Client: p, Type: history.Invoke, F: history.Acquire})
		add(history.Op{Process: p, Client: p, Type: history.OK, F: history.Acquire, Owner: id, Deadline: at + 1e9})
		add(history.Op{Process: p, Client: p, Type: history.Invoke, F: history.Incr, ID: id})
		add(history.Op{Process: p, Client: p, Type: history.OK, F: history.Incr, ID: id, Value: history.Int64(v)})
		add(history.Op{Process: p, Client: p, Type: history.Invoke, F: history.Release, Owner: id})
		add(history.Op{Process: p, Client: p, Type: history.OK, F: history.Release, Owner: id})
		log = append(log, history.Op{Process: history.HarnessProcess, Type: history.OK, F: history.WriteLog, ID: id, Value: history.Int64(v + 1), Seq: int64(i + 1)})
	}
	// The final read and the write log go in a block of their own, for the tests that cut it.
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !final {
		return
	}
	add(history.Op{Process: history.HarnessProcess, Client: -1, Type: history.Invoke, F: history.Read})
	add(history.Op{Process: history.HarnessProcess, Client: -1, Type: history.OK, F: history.Read, Value: history.Int64(reads[len(reads)-1] + 1),
		LogLen: history.Int64(int64(len(log)))})
	for _, op := range log {
		add(op)
	}
	add(history.Op{Process: history.HarnessProcess, Client: -1, Type: history.OK, F: history.WriteLogEnd, LogLen: history.Int64(int64(len(log)))})
}

func TestAnalyze(t *testing.T) {
	dir := t.TempDir()
	writeHistory(t, dir, false, true)
	res, err := harness.Analyze(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid != checker.Valid || res.Incomplete || res.Backend != "redlock" || res.Seed != 9 {
		t.Errorf("complete history: %s incomplete=%v backend=%q seed=%d", res.Valid, res.Incomplete, res.Backend, res.Seed)
	}
	if _, err := os.Stat(filepath.Join(dir, report.ResultsFile)); err != nil {
		t.Errorf("results.json not written: %v", err)
	}
	// A second analysis keeps the parameters it wrote and reaches the same verdict.
	if again, err := harness.Analyze(dir, nil); err != nil || again.Valid != res.Valid || again.Backend != "redlock" {
		t.Errorf("re-analysis: %v, %+v", err, again)
	}
}

// A harness killed mid-run leaves a history without its end, cut mid-record: the prefix is checked
// and the run is reported incomplete. A lost update in the prefix is still a lost update. So it is
// in the binary history, cut inside its last block, and in an older run's JSON lines, cut mid-line.
func TestAnalyzeCutShortHistory(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		for _, lost := range []bool{false, true} {
			dir := t.TempDir()
			if legacy {
				writeHistory(t, dir, lost, false)
				toJSONL(t, dir)
				appendTo(t, filepath.Join(dir, report.LegacyHistoryFile), `{"time":99999999,"process":0,"cli`)
			} else {
				writeHistory(t, dir, lost, true)
				path := filepath.Join(dir, report.HistoryFile)
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				os.Truncate(path, fi.Size()-5)
			}
			res, err := harness.Analyze(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := checker.Unknown // no final read: lost updates could hide at the end
			if lost {
				want = checker.Invalid
			}
			if !res.Incomplete || res.Valid != want {
				t.Errorf("legacy=%v lost=%v: incomplete=%v verdict=%s, want incomplete and %s", legacy, lost, res.Incomplete, res.Valid, want)
			}
		}
	}
}

// toJSONL turns the binary history in dir into the JSON lines an older run kept.
func toJSONL(t *testing.T, dir string) {
	t.Helper()
	read, err := history.ReadFile(filepath.Join(dir, report.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, report.LegacyHistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	jw := history.NewJSONLWriter(f)
	for _, op := range read.Ops {
		if err := jw.Write(op); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove(filepath.Join(dir, report.HistoryFile))
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// An older run's complete JSON-lines history is analyzed, and results.json names that file.
func TestAnalyzeOlderRun(t *testing.T) {
	dir := t.TempDir()
	writeHistory(t, dir, true, true)
	toJSONL(t, dir)
	res, err := harness.Analyze(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid != checker.Invalid || res.Incomplete || res.Files.History != report.LegacyHistoryFile {
		t.Errorf("verdict %s, incomplete %v, history file %q", res.Valid, res.Incomplete, res.Files.History)
	}
}

func TestAnalyzeBadInput(t *testing.T) {
	if _, err := harness.Analyze(t.TempDir(), nil); !errors.Is(err, harness.ErrNotARun) {
		t.Errorf("empty directory: %v, want ErrNotARun", err)
	}
	dir := t.TempDir()
	meta := `{"time":1,"process":-1,"client":0,"type":"","f":"meta","meta":{"format":2,"backend":"redlock","clients":2,"nodes":5,"ttl_ms":2000,"seed":1,"run_id":"r","initial":0,"started":""}}`
	os.WriteFile(filepath.Join(dir, report.LegacyHistoryFile), []byte(meta+"\nnot json\n{\"time\":2}\n"), 0o644)
	var ce *history.CorruptError
	if _, err := harness.Analyze(dir, nil); !errors.As(err, &ce) || ce.Line != 2 {
		t.Errorf("corrupt history: %v, want a CorruptError at line 2", err)
	}
	// A damaged byte in the binary history's second block.
	dir = t.TempDir()
	writeHistory(t, dir, false, true)
	path := filepath.Join(dir, report.HistoryFile)
	b, _ := os.ReadFile(path)
	b[len(b)-3] ^= 1
	os.WriteFile(path, b, 0o644)
	if _, err := harness.Analyze(dir, nil); !errors.As(err, &ce) || ce.Record < 2 || ce.Remedy() == "" {
		t.Errorf("corrupt binary history: %v, want a CorruptError past the first block", err)
	}
}

// TestAnalyzeFixtures runs analyze on the real recorded histories of checker/testdata, as a user
// would on a stored run, and expects the verdict each run reached.
func TestAnalyzeFixtures(t *testing.T) {
	paths, err := fixtures.Paths(filepath.Join("..", "checker", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		t.Run(fixtures.Name(p), func(t *testing.T) {
			dir := t.TempDir()
			unpackFixture(t, p, filepath.Join(dir, report.LegacyHistoryFile))
			var g struct {
				Valid checker.Validity `json:"valid"`
			}
			b, err := os.ReadFile(strings.TrimSuffix(p, fixtures.Ext) + ".golden.json")
			if err != nil || json.Unmarshal(b, &g) != nil {
				t.Fatalf("golden file: %v", err)
			}
			res, err := harness.Analyze(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Valid != g.Valid || res.Incomplete {
				t.Errorf("analyze: %v (incomplete %v), golden %v", res.Valid, res.Incomplete, g.Valid)
			}
			if _, err := os.Stat(filepath.Join(dir, report.PageFile)); err != nil {
				t.Errorf("no run page: %v", err)
			}
		})
	}
}

// unpackFixture writes the recorded history fixture (a .jsonl.gz of checker/testdata) to path.
func unpackFixture(t *testing.T, fixture, path string) {
	t.Helper()
	zr, err := fixtures.Open(fixture)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
}
