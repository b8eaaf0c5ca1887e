// Package history defines the records of a run (operations, lock events, the storage's write log)
// and reads and writes them: Writer writes the compact binary format of codec.go, Reader and
// ReadFile read it and the JSON lines of earlier versions, and JSONLWriter writes JSON lines for
// export.
//
// The vocabulary follows Jepsen: every operation is recorded twice, once when it is invoked and once
// when it completes, and the completion says ok (it happened), fail (it certainly had no effect) or
// info (unknown: a timeout, a reset connection, a paused process). Never record fail when the effect
// is uncertain: the checker trusts it.
package history

import "encoding/json"

// Type says whether a record is an invocation or one of the three kinds of completion.
type Type string

const (
	// Invoke marks the start of an operation.
	Invoke Type = "invoke"
	// OK marks an operation that completed and took effect.
	OK Type = "ok"
	// Fail marks an operation that certainly had no effect.
	Fail Type = "fail"
	// Info marks an operation whose effect is unknown.
	Info Type = "info"
)

// F names what an operation does.
type F string

const (
	// Acquire is a lock acquisition. Its ok completion carries the lease: Owner, Token, Deadline.
	Acquire F = "acquire"
	// Release is a lock release.
	Release F = "release"
	// Extend is the holder's extension of its lease (--extend). Its invoke carries the lease's
	// Owner; its ok completion the new Deadline, which the holder believes from then on. A fail
	// means the lease was certainly not extended, an info that it may have been.
	Extend F = "extend"
	// Incr is one increment of the protected counter, done inside the critical section. It is
	// invoked when the storage read is sent and completes when the storage write is acknowledged.
	// Its completion's Value is the value read; the value written is Value+1.
	Incr F = "incr"
	// Read is the harness's read of the counter after the run. Its completion's Value is the counter.
	Read F = "read"
	// WriteLog is one entry of the storage node's write log, read after the run: the write of
	// operation ID set the counter to Value, and it was the Seq-th write (from 1) the storage applied.
	// The checker uses it to decide whether an info increment was applied.
	WriteLog F = "write-log"
	// WriteLogEnd closes the write log: LogLen says how many entries it has, so a log that was
	// cut short (a lost line, a harness that died while writing it) is told from a short one, and
	// an empty log from a missing one.
	WriteLogEnd F = "write-log-end"
	// RunMeta carries the parameters of the run (in Meta) as the first record of a history.
	RunMeta F = "meta"
	// Nemesis is a fault window: its invoke is recorded when the fault is injected, its completion
	// when it is healed (ok) or when healing failed (info). Fault, Targets and Detail describe it;
	// ID ties the two records.
	Nemesis F = "nemesis"
)

// Process numbers of records not made by a worker.
const (
	// HarnessProcess makes the final read and the write log.
	HarnessProcess = -1
	// NemesisProcess injects and heals faults.
	NemesisProcess = -2
)

// Op is one record of a history. Which fields are set depends on F and Type; zero values are omitted
// from the JSON so a line stays short.
type Op struct {
	// Time is when the record was made, in nanoseconds of CLOCK_MONOTONIC, which every process on
	// the host shares (see Now).
	Time int64 `json:"time"`
	// Process is the worker process number (0..clients-1), or HarnessProcess.
	Process int `json:"process"`
	// Client is the logical client id used for linearizability checking. A client is sequential:
	// after an operation ends info, the process continues under a new client id.
	Client int  `json:"client"`
	Type   Type `json:"type"`
	F      F    `json:"f"`
	// ID ties an invocation to its completion and an increment to its write-log entry (e.g. "p3-17").
	ID string `json:"id,omitempty"`
	// Value is the value read (Incr completion, Read completion) or written (WriteLog).
	Value *int64 `json:"value,omitempty"`
	// Seq is the position of a WriteLog entry in the storage's write order, from 1.
	Seq int64 `json:"seq,omitempty"`
	// Owner identifies a lease (Acquire ok, Release invoke).
	Owner string `json:"owner,omitempty"`
	// Token is the lease's fencing token; 0 means the backend has none.
	Token uint64 `json:"token,omitempty"`
	// Deadline is when the lease's validity ends, in CLOCK_MONOTONIC nanoseconds (Acquire ok).
	Deadline int64 `json:"deadline,omitempty"`
	// Error says why an operation failed or is unknown.
	Error string `json:"error,omitempty"`
	// Fenced marks an increment that failed because the storage rejected its fencing token: the
	// evidence that fencing, not luck, kept a stale holder's access out.
	Fenced bool `json:"fenced,omitempty"`
	// Skipped marks an increment whose client read and then chose not to write: its lease check
	// found too little validity left (--guard), or its lease could not be extended (--extend).
	Skipped bool `json:"skipped,omitempty"`
	// Fault is the fault kind of a Nemesis record ("partition", "clock", ...).
	Fault string `json:"fault,omitempty"`
	// Targets are the nodes ("n3") or client processes ("p2") a Nemesis record acts on.
	Targets []string `json:"targets,omitempty"`
	// Detail says what exactly a Nemesis record did ("+10s", "SIGSTOP").
	Detail string `json:"detail,omitempty"`
	// LogLen is a length of the storage's write log: on the final Read's completion, how many
	// entries the log had at the moment of that read (read in the same atomic step as the counter,
	// so a write that lands after the read is known to be later); on WriteLogEnd, how many entries
	// the log has in all.
	LogLen *int64 `json:"log_len,omitempty"`
	// Meta holds the run's parameters (RunMeta records only).
	Meta *Meta `json:"meta,omitempty"`
}

// FormatVersion is the version of the history format this package writes and reads. It is
// recorded in the meta record; a history of another version is refused rather than misread.
//
// Version 2 added the meta record's format, the final read's log_len and the write-log-end
// record. Version 1 histories (no format field) lack what makes a cut write log detectable.
// Version 3 added the run's configuration to the meta record; version 2 is still read (it only
// lacks that).
//
// The binary container (codec.go) did not change the schema: it stores the same records, so it
// kept version 3, and a binary history and its JSON-lines export say the same format. How records
// are laid out on disk is the container's version (containerVersion), not this one.
const FormatVersion = 3

// OldestFormat is the oldest history format this package reads.
const OldestFormat = 2

// Meta describes the run a history belongs to, so a stored history can be checked on its own.
type Meta struct {
	// Format is the history's FormatVersion.
	Format  int    `json:"format"`
	Backend string `json:"backend"`
	Clients int    `json:"clients"`
	Nodes   int    `json:"nodes"`
	TTLMs   int64  `json:"ttl_ms"`
	Seed    int64  `json:"seed"`
	RunID   string `json:"run_id"`
	Initial int64  `json:"initial"` // the counter's value before the run
	// Fencing is the storage's fencing mode: "none" (or empty), "reads-writes", "writes-only" or
	// "check-and-set".
	Fencing string `json:"fencing,omitempty"`
	Started string `json:"started"` // wall-clock start, RFC 3339, for people only
	Version string `json:"version,omitempty"`
	// Guard and Extend say whether the clients checked their lease before writing (the guard's
	// name, e.g. "validity") and extended it while working: client-side defences, which, like
	// fencing, make the data checks alone decide the verdict.
	Guard  string `json:"guard,omitempty"`
	Extend bool   `json:"extend,omitempty"`
	// ThinkMs is how long each client rested between iterations.
	ThinkMs int64 `json:"think_ms,omitempty"`
	// Config is the run's whole configuration as the harness recorded it (a config.Run in its
	// JSON form; kept raw so this package need not know it), so the history alone says how to
	// run it again. Absent in format 2.
	Config json.RawMessage `json:"config,omitempty"`
}

// ParseOpID splits an operation id of the form workers give their increments, "p<process>-<n>"
// with n rising per process, written the one way a decimal number is (no sign, no leading zeros).
// ok is false for an id of any other shape.
func ParseOpID(id string) (process, n uint64, ok bool) { return parseID(id) }

// Int64 returns a pointer to v, for Op.Value.
func Int64(v int64) *int64 { return &v }

// IsCompletion reports whether t ends an operation.
func (t Type) IsCompletion() bool { return t == OK || t == Fail || t == Info }
