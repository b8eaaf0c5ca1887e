package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

func TestParseStatStart(t *testing.T) {
	// The command name may hold spaces and parentheses; starttime is field 22.
	line := "4242 (we(ird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 123 45 18446744073709551615\n"
	got, err := parseStatStart(line)
	if err != nil || got != 987654 {
		t.Fatalf("parseStatStart = %d, %v; want 987654", got, err)
	}
	if _, err := parseStatStart("4242 (short) S 1 2"); err == nil {
		t.Error("a truncated stat line was accepted")
	}
}

// The liveness decision over labels, with a made-up process table: pid 100 started at tick 5000.
func TestAlive(t *testing.T) {
	host := Host{BootID: "boot-1", PIDNS: "pid:[1]", Name: "box", Proc: func(pid int) (uint64, error) {
		switch pid {
		case 100:
			return 5000, nil
		case 300:
			return 0, fmt.Errorf("open /proc/300/stat: %w", os.ErrPermission)
		}
		return 0, fmt.Errorf("open /proc/%d/stat: %w", pid, os.ErrNotExist)
	}}
	owner := Owner{PID: 100, Start: 5000, BootID: "boot-1", PIDNS: "pid:[1]", Host: "box"}
	with := func(change func(*Owner)) map[string]string {
		o := owner
		change(&o)
		l := o.Labels()
		l[LabelProject], l[LabelRun] = "true", "run-1"
		return l
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		live   bool
	}{
		{"the owner itself", with(func(*Owner) {}), true},
		{"no owner labels (older locktest)", map[string]string{LabelProject: "true", LabelRun: "run-1"}, false},
		{"a malformed pid", map[string]string{LabelOwnerPID: "x", LabelBootID: "boot-1"}, false},
		{"pid gone", with(func(o *Owner) { o.PID = 200 }), false},
		{"pid reused by a later process", with(func(o *Owner) { o.Start = 4000 }), false},
		{"no start time recorded, pid exists", with(func(o *Owner) { o.Start = 0 }), true},
		{"an earlier boot of this host", with(func(o *Owner) { o.BootID = "boot-0" }), false},
		{"an earlier boot, no host recorded", with(func(o *Owner) { o.BootID, o.Host = "boot-0", "" }), false},
		{"another host", with(func(o *Owner) { o.BootID, o.Host = "boot-9", "elsewhere" }), true},
		{"another pid namespace", with(func(o *Owner) { o.PIDNS, o.PID = "pid:[2]", 200 }), true},
		{"a process table it cannot read", with(func(o *Owner) { o.PID = 300 }), true},
	} {
		live, why := host.Alive(tc.labels)
		if live != tc.live {
			t.Errorf("%s: live=%v (%s), want %v", tc.name, live, why, tc.live)
		}
		if why == "" {
			t.Errorf("%s: no reason given", tc.name)
		}
	}
	unknown := host
	unknown.BootID = ""
	if live, _ := unknown.Alive(with(func(o *Owner) { o.PID = 200 })); !live {
		t.Error("without this host's boot id a run was judged dead")
	}
}

// The same decision against this machine's real /proc: this process is alive, a process that
// has exited is not, and this pid with another start time is a recycled pid.
func TestAliveOnThisHost(t *testing.T) {
	h := ThisHost()
	if h.BootID == "" || Self().Start == 0 {
		t.Skip("no /proc boot id or stat here")
	}
	if live, why := h.Alive(Self().Labels()); !live {
		t.Fatalf("this process judged dead: %s", why)
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	gone := Self()
	gone.PID = cmd.Process.Pid
	if live, why := h.Alive(gone.Labels()); live {
		t.Errorf("exited pid %d judged alive: %s", gone.PID, why)
	}
	recycled := Self()
	recycled.Start--
	if live, why := h.Alive(recycled.Labels()); live {
		t.Errorf("pid %d with start time %d judged alive: %s", recycled.PID, recycled.Start, why)
	}
	if got := Self().Labels()[LabelOwnerPID]; got != strconv.Itoa(os.Getpid()) {
		t.Errorf("owner pid label %q, want %d", got, os.Getpid())
	}
}
