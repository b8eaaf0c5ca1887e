package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/report"
)

func TestExitStatus(t *testing.T) {
	path := func() string { return "locktest test" }
	for _, tc := range []struct {
		name        string
		err         error
		interrupted bool
		want        int
		says        string
	}{
		{"valid", nil, false, 0, ""},
		{"a command that ends normally on Ctrl-C (serve)", nil, true, 0, ""},
		{"invalid", exitCode(exitInvalid), false, 1, ""},
		{"unknown", exitCode(exitUnknown), false, 2, ""},
		{"an interrupted run", exitCode(exitInterrupted), true, 130, "interrupted"},
		{"bad usage", usageError{errors.New("unknown backend")}, false, 254, "see 'locktest test --help'"},
		{"an error caused by the interruption", errors.New("start node n1: context canceled"), true, 130, "interrupted: start node n1"},
		{"a harness error", errors.New("cannot reach the Docker engine"), false, 255, "cannot reach"},
	} {
		var b strings.Builder
		if got := exitStatus(&b, tc.err, tc.interrupted, path); got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
		if !strings.Contains(b.String(), tc.says) || (tc.says == "" && b.Len() > 0) {
			t.Errorf("%s: said %q, want %q", tc.name, b.String(), tc.says)
		}
	}
}

// An interrupted run exits 130 whatever its partial verdict or scenario says; a finished one by
// its verdict, or by its scenario's expectation when it has one.
func TestResultExit(t *testing.T) {
	res := func(v checker.Validity, interrupted bool, sc *report.ScenarioOutcome) *report.Results {
		return &report.Results{Result: &checker.Result{Valid: v}, Interrupted: interrupted, Scenario: sc}
	}
	met := &report.ScenarioOutcome{Name: "K1", Expect: "invalid", Met: true}
	unmet := &report.ScenarioOutcome{Name: "K1", Expect: "invalid"}
	for _, tc := range []struct {
		name string
		r    *report.Results
		want int
	}{
		{"valid", res(checker.Valid, false, nil), 0},
		{"invalid", res(checker.Invalid, false, nil), 1},
		{"unknown", res(checker.Unknown, false, nil), 2},
		{"interrupted, partial VALID", res(checker.Valid, true, nil), 130},
		{"interrupted, partial INVALID", res(checker.Invalid, true, nil), 130},
		{"interrupted, partial UNKNOWN", res(checker.Unknown, true, nil), 130},
		{"scenario met", res(checker.Invalid, false, met), 0},
		{"scenario not met", res(checker.Valid, false, unmet), 1},
		{"scenario met, but interrupted", res(checker.Invalid, true, met), 130},
	} {
		got := exitStatus(&strings.Builder{}, resultExit(tc.r), false, func() string { return "" })
		if got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
	}
}
