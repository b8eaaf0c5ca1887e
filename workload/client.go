package workload

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/locktest/locktest/lock"
)

// Client is how each client uses the lock beyond acquire → read → write → release: the choices
// real lock users make (check the lease before acting, work inside the critical section, extend
// the lease while working), put under the nemesis like the plain loop. The zero value is the
// plain loop.
//
// In loop order: after its read (hook after-read) the client works for Work, extending its lease
// whenever less than half a TTL of validity is left if Extend is set; then, with GuardValidity,
// it checks its lease; then it reaches hook before-write and writes. A check that fails, or an
// extension that does not succeed, makes the client skip its write: a definite fail, recorded
// with the reason and marked skipped. A scenario that holds a client at before-write stops it
// right after a check it passed.
type Client struct {
	// Guard is the check the client makes just before it writes.
	Guard Guard `json:"guard,omitempty"`
	// GuardMargin is, with GuardValidity, the least validity the lease must have left for the
	// client to write; 0 skips only a write whose lease has run out.
	GuardMargin time.Duration `json:"guard_margin,omitempty"`
	// Work is how long the client works inside the critical section, between its read and its
	// write.
	Work Work `json:"work,omitzero"`
	// Extend makes the client extend its lease while it works (lock.Extender).
	Extend bool `json:"extend,omitempty"`
}

// Guard names the check a client makes before it writes.
type Guard string

const (
	// GuardNone writes without checking anything: the plain loop.
	GuardNone Guard = ""
	// GuardValidity skips the write when the lease has no more than the margin of validity left by
	// the client's own clock: the check Redlock's documentation asks clients to make.
	GuardValidity Guard = "validity"
)

// ParseGuard reads a --guard value: none (or empty) or validity.
func ParseGuard(s string) (Guard, error) {
	switch s {
	case "", "none":
		return GuardNone, nil
	case string(GuardValidity):
		return GuardValidity, nil
	}
	return GuardNone, fmt.Errorf("unknown guard %q: none or validity", s)
}

func (g Guard) String() string {
	if g == GuardNone {
		return "none"
	}
	return string(g)
}

// Work is a time spent inside the critical section, drawn uniformly from [Min, Max] for each
// increment. It is written "50ms" (Min = Max) or "20ms-200ms".
type Work struct{ Min, Max time.Duration }

// ParseWork reads a Work as String writes it; "" and "0" are no work.
func ParseWork(s string) (Work, error) {
	lo, hi, ranged := strings.Cut(strings.TrimSpace(s), "-")
	if lo == "" && !ranged {
		return Work{}, nil
	}
	min, err := time.ParseDuration(lo)
	if err != nil {
		return Work{}, fmt.Errorf("work %q: want a duration (50ms) or a range (20ms-200ms)", s)
	}
	max := min
	if ranged {
		if max, err = time.ParseDuration(hi); err != nil {
			return Work{}, fmt.Errorf("work %q: want a duration (50ms) or a range (20ms-200ms)", s)
		}
	}
	w := Work{min, max}
	if min < 0 || max < min {
		return Work{}, fmt.Errorf("work %q: want 0 ≤ min ≤ max", s)
	}
	return w, nil
}

func (w Work) String() string {
	switch {
	case w.Max == 0:
		return ""
	case w.Min == w.Max:
		return w.Min.String()
	}
	return w.Min.String() + "-" + w.Max.String()
}

// MarshalText writes w as String does.
func (w Work) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// UnmarshalText reads what MarshalText writes.
func (w *Work) UnmarshalText(b []byte) (err error) {
	*w, err = ParseWork(string(b))
	return err
}

// draw returns one increment's work.
func (w Work) draw(r *rand.Rand) time.Duration {
	if w.Max <= w.Min {
		return w.Min
	}
	return w.Min + time.Duration(r.Int64N(int64(w.Max-w.Min)+1))
}

// Check says whether c can run with lease time ttl on backend d.
func (c Client) Check(ttl time.Duration, d *lock.Driver) error {
	switch {
	case c.Guard != GuardNone && c.Guard != GuardValidity:
		return fmt.Errorf("unknown guard %q: none or validity", c.Guard)
	case c.GuardMargin < 0:
		return fmt.Errorf("--guard-margin must not be negative, got %v", c.GuardMargin)
	case c.GuardMargin > 0 && c.Guard != GuardValidity:
		return fmt.Errorf("--guard-margin %v needs --guard validity", c.GuardMargin)
	case c.GuardMargin >= ttl:
		return fmt.Errorf("--guard-margin %v is not below the TTL (%v): every write would be skipped", c.GuardMargin, ttl)
	case c.Work.Min < 0 || c.Work.Max < c.Work.Min:
		return fmt.Errorf("--work %v: want 0 ≤ min ≤ max", c.Work)
	}
	if c.Extend {
		return d.CheckExtend()
	}
	return nil
}
