package checker

import (
	"cmp"
	"fmt"
	"slices"
)

// checkCounter does the accounting that needs no linearizability search: acknowledged
// increments against the final value, values read twice, and a write log that does not rise.
// These are cheap, exact, and name the culprits, which a failed Porcupine check does not.
func checkCounter(r *run, res *Result) {
	for i := range r.incrs {
		switch in := &r.incrs[i]; {
		case in.outcome == outApplied && in.late:
			res.AppliedAfterFinalRead++
		case in.outcome == outApplied:
			res.Acknowledged++
		}
	}
	res.Anomalies.Unresolved = r.counts.InfoUnresolved
	if r.final >= 0 {
		fr := r.reads[r.final]
		v := fr.value
		res.FinalValue = &v
		if lost := res.Acknowledged - (v - r.initial); lost > 0 {
			res.Anomalies.LostUpdates = lost
			res.Examples = append(res.Examples, Example{
				Kind: "lost_updates",
				Text: fmt.Sprintf("the final read at %s returned %d, but %d increments from the initial %d were acknowledged: %d update(s) lost",
					r.at(fr.ret), v, res.Acknowledged, r.initial, lost),
				Time: fr.ret,
			})
		}
	}
	duplicateReads(r, res)
	staleWrites(r, res)
}

// duplicateReads counts applied increments that read a value another applied increment also
// read. Under a working lock every applied increment reads a different value, so each repeat is
// an increment whose effect was overwritten.
func duplicateReads(r *run, res *Result) {
	type key struct {
		read int64
		call int64
		proc int
		i    int32
	}
	keys := make([]key, 0, len(r.incrs))
	for i := range r.incrs {
		in := &r.incrs[i]
		if in.outcome == outApplied && in.hasRead {
			keys = append(keys, key{in.read, in.call, in.process, int32(i)})
		}
	}
	// Ties in call by process, so the example does not depend on the sort's whims.
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.read, b.read), cmp.Compare(a.call, b.call), cmp.Compare(a.proc, b.proc), cmp.Compare(a.i, b.i))
	})
	var best []key // the group of the earliest repeat, for the example
	for lo := 0; lo < len(keys); {
		hi := lo + 1
		for hi < len(keys) && keys[hi].read == keys[lo].read {
			hi++
		}
		if hi-lo > 1 {
			res.Anomalies.DuplicateReads += int64(hi - lo - 1)
			if best == nil || keys[lo+1].call < best[1].call {
				best = keys[lo:hi]
			}
		}
		lo = hi
	}
	if best == nil {
		return
	}
	a, b := &r.incrs[best[0].i], &r.incrs[best[1].i]
	text := fmt.Sprintf("process %d (client %d, op %s) at %s and process %d (client %d, op %s) at %s both read %d and wrote %d",
		a.process, a.client, a.id, r.at(a.call), b.process, b.client, b.id, r.at(b.call), a.read, a.written())
	if n := len(best) - 2; n > 0 {
		text += fmt.Sprintf(", and so did %d more", n)
	}
	res.Examples = append(res.Examples, Example{
		Kind: "duplicate_reads", Text: text, Time: b.call, Processes: distinct(a.process, b.process),
	})
}

// staleWrites walks the write log in storage order and counts writes that did not raise the
// counter above everything written before: the signature of a delayed or unfenced write that
// landed after a newer one.
//
// Every entry counts, those after the final read too: storage order is storage order.
func staleWrites(r *run, res *Result) {
	top := -1 // index of the entry with the highest value so far
	for j := range r.log {
		e := &r.log[j]
		if top >= 0 && e.value <= r.log[top].value {
			res.Anomalies.StaleWrites++
			if res.Anomalies.StaleWrites == 1 {
				res.Examples = append(res.Examples, r.staleExample(j, top))
			}
		}
		if top < 0 || e.value > r.log[top].value {
			top = j
		}
	}
}

func (r *run) staleExample(j, top int) Example {
	e, t := &r.log[j], &r.log[top]
	how := "went back"
	if e.value == t.value {
		how = "stood still"
	}
	ex := Example{Kind: "stale_writes", Time: r.end}
	who := func(l *logEntry) string {
		if l.incr < 0 {
			return fmt.Sprintf("op %s", l.id)
		}
		in := &r.incrs[l.incr]
		ex.Processes = append(ex.Processes, in.process)
		return fmt.Sprintf("op %s, process %d, invoked at %s", l.id, in.process, r.at(in.call))
	}
	late, early := who(e), who(t)
	if e.incr >= 0 {
		ex.Time = r.incrs[e.incr].call
	}
	ex.Text = fmt.Sprintf("write %d in storage order (%s) set the counter to %d after write %d (%s) had set it to %d: the counter %s",
		e.seq, late, e.value, t.seq, early, t.value, how)
	ex.Processes = distinct(ex.Processes...)
	return ex
}

// distinct returns ps without repeats, in first-seen order.
func distinct(ps ...int) []int {
	var out []int
	for _, p := range ps {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}
