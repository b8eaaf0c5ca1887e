package history_test

import (
	"path/filepath"
	"testing"

	"github.com/locktest/locktest/history"
	"github.com/locktest/locktest/internal/histgen"
)

// File.Progress hears of every Scan as its own pass, with the bytes read rising to the file's
// size at the end of each, and the records are read as without it.
func TestFileProgress(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.lkh")
	b := writeBinary(t, path, histgen.RedisSingle(3, 40_000), 0)
	type report struct {
		pass       int
		read, size int64
	}
	var got []report
	f := &history.File{Path: path, Progress: func(pass int, read, size int64) { got = append(got, report{pass, read, size}) }}
	for range 2 {
		n := 0
		if err := f.Scan(func(*history.Op) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		if n < 40_000 {
			t.Fatalf("%d records read", n)
		}
	}
	last := map[int]report{}
	for i, r := range got {
		if r.size != int64(len(b)) {
			t.Fatalf("report %d: size %d, the file has %d bytes", i, r.size, len(b))
		}
		if prev, ok := last[r.pass]; ok && r.read < prev.read {
			t.Fatalf("pass %d went back from %d to %d bytes", r.pass, prev.read, r.read)
		}
		last[r.pass] = r
	}
	if len(last) != 2 || last[1].read != int64(len(b)) || last[2].read != int64(len(b)) {
		t.Fatalf("passes %+v, want 1 and 2 each ending at %d bytes", last, len(b))
	}
	if len(got) < 4 {
		t.Errorf("%d reports for two reads of %d bytes", len(got), len(b))
	}
}
