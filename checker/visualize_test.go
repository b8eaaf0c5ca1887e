package checker

import (
	"bytes"
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
)

func TestWriteVisualization(t *testing.T) {
	// Process 1 acquires while process 0 still holds the lock, and both read 0.
	b := newBuilder(0).
		hold(0, 7, 0, 10, 5000).ok(0, "p0-1", 2, 8, 0).
		hold(1, 8, 5, 15, 5000).ok(1, "p1-1", 6, 12, 0).
		final(30, 1)
	res := Check(b.ops, Options{})
	if res.Valid != Invalid || res.Anomalies.Overlaps != 1 {
		t.Fatalf("setup: %v %+v", res.Valid, res.Anomalies)
	}
	res.AddAnnotations(
		porcupine.Annotation{Tag: "nemesis", Start: at(4), End: at(9), Description: "partition n1"},
		porcupine.Annotation{Tag: "nemesis", Start: at(500), End: at(600), Description: "after the window"},
	)
	var buf bytes.Buffer
	if err := res.WriteVisualization(&buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, s := range []string{"<html", "p0 holds (token 7)", "p1 holds (token 8)", "p0 \\u0026 p1 overlap", overlapColor, "partition n1", "incr 0→1", "read 1"} {
		if !strings.Contains(html, s) {
			t.Errorf("visualization lacks %q", s)
		}
	}
	if strings.Contains(html, "after the window") {
		t.Error("an annotation outside the window was drawn")
	}
}

// TestVisualizationWindow checks that the drawing starts at the first illegal chunk and stays
// bounded.
func TestVisualizationWindow(t *testing.T) {
	tests := []struct {
		name   string
		lostAt int
	}{
		{"clean history: from the start", 0},
		{"violation: from the first illegal chunk", 6000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Check(synthetic(synthConfig{processes: 4, incrs: 10_000, seed: 5, lostAt: tt.lostAt, lostOverlap: true}), Options{ChunkOps: 300})
			v := res.vis
			if len(v.ops) == 0 || len(v.ops) > maxVisOps {
				t.Fatalf("window of %d ops", len(v.ops))
			}
			wantFrom := base
			if fi := res.Linearizability.FirstIllegal; fi != nil {
				wantFrom = fi.From
			} else if tt.lostAt > 0 {
				t.Fatal("no illegal chunk")
			}
			if v.from < wantFrom || v.from > wantFrom+10*ms {
				t.Errorf("window starts at %d, want %d", v.from, wantFrom)
			}
			var buf bytes.Buffer
			if err := res.WriteVisualization(&buf); err != nil {
				t.Fatal(err)
			}
			if tt.lostAt > 0 && !strings.Contains(buf.String(), "overlap") {
				t.Error("the overlap is not drawn")
			}
		})
	}
}
