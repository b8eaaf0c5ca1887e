package main

import (
	"strings"
	"testing"

	"github.com/locktest/locktest/compare"
)

// compare's outcomes map to the exit statuses README documents: 0, 1, 130 and 255.
func TestCompareExit(t *testing.T) {
	for _, tc := range []struct {
		o    compare.Outcome
		want int
		says string
	}{
		{compare.Outcome{Status: compare.StatusPassed, Ran: 3, Planned: 3}, 0, ""},
		{compare.Outcome{Status: compare.StatusMismatched, Ran: 3, Planned: 3, Mismatches: []string{"a / none: expected valid, got invalid", "scenario R1: expected invalid, got valid"}},
			1, "compare: 2 cell(s) or scenario(s) differ from what is expected:\n- a / none: expected valid, got invalid\n- scenario R1: expected invalid, got valid\n"},
		{compare.Outcome{Status: compare.StatusInterrupted, Ran: 1, Planned: 3}, 130,
			"compare: interrupted: the matrix is incomplete (1 of 3 cells ran)\nlocktest: interrupted\n"},
		{compare.Outcome{Status: compare.StatusIncomplete, Ran: 2, Planned: 3}, 255, "locktest: only 2 of 3 cells ran\n"},
	} {
		var b strings.Builder
		got := exitStatus(&b, outcomeExit(&b, tc.o), tc.o.Status == compare.StatusInterrupted, func() string { return "locktest compare" })
		if got != tc.want || b.String() != tc.says {
			t.Errorf("%v: exit %d saying %q, want %d saying %q", tc.o.Status, got, b.String(), tc.want, tc.says)
		}
	}
}

// --quick sets the faults and scenarios compare.Quick names, unless given explicitly; its help is
// made from compare.Quick and reads as it always did.
func TestCompareQuick(t *testing.T) {
	for _, tc := range []struct {
		args                 []string
		faults, scenarioList string
	}{
		{nil, "none,pause-client", "K1-W,R1"},
		{[]string{"--faults", "kill"}, "kill", "K1-W,R1"},
		{[]string{"--scenarios", ""}, "none,pause-client", ""},
	} {
		cmd := newCompareCmd()
		if err := cmd.Flags().Parse(append([]string{"--quick"}, tc.args...)); err != nil {
			t.Fatal(err)
		}
		applyQuick(cmd)
		faults, _ := cmd.Flags().GetString("faults")
		scenarios, _ := cmd.Flags().GetString("scenarios")
		if faults != tc.faults || scenarios != tc.scenarioList {
			t.Errorf("--quick %q: faults %q, scenarios %q; want %q, %q", tc.args, faults, scenarios, tc.faults, tc.scenarioList)
		}
	}
	want := "a first look in about 6 minutes: faults none and pause-client, scenarios K1-W and R1 (flags given explicitly win)"
	if got := newCompareCmd().Flags().Lookup("quick").Usage; got != want {
		t.Errorf("--quick's help: %q, want %q", got, want)
	}
}

// Sharding's bad input is the user's: a malformed --shard, merge without directories, or a
// directory that is not a shard's matrix exit 254.
func TestCompareShardUsage(t *testing.T) {
	for _, args := range [][]string{
		{"compare", "--shard", "4/3"},
		{"compare", "--shard", "two"},
		{"compare", "--shard", "1/2"}, // without --seed
		{"compare", "merge"},
		{"compare", "merge", t.TempDir()},
	} {
		if got := run(args); got != exitUsage {
			t.Errorf("locktest %s: exit %d, want %d", strings.Join(args, " "), got, exitUsage)
		}
	}
}
