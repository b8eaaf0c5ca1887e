package cluster

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Labels naming the process that owns a run's containers and network, so `locktest clean` can
// tell a run that is still going from the leftovers of one that died. A pid alone names a process
// only until it exits and the number is handed out again, so the owner is the pid together with
// its start time (ticks after boot) and the boot it belongs to.
const (
	LabelOwnerPID   = "io.locktest.owner-pid"   // the owning process's pid
	LabelOwnerStart = "io.locktest.owner-start" // its start time: field 22 of /proc/PID/stat
	LabelBootID     = "io.locktest.boot-id"     // /proc/sys/kernel/random/boot_id when it ran
	LabelOwnerPIDNS = "io.locktest.owner-pidns" // its pid namespace ("pid:[4026531836]")
	LabelOwnerHost  = "io.locktest.owner-host"  // its host name
)

// Owner identifies the process that started a run's containers.
type Owner struct {
	PID int
	// Start is the process's start time in clock ticks after boot; 0 when unknown.
	Start  uint64
	BootID string
	// PIDNS is the pid namespace PID is a number in: a process in another container sees other
	// numbers, so its pid cannot be looked up here.
	PIDNS string
	Host  string
}

// Labels returns the owner's labels.
func (o Owner) Labels() map[string]string {
	l := map[string]string{LabelOwnerPID: strconv.Itoa(o.PID), LabelBootID: o.BootID}
	if o.Start != 0 {
		l[LabelOwnerStart] = strconv.FormatUint(o.Start, 10)
	}
	if o.PIDNS != "" {
		l[LabelOwnerPIDNS] = o.PIDNS
	}
	if o.Host != "" {
		l[LabelOwnerHost] = o.Host
	}
	return l
}

// OwnerOf reads the owner from labels; false when they name none (locktest before owner labels).
func OwnerOf(labels map[string]string) (Owner, bool) {
	pid, err := strconv.Atoi(labels[LabelOwnerPID])
	if err != nil || pid <= 0 {
		return Owner{}, false
	}
	start, _ := strconv.ParseUint(labels[LabelOwnerStart], 10, 64)
	return Owner{PID: pid, Start: start, BootID: labels[LabelBootID], PIDNS: labels[LabelOwnerPIDNS], Host: labels[LabelOwnerHost]}, true
}

var (
	selfOnce sync.Once
	self     Owner
)

// Self is this process as the owner of what it starts.
func Self() Owner {
	selfOnce.Do(func() {
		h := ThisHost()
		self = Owner{PID: os.Getpid(), BootID: h.BootID, PIDNS: h.PIDNS, Host: h.Name}
		self.Start, _ = h.Proc(self.PID)
	})
	return self
}

// Host is what deciding whether an owner is alive needs to know about the machine that decides.
type Host struct {
	BootID string
	PIDNS  string
	Name   string
	// Proc returns the start time of process pid (clock ticks after boot), an error wrapping
	// os.ErrNotExist when there is no such process, or another error when it cannot tell.
	Proc func(pid int) (uint64, error)
}

// ThisHost describes the machine and pid namespace this process runs in.
func ThisHost() Host {
	h := Host{Proc: procStart}
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		h.BootID = strings.TrimSpace(string(b))
	}
	h.PIDNS, _ = os.Readlink("/proc/self/ns/pid")
	h.Name, _ = os.Hostname()
	return h
}

// procStart reads a process's start time from /proc/PID/stat.
func procStart(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStatStart(string(b))
}

// parseStatStart returns field 22 (starttime) of a /proc/PID/stat line. The command name (field
// 2, in parentheses) may contain spaces and parentheses, so fields are counted after the last ')':
// the state is field 3 there.
func parseStatStart(stat string) (uint64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc stat line %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	const field = 22 - 3
	if len(f) <= field {
		return 0, fmt.Errorf("malformed /proc stat line: %d fields after the command", len(f))
	}
	return strconv.ParseUint(f[field], 10, 64)
}

// Alive says whether the run labelled labels still has its owner, and why. It keeps what it
// cannot judge (an owner on another host or in another pid namespace, a process table it cannot
// read): removing a live run's cluster is worse than leaving a dead one's for `clean --all`.
func (h Host) Alive(labels map[string]string) (live bool, why string) {
	o, ok := OwnerOf(labels)
	switch {
	case !ok:
		return false, "no owner recorded (made by an older locktest)"
	case h.BootID == "":
		return true, fmt.Sprintf("pid %d: cannot tell, this host's boot id is unknown", o.PID)
	case o.BootID != h.BootID && o.Host != "" && o.Host != h.Name:
		return true, fmt.Sprintf("pid %d on host %s, which cannot be checked from here", o.PID, o.Host)
	case o.BootID != h.BootID:
		return false, fmt.Sprintf("owner pid %d ran before this host's last boot", o.PID)
	case o.PIDNS != "" && h.PIDNS != "" && o.PIDNS != h.PIDNS:
		return true, fmt.Sprintf("pid %d in another pid namespace (another container), which cannot be checked from here", o.PID)
	}
	start, err := h.Proc(o.PID)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return false, fmt.Sprintf("owner pid %d is gone", o.PID)
	case err != nil:
		return true, fmt.Sprintf("pid %d: cannot tell (%v)", o.PID, err)
	case o.Start != 0 && start != o.Start:
		return false, fmt.Sprintf("owner pid %d is gone (the pid now belongs to a process started later)", o.PID)
	}
	return true, fmt.Sprintf("pid %d", o.PID)
}
