package checker

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/locktest/locktest/history"
)

// base is an arbitrary CLOCK_MONOTONIC origin for test histories, far from zero like a real one.
const base = int64(5_000) * 1e9

const (
	us = int64(1e3)
	ms = int64(1e6)
)

// synthConfig describes a synthetic history: processes looping acquire → incr → release under a
// working lock, optionally with one lost update injected.
type synthConfig struct {
	processes int
	incrs     int
	seed      uint64
	// lostAt, if positive, makes increment lostAt read the same value as increment lostAt-1
	// (done by another process), so one update is lost.
	lostAt int
	// lostOverlap makes those two critical sections overlap in time (the lock let both in);
	// otherwise the second simply reads a stale value later.
	lostOverlap bool
	noLog       bool
	noFinal     bool
}

// synthetic builds the history described by cfg, in time order as a harness would write it:
// meta, then per increment acquire ok, incr invoke/ok, release invoke/ok and the next acquire
// invoke of the same process, then the final read and the write log.
func synthetic(cfg synthConfig) []history.Op {
	rng := rand.New(rand.NewPCG(cfg.seed, 42))
	n := cfg.processes
	ops := make([]history.Op, 0, cfg.incrs*6+cfg.incrs+n+4)
	emit := func(op history.Op) { ops = append(ops, op) }
	emit(history.Op{Time: base, Process: history.HarnessProcess, Client: -1, Type: history.Invoke, F: history.RunMeta,
		Meta: &history.Meta{Backend: "synthetic", Clients: n, TTLMs: 5000, Initial: 0}})
	t := base + ms
	seqNo := make([]int, n)
	for p := range n {
		emit(history.Op{Time: t, Process: p, Client: p, Type: history.Invoke, F: history.Acquire, ID: fmt.Sprintf("p%d-a0", p)})
	}
	t += ms
	type write struct {
		id    string
		value int64
	}
	var log []write
	var counter int64
	prev := -1
	for k := 0; k < cfg.incrs; k++ {
		p := rng.IntN(n)
		if k == cfg.lostAt && p == prev {
			p = (p + 1) % n // the lost update needs two different processes
		}
		seqNo[p]++
		id := fmt.Sprintf("p%d-%d", p, seqNo[p])
		owner := fmt.Sprintf("p%d-l%d", p, seqNo[p])
		read := counter
		start := t
		if k == cfg.lostAt && k > 0 {
			read = counter - 1 // what the previous increment read
			if cfg.lostOverlap {
				// Slide into the previous critical section, which spans [t-600µs, t-100µs]:
				// acquire while it still holds the lock and read before it wrote.
				start = t - 550*us
			}
		}
		emit(history.Op{Time: start, Process: p, Client: p, Type: history.OK, F: history.Acquire, ID: fmt.Sprintf("p%d-a%d", p, seqNo[p]),
			Owner: owner, Token: uint64(k + 1), Deadline: start + 5000*ms})
		emit(history.Op{Time: start + 100*us, Process: p, Client: p, Type: history.Invoke, F: history.Incr, ID: id})
		emit(history.Op{Time: start + 300*us, Process: p, Client: p, Type: history.OK, F: history.Incr, ID: id, Value: history.Int64(read)})
		emit(history.Op{Time: start + 400*us, Process: p, Client: p, Type: history.Invoke, F: history.Release, ID: id + "-r", Owner: owner})
		emit(history.Op{Time: start + 500*us, Process: p, Client: p, Type: history.OK, F: history.Release, ID: id + "-r"})
		emit(history.Op{Time: start + 501*us, Process: p, Client: p, Type: history.Invoke, F: history.Acquire, ID: fmt.Sprintf("p%d-a%d", p, seqNo[p]+1)})
		log = append(log, write{id, read + 1})
		counter = read + 1
		prev = p
		t = max(t, start+600*us)
	}
	t += ms
	if !cfg.noFinal {
		emit(history.Op{Time: t, Process: history.HarnessProcess, Client: 1 << 20, Type: history.Invoke, F: history.Read, ID: "final"})
		emit(history.Op{Time: t + ms, Process: history.HarnessProcess, Client: 1 << 20, Type: history.OK, F: history.Read, ID: "final", Value: history.Int64(counter)})
		t += 2 * ms
	}
	if !cfg.noLog {
		for i, w := range log {
			emit(history.Op{Time: t, Process: history.HarnessProcess, Client: -1, Type: history.OK, F: history.WriteLog, ID: w.id,
				Value: history.Int64(w.value), Seq: int64(i + 1)})
		}
		emit(history.Op{Time: t, Process: history.HarnessProcess, Client: -1, Type: history.OK, F: history.WriteLogEnd,
			LogLen: history.Int64(int64(len(log)))})
	}
	return ops
}

// builder makes small hand-written histories. Times are in milliseconds after base.
type builder struct {
	ops []history.Op
}

func newBuilder(initial int64) *builder {
	b := &builder{}
	b.ops = append(b.ops, history.Op{Time: base, Process: history.HarnessProcess, Client: -1, Type: history.Invoke, F: history.RunMeta,
		Meta: &history.Meta{Backend: "test", Initial: initial}})
	return b
}

func at(msec float64) int64 { return base + int64(msec*float64(ms)) }

// incr records an increment of process p from call to ret (ms); typ is its completion type,
// "" for none; read is the value read, or nil.
func (b *builder) incr(p, client int, id string, call, ret float64, typ history.Type, read *int64) *builder {
	b.ops = append(b.ops, history.Op{Time: at(call), Process: p, Client: client, Type: history.Invoke, F: history.Incr, ID: id})
	if typ != "" {
		b.ops = append(b.ops, history.Op{Time: at(ret), Process: p, Client: client, Type: typ, F: history.Incr, ID: id, Value: read})
	}
	return b
}

// ok records an increment that completed ok after reading read.
func (b *builder) ok(p int, id string, call, ret float64, read int64) *builder {
	return b.incr(p, p, id, call, ret, history.OK, history.Int64(read))
}

// hold records an acquisition returning at start (ms) and, if end >= 0, a release invoked at end.
func (b *builder) hold(p int, token uint64, start, end, deadline float64) *builder {
	owner := fmt.Sprintf("owner-%d", token)
	b.ops = append(b.ops,
		history.Op{Time: at(start) - ms/10, Process: p, Client: p, Type: history.Invoke, F: history.Acquire, ID: owner + "-a"},
		history.Op{Time: at(start), Process: p, Client: p, Type: history.OK, F: history.Acquire, ID: owner + "-a", Owner: owner, Token: token, Deadline: at(deadline)})
	if end >= 0 {
		b.ops = append(b.ops,
			history.Op{Time: at(end), Process: p, Client: p, Type: history.Invoke, F: history.Release, ID: owner + "-r", Owner: owner},
			history.Op{Time: at(end) + ms/10, Process: p, Client: p, Type: history.OK, F: history.Release, ID: owner + "-r"})
	}
	return b
}

// log appends write-log entries for the given op ids, writing 1, 2, 3, ... after initial in order,
// unless values are given explicitly with logValues.
func (b *builder) log(initial int64, ids ...string) *builder {
	for i, id := range ids {
		b.logEntry(id, initial+int64(i)+1, int64(i+1))
	}
	return b
}

// logEntry appends one write-log entry, and keeps the log closed by a write-log-end record that
// counts every entry so far (use cutLog to drop it).
func (b *builder) logEntry(id string, value, seq int64) *builder {
	b.cutLog()
	n := int64(1)
	for _, op := range b.ops {
		if op.F == history.WriteLog {
			n++
		}
	}
	b.ops = append(b.ops, history.Op{Time: at(10_000), Process: history.HarnessProcess, Client: -1, Type: history.OK, F: history.WriteLog,
		ID: id, Value: history.Int64(value), Seq: seq},
		history.Op{Time: at(10_000), Process: history.HarnessProcess, Client: -1, Type: history.OK, F: history.WriteLogEnd, LogLen: history.Int64(n)})
	return b
}

// emptyLog records a write log with no entries: the storage applied no write.
func (b *builder) emptyLog() *builder {
	b.cutLog()
	b.ops = append(b.ops, history.Op{Time: at(10_000), Process: history.HarnessProcess, Client: -1, Type: history.OK, F: history.WriteLogEnd, LogLen: history.Int64(0)})
	return b
}

// cutLog removes the write-log-end record, as a log cut short would lack it.
func (b *builder) cutLog() *builder {
	b.ops = slices.DeleteFunc(b.ops, func(op history.Op) bool { return op.F == history.WriteLogEnd })
	return b
}

// final records the harness's final read at time ms.
func (b *builder) final(msec float64, value int64) *builder {
	b.ops = append(b.ops,
		history.Op{Time: at(msec), Process: history.HarnessProcess, Client: 1 << 20, Type: history.Invoke, F: history.Read, ID: "final"},
		history.Op{Time: at(msec + 1), Process: history.HarnessProcess, Client: 1 << 20, Type: history.OK, F: history.Read, ID: "final", Value: history.Int64(value)})
	return b
}

// newRand returns a seeded generator, so test histories are the same on every run.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 7)) }
