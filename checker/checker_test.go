package checker

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/locktest/locktest/history"
)

// want lists the fields a test cares about; nil pointers are not checked.
type want struct {
	valid     Validity
	anomalies *Anomalies
	counts    *OpCounts
	ack       *int64
}

func (w want) check(t *testing.T, res *Result) {
	t.Helper()
	if res.Valid != w.valid {
		t.Errorf("Valid = %v, want %v (anomalies %+v, lin %+v, warnings %q, examples %+v)",
			res.Valid, w.valid, res.Anomalies, res.Linearizability, res.Warnings, res.Examples)
	}
	if w.anomalies != nil && res.Anomalies != *w.anomalies {
		t.Errorf("Anomalies = %+v, want %+v", res.Anomalies, *w.anomalies)
	}
	if w.counts != nil && res.Ops != *w.counts {
		t.Errorf("Ops = %+v, want %+v", res.Ops, *w.counts)
	}
	if w.ack != nil && res.Acknowledged != *w.ack {
		t.Errorf("Acknowledged = %d, want %d", res.Acknowledged, *w.ack)
	}
}

func i64(v int64) *int64 { return &v }

// exampleOf returns the example of the given kind, or fails the test.
func exampleOf(t *testing.T, res *Result, kind string) Example {
	t.Helper()
	for _, ex := range res.Examples {
		if ex.Kind == kind {
			return ex
		}
	}
	t.Fatalf("no %s example in %+v", kind, res.Examples)
	return Example{}
}

// twoIncrements is the skeleton of many tests: process 0 increments inside [0,10] ms, process 1
// inside [11,20] ms, and the harness reads at 30 ms.
func twoIncrements(read0, read1 int64) *builder {
	return newBuilder(0).
		hold(0, 1, 0, 10, 5000).ok(0, "p0-1", 2, 4, read0).
		hold(1, 2, 11, 20, 5000).ok(1, "p1-1", 12, 14, read1)
}

func TestCounterHistories(t *testing.T) {
	tests := []struct {
		name string
		ops  []history.Op
		want want
	}{
		{
			name: "clean sequential history is valid",
			ops:  twoIncrements(0, 1).log(0, "p0-1", "p1-1").final(30, 2).ops,
			want: want{valid: Valid, anomalies: &Anomalies{}, ack: i64(2),
				counts: &OpCounts{OK: 2, AcquireOK: 2, ReleaseOK: 2}},
		},
		{
			name: "two increments reading the same value",
			ops:  twoIncrements(0, 0).logEntry("p0-1", 1, 1).logEntry("p1-1", 1, 2).final(30, 1).ops,
			want: want{valid: Invalid, ack: i64(2),
				anomalies: &Anomalies{Nonlinearizable: 1, DuplicateReads: 1, LostUpdates: 1, StaleWrites: 1}},
		},
		{
			name: "final counter below acknowledged increments",
			ops:  twoIncrements(0, 1).log(0, "p0-1", "p1-1").final(30, 1).ops,
			want: want{valid: Invalid, ack: i64(2), anomalies: &Anomalies{Nonlinearizable: 1, LostUpdates: 1}},
		},
		{
			name: "fail increment is not applied",
			// Process 0's write was rejected (fenced storage): process 1 rightly reads 0 again.
			ops: newBuilder(0).
				hold(0, 1, 0, 10, 5000).incr(0, 0, "p0-1", 2, 4, history.Fail, history.Int64(0)).
				hold(1, 2, 11, 20, 5000).ok(1, "p1-1", 12, 14, 0).
				log(0, "p1-1").final(30, 1).ops,
			want: want{valid: Valid, anomalies: &Anomalies{}, ack: i64(1),
				counts: &OpCounts{OK: 1, Fail: 1, AcquireOK: 2, ReleaseOK: 2}},
		},
		{
			name: "stale read without overlap is nonlinearizable",
			ops: newBuilder(0).
				ok(0, "p0-1", 2, 4, 0).ok(1, "p1-1", 12, 14, 1).ok(2, "p2-1", 22, 24, 1).
				log(0, "p0-1", "p1-1").logEntry("p2-1", 2, 3).final(30, 2).ops,
			want: want{valid: Invalid,
				anomalies: &Anomalies{Nonlinearizable: 1, DuplicateReads: 1, LostUpdates: 1, StaleWrites: 1}},
		},
		{
			name: "no final read is unknown",
			ops:  twoIncrements(0, 1).log(0, "p0-1", "p1-1").ops,
			want: want{valid: Unknown, anomalies: &Anomalies{}},
		},
		{
			name: "no final read but a duplicate read is still invalid",
			ops:  twoIncrements(0, 0).logEntry("p0-1", 1, 1).logEntry("p1-1", 1, 2).ops,
			want: want{valid: Invalid, anomalies: &Anomalies{Nonlinearizable: 1, DuplicateReads: 1, StaleWrites: 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.check(t, Check(tt.ops, Options{}))
		})
	}
}

// TestInfoResolution checks that info increments are resolved through the write log, and that
// the resolution decides the verdict in both directions.
func TestInfoResolution(t *testing.T) {
	// Process 0's increment ends info after reading 0; process 1 then reads next (0 if process 0's
	// write was not applied, 1 if it was).
	history0 := func(value *int64, next int64, complete bool) *builder {
		b := newBuilder(0).hold(0, 1, 0, 10, 5000)
		if complete {
			b.incr(0, 0, "p0-1", 2, 8, history.Info, value)
		} else {
			b.incr(0, 0, "p0-1", 2, 8, "", nil)
		}
		return b.hold(1, 2, 11, 20, 5000).ok(1, "p1-1", 12, 14, next)
	}
	applied := &OpCounts{OK: 1, Info: 1, InfoApplied: 1, AcquireOK: 2, ReleaseOK: 2}
	notApplied := &OpCounts{OK: 1, Info: 1, InfoNotApplied: 1, AcquireOK: 2, ReleaseOK: 2}
	tests := []struct {
		name string
		ops  []history.Op
		want want
	}{
		{
			name: "in the log and consistent: applied, valid",
			ops:  history0(history.Int64(0), 1, true).log(0, "p0-1", "p1-1").final(30, 2).ops,
			want: want{valid: Valid, anomalies: &Anomalies{}, counts: applied, ack: i64(2)},
		},
		{
			name: "absent from the log and consistent: not applied, valid",
			ops:  history0(history.Int64(0), 0, true).log(0, "p1-1").final(30, 1).ops,
			want: want{valid: Valid, anomalies: &Anomalies{}, counts: notApplied, ack: i64(1)},
		},
		{
			name: "in the log but the next increment read the old value: invalid",
			ops:  history0(history.Int64(0), 0, true).logEntry("p0-1", 1, 1).logEntry("p1-1", 1, 2).final(30, 1).ops,
			want: want{valid: Invalid, counts: applied,
				anomalies: &Anomalies{Nonlinearizable: 1, DuplicateReads: 1, LostUpdates: 1, StaleWrites: 1}},
		},
		{
			name: "absent from the log but the next increment saw it: invalid",
			ops:  history0(history.Int64(0), 1, true).logEntry("p1-1", 2, 1).final(30, 2).ops,
			want: want{valid: Invalid, counts: notApplied, anomalies: &Anomalies{Nonlinearizable: 1}},
		},
		{
			name: "info without a value, in the log: value taken from the log",
			ops:  history0(nil, 1, true).log(0, "p0-1", "p1-1").final(30, 2).ops,
			want: want{valid: Valid, anomalies: &Anomalies{}, counts: applied, ack: i64(2)},
		},
		{
			name: "never completed, in the log: applied",
			ops:  history0(nil, 1, false).log(0, "p0-1", "p1-1").final(30, 2).ops,
			want: want{valid: Valid, anomalies: &Anomalies{}, counts: applied, ack: i64(2)},
		},
		{
			name: "never completed, absent from the log: not applied",
			ops:  history0(nil, 0, false).log(0, "p1-1").final(30, 1).ops,
			want: want{valid: Valid, anomalies: &Anomalies{}, counts: notApplied, ack: i64(1)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.check(t, Check(tt.ops, Options{}))
		})
	}
}

// TestNoWriteLog checks that without a write log info increments stay open and the history is
// still checked for anomalies, but is never called valid: the log is what tells an unknown write's
// fate and shows stale writes, so without it the history is incomplete.
func TestNoWriteLog(t *testing.T) {
	unresolved := &OpCounts{OK: 1, Info: 1, InfoUnresolved: 1, AcquireOK: 2, ReleaseOK: 2}
	infoThen := func(value *int64, next int64) *builder {
		return newBuilder(0).
			hold(0, 1, 0, 10, 5000).incr(0, 0, "p0-1", 2, 8, history.Info, value).
			hold(1, 2, 11, 20, 5000).ok(1, "p1-1", 12, 14, next)
	}
	tests := []struct {
		name string
		ops  []history.Op
		want want
	}{
		{
			name: "unresolved increment that was applied",
			ops:  infoThen(history.Int64(0), 1).final(30, 2).ops,
			want: want{valid: Unknown, anomalies: &Anomalies{Unresolved: 1}, counts: unresolved, ack: i64(1)},
		},
		{
			name: "unresolved increment that was not applied",
			ops:  infoThen(history.Int64(0), 0).final(30, 1).ops,
			want: want{valid: Unknown, anomalies: &Anomalies{Unresolved: 1}, counts: unresolved, ack: i64(1)},
		},
		{
			name: "still checks: a later duplicate read is found",
			ops:  infoThen(history.Int64(0), 1).ok(2, "p2-1", 22, 24, 1).final(30, 2).ops,
			want: want{valid: Invalid, anomalies: &Anomalies{Unresolved: 1, Nonlinearizable: 1, DuplicateReads: 1, LostUpdates: 0}},
		},
		{
			name: "unresolved increment without a value makes the verdict unknown",
			ops:  infoThen(nil, 1).final(30, 2).ops,
			want: want{valid: Unknown, anomalies: &Anomalies{Unresolved: 1}, counts: unresolved},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Check(tt.ops, Options{})
			tt.want.check(t, res)
			if ex := exampleOf(t, res, "unresolved"); !strings.Contains(ex.Text, "p0-1") {
				t.Errorf("unresolved example does not name the op: %q", ex.Text)
			}
		})
	}
}

func TestStaleWrites(t *testing.T) {
	tests := []struct {
		name   string
		values []int64
		want   int64
		how    string
	}{
		{"rising log", []int64{1, 2, 3}, 0, ""},
		{"counter stood still", []int64{1, 2, 2, 3}, 1, "stood still"},
		{"counter went back", []int64{1, 3, 2, 4}, 1, "went back"},
		{"two stale after a jump", []int64{1, 5, 2, 3}, 2, "went back"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBuilder(0)
			for i, v := range tt.values {
				b.logEntry("w"+string(rune('a'+i)), v, int64(i+1))
			}
			res := Check(b.ops, Options{})
			if res.Anomalies.StaleWrites != tt.want {
				t.Fatalf("StaleWrites = %d, want %d", res.Anomalies.StaleWrites, tt.want)
			}
			if tt.want > 0 {
				if ex := exampleOf(t, res, "stale_writes"); !strings.Contains(ex.Text, tt.how) {
					t.Errorf("example %q does not say %q", ex.Text, tt.how)
				}
				if res.Valid != Invalid {
					t.Errorf("Valid = %v, want invalid", res.Valid)
				}
			}
		})
	}
}

// TestChunking checks that long histories are cut into many small checks, stay valid when clean,
// and that a single lost update in the middle is found once.
func TestChunking(t *testing.T) {
	const n = 20_000
	clean := Check(synthetic(synthConfig{processes: 8, incrs: n, seed: 1}), Options{ChunkOps: 500})
	want{valid: Valid, anomalies: &Anomalies{}, ack: i64(n)}.check(t, clean)
	if c := clean.Linearizability; c.Chunks < n/1000 || c.LargestChunk > 1000 || c.Result != "ok" {
		t.Errorf("clean history: %+v, want at least %d chunks of at most 1000 ops", c, n/1000)
	}

	tests := []struct {
		name string
		cfg  synthConfig
		want Anomalies
	}{
		{"lost update under overlapping holds", synthConfig{lostAt: n / 2, lostOverlap: true},
			Anomalies{Nonlinearizable: 1, LostUpdates: 1, DuplicateReads: 1, StaleWrites: 1, Overlaps: 1, OverlapsWithinValidity: 1}},
		{"stale read, holds disjoint", synthConfig{lostAt: n / 2},
			Anomalies{Nonlinearizable: 1, LostUpdates: 1, DuplicateReads: 1, StaleWrites: 1}},
		{"lost update without write log", synthConfig{lostAt: n / 2, lostOverlap: true, noLog: true},
			Anomalies{Nonlinearizable: 1, LostUpdates: 1, DuplicateReads: 1, Overlaps: 1, OverlapsWithinValidity: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.processes, cfg.incrs, cfg.seed = 8, n, 2
			ops := synthetic(cfg)
			res := Check(ops, Options{ChunkOps: 500})
			want{valid: Invalid, anomalies: &tt.want}.check(t, res)
			fi := res.Linearizability.FirstIllegal
			if fi == nil {
				t.Fatal("no FirstIllegal window")
			}
			// The injected increment is the (lostAt+1)-th; its invocation must lie in the window.
			var call int64
			seen := 0
			for _, op := range ops {
				if op.F == history.Incr && op.Type == history.Invoke {
					if seen == cfg.lostAt {
						call = op.Time
						break
					}
					seen++
				}
			}
			if call < fi.From || call > fi.To {
				t.Errorf("lost update invoked at %d, outside the first illegal window %+v", call, *fi)
			}
			if res.Linearizability.Chunks < 10 {
				t.Errorf("only %d chunks", res.Linearizability.Chunks)
			}
		})
	}
}

func TestCutChunks(t *testing.T) {
	op := func(call, ret int64) linOp { return linOp{call: call, ret: ret, cut: ret} }
	tests := []struct {
		name   string
		ops    []linOp
		target int
		want   [][2]int
	}{
		{"touching intervals are concurrent", []linOp{op(0, 10), op(10, 20)}, 1, [][2]int{{0, 2}}},
		{"a gap is a cut", []linOp{op(0, 10), op(11, 20)}, 1, [][2]int{{0, 1}, {1, 2}}},
		{"overlap is not cut", []linOp{op(0, 10), op(5, 20), op(21, 30)}, 1, [][2]int{{0, 2}, {2, 3}}},
		{"pieces merge up to the target", []linOp{op(0, 1), op(2, 3), op(4, 5), op(6, 7)}, 2, [][2]int{{0, 2}, {2, 4}}},
		{"a long op spans later ones", []linOp{op(0, 100), op(2, 3), op(4, 5), op(101, 102)}, 1, [][2]int{{0, 3}, {3, 4}}},
		{"open op does not block cuts", []linOp{{call: 0, ret: 1 << 62, cut: 5}, op(6, 7)}, 1, [][2]int{{0, 1}, {1, 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [][2]int
			n := 0
			c := chunker{target: tt.target, out: func(ops []streamOp) {
				got = append(got, [2]int{n, n + len(ops)})
				n += len(ops)
			}}
			for _, op := range tt.ops {
				c.append(streamOp{linOp: op})
			}
			c.finish()
			if !slices.Equal(got, tt.want) {
				t.Errorf("chunks %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTimeoutIsUnknown(t *testing.T) {
	tests := []struct {
		name string
		cfg  synthConfig
		want Validity
	}{
		{"clean history, no time to check", synthConfig{}, Unknown},
		{"lost update is found without Porcupine", synthConfig{lostAt: 500, lostOverlap: true}, Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.processes, cfg.incrs, cfg.seed = 4, 1000, 3
			res := Check(synthetic(cfg), Options{Timeout: time.Nanosecond})
			if res.Valid != tt.want {
				t.Errorf("Valid = %v, want %v", res.Valid, tt.want)
			}
			if l := res.Linearizability; l.Result != "unknown" || l.Unchecked == 0 {
				t.Errorf("Linearizability = %+v, want unknown with unchecked chunks", l)
			}
		})
	}
}

// TestOutOfOrderRecords checks that the order of records in the file does not matter.
func TestOutOfOrderRecords(t *testing.T) {
	for _, lost := range []int{0, 700} {
		ops := synthetic(synthConfig{processes: 5, incrs: 2000, seed: 4, lostAt: lost, lostOverlap: true})
		want := Check(ops, Options{ChunkOps: 100})
		shuffled := append([]history.Op(nil), ops...)
		rng := newRand(9)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got := Check(shuffled, Options{ChunkOps: 100})
		if got.Valid != want.Valid || got.Anomalies != want.Anomalies || got.Ops != want.Ops ||
			got.Linearizability.Chunks != want.Linearizability.Chunks {
			t.Errorf("lostAt %d: shuffled result %v %+v %+v differs from ordered %v %+v %+v",
				lost, got.Valid, got.Anomalies, got.Linearizability, want.Valid, want.Anomalies, want.Linearizability)
		}
	}
}

// TestOddInput checks that malformed histories are worked around and reported.
func TestOddInput(t *testing.T) {
	t.Run("empty history", func(t *testing.T) {
		res := Check(nil, Options{})
		if res.Valid != Unknown || res.Linearizability.Chunks != 0 {
			t.Errorf("got %v %+v, want unknown with no chunks", res.Valid, res.Linearizability)
		}
	})
	t.Run("completion without invocation", func(t *testing.T) {
		b := newBuilder(0).ok(0, "p0-1", 2, 4, 0)
		b.ops = append(b.ops, history.Op{Time: at(14), Process: 1, Client: 1, Type: history.OK, F: history.Incr, ID: "p1-1", Value: history.Int64(1)})
		res := Check(b.log(0, "p0-1", "p1-1").final(30, 2).ops, Options{})
		want{valid: Valid, ack: i64(2)}.check(t, res)
		if !hasWarning(res, "without an invocation") {
			t.Errorf("warnings %q do not mention the orphan completion", res.Warnings)
		}
	})
	t.Run("id reused", func(t *testing.T) {
		// The log cannot say which of the two it records: no verdict rests on it.
		res := Check(newBuilder(0).ok(0, "x", 2, 4, 0).ok(1, "x", 12, 14, 1).log(0, "x").final(30, 2).ops, Options{})
		want{valid: Unknown, ack: i64(2), anomalies: &Anomalies{}}.check(t, res)
		if !hasWarning(res, "used more than once") {
			t.Errorf("warnings %q do not mention the reused id", res.Warnings)
		}
	})
	t.Run("records without ids", func(t *testing.T) {
		// Paired per process; without ids there is no log to match them with (the reader refuses
		// such records anyway), so the verdict stays unknown.
		res := Check(newBuilder(0).ok(0, "", 2, 4, 0).ok(1, "", 12, 14, 1).ok(0, "", 22, 24, 2).final(30, 3).ops, Options{})
		want{valid: Unknown, ack: i64(3), anomalies: &Anomalies{}}.check(t, res)
	})
	t.Run("second completion", func(t *testing.T) {
		b := twoIncrements(0, 1)
		b.ops = append(b.ops, history.Op{Time: at(5), Process: 0, Client: 0, Type: history.OK, F: history.Incr, ID: "p0-1", Value: history.Int64(7)})
		res := Check(b.log(0, "p0-1", "p1-1").final(30, 2).ops, Options{})
		want{valid: Valid, ack: i64(2)}.check(t, res)
		if !hasWarning(res, "completed more than once") {
			t.Errorf("warnings %q do not mention the second completion", res.Warnings)
		}
	})
}

func hasWarning(res *Result, s string) bool {
	for _, w := range res.Warnings {
		if strings.Contains(w, s) {
			return true
		}
	}
	return false
}

func TestNonlinearizableExample(t *testing.T) {
	res := Check(twoIncrements(0, 0).final(30, 1).ops, Options{})
	ex := exampleOf(t, res, "nonlinearizable")
	if !strings.Contains(ex.Text, "processes 0, 1") || !strings.Contains(ex.Text, "starting at 0") {
		t.Errorf("example %q does not name the processes and the start value", ex.Text)
	}
	ex = exampleOf(t, res, "duplicate_reads")
	if !strings.Contains(ex.Text, "both read 0") || !strings.Contains(ex.Text, "at 0.012s") {
		t.Errorf("example %q does not give the value and time", ex.Text)
	}
}

// TestChunkStartValues checks where each chunk's starting value comes from: the write log when
// there is one (so a second, independent violation after an illegal chunk is still found), and
// otherwise the previous chunk, unless that one was illegal (so one violation is not reported
// again in every later chunk).
func TestChunkStartValues(t *testing.T) {
	tests := []struct {
		name string
		b    *builder
		want int64 // illegal chunks
	}{
		{
			// Chunk 1: processes 0 and 1 both read 0. Chunk 2: process 2 reads 2, but the
			// storage held 1 (the log says so): a second violation.
			name: "with a write log, the next chunk starts from the log",
			b: newBuilder(0).ok(0, "p0-1", 2, 4, 0).ok(1, "p1-1", 3, 5, 0).ok(2, "p2-1", 12, 14, 2).
				logEntry("p0-1", 1, 1).logEntry("p1-1", 1, 2).logEntry("p2-1", 3, 3),
			want: 2,
		},
		{
			// Chunk 1: process 0 reads 0 and its write lands last, after processes 1 and 2
			// took the counter to 2, so the storage is back at 1. The log knows that; the
			// highest value chunk 1 saw (2) would make process 3 reading 1 look wrong.
			name: "with a write log, a stale write's effect is followed",
			b: newBuilder(0).ok(0, "p0-1", 2, 10, 0).ok(1, "p1-1", 3, 5, 0).ok(2, "p2-1", 6, 7, 1).
				ok(3, "p3-1", 20, 22, 1).
				logEntry("p1-1", 1, 1).logEntry("p2-1", 2, 2).logEntry("p0-1", 1, 3).logEntry("p3-1", 2, 4),
			want: 1,
		},
		{
			// Chunk 1: process 1 read 7, which nobody wrote. Chunk 2 follows process 0's value
			// correctly; carrying 8 from the illegal chunk would make it illegal too.
			name: "without a log, a chunk after an illegal one starts unknown",
			b: newBuilder(0).ok(0, "p0-1", 2, 4, 0).ok(1, "p1-1", 3, 5, 7).
				ok(2, "p2-1", 12, 14, 1).ok(3, "p3-1", 22, 24, 2),
			want: 1,
		},
		{
			// Legal chunks leave the counter at 1, then 2: carried, so process 2 reading 1 in a
			// chunk of its own is a violation.
			name: "without a log, a chunk after a legal one starts from its last value",
			b:    newBuilder(0).ok(0, "p0-1", 2, 4, 0).ok(1, "p1-1", 5, 6, 1).ok(2, "p2-1", 12, 14, 1),
			want: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Check(tt.b.ops, Options{ChunkOps: 1})
			if got := res.Anomalies.Nonlinearizable; got != tt.want {
				t.Errorf("%d illegal chunks, want %d (%+v)", got, tt.want, res.Linearizability)
			}
		})
	}
}

// TestInfoReturnTime checks the return time given to info increments found in the write log:
// the earliest return of a later write that was acknowledged, else the final read's return.
func TestInfoReturnTime(t *testing.T) {
	b := newBuilder(0).
		incr(0, 0, "p0-1", 2, 3, history.Info, history.Int64(0)).
		incr(1, 1, "p1-1", 12, 13, "", nil).
		ok(2, "p2-1", 22, 24, 2).
		incr(3, 3, "p3-1", 32, 33, history.Info, history.Int64(3)).
		log(0, "p0-1", "p1-1", "p2-1", "p3-1").final(40, 4)
	lp := newLogPass()
	for i := range b.ops {
		lp.add(&b.ops[i])
	}
	lp.finish()
	want := map[string]int64{"p0-1": at(24), "p1-1": at(24), "p2-1": at(24), "p3-1": at(41)}
	got := map[string]int64{}
	s := newIncrStream(lp, &lp.warn, func(in *streamIncr) {
		if in.outcome != outApplied {
			t.Errorf("%s: outcome %d, want applied", in.id, in.outcome)
		}
		got[in.id] = in.ret
	})
	o := newTimeOrder(lp.workers, s.add)
	if err := Records(b.ops).Scan(workerRecords(o)); err != nil {
		t.Fatal(err)
	}
	o.finish()
	s.finish()
	if !maps.Equal(got, want) {
		t.Errorf("returns %v, want %v", got, want)
	}
	if res := Check(b.ops, Options{}); res.Valid != Valid || res.Ops.InfoApplied != 3 {
		t.Errorf("Valid = %v, InfoApplied = %d; want valid, 3", res.Valid, res.Ops.InfoApplied)
	}
}
