package workload

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/cluster/clustertest"
	"github.com/locktest/locktest/lock"
)

func storageNode(t *testing.T) string {
	t.Helper()
	_, c := clustertest.Start(t, 0, cluster.NoPersistence)
	return c.Storage().Addr
}

func TestFencedStorage(t *testing.T) {
	addr := storageNode(t)
	ctx := context.Background()
	for _, mode := range []Fencing{FenceReadsWrites, FenceWritesOnly} {
		t.Run(string(mode), func(t *testing.T) {
			s := NewStorage(addr, time.Second, mode)
			defer s.Close()
			if err := s.Reset(ctx); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(ctx, "a", 1, tok(5)); err != nil {
				t.Fatalf("write with token 5: %v", err)
			}
			// A stale holder's read: rejected only when reads are fenced.
			v, err := s.Read(ctx, tok(4))
			if mode == FenceReadsWrites && !errors.Is(err, ErrFenced) {
				t.Errorf("read with token 4 after 5: %v, %v; want ErrFenced", v, err)
			}
			if mode == FenceWritesOnly && (err != nil || v != 1) {
				t.Errorf("unfenced read: %v, %v; want 1", v, err)
			}
			if err := s.Write(ctx, "b", 2, tok(4)); !errors.Is(err, ErrFenced) {
				t.Errorf("write with token 4 after 5: %v, want ErrFenced", err)
			}
			if err := s.Write(ctx, "c", 2, tok(5)); err != nil {
				t.Errorf("same holder writing again with token 5: %v", err)
			}
			log, err := writeLog(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			if len(log) != 2 || log[0].OpID != "a" || log[1].OpID != "c" {
				t.Errorf("write log %+v: the rejected write must not be in it", log)
			}
		})
	}
}

// tok is a lease with fencing token t.
func tok(t uint64) lock.Lease { return lock.Lease{Owner: fmt.Sprint("owner-", t), Token: t} }

// antirez's check at the resource: a write goes through only while the resource still carries the
// mark its lease's read left, whatever the lease's token.
func TestCheckAndSetStorage(t *testing.T) {
	ctx := context.Background()
	s := NewStorage(storageNode(t), time.Second, FenceCheckAndSet)
	defer s.Close()
	a, b := lock.Lease{Owner: "a"}, lock.Lease{Owner: "b"} // no tokens: Redlock's leases
	if v, err := s.Read(ctx, a); err != nil || v != 0 {
		t.Fatalf("a's read: %v, %v", v, err)
	}
	if v, err := s.Read(ctx, b); err != nil || v != 0 {
		t.Fatalf("b's read: %v, %v", v, err)
	}
	// b marked the resource after a read it: a's write is refused, b's goes through.
	if err := s.Write(ctx, "a1", 1, a); !errors.Is(err, ErrFenced) {
		t.Errorf("a's write after b's read: %v, want ErrFenced", err)
	}
	if err := s.Write(ctx, "b1", 1, b); err != nil {
		t.Errorf("b's write: %v", err)
	}
	if err := s.Write(ctx, "b2", 2, b); err != nil {
		t.Errorf("b writing again under its own mark: %v", err)
	}
	log, err := writeLog(ctx, s)
	if err != nil || len(log) != 2 || log[0].OpID != "b1" || log[1].OpID != "b2" {
		t.Errorf("write log %+v (%v): the refused write must not be in it", log, err)
	}
}

func TestUnfencedStorageAndLog(t *testing.T) {
	addr := storageNode(t)
	ctx := context.Background()
	s := NewStorage(addr, time.Second, NoFencing)
	defer s.Close()
	if v, err := s.Read(ctx, tok(0)); err != nil || v != 0 {
		t.Fatalf("fresh counter: %v, %v", v, err)
	}
	for i := int64(1); i <= 12000; i++ { // more than one page of the log
		if err := s.Write(ctx, "op", i, tok(0)); err != nil {
			t.Fatal(err)
		}
	}
	if v, _ := s.Read(ctx, tok(0)); v != 12000 {
		t.Errorf("counter %d, want 12000", v)
	}
	log, err := writeLog(ctx, s)
	if err != nil || len(log) != 12000 || log[11999].Value != 12000 {
		t.Errorf("write log of %d entries (%v), want 12000 in order", len(log), err)
	}
}

func TestParseFencing(t *testing.T) {
	for in, want := range map[string]Fencing{"": NoFencing, "none": NoFencing, "reads-writes": FenceReadsWrites, "writes-only": FenceWritesOnly, "check-and-set": FenceCheckAndSet} {
		if got, err := ParseFencing(in); err != nil || got != want {
			t.Errorf("ParseFencing(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseFencing("sometimes"); err == nil {
		t.Error("unknown fencing accepted")
	}
}

// writeLog collects the storage's write log, checking that EachLogEntry numbers it from 1 on.
func writeLog(ctx context.Context, s *Storage) ([]LogEntry, error) {
	var out []LogEntry
	_, err := s.EachLogEntry(ctx, func(seq int, e LogEntry) error {
		if seq != len(out)+1 {
			return fmt.Errorf("write log entry %d handed over as %d", len(out)+1, seq)
		}
		out = append(out, e)
		return nil
	})
	return out, err
}
