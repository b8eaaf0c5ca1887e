package checker

import "testing"

func TestCounterStep(t *testing.T) {
	k, u := knownState, unknownState
	tests := []struct {
		name  string
		state counterState
		kind  opKind
		out   int64
		ok    bool
		next  counterState
	}{
		{"incr from the value it read", k(5), kindIncr, 5, true, k(6)},
		{"incr that read a stale value", k(5), kindIncr, 4, false, k(5)},
		{"incr from unknown", u, kindIncr, 9, true, k(10)},
		{"read the value", k(5), kindRead, 5, true, k(5)},
		{"read another value", k(5), kindRead, 6, false, k(5)},
		{"read from unknown", u, kindRead, 3, true, k(3)},
		{"unresolved incr applies when it fits", k(5), kindIncrMaybe, 5, true, k(6)},
		{"unresolved incr is a no-op otherwise", k(7), kindIncrMaybe, 5, true, k(7)},
		{"unresolved incr from unknown", u, kindIncrMaybe, 5, true, u},
		{"blind incr forgets the value", k(5), kindIncrBlind, 0, true, u},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, next := counterStep(tt.state, tt.kind, tt.out)
			if ok != tt.ok || (ok && next != tt.next) {
				t.Errorf("step(%+v, %d, %d) = %v, %+v; want %v, %+v", tt.state, tt.kind, tt.out, ok, next, tt.ok, tt.next)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	m := newCounterModel(knownState(3))
	if got := m.DescribeOperation(kindIncr, int64(5)); got != "incr 5→6" {
		t.Errorf("DescribeOperation(incr) = %q", got)
	}
	if got := m.DescribeOperation(kindRead, int64(12)); got != "read 12" {
		t.Errorf("DescribeOperation(read) = %q", got)
	}
	if got := m.DescribeState(unknownState); got != "?" {
		t.Errorf("DescribeState(unknown) = %q", got)
	}
	if got := m.DescribeState(m.Init()); got != "3" {
		t.Errorf("DescribeState(init) = %q", got)
	}
}
