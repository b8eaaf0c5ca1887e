package checker

import (
	"strings"
	"testing"

	"github.com/locktest/locktest/history"
)

func TestFaultWindows(t *testing.T) {
	nem := func(time int64, typ history.Type, id, kind string, targets ...string) history.Op {
		return history.Op{Time: time, Process: history.NemesisProcess, Type: typ, F: history.Nemesis, ID: id, Fault: kind, Targets: targets}
	}
	ops := []history.Op{
		nem(30, history.Invoke, "f2", "clock", "n3"),
		nem(10, history.Invoke, "f1", "partition", "n1", "n2"),
		nem(20, history.OK, "f1", "partition", "n1", "n2"),
		// f2 never healed: it may still be in force.
		nem(40, history.Invoke, "f3", "pause-client", "p1"),
		nem(41, history.Fail, "f3", "pause-client", "p1"),
	}
	ws := faultWindows(ops)
	if len(ws) != 3 || ws[0].ID != "f1" || ws[1].ID != "f2" || ws[2].ID != "f3" {
		t.Fatalf("windows = %+v, want f1, f2, f3 in start order", ws)
	}
	if ws[0].Start != 10 || ws[0].End != 20 || ws[0].Outcome != FaultHealed || strings.Join(ws[0].Targets, ",") != "n1,n2" {
		t.Errorf("f1 = %+v", ws[0])
	}
	if ws[1].End != 0 || ws[1].Outcome != FaultUnknown || !strings.Contains(ws[1].Error, "no heal was recorded") {
		t.Errorf("unhealed f2 = %+v, want open and unknown, saying no heal was recorded", ws[1])
	}
	if ws[2].Outcome != FaultFailed {
		t.Errorf("f3 = %+v, want failed", ws[2])
	}
	ann := faultAnnotations(ws, 100)
	if len(ann) != 2 || ann[1].End != 100 || !strings.HasPrefix(ann[0].Tag, "fault ") {
		t.Errorf("annotations = %+v: want f1 and f2 (open until the end), not the failed f3", ann)
	}

	res := Check(ops, Options{})
	if len(res.Faults) != 3 || len(res.Warnings) == 0 {
		t.Errorf("Check: faults %d, warnings %v: want 3 faults and a warning about f2", len(res.Faults), res.Warnings)
	}
}
