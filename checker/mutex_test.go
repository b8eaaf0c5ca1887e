package checker

import (
	"strings"
	"testing"

	"github.com/locktest/locktest/history"
)

func TestOverlaps(t *testing.T) {
	tests := []struct {
		name     string
		b        *builder
		overlaps int64
		// inValidity: overlaps with both holders inside their validity.
		inValidity int64
		text       string // expected in the example, if any
	}{
		{
			name:       "two processes, intervals intersect, both valid",
			b:          newBuilder(0).hold(0, 7, 0, 10, 5000).hold(1, 8, 5, 15, 5000),
			overlaps:   1,
			inValidity: 1,
			text:       "both were still inside their validity",
		},
		{
			name:     "first holder's lease had expired",
			b:        newBuilder(0).hold(0, 7, 0, 10, 3).hold(1, 8, 5, 15, 5000),
			overlaps: 1,
			text:     "process 0's validity had ended at 0.003s, process 1 was inside its validity",
		},
		{
			name:       "overlap interval is named",
			b:          newBuilder(0).hold(0, 7, 0, 10, 5000).hold(1, 8, 5, 15, 5000),
			overlaps:   1,
			inValidity: 1,
			text:       "from 0.005s to 0.010s",
		},
		{
			name:     "back to back",
			b:        newBuilder(0).hold(0, 7, 0, 10, 5000).hold(1, 8, 10.5, 15, 5000),
			overlaps: 0,
		},
		{
			name:     "release invoked as the next acquire returns",
			b:        newBuilder(0).hold(0, 7, 0, 10, 5000).hold(1, 8, 10, 15, 5000),
			overlaps: 0,
		},
		{
			name:     "one process, one hold after another",
			b:        newBuilder(0).hold(0, 7, 0, 10, 5000).hold(0, 8, 10.5, 15, 5000),
			overlaps: 0,
		},
		{
			name:       "open hold (no release) overlapping a later one",
			b:          newBuilder(0).hold(0, 7, 0, -1, 5000).hold(1, 8, 20, 30, 5000),
			overlaps:   1,
			inValidity: 1,
			text:       "never released",
		},
		{
			name: "open hold ends at the process's next acquisition attempt",
			// Process 0 never releases token 7 but tries again at 9.9 ms (acquiring token 9 at
			// 10 ms), so it no longer relied on token 7 when process 1 acquired at 13 ms.
			b:        newBuilder(0).hold(0, 7, 0, -1, 5000).hold(0, 9, 10, 12, 5000).hold(1, 8, 13, 20, 5000),
			overlaps: 0,
		},
		{
			name:       "three processes at once count three pairs",
			b:          newBuilder(0).hold(0, 7, 0, 10, 5000).hold(1, 8, 1, 10, 5000).hold(2, 9, 2, 10, 5000),
			overlaps:   3,
			inValidity: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops := tt.b.final(100, 0).emptyLog().ops
			res := Check(ops, Options{})
			if res.Anomalies.Overlaps != tt.overlaps {
				t.Fatalf("Overlaps = %d, want %d (holds %+v)", res.Anomalies.Overlaps, tt.overlaps, scanHolds(t, Records(ops)))
			}
			if got := res.Anomalies.OverlapsWithinValidity; got != tt.inValidity {
				t.Errorf("OverlapsWithinValidity = %d, want %d", got, tt.inValidity)
			}
			if tt.overlaps == 0 {
				if res.Valid != Valid {
					t.Errorf("Valid = %v, want valid", res.Valid)
				}
				return
			}
			// A lock that does not lock is invalid even though the (empty) data survived.
			if res.Valid != Invalid {
				t.Errorf("Valid = %v, want invalid", res.Valid)
			}
			if ex := exampleOf(t, res, "overlaps"); !strings.Contains(ex.Text, tt.text) {
				t.Errorf("example %q does not contain %q", ex.Text, tt.text)
			}
		})
	}
}

func TestOpenHold(t *testing.T) {
	holds := scanHolds(t, Records(newBuilder(0).hold(0, 7, 0, -1, 5000).hold(1, 8, 20, 30, 5000).final(100, 0).ops))
	if len(holds) != 2 {
		t.Fatalf("holds %+v, want 2", holds)
	}
	h := holds[0]
	if !h.Open || h.End != at(101) || h.Token != 7 || h.Owner != "owner-7" || h.Deadline != at(5000) {
		t.Errorf("open hold = %+v, want open until the end of the history (%d)", h, at(101))
	}
	if holds[1].Open || holds[1].End != at(30) {
		t.Errorf("closed hold = %+v", holds[1])
	}
}

// A process that acquires again without releasing (a retry after an unknown outcome) ends its
// first hold there: it never overlaps itself, only others.
func TestNoOverlapWithItself(t *testing.T) {
	b := newBuilder(0).hold(1, 1, 0, -1, 100).hold(1, 2, 5, 15, 100).hold(2, 3, 20, 30, 100)
	if res := Check(b.ops, Options{}); res.Anomalies.Overlaps != 0 {
		t.Errorf("one process holding twice: %d overlaps, want 0", res.Anomalies.Overlaps)
	}
	b = newBuilder(0).hold(1, 1, 0, -1, 100).hold(1, 2, 5, 15, 100).hold(2, 3, 12, 30, 100)
	res := Check(b.ops, Options{})
	if text := exampleOf(t, res, "overlaps").Text; res.Anomalies.Overlaps != 1 || !strings.Contains(text, "from 0.012s to 0.015s") {
		t.Errorf("got %d overlaps (%s); want 1 between process 1's second hold and process 2's over [12ms, 15ms]",
			res.Anomalies.Overlaps, text)
	}
}

// extendedHold is process 0 holding token 7 from 0 to 20 ms with a validity that ends at 3 ms,
// extended at ext ms (outcome typ, new deadline 50 ms), while process 1 holds from 5 to 15 ms.
func extendedHold(ext float64, typ history.Type) []history.Op {
	b := newBuilder(0).hold(0, 7, 0, -1, 3)
	ok := history.Op{Time: at(ext), Process: 0, Client: 0, Type: typ, F: history.Extend, Owner: "owner-7"}
	if typ == history.OK {
		ok.Deadline = at(50)
	}
	b.ops = append(b.ops,
		history.Op{Time: at(ext) - ms/10, Process: 0, Client: 0, Type: history.Invoke, F: history.Extend, Owner: "owner-7"}, ok,
		history.Op{Time: at(20), Process: 0, Client: 0, Type: history.Invoke, F: history.Release, Owner: "owner-7"},
		history.Op{Time: at(20) + ms/10, Process: 0, Client: 0, Type: history.OK, F: history.Release})
	return b.hold(1, 8, 5, 15, 5000).final(100, 0).emptyLog().ops
}

// An extension moves the validity the overlap check judges by: a holder whose first validity had
// ended but who extended it in time, or who was granted an extension while another client held
// the lock, was inside its validity during the overlap. A refused or unknown extension moves
// nothing.
func TestExtensionMovesValidity(t *testing.T) {
	for _, tt := range []struct {
		name       string
		ext        float64
		typ        history.Type
		inValidity int64
	}{
		{"extended before the other acquired", 2, history.OK, 1},
		{"extended while the other held the lock", 6, history.OK, 1},
		{"extension refused", 6, history.Fail, 0},
		{"extension unknown", 6, history.Info, 0},
		{"extended after the other released", 16, history.OK, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ops := extendedHold(tt.ext, tt.typ)
			res := Check(ops, Options{})
			if res.Anomalies.Overlaps != 1 || res.Anomalies.OverlapsWithinValidity != tt.inValidity {
				t.Errorf("overlaps %d, within validity %d; want 1, %d", res.Anomalies.Overlaps, res.Anomalies.OverlapsWithinValidity, tt.inValidity)
			}
			if want := int64(1); (tt.typ == history.OK && res.Ops.ExtendOK != want) || (tt.typ == history.Fail && res.Ops.ExtendFail != want) || (tt.typ == history.Info && res.Ops.ExtendInfo != want) {
				t.Errorf("extension counts %+v, want one %s", res.Ops, tt.typ)
			}
		})
	}
}

// A client-side defence (a lease check before the write, or extension) makes the data checks alone
// decide, as fencing does: an overlap whose stale holder wrote nothing leaves the data right.
func TestClientDefenceLetsTheDataDecide(t *testing.T) {
	for _, tt := range []struct {
		name string
		meta history.Meta
		want Validity
	}{
		{"no defence", history.Meta{Backend: "test"}, Invalid},
		{"lease check", history.Meta{Backend: "test", Guard: "validity"}, Valid},
		{"extension", history.Meta{Backend: "test", Extend: true}, Valid},
		{"fencing", history.Meta{Backend: "test", Fencing: "reads-writes"}, Valid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newBuilder(0).hold(0, 7, 0, 10, 3).hold(1, 8, 5, 15, 5000)
			meta := tt.meta
			b.ops[0].Meta = &meta
			res := Check(b.final(100, 0).emptyLog().ops, Options{})
			if res.Anomalies.Overlaps != 1 || res.Valid != tt.want {
				t.Errorf("%d overlaps, verdict %s; want 1 and %s", res.Anomalies.Overlaps, res.Valid, tt.want)
			}
		})
	}
}
