package checker

import (
	"strings"
	"testing"

	"github.com/locktest/locktest/history"
)

// finalAt records the final read with the write-log length it saw, as the harness does.
func (b *builder) finalAt(msec float64, value, logLen int64) *builder {
	b.final(msec, value)
	b.ops[len(b.ops)-1].LogLen = history.Int64(logLen)
	return b
}

// A write whose client gave up (info) can land after the final read: bytes held in a delaying
// proxy are delivered after the heal. The final read did not see it, so it is not a lost update.
func TestLateInfoWriteIsNotLost(t *testing.T) {
	late := func() *builder {
		return newBuilder(0).
			hold(0, 1, 0, 10, 5000).ok(0, "p0-1", 2, 4, 0).
			hold(1, 2, 11, 20, 5000).incr(1, 1, "p1-1", 12, 18, history.Info, history.Int64(1)).
			log(0, "p0-1", "p1-1")
	}
	t.Run("after the final read: valid", func(t *testing.T) {
		res := Check(late().finalAt(30, 1, 1).ops, Options{})
		want{valid: Valid, ack: i64(1), anomalies: &Anomalies{}}.check(t, res)
		if res.AppliedAfterFinalRead != 1 {
			t.Errorf("AppliedAfterFinalRead = %d, want 1", res.AppliedAfterFinalRead)
		}
	})
	t.Run("before the final read but not in its value: lost", func(t *testing.T) {
		res := Check(late().finalAt(30, 1, 2).ops, Options{})
		if res.Valid != Invalid || res.Anomalies.LostUpdates != 1 {
			t.Errorf("got %v with %+v, want invalid with one lost update", res.Valid, res.Anomalies)
		}
	})
	t.Run("the same for every chunk size", func(t *testing.T) {
		for _, n := range []int{1, 2, 1000} {
			if res := Check(late().finalAt(30, 1, 1).ops, Options{ChunkOps: n}); res.Valid != Valid {
				t.Errorf("ChunkOps %d: %v, want valid", n, res.Valid)
			}
		}
	})
}

// A write log that lost lines must not decide anything: without its end record, or with fewer
// entries than the end record counts, the history is incomplete.
func TestCutWriteLog(t *testing.T) {
	// p1's write is unknown to its client: only the log says it was applied.
	base := func() *builder {
		return newBuilder(0).
			hold(0, 1, 0, 10, 5000).ok(0, "p0-1", 2, 4, 0).
			hold(1, 2, 11, 20, 5000).incr(1, 1, "p1-1", 12, 18, history.Info, nil).
			hold(2, 3, 21, 30, 5000).ok(2, "p2-1", 22, 24, 2)
	}
	whole := base().log(0, "p0-1", "p1-1", "p2-1").finalAt(40, 3, 3)
	if res := Check(whole.ops, Options{}); res.Valid != Valid {
		t.Fatalf("the whole history: %v %+v %q, want valid", res.Valid, res.Anomalies, res.Warnings)
	}
	t.Run("last entry lost", func(t *testing.T) {
		b := base().log(0, "p0-1", "p1-1", "p2-1").finalAt(40, 3, 3)
		for i := len(b.ops) - 1; i >= 0; i-- {
			if b.ops[i].F == history.WriteLog {
				b.ops = append(b.ops[:i], b.ops[i+1:]...)
				break
			}
		}
		res := Check(b.ops, Options{})
		if res.Valid != Unknown || !strings.Contains(res.Incomplete, "cut or altered") {
			t.Errorf("got %v, incomplete %q; want unknown, the log named as cut", res.Valid, res.Incomplete)
		}
	})
	t.Run("end record lost", func(t *testing.T) {
		res := Check(base().log(0, "p0-1", "p1-1", "p2-1").cutLog().finalAt(40, 3, 3).ops, Options{})
		if res.Valid != Unknown || res.Incomplete == "" {
			t.Errorf("got %v, incomplete %q; want unknown and incomplete", res.Valid, res.Incomplete)
		}
	})
	t.Run("an empty log is not a missing one", func(t *testing.T) {
		res := Check(newBuilder(0).hold(0, 1, 0, 10, 5000).incr(0, 0, "p0-1", 2, 4, history.Fail, history.Int64(0)).
			emptyLog().finalAt(20, 0, 0).ops, Options{})
		want{valid: Valid, ack: i64(0), anomalies: &Anomalies{}}.check(t, res)
	})
}

// The write log and the clients are written by different parties; where they disagree, neither is
// believed silently.
func TestLogMismatch(t *testing.T) {
	tests := []struct {
		name string
		b    *builder
		text string
	}{
		{
			name: "a fenced fail the log has",
			b: newBuilder(0).hold(0, 1, 0, 10, 5000).ok(0, "p0-1", 2, 4, 0).
				hold(1, 2, 11, 20, 5000).incr(1, 1, "p1-1", 12, 14, history.Fail, history.Int64(1)).
				log(0, "p0-1", "p1-1").finalAt(30, 2, 2),
			text: "failed, so it surely had no effect, but the write log has it",
		},
		{
			name: "an ok increment the log lacks",
			b: newBuilder(0).hold(0, 1, 0, 10, 5000).ok(0, "p0-1", 2, 4, 0).
				hold(1, 2, 11, 20, 5000).ok(1, "p1-1", 12, 14, 1).
				log(0, "p0-1").finalAt(30, 2, 1),
			text: "was acknowledged, but the write log lacks it",
		},
		{
			name: "a logged value other than the value read plus one",
			b: newBuilder(0).hold(0, 1, 0, 10, 5000).ok(0, "p0-1", 2, 4, 0).
				hold(1, 2, 11, 20, 5000).ok(1, "p1-1", 12, 14, 1).
				logEntry("p0-1", 1, 1).logEntry("p1-1", 5, 2).finalAt(30, 2, 2),
			text: "read 1, so it wrote 2, but the write log says it wrote 5",
		},
		{
			name: "a log entry no increment made",
			b: newBuilder(0).hold(0, 1, 0, 10, 5000).ok(0, "p0-1", 2, 4, 0).
				log(0, "p0-1", "p9-9").finalAt(30, 2, 2),
			text: "matches no increment",
		},
		{
			name: "an id logged twice",
			b: newBuilder(0).hold(0, 1, 0, 10, 5000).ok(0, "p0-1", 2, 4, 0).
				logEntry("p0-1", 1, 1).logEntry("p0-1", 1, 2).finalAt(30, 1, 2),
			text: "is in the write log twice",
		},
		{
			name: "an ok increment logged after the final read",
			b: newBuilder(0).hold(0, 1, 0, 10, 5000).ok(0, "p0-1", 2, 4, 0).
				hold(1, 2, 11, 20, 5000).ok(1, "p1-1", 12, 14, 1).
				log(0, "p0-1", "p1-1").finalAt(30, 1, 1),
			text: "after that read",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, n := range []int{1, 1000} {
				res := Check(tt.b.ops, Options{ChunkOps: n})
				if res.Valid != Invalid || res.Anomalies.LogMismatch == 0 {
					t.Fatalf("ChunkOps %d: %v with %+v, want invalid with a log mismatch", n, res.Valid, res.Anomalies)
				}
				if ex := exampleOf(t, res, "log_mismatch"); !strings.Contains(ex.Text, tt.text) {
					t.Errorf("example %q does not say %q", ex.Text, tt.text)
				}
			}
		})
	}
}

// "fenced" counts the increments the storage rejected for a stale token: the evidence a fenced
// scenario requires, since VALID alone would also follow from a stale holder that never wrote.
func TestFencedEvidence(t *testing.T) {
	b := newBuilder(0).hold(0, 1, 0, 10, 5000).ok(0, "p0-1", 2, 4, 0).
		hold(1, 2, 11, 20, 5000).incr(1, 1, "p1-1", 12, 14, history.Fail, history.Int64(0)).
		log(0, "p0-1").finalAt(30, 1, 1)
	if res := Check(b.ops, Options{}); res.Ops.Fenced != 0 {
		t.Fatalf("a plain fail counted as fenced: %+v", res.Ops)
	}
	for i := range b.ops {
		if b.ops[i].F == history.Incr && b.ops[i].Type == history.Fail {
			b.ops[i].Fenced = true
		}
	}
	res := Check(b.ops, Options{})
	if n, ok := res.Evidence("fenced"); !ok || n != 1 || res.Valid != Valid {
		t.Errorf("Evidence(fenced) = %d, %v (verdict %v), want 1 and valid", n, ok, res.Valid)
	}
	if n, ok := res.Evidence("lost_updates"); !ok || n != 0 {
		t.Errorf("Evidence(lost_updates) = %d, %v", n, ok)
	}
}
