package history_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/history"
	"github.com/locktest/locktest/internal/histgen"
)

// writeBinary writes ops as a binary history, cutting blocks at target bytes (0: the default).
func writeBinary(t testing.TB, path string, ops []history.Op, target int) []byte {
	t.Helper()
	w, err := history.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if target > 0 {
		w.SetBlockTarget(target)
	}
	for _, op := range ops {
		if err := w.Append(op); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonl(t testing.TB, ops []history.Op) []byte {
	t.Helper()
	var b bytes.Buffer
	jw := history.NewJSONLWriter(&b)
	for _, op := range ops {
		if err := jw.Write(op); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// blockStarts walks the framing of a binary history (codec.go): the offset of every block.
func blockStarts(t *testing.T, data []byte) []int {
	t.Helper()
	var starts []int
	for at := history.FileHeaderLen; at < len(data); {
		starts = append(starts, at)
		at += history.BlockHeaderLen + int(binary.LittleEndian.Uint32(data[at:]))
	}
	return starts
}

// The binary format's promise for long runs: a realistic history takes at most 60 bytes a record.
func TestBinarySize(t *testing.T) {
	ops := histgen.RedisSingle(1, 20_000)
	data := writeBinary(t, filepath.Join(t.TempDir(), "h.lkh"), ops, 0)
	per := float64(len(data)) / float64(len(ops))
	t.Logf("%d records: %d bytes binary (%.1f B/record), %.1f B/record as JSON lines", len(ops), len(data), per,
		float64(len(jsonl(t, ops)))/float64(len(ops)))
	if per > 60 {
		t.Errorf("%.1f bytes per record, want at most 60", per)
	}
}

// edgeOps are records at the corners of the encoding: ids that are not "p<a>-<n>" as written,
// negative and huge numbers, zero values that must stay set, strings that fell out of the window.
func edgeOps() []history.Op {
	ops := []history.Op{{Time: 5, Process: history.HarnessProcess, F: history.RunMeta,
		Meta: &history.Meta{Format: history.FormatVersion, Backend: "redlock", Clients: 2, Config: []byte(`{"a":[1,2]}`)}}}
	for _, id := range []string{"p01-2", "p-1-3", "p3-17", "p3-", "p3-x", "x", "p0-0", "p1234567890123456789-1", "p3-17 ", "pé-1"} {
		ops = append(ops, history.Op{Time: -7, Process: 4, Client: 9, Type: history.Invoke, F: history.Incr, ID: id})
	}
	ops = append(ops,
		history.Op{Time: 1 << 62, Process: 0, Type: history.OK, F: history.Incr, ID: "p0-1", Value: history.Int64(0)},
		history.Op{Time: -1 << 62, Process: 0, Type: history.OK, F: history.Incr, ID: "p0-2", Value: history.Int64(-1 << 63)},
		history.Op{Time: 3, Process: 1, Client: -5, Type: history.OK, F: history.Acquire, Owner: "o", Token: 1<<64 - 1, Deadline: -1 << 63},
		history.Op{Time: 3, Process: 1, Type: history.Invoke, F: history.Release, Owner: "o", Token: 1},
		// Extend's f code is past the 3 bits the kind byte first had for it.
		history.Op{Time: 3, Process: 1, Type: history.Invoke, F: history.Extend, Owner: "o"},
		history.Op{Time: 3, Process: 1, Type: history.OK, F: history.Extend, Owner: "o", Deadline: 1 << 40},
		history.Op{Time: 3, Process: 1, Type: history.Info, F: history.Extend, Owner: "o", Error: "extend: outcome unknown"},
		history.Op{Time: 4, Process: 2, Type: history.Fail, F: history.Incr, ID: "p2-1", Fenced: true, Error: "fenced"},
		history.Op{Time: 4, Process: 2, Type: history.Fail, F: history.Incr, ID: "p2-2", Skipped: true, Error: "guard"},
		history.Op{Time: 4, Process: history.NemesisProcess, Type: history.Info, F: history.Nemesis, ID: "f1", Fault: "clock",
			Targets: []string{"", "n1", "n1"}, Detail: "+10s", Error: "heal: exit 1"},
		history.Op{Time: 4, Process: history.HarnessProcess, Client: -1, Type: history.OK, F: history.Read, Value: history.Int64(3), LogLen: history.Int64(0)},
		history.Op{Time: 4, Process: history.HarnessProcess, Client: -1, Type: history.OK, F: history.WriteLog, ID: "p3-4", Value: history.Int64(1), Seq: 1 << 40},
	)
	for i := range 5000 { // more strings than the window holds, then the first and a recent one again
		ops = append(ops, history.Op{Time: int64(i), Process: 0, Type: history.Fail, F: history.Release, Owner: fmt.Sprint("owner-", i)})
	}
	return append(ops,
		history.Op{Time: 9, Process: 0, Type: history.Fail, F: history.Release, Owner: "owner-0"},
		history.Op{Time: 9, Process: 0, Type: history.Fail, F: history.Release, Owner: "owner-4990"},
		history.Op{Time: 9, Process: 0, Type: history.Fail, F: history.Release, Owner: "o"},
	)
}

func TestBinaryRoundTrip(t *testing.T) {
	for name, ops := range map[string][]history.Op{"generated": histgen.RedisSingle(2, 3000), "edges": edgeOps()} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "h.lkh")
			writeBinary(t, path, ops, 1000)
			got, err := history.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got.Truncated {
				t.Error("a closed history reads as truncated")
			}
			assertSameOps(t, got.Ops, ops)
		})
	}
}

func assertSameOps(t *testing.T, got, want []history.Op) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("record %d:\n got %+v\nwant %+v", i+1, got[i], want[i])
		}
	}
}

// The reader streams both formats, told apart by content, not by the file's name.
func TestReaderReadsBothFormats(t *testing.T) {
	ops := histgen.RedisSingle(4, 200)
	dir := t.TempDir()
	bin := filepath.Join(dir, "history.jsonl") // a misleading name: the content decides
	writeBinary(t, bin, ops, 0)
	text := filepath.Join(dir, "history.lkh")
	if err := os.WriteFile(text, jsonl(t, ops), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{bin, text} {
		r, err := history.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var got []history.Op
		for {
			op, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, op)
		}
		if _, err := r.Next(); err != io.EOF || r.Truncated() {
			t.Errorf("%s: after the end: %v, truncated %v", path, err, r.Truncated())
		}
		r.Close()
		assertSameOps(t, got, ops)
	}
}

// A harness killed mid-write leaves a cut last block: at every byte of it, the blocks before it
// are read, the cut is reported, and nothing of the cut block is returned. Cut inside the header
// or the first block, nothing is a history yet.
func TestCutTail(t *testing.T) {
	ops := histgen.RedisSingle(3, 400)
	data := writeBinary(t, filepath.Join(t.TempDir(), "h.lkh"), ops, 2048)
	starts := blockStarts(t, data)
	if len(starts) < 5 {
		t.Fatalf("only %d blocks", len(starts))
	}
	last := starts[len(starts)-1]
	whole := wholeRecords(t, data[:last])
	for cut := last; cut < len(data); cut++ {
		got, err := history.Decode(bytes.NewReader(data[:cut]))
		if err != nil || got.Truncated != (cut > last) || len(got.Ops) != whole {
			t.Fatalf("cut at %d (last block at %d): %d records, truncated %v, %v; want the %d records before the block, truncated",
				cut, last, len(got.Ops), got.Truncated, err, whole)
		}
		if !reflect.DeepEqual(got.Ops[whole-1], ops[whole-1]) {
			t.Fatalf("cut at %d: last record %+v, want %+v", cut, got.Ops[whole-1], ops[whole-1])
		}
	}
	for _, block := range []int{1, 2, len(starts) / 2} {
		for _, into := range []int{1, history.BlockHeaderLen - 1, history.BlockHeaderLen, history.BlockHeaderLen + 7} {
			cut := starts[block] + into
			got, err := history.Decode(bytes.NewReader(data[:cut]))
			if err != nil || !got.Truncated {
				t.Fatalf("cut at %d: %v, truncated %v", cut, err, got.Truncated)
			}
			assertSameOps(t, got.Ops, ops[:wholeRecords(t, data[:starts[block]])])
		}
	}
	for _, cut := range []int{0, 3, history.FileHeaderLen - 1, history.FileHeaderLen, history.FileHeaderLen + 5, starts[1] - 1} {
		_, err := history.Decode(bytes.NewReader(data[:cut]))
		if ce := (*history.CorruptError)(nil); !errors.As(err, &ce) {
			t.Errorf("cut at %d, before a whole meta record: %v, want a CorruptError", cut, err)
		}
	}
}

// wholeRecords is how many records a binary history that ends on a block boundary holds.
func wholeRecords(t *testing.T, data []byte) int {
	t.Helper()
	got, err := history.Decode(bytes.NewReader(data))
	if err != nil || got.Truncated {
		t.Fatalf("%d bytes on a block boundary: %v, truncated %v", len(data), err, got.Truncated)
	}
	return len(got.Ops)
}

// Damage inside the file is corruption at its block, never misread and never taken for a cut
// tail: every byte of a middle block and of the last one flipped, in two ways, and the file
// header's.
func TestFlippedBytes(t *testing.T) {
	ops := histgen.RedisSingle(5, 200)
	data := writeBinary(t, filepath.Join(t.TempDir(), "h.lkh"), ops, 1024)
	starts := blockStarts(t, data)
	mid, last := starts[len(starts)/2], starts[len(starts)-1]
	var offsets []int
	for at := mid; at < starts[len(starts)/2+1]; at++ {
		offsets = append(offsets, at)
	}
	for at := range history.FileHeaderLen {
		offsets = append(offsets, at)
	}
	offsets = append(offsets, last, last+5, last+history.BlockHeaderLen+3, len(data)-1)
	for _, at := range offsets {
		for _, mask := range []byte{0x01, 0xff} {
			bad := bytes.Clone(data)
			bad[at] ^= mask
			got, err := history.Decode(bytes.NewReader(bad))
			var ce *history.CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("byte %d ^ %#x: %v (%d records, truncated %v), want a CorruptError", at, mask, err, len(got.Ops), got.Truncated)
			}
			if at >= history.FileHeaderLen && (ce.Offset > int64(at) || ce.Record < 1) {
				t.Fatalf("byte %d ^ %#x: %v: not located at its block", at, mask, err)
			}
			if len(got.Ops) > 0 && !reflect.DeepEqual(got.Ops[len(got.Ops)-1], ops[len(got.Ops)-1]) {
				t.Fatalf("byte %d ^ %#x: a wrong record before the error: %+v", at, mask, got.Ops[len(got.Ops)-1])
			}
		}
	}
}

// A binary history of another container version is refused, with its version named.
func TestUnknownContainerVersion(t *testing.T) {
	data := writeBinary(t, filepath.Join(t.TempDir(), "h.lkh"), histgen.RedisSingle(1, 10), 0)
	data[history.FileHeaderLen-1] = 7
	_, err := history.Decode(bytes.NewReader(data))
	var ce *history.CorruptError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "container version 7") {
		t.Errorf("got %v, want a CorruptError naming container version 7", err)
	}
}

// A record readers would refuse is refused by the writer; the error sticks, and what came before
// is still written.
func TestWriterRefusesABadRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.lkh")
	ops := histgen.RedisSingle(1, 1)
	w, err := history.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range ops[:3] {
		if err := w.Append(op); err != nil {
			t.Fatal(err)
		}
	}
	bad := history.Op{Type: history.OK, F: history.Incr, ID: "p0-1"} // an ok increment without its value
	if err := w.Append(bad); err == nil || !strings.Contains(err.Error(), "without the value") {
		t.Fatalf("bad record: %v", err)
	}
	if err := w.Append(ops[3]); err == nil {
		t.Error("a record after the error was taken")
	}
	if err := w.Close(); err == nil {
		t.Error("Close forgot the error")
	}
	got, err := history.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	assertSameOps(t, got.Ops, ops[:3])
}

// Pending records reach the file without Close, soon: a killed harness loses only the last moment.
func TestTimedFlush(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.lkh")
	ops := histgen.RedisSingle(1, 1)
	w, err := history.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, op := range ops[:4] {
		if err := w.Append(op); err != nil {
			t.Fatal(err)
		}
	}
	// Not a timing assertion: the flush is due after 100 ms, and a loaded machine gets a minute.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		got, err := history.ReadFile(path)
		if err == nil && len(got.Ops) == 4 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("records never flushed: %d read, %v", len(got.Ops), err)
		}
	}
}

// Appends from many goroutines all arrive, whole.
func TestConcurrentAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.lkh")
	meta := histgen.RedisSingle(1, 1)[0]
	w, err := history.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w.SetBlockTarget(512)
	if err := w.Append(meta); err != nil {
		t.Fatal(err)
	}
	const procs, each = 8, 2000
	var wg sync.WaitGroup
	for p := range procs {
		wg.Go(func() {
			for i := 1; i <= each; i++ {
				id := fmt.Sprintf("p%d-%d", p, i)
				if err := w.Append(history.Op{Time: history.Now(), Process: p, Client: p, Type: history.Invoke, F: history.Incr, ID: id}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := history.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	next := make([]int, procs)
	for _, op := range got.Ops[1:] {
		next[op.Process]++
		if want := fmt.Sprintf("p%d-%d", op.Process, next[op.Process]); op.ID != want {
			t.Fatalf("record %+v, want id %s", op, want)
		}
	}
	for p, n := range next {
		if n != each {
			t.Errorf("process %d: %d records, want %d", p, n, each)
		}
	}
}

// What export does: binary → JSON lines → read back gives the same records, and the checker the
// same verdict on both.
func TestJSONLExportRoundTrip(t *testing.T) {
	ops := histgen.RedisSingle(6, 1500)
	dir := t.TempDir()
	writeBinary(t, filepath.Join(dir, "h.lkh"), ops, 0)
	fromBinary, err := history.ReadFile(filepath.Join(dir, "h.lkh"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "h.jsonl"), jsonl(t, fromBinary.Ops), 0o644); err != nil {
		t.Fatal(err)
	}
	fromJSONL, err := history.ReadFile(filepath.Join(dir, "h.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	assertSameOps(t, fromJSONL.Ops, ops)
	a, b := checker.Check(fromBinary.Ops, checker.Options{}), checker.Check(fromJSONL.Ops, checker.Options{})
	if a.Valid != b.Valid || a.Anomalies != b.Anomalies || a.Ops != b.Ops || a.Acknowledged != b.Acknowledged {
		t.Errorf("verdicts differ: binary %s %+v, JSON lines %s %+v", a.Valid, a.Anomalies, b.Valid, b.Anomalies)
	}
	t.Logf("verdict on both: %s, %d acknowledged", a.Valid, a.Acknowledged)
}

var benchHistory = sync.OnceValue(func() []history.Op { return histgen.RedisSingle(7, 20_000) })

func benchmarkDecode(b *testing.B, data []byte, records int) {
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r := history.NewReader(bytes.NewReader(data))
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != records {
			b.Fatalf("%d records, want %d", n, records)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(records), "ns/record")
	b.ReportMetric(float64(len(data))/float64(records), "B/record")
}

func BenchmarkDecodeBinary(b *testing.B) {
	ops := benchHistory()
	benchmarkDecode(b, writeBinary(b, filepath.Join(b.TempDir(), "h.lkh"), ops, 0), len(ops))
}

func BenchmarkDecodeJSONL(b *testing.B) {
	ops := benchHistory()
	benchmarkDecode(b, jsonl(b, ops), len(ops))
}

// BenchmarkAppend is the coordinator's cost per record (one op is one record).
func BenchmarkAppend(b *testing.B) {
	ops := benchHistory()
	w, err := history.Create(filepath.Join(b.TempDir(), "h.lkh"))
	if err != nil {
		b.Fatal(err)
	}
	if err := w.Append(ops[0]); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 1
	for b.Loop() {
		if err := w.Append(ops[i]); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(ops) {
			i = 1
		}
	}
	b.StopTimer()
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}
