package checker

// A small discrete-event simulation of a locktest run, for the differential test in
// differential_test.go. It plays client processes looping acquire → read → write → release
// against a simulated lock service and a simulated storage register, in simulated time, and
// records the history exactly as the real harness does (workload/worker.go, workload/run.go):
// the meta record first, acquire/incr/release invoke and completion records stamped by one shared
// clock, client ids advancing by the number of processes after an info record, then the
// harness's final read and the storage's write log (seq from 1), read after the final read.
//
// Because it is the storage, the simulation knows the truth the checker has to infer: the real
// order of reads and applied writes, hence every increment that overwrote a write that landed
// between its read and its write (a lost update), and what the final read saw.

import (
	"cmp"
	"container/heap"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/locktest/locktest/history"
)

// simBase is the simulated CLOCK_MONOTONIC at the start of a run: large, like a real one, and a
// multiple of every clock quantum used.
const simBase = int64(7_000) * int64(time.Second)

const (
	simUS = int64(time.Microsecond)
	simMS = int64(time.Millisecond)
)

// simLock is how the lock behaves.
type simLock string

const (
	// simWorking: a lease lock whose holders never outlive their lease: critical sections never
	// overlap (unless a holder dies: its lease then expires and the next one proceeds).
	simWorking simLock = "working"
	// simFlaky: the lease lock sometimes grants a second holder while the first still holds (a
	// clock jump, a restarted node that forgot the key).
	simFlaky simLock = "flaky"
	// simNoLock: acquire always succeeds at once.
	simNoLock simLock = "nolock"
	// simPaused: the lease lock, and holders sometimes stop longer than their lease between
	// read and write (Kleppmann's GC pause) while another one proceeds.
	simPaused simLock = "paused"
)

// simMode is what a seed draws: the lock, the storage's fencing, and the faults mixed in.
type simMode struct {
	lock    simLock
	fencing string // "none", "reads-writes", "writes-only" (as Meta.Fencing)
	procs   int
	incrs   int // increments invoked before the run is stopped

	lostReply bool  // writes applied whose reply is lost: info, in the log
	timeout   bool  // writes (and reads) that time out and were never applied: info (fail for reads)
	late      bool  // writes applied long after the client gave up: info, maybe after the final read
	die       bool  // processes that die mid-increment: an invoke without completion
	quantum   int64 // > 1: the clock ticks in these steps, so timestamps tie across processes
	reorder   bool  // records of different processes reach the history slightly out of order
	noLog     bool  // the harness could not read the write log
}

func (m simMode) String() string {
	s := string(m.lock)
	if m.fencing != "none" {
		s += "/fence=" + m.fencing
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{m.lostReply, "lostreply"}, {m.timeout, "timeout"}, {m.late, "late"}, {m.die, "die"}, {m.reorder, "reorder"}, {m.noLog, "nolog"}} {
		if f.on {
			s += "+" + f.name
		}
	}
	if m.quantum > 1 {
		s += fmt.Sprintf("+ties(q=%v)", time.Duration(m.quantum))
	}
	return fmt.Sprintf("%s procs=%d incrs=%d", s, m.procs, m.incrs)
}

// drawMode draws a mode from rng: every lock and fault is reached by some seeds.
func drawMode(rng *rand.Rand) simMode {
	m := simMode{fencing: "none"}
	m.lock = []simLock{simWorking, simFlaky, simNoLock, simPaused}[rng.IntN(4)]
	m.procs = 2 + rng.IntN(5)
	// 5..200 increments, most of them small: small histories are fast and show bugs plainly.
	f := rng.Float64()
	m.incrs = 5 + int(195*f*f*f)
	if m.lock != simNoLock && rng.IntN(3) == 0 {
		m.fencing = []string{"reads-writes", "writes-only"}[rng.IntN(2)]
	}
	m.lostReply = rng.IntN(3) == 0
	m.timeout = rng.IntN(3) == 0
	m.late = rng.IntN(3) == 0
	m.die = rng.IntN(4) == 0
	m.reorder = rng.IntN(4) == 0
	if rng.IntN(4) == 0 {
		m.quantum = []int64{10 * simUS, 100 * simUS, simMS}[rng.IntN(3)]
	}
	if rng.IntN(25) == 0 {
		// Without the log, info increments stay open and Porcupine's search grows quickly
		// with them: keep these histories short.
		m.noLog, m.incrs = true, min(m.incrs, 30)
	}
	return m
}

// simIncr is the simulation's knowledge of one increment.
type simIncr struct {
	id      string
	proc    int
	status  history.Type // how the client recorded it: ok, fail, info; "" = never completed (died)
	invoke  int64        // recorded invocation time
	read    int64        // the value the storage returned (valid when storageRead)
	readOK  bool         // the storage served the read (not rejected, not lost on the way)
	atRead  int          // applied writes so far when the storage served the read
	applied bool         // the storage applied the write before the write log was read
	seq     int          // its position in the storage's write order, from 1
	written int64
	// afterFinal: applied after the harness's final read (so the final value cannot show it).
	afterFinal bool
	victims    []int // seqs of the writes it overwrote: applied between its read and its write
}

// simHold is a believed-held interval as the checker defines it: from the acquire ok record to
// the release invoke record; without a release (the process died holding) until the end of the
// history.
type simHold struct {
	proc       int
	start, end int64
	deadline   int64
	open       bool
}

// simRun is one simulated run: its history and the truth about it.
type simRun struct {
	seed uint64
	mode simMode
	ops  []history.Op

	incrs     []*simIncr
	log       []*simIncr // applied writes in storage order
	holds     []simHold
	final     int64 // the value the final read returned
	atFinal   int   // applied writes when the final read was served
	fenced    bool
	logInHist bool // the history holds the write log

	want OpCounts // the checker's op counts, from the simulation's own bookkeeping
}

// overwrites lists the increments that overwrote a write applied between their read and write.
func (r *simRun) overwrites() []*simIncr {
	var out []*simIncr
	for _, in := range r.log {
		if len(in.victims) > 0 {
			out = append(out, in)
		}
	}
	return out
}

// okVictims counts overwritten writes whose increment the client saw ok.
func (r *simRun) okVictims() int {
	n := 0
	for _, in := range r.log {
		for _, v := range in.victims {
			if r.log[v-1].status == history.OK {
				n++
			}
		}
	}
	return n
}

// lostBeforeFinal is how many applied writes the final read does not reflect, counting only the
// writes applied before it: (applied before the final read) − (final − initial). It is ≥ 0, and
// > 0 exactly when some write applied before the final read was overwritten.
func (r *simRun) lostBeforeFinal() int64 { return int64(r.atFinal) - r.final }

// afterFinal counts the writes applied after the final read but before the log was read.
func (r *simRun) afterFinal() int { return len(r.log) - r.atFinal }

// overlaps counts pairs of holds of different processes that share more than a point, and those
// in which both holders were inside their validity when the overlap began.
func (r *simRun) overlaps() (n, inValidity int64) {
	for i := range r.holds {
		for j := i + 1; j < len(r.holds); j++ {
			a, b := &r.holds[i], &r.holds[j]
			if a.proc == b.proc {
				continue
			}
			from := max(a.start, b.start)
			if min(a.end, b.end) > from {
				n++
				if a.deadline > from && b.deadline > from {
					inValidity++
				}
			}
		}
	}
	return n, inValidity
}

// simulate runs the simulation of seed.
func simulate(seed uint64) *simRun {
	rng := rand.New(rand.NewPCG(seed, 0x6c6f636b74657374))
	m := drawMode(rng)
	s := &sim{
		rng:        rng,
		m:          m,
		now:        simBase,
		ttl:        10 * simMS,
		storageTO:  simMS,
		acqTimeout: 40 * simMS,
		pFlaky:     0.05 + 0.3*rng.Float64(),
		pPause:     0.05 + 0.25*rng.Float64(),
		pFault:     0.03 + 0.15*rng.Float64(),
		pDie:       0.02 + 0.05*rng.Float64(),
		run:        &simRun{seed: seed, mode: m, fenced: m.fencing != "none", logInHist: !m.noLog},
	}
	s.play()
	return s.run
}

// sim is the simulation's state.
type sim struct {
	rng *rand.Rand
	m   simMode
	run *simRun

	now   int64
	queue simQueue
	order int // tie-break of events at the same time: scheduling order

	ttl, storageTO, acqTimeout   int64
	pFlaky, pPause, pFault, pDie float64

	procs    []*simProc
	invoked  int
	stopping bool
	deaths   int
	recs     []history.Op // worker records, in the order the harness received them

	// The lock service.
	holder string
	expiry int64
	tokens uint64

	// The storage.
	counter   int64
	fenceHi   uint64
	finalDone bool // the final read has been served
	logRead   bool // the write log has been read: later writes are outside the history

	finalScheduled bool
	harness        []history.Op // the harness's final read and write log records
}

type simProc struct {
	n        int
	client   int
	seq      int
	dead     bool
	stopped  bool
	owner    string
	token    uint64
	acqStart int64
	hold     int // index into run.holds of the current hold, -1 if none
}

type simEvent struct {
	t     int64
	order int
	f     func()
}

type simQueue []simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	return q[i].t < q[j].t || q[i].t == q[j].t && q[i].order < q[j].order
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// at runs f at time t (not before now).
func (s *sim) at(t int64, f func()) {
	s.order++
	heap.Push(&s.queue, simEvent{t: max(t, s.now), order: s.order, f: f})
}

func (s *sim) after(d int64, f func()) { s.at(s.now+d, f) }

// net is one network hop.
func (s *sim) net() int64 { return 15*simUS + s.rng.Int64N(90*simUS) }

// gap is the time a process spends between two steps of its loop.
func (s *sim) gap() int64 { return s.rng.Int64N(40 * simUS) }

// clock is what history.Now returns at the current simulated time.
func (s *sim) clock() int64 {
	if q := s.m.quantum; q > 1 {
		return s.now - s.now%q
	}
	return s.now
}

func (s *sim) chance(p float64) bool { return s.rng.Float64() < p }

// rec records a worker's operation as workload.worker.record does.
func (s *sim) rec(p *simProc, op history.Op) history.Op {
	op.Time, op.Process, op.Client = s.clock(), p.n, p.client
	s.recs = append(s.recs, op)
	if op.Type == history.Info {
		p.client += s.m.procs
	}
	return op
}

func (s *sim) play() {
	r, m := s.run, s.m
	meta := history.Op{Time: s.clock(), Process: history.HarnessProcess, F: history.RunMeta, Meta: &history.Meta{
		Backend: map[simLock]string{simWorking: "redis-single", simFlaky: "redlock", simNoLock: "nolock", simPaused: "redis-single"}[m.lock],
		Clients: m.procs, Nodes: 1, TTLMs: s.ttl / simMS, Seed: int64(r.seed), RunID: fmt.Sprintf("sim-%d", r.seed),
		Format: history.FormatVersion, Initial: 0, Fencing: m.fencing, Started: "2024-01-01T00:00:00Z", Version: "sim",
	}}
	for n := range m.procs {
		p := &simProc{n: n, client: n, hold: -1}
		s.procs = append(s.procs, p)
		s.at(s.now+simMS+s.rng.Int64N(200*simUS), func() { s.startAcquire(p) })
	}
	for s.queue.Len() > 0 {
		e := heap.Pop(&s.queue).(simEvent)
		s.now = e.t
		e.f()
	}
	if m.reorder {
		s.reorderRecords()
	}
	r.ops = append([]history.Op{meta}, s.recs...)
	r.ops = append(r.ops, s.harness...)
	end := int64(0)
	for _, op := range r.ops {
		end = max(end, op.Time)
	}
	for i := range r.holds {
		if r.holds[i].open {
			r.holds[i].end = max(end, r.holds[i].start)
		}
	}
	// What the checker should count, from the simulation's own bookkeeping.
	for _, op := range s.recs {
		switch {
		case op.F == history.Acquire && op.Type == history.OK:
			r.want.AcquireOK++
		case op.F == history.Acquire && op.Type == history.Fail:
			r.want.AcquireFail++
		case op.F == history.Release && op.Type == history.OK:
			r.want.ReleaseOK++
		case op.F == history.Release && op.Type == history.Fail:
			r.want.ReleaseFail++
		}
	}
	for _, in := range r.incrs {
		switch in.status {
		case history.OK:
			r.want.OK++
		case history.Fail:
			r.want.Fail++
		default:
			r.want.Info++
			switch {
			case !r.logInHist:
				r.want.InfoUnresolved++
			case in.applied:
				r.want.InfoApplied++
			default:
				r.want.InfoNotApplied++
			}
		}
	}
}

// reorderRecords swaps some neighbouring records of different processes, as pipes from several
// processes deliver them; each process's own records stay in order.
func (s *sim) reorderRecords() {
	for i := 0; i+1 < len(s.recs); i++ {
		a, b := &s.recs[i], &s.recs[i+1]
		if a.Process != b.Process && b.Time-a.Time < 200*simUS && s.chance(0.3) {
			*a, *b = *b, *a
		}
	}
}

// The process loop: acquire → increment → release, until stopped or dead.

func (s *sim) startAcquire(p *simProc) {
	if p.dead || p.stopped {
		return
	}
	if s.stopping {
		s.stop(p)
		return
	}
	s.rec(p, history.Op{Type: history.Invoke, F: history.Acquire})
	p.acqStart = s.now
	s.tryAcquire(p)
}

func (s *sim) tryAcquire(p *simProc) {
	// The lease's validity runs from before the request that obtained it (Redis: TTL from
	// before the SET), not from the first attempt of the acquisition.
	sent := s.now
	s.after(s.net(), func() {
		owner, token, granted := s.grant()
		s.after(s.net(), func() {
			if p.dead {
				return
			}
			if granted {
				p.owner, p.token = owner, token
				deadline := s.clock() + (sent + s.ttl - s.now)
				op := s.rec(p, history.Op{Type: history.OK, F: history.Acquire, Owner: owner, Token: token, Deadline: deadline})
				s.run.holds = append(s.run.holds, simHold{proc: p.n, start: op.Time, deadline: deadline, open: true})
				p.hold = len(s.run.holds) - 1
				s.after(s.gap(), func() { s.increment(p) })
				return
			}
			switch {
			case s.stopping:
				// Stopping cancels a wait for the lock.
				s.rec(p, history.Op{Type: history.Fail, F: history.Acquire, Error: "lock not acquired: context canceled"})
				s.stop(p)
			case s.now-p.acqStart > s.acqTimeout:
				s.rec(p, history.Op{Type: history.Fail, F: history.Acquire, Error: "lock not acquired: context deadline exceeded"})
				s.after(s.gap(), func() { s.startAcquire(p) })
			default:
				s.after(50*simUS+s.rng.Int64N(500*simUS), func() { s.tryAcquire(p) })
			}
		})
	})
}

// grant is the lock service deciding on a request arriving now.
func (s *sim) grant() (owner string, token uint64, ok bool) {
	switch {
	case s.m.lock == simNoLock:
	case s.holder == "" || s.now >= s.expiry:
	case s.m.lock == simFlaky && s.chance(s.pFlaky):
	default:
		return "", 0, false
	}
	owner = fmt.Sprintf("%08x", s.rng.Uint32())
	if s.m.lock == simNoLock {
		return owner, 0, true
	}
	s.tokens++
	s.holder, s.expiry = owner, s.now+s.ttl
	return owner, s.tokens, true
}

// storageAccess is the storage's fencing check for an access with token: whether it passes.
func (s *sim) storageAccess(token uint64, write bool) bool {
	switch s.m.fencing {
	case "reads-writes":
	case "writes-only":
		if !write {
			return true
		}
	default:
		return true
	}
	if token < s.fenceHi {
		return false
	}
	s.fenceHi = token
	return true
}

type writeFate uint8

const (
	writeNormal    writeFate = iota
	writeLostReply           // applied, reply lost: info
	writeNever               // lost on the way: info, never applied
	writeLate                // applied after the client gave up: info
)

type dieAt uint8

const (
	dieNever dieAt = iota
	dieBeforeRead
	dieAfterReadSent
	dieAfterWriteSent
)

func (s *sim) increment(p *simProc) {
	if p.dead {
		return
	}
	p.seq++
	in := &simIncr{id: fmt.Sprintf("p%d-%d", p.n, p.seq), proc: p.n}
	s.run.incrs = append(s.run.incrs, in)
	in.invoke = s.rec(p, history.Op{Type: history.Invoke, F: history.Incr, ID: in.id}).Time
	s.invoked++
	if s.invoked >= s.m.incrs {
		s.stopping = true
	}

	// This increment's fate, drawn up front.
	die := dieNever
	if s.m.die && s.deaths < s.m.procs-1 && s.chance(s.pDie) {
		die = dieAt(1 + s.rng.IntN(3))
	}
	readLost := s.m.timeout && s.chance(s.pFault/2)
	fate := writeNormal
	var fates []writeFate
	if s.m.lostReply {
		fates = append(fates, writeLostReply)
	}
	if s.m.timeout {
		fates = append(fates, writeNever)
	}
	if s.m.late {
		fates = append(fates, writeLate)
	}
	if len(fates) > 0 && s.chance(s.pFault) {
		fate = fates[s.rng.IntN(len(fates))]
	}
	pause := s.m.lock == simPaused && s.chance(s.pPause)

	if die == dieBeforeRead {
		s.kill(p)
		return
	}
	sent := s.now
	arrives := !readLost || s.chance(0.5) // a lost read may still have reached the storage
	s.after(s.net(), func() {
		served := arrives && s.storageAccess(p.token, false)
		if served {
			in.read, in.readOK, in.atRead = s.counter, true, len(s.run.log)
		}
		if readLost {
			return // the reply never arrives
		}
		s.after(s.net(), func() {
			if p.dead {
				return
			}
			if !served {
				in.status = s.rec(p, history.Op{Type: history.Fail, F: history.Incr, ID: in.id, Error: "read: rejected by fencing"}).Type
				s.after(s.gap(), func() { s.release(p) })
				return
			}
			wait := s.gap()
			if pause {
				wait = s.ttl + simMS + s.rng.Int64N(2*s.ttl)
			}
			s.after(wait, func() { s.write(p, in, fate, die == dieAfterWriteSent) })
		})
	})
	if die == dieAfterReadSent {
		s.kill(p)
		return
	}
	if readLost {
		s.at(sent+s.storageTO, func() {
			in.readOK = false // whatever the storage did, the client never saw it
			in.status = s.rec(p, history.Op{Type: history.Fail, F: history.Incr, ID: in.id, Error: "read: i/o timeout"}).Type
			s.after(s.gap(), func() { s.release(p) })
		})
	}
}

func (s *sim) write(p *simProc, in *simIncr, fate writeFate, die bool) {
	v := in.read
	token := p.token
	sent := s.now
	info := func() {
		if p.dead {
			return
		}
		in.status = s.rec(p, history.Op{Type: history.Info, F: history.Incr, ID: in.id, Value: history.Int64(v), Error: "write: i/o timeout"}).Type
		s.after(s.gap(), func() { s.release(p) })
	}
	apply := func() (ok bool) {
		if s.logRead || !s.storageAccess(token, true) {
			return false
		}
		s.counter = v + 1
		s.run.log = append(s.run.log, in)
		in.applied, in.seq, in.written, in.afterFinal = true, len(s.run.log), v+1, s.finalDone
		for seq := in.atRead + 1; seq < in.seq; seq++ {
			in.victims = append(in.victims, seq)
		}
		return true
	}
	switch fate {
	case writeNormal:
		s.after(s.net(), func() {
			ok := apply()
			s.after(s.net(), func() {
				if p.dead {
					return
				}
				if ok {
					in.status = s.rec(p, history.Op{Type: history.OK, F: history.Incr, ID: in.id, Value: history.Int64(v)}).Type
				} else {
					in.status = s.rec(p, history.Op{Type: history.Fail, F: history.Incr, ID: in.id, Value: history.Int64(v),
						Error: "write: rejected by fencing"}).Type
				}
				s.after(s.gap(), func() { s.release(p) })
			})
		})
	case writeLostReply:
		s.after(s.net(), func() { apply() })
		s.at(sent+s.storageTO, info)
	case writeNever:
		s.at(sent+s.storageTO, info)
	case writeLate:
		// Held up in a partition's retransmit queue: lands long after the client gave up,
		// sometimes after other writes, the final read, or even the log read (then never).
		s.at(sent+s.storageTO+simUS+s.rng.Int64N(30*simMS), func() { apply() })
		s.at(sent+s.storageTO, info)
	}
	if die {
		s.kill(p)
	}
}

func (s *sim) release(p *simProc) {
	if p.dead {
		return
	}
	op := s.rec(p, history.Op{Type: history.Invoke, F: history.Release, Owner: p.owner, Token: p.token})
	h := &s.run.holds[p.hold]
	h.end, h.open = op.Time, false
	p.hold = -1
	owner := p.owner
	s.after(s.net(), func() {
		ok := true
		if s.m.lock != simNoLock {
			ok = s.holder == owner && s.now < s.expiry
			if ok {
				s.holder = ""
			}
		}
		s.after(s.net(), func() {
			if ok {
				s.rec(p, history.Op{Type: history.OK, F: history.Release, Owner: owner})
			} else {
				s.rec(p, history.Op{Type: history.Fail, F: history.Release, Owner: owner, Error: "lock no longer held by this lease (expired or taken)"})
			}
			s.after(s.gap(), func() { s.startAcquire(p) })
		})
	})
}

// kill ends a process where it stands: no more records, its hold (if any) stays open.
func (s *sim) kill(p *simProc) {
	p.dead = true
	s.deaths++
	s.maybeFinish()
}

func (s *sim) stop(p *simProc) {
	p.stopped = true
	s.maybeFinish()
}

// harness holds the records the harness appends after the workers stopped.
func (s *sim) maybeFinish() {
	for _, p := range s.procs {
		if !p.dead && !p.stopped {
			return
		}
	}
	if s.finalScheduled {
		return
	}
	s.finalScheduled = true
	s.after(s.rng.Int64N(8*simMS), s.finalRead)
}

// finalRead is workload.finalRead: the read of the counter, then the write log.
func (s *sim) finalRead() {
	const client = -1
	s.harness = append(s.harness, history.Op{Time: s.clock(), Process: history.HarnessProcess, Client: client, Type: history.Invoke, F: history.Read})
	s.after(s.net(), func() {
		s.run.final, s.run.atFinal, s.finalDone = s.counter, len(s.run.log), true
		// The counter and the log's length, read in one atomic step (workload.Storage.Final).
		v, logLen := s.counter, int64(len(s.run.log))
		s.after(s.net(), func() {
			s.harness = append(s.harness, history.Op{Time: s.clock(), Process: history.HarnessProcess, Client: client, Type: history.OK, F: history.Read,
				Value: history.Int64(v), LogLen: history.Int64(logLen)})
			s.after(s.net()+s.rng.Int64N(3*simMS), func() {
				s.logRead = true
				log := slices.Clone(s.run.log)
				s.after(s.net(), func() {
					if !s.run.logInHist {
						return
					}
					now := s.clock()
					for i, in := range log {
						s.harness = append(s.harness, history.Op{Time: now, Process: history.HarnessProcess, Client: client, Type: history.OK,
							F: history.WriteLog, ID: in.id, Value: history.Int64(in.written), Seq: int64(i + 1)})
					}
					// The closing record: how many entries the storage returned.
					s.harness = append(s.harness, history.Op{Time: now, Process: history.HarnessProcess, Client: client, Type: history.OK,
						F: history.WriteLogEnd, LogLen: history.Int64(int64(len(log)))})
				})
			})
		})
	})
}

// excerpt formats, in at most limit lines, the records of the given increments, their own
// processes' lock records around them, the harness's final read, and the write-log entries near
// theirs; with no ids, the first records and the whole log.
func (r *simRun) excerpt(ids []string, limit int) string {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	// Each wanted increment's window on its own process: from its invoke to its completion,
	// widened to take in the acquire before it and the release after it.
	type window struct {
		proc     int
		from, to int64
	}
	var wins []window
	for _, in := range r.incrs {
		if !want[in.id] {
			continue
		}
		w := window{proc: in.proc, from: in.invoke, to: in.invoke}
		for _, op := range r.ops {
			if op.ID == in.id && op.F == history.Incr {
				w.to = max(w.to, op.Time)
			}
		}
		w.from -= 300 * simUS
		w.to += 300 * simUS
		wins = append(wins, w)
	}
	start := r.ops[0].Time
	var b strings.Builder
	lines := 0
	for _, op := range r.ops {
		show := false
		switch {
		case op.F == history.RunMeta || op.F == history.WriteLog || op.F == history.WriteLogEnd:
		case len(want) == 0 || want[op.ID] || op.Process < 0:
			show = true
		case op.F == history.Acquire || op.F == history.Release:
			for _, w := range wins {
				show = show || op.Process == w.proc && op.Time >= w.from && op.Time <= w.to
			}
		}
		if show && lines < limit {
			lines++
			fmt.Fprintf(&b, "    %s\n", formatOp(op, start))
		}
	}
	// The log entries of the wanted increments and their neighbours.
	near := map[int]bool{}
	for i, in := range r.log {
		if len(want) == 0 || want[in.id] {
			for j := i - 2; j <= i+2; j++ {
				near[j] = true
			}
		}
	}
	var entries []string
	for i, in := range r.log {
		switch {
		case near[i]:
			entries = append(entries, fmt.Sprintf("%d:%s=%d", i+1, in.id, in.written))
		case near[i-1]:
			entries = append(entries, "...")
		}
	}
	if r.logInHist && len(entries) > 0 {
		fmt.Fprintf(&b, "    write log (seq:id=value, %d entries, %d of them before the final read): %s\n", len(r.log), r.atFinal, strings.Join(entries, " "))
	}
	return b.String()
}

func formatOp(op history.Op, start int64) string {
	s := fmt.Sprintf("%11.6fms p%-2d c%-3d %-6s %-7s", float64(op.Time-start)/1e6, op.Process, op.Client, op.Type, op.F)
	if op.ID != "" {
		s += " " + op.ID
	}
	if op.Value != nil {
		s += fmt.Sprintf(" value=%d", *op.Value)
	}
	if op.Seq != 0 {
		s += fmt.Sprintf(" seq=%d", op.Seq)
	}
	if op.LogLen != nil {
		s += fmt.Sprintf(" log_len=%d", *op.LogLen)
	}
	if op.Owner != "" {
		s += " owner=" + op.Owner
	}
	if op.Token != 0 {
		s += fmt.Sprintf(" token=%d", op.Token)
	}
	if op.Deadline != 0 {
		s += fmt.Sprintf(" deadline=+%.3fms", float64(op.Deadline-start)/1e6)
	}
	if op.Error != "" {
		s += " (" + op.Error + ")"
	}
	return s
}

// describeTruth summarises what really happened, for failure messages.
func (r *simRun) describeTruth() string {
	var parts []string
	for _, in := range r.overwrites() {
		var vs []string
		for _, v := range in.victims {
			w := r.log[v-1]
			vs = append(vs, fmt.Sprintf("seq %d %s (%s)", v, w.id, statusName(w.status)))
		}
		parts = append(parts, fmt.Sprintf("%s (%s, read %d, wrote %d as seq %d%s) overwrote %s", in.id, statusName(in.status), in.read, in.written, in.seq,
			map[bool]string{true: ", after the final read"}[in.afterFinal], strings.Join(vs, ", ")))
		if len(parts) == 3 {
			parts = append(parts, "...")
			break
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "no lost update")
	}
	ov, ovv := r.overlaps()
	return fmt.Sprintf("%s; final read %d after %d applied writes (lost before it: %d), %d more applied after it; log %d entries (in history: %v); overlaps %d (%d within validity)",
		strings.Join(parts, "; "), r.final, r.atFinal, r.lostBeforeFinal(), r.afterFinal(), len(r.log), r.logInHist, ov, ovv)
}

func statusName(t history.Type) string {
	if t == "" {
		return "no completion"
	}
	return string(t)
}

// idsOf returns the ids of increments, for excerpts.
func idsOf(ins ...*simIncr) []string {
	var ids []string
	for _, in := range ins {
		ids = append(ids, in.id)
	}
	slices.SortFunc(ids, cmp.Compare)
	return slices.Compact(ids)
}
