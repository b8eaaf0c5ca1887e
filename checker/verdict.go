package checker

import (
	"bytes"
	"fmt"
)

// Validity is a verdict: valid, invalid, or unknown (the checker could not decide).
//
// It marshals to JSON as true, false or "unknown", the way Jepsen writes valid?, so results.json
// can be read by people and by tools that expect a boolean. The zero value is Unknown, so a
// Result that was never filled in claims nothing.
type Validity int8

const (
	// Unknown means no anomaly was found but the check was incomplete: Porcupine ran out of time,
	// the final read is missing, or unresolved increments made part of the history uncheckable.
	Unknown Validity = iota
	// Valid means every check passed.
	Valid
	// Invalid means at least one anomaly was found.
	Invalid
)

// String returns "valid", "invalid" or "unknown".
func (v Validity) String() string {
	switch v {
	case Valid:
		return "valid"
	case Invalid:
		return "invalid"
	default:
		return "unknown"
	}
}

// MarshalJSON encodes Valid as true, Invalid as false and anything else as "unknown".
func (v Validity) MarshalJSON() ([]byte, error) {
	switch v {
	case Valid:
		return []byte("true"), nil
	case Invalid:
		return []byte("false"), nil
	default:
		return []byte(`"unknown"`), nil
	}
}

// UnmarshalJSON accepts what MarshalJSON writes, so stored results can be read back.
func (v *Validity) UnmarshalJSON(b []byte) error {
	switch string(bytes.TrimSpace(b)) {
	case "true":
		*v = Valid
	case "false":
		*v = Invalid
	case `"unknown"`:
		*v = Unknown
	default:
		return fmt.Errorf("validity: want true, false or \"unknown\", got %s", b)
	}
	return nil
}

// judge reaches the verdict from what the checks found: defended says the data had a defence
// besides the lock (fencing, or a client's lease check or extension), so that overlapping holders
// decide nothing by themselves; incomplete why the history lacks something ("" if nothing), blind how many unresolved
// increments had no read value. Why a verdict is not valid goes to warn.
func judge(res *Result, defended bool, incomplete string, blind int64, warn *warnings) Validity {
	a := res.Anomalies
	if a.Nonlinearizable > 0 || a.LostUpdates > 0 || a.StaleWrites > 0 || a.DuplicateReads > 0 || a.LogMismatch > 0 {
		return Invalid
	}
	if a.Overlaps > 0 && !defended {
		return Invalid
	}
	if a.Overlaps > 0 {
		warn.add("%d overlap(s) of believed-held intervals: with fencing, or clients that check or extend their lease before writing, they do not decide the verdict, the data checks do", a.Overlaps)
	}
	if res.Linearizability.Result != linOK {
		return Unknown
	}
	if incomplete != "" {
		warn.add("the history is incomplete (%s), so the verdict is unknown", incomplete)
		return Unknown
	}
	if res.FinalValue == nil {
		// Without the final read, increments that were acknowledged and then lost cannot be seen.
		warn.add("no final read of the counter: lost updates cannot be counted, so the verdict is unknown")
		return Unknown
	}
	if blind > 0 {
		// An unresolved increment without a read value could have written anything at any later
		// time; the model had to forget the counter there, so "valid" would claim too much.
		warn.add("%d unresolved increment(s) had no read value: the counter could not be followed across them, so the verdict is unknown", blind)
		return Unknown
	}
	return Valid
}
