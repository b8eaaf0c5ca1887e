// Package histgen generates realistic histories of a redis-single run from a seed, for the history
// format's size test, round trips and benchmarks: measured against what real runs record, not
// against toy records.
package histgen

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"

	"github.com/locktest/locktest/history"
)

// Processes is the number of worker processes of a generated run, the default of locktest test.
const Processes = 5

// RedisSingle returns the history of a redis-single run of the given number of lock-protected
// increments by Processes processes, as the harness records it: the meta record; each process
// looping acquire → increment → release, the others waiting in acquire meanwhile; times of
// CLOCK_MONOTONIC in nanoseconds 50-500 µs apart; random 24-hex-digit owners, rising fencing
// tokens, deadlines one TTL ahead; now and then an increment or acquisition that times out
// (info: the process continues as a new client), a fault window of the nemesis; then the final
// read and the storage's write log, one entry per applied increment. The same seed gives the same
// history.
func RedisSingle(seed int64, increments int) []history.Op {
	var ops []history.Op
	Stream(seed, increments, func(op history.Op) { ops = append(ops, op) })
	return ops
}

// Stream hands the records RedisSingle returns to emit one at a time, for histories too long to
// hold in memory (the 10M-increment case of `locktest analyze`): it keeps 8 bytes per applied
// increment, for the write log at the end.
func Stream(seed int64, increments int, emit func(history.Op)) {
	g := &gen{rng: rand.New(rand.NewPCG(uint64(seed), 0x10c4)), now: 254_223_234_862, emit: emit}
	g.run(increments)
}

const ttl = int64(5e9)

type gen struct {
	rng     *rand.Rand
	now     int64
	emit    func(history.Op)
	counter int64
	token   uint64
	clients [Processes]int
	incrs   [Processes]int
	// log is the storage's write log, in order: entry i wrote i+1, by the increment it names.
	log    []logEntry
	faults int
}

// logEntry names increment p<process>-<n>.
type logEntry struct {
	process uint8
	n       uint32
}

// tick advances the clock by 50-500 µs and returns it.
func (g *gen) tick() int64 {
	g.now += 50_000 + g.rng.Int64N(450_000)
	return g.now
}

// add records op of process p; the harness's and the nemesis's records have client 0 unless set.
func (g *gen) add(p int, t history.Type, f history.F, op history.Op) {
	op.Time, op.Process, op.Type, op.F = g.tick(), p, t, f
	if p >= 0 {
		op.Client = g.clients[p]
	}
	g.emit(op)
}

func (g *gen) run(increments int) {
	cfg := fmt.Sprintf(`{"backend":"redis-single","nodes":0,"clients":%d,"ttl":"5s","time_limit":"30s","seed":%d,"acquire_timeout":"10s","storage_timeout":"1s","fencing":"none","persistence":"none","fault_interval":"5s","cluster":"containers"}`, Processes, g.rng.Int64())
	g.emit(history.Op{Time: g.now, Process: history.HarnessProcess, F: history.RunMeta, Meta: &history.Meta{
		Format: history.FormatVersion, Backend: "redis-single", Clients: Processes, Nodes: 1, TTLMs: ttl / 1e6, Seed: 42,
		RunID: "20261202-140443-a4ac63", Fencing: "none", Started: "2026-12-02T14:04:43Z", Version: "devel", Config: []byte(cfg)}})
	for p := range Processes {
		g.clients[p] = p
		g.add(p, history.Invoke, history.Acquire, history.Op{})
	}
	for done := 0; done < increments; {
		p := g.rng.IntN(Processes)
		if g.rng.IntN(2000) == 0 {
			g.fault()
		}
		if g.rng.IntN(500) == 0 { // an acquisition that timed out: unknown, a new client
			g.add(p, history.Info, history.Acquire, history.Op{Error: "context deadline exceeded"})
			g.clients[p] += Processes
			g.add(p, history.Invoke, history.Acquire, history.Op{})
			continue
		}
		g.cycle(p)
		done++
	}
	g.finish()
}

// cycle is one turn of process p, which was waiting in acquire: it gets the lock, increments
// and releases, then waits again.
func (g *gen) cycle(p int) {
	owner := g.owner()
	g.token++
	deadline := g.now + ttl - g.rng.Int64N(100_000)
	g.add(p, history.OK, history.Acquire, history.Op{Owner: owner, Token: g.token, Deadline: deadline})
	g.incrs[p]++
	id := fmt.Sprintf("p%d-%d", p, g.incrs[p])
	g.add(p, history.Invoke, history.Incr, history.Op{ID: id})
	read := g.counter
	if g.rng.IntN(300) == 0 { // a storage timeout: maybe applied, the write log says
		g.add(p, history.Info, history.Incr, history.Op{ID: id, Error: "storage write: i/o timeout"})
		g.clients[p] += Processes
		if g.rng.IntN(2) == 0 {
			g.apply(p)
		}
	} else {
		g.apply(p)
		g.add(p, history.OK, history.Incr, history.Op{ID: id, Value: history.Int64(read)})
	}
	g.add(p, history.Invoke, history.Release, history.Op{Owner: owner, Token: g.token})
	g.add(p, history.OK, history.Release, history.Op{Owner: owner})
	g.add(p, history.Invoke, history.Acquire, history.Op{})
}

// apply records the storage's write of process p's current increment.
func (g *gen) apply(p int) {
	g.counter++
	g.log = append(g.log, logEntry{uint8(p), uint32(g.incrs[p])})
}

func (g *gen) owner() string {
	var b [12]byte
	for i := range b {
		b[i] = byte(g.rng.UintN(256))
	}
	return hex.EncodeToString(b[:])
}

// fault records a fault window: a client paused, or the node partitioned off.
func (g *gen) fault() {
	g.faults++
	op := history.Op{ID: fmt.Sprintf("f%d", g.faults), Fault: "partition", Targets: []string{"n1"}, Detail: "drop"}
	if g.rng.IntN(2) == 0 {
		op.Fault, op.Targets, op.Detail = "pause-client", []string{fmt.Sprintf("p%d", g.rng.IntN(Processes))}, "SIGSTOP"
	}
	g.add(history.NemesisProcess, history.Invoke, history.Nemesis, op)
	g.add(history.NemesisProcess, history.OK, history.Nemesis, op)
}

// finish records the final read and the write log.
func (g *gen) finish() {
	n := int64(len(g.log))
	g.add(history.HarnessProcess, history.Invoke, history.Read, history.Op{Client: -1})
	g.add(history.HarnessProcess, history.OK, history.Read, history.Op{Client: -1, Value: history.Int64(g.counter), LogLen: history.Int64(n)})
	at := g.tick()
	for i, e := range g.log {
		g.emit(history.Op{Time: at, Process: history.HarnessProcess, Client: -1, Type: history.OK, F: history.WriteLog,
			ID: fmt.Sprintf("p%d-%d", e.process, e.n), Value: history.Int64(int64(i + 1)), Seq: int64(i + 1)})
	}
	g.emit(history.Op{Time: at, Process: history.HarnessProcess, Client: -1, Type: history.OK, F: history.WriteLogEnd, LogLen: history.Int64(n)})
}
