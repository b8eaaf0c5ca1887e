package termview

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

func running(sec int, ok int64) Snapshot {
	return Snapshot{Phase: PhaseRunning, Elapsed: time.Duration(sec) * time.Second, OK: ok, Workers: 5}
}

// Plain mode: today's line every five seconds, narration passed through as it is, the final counts
// once on Close, and not one escape code.
func TestRenderPlain(t *testing.T) {
	var buf bytes.Buffer
	v := NewMode(&buf, 15*time.Second, false)
	fmt.Fprintf(v, "running redlock with 5 clients for 15s (ttl 5s)\n  Step 1/3 : FROM debian\n")
	v.Update(Snapshot{Phase: PhaseStarting})
	for sec := 1; sec <= 12; sec++ {
		s := running(sec, int64(100*sec))
		if sec == 11 {
			s.Faults = []string{"pause-node n3"}
			s.Overlaps = 1
		}
		v.Update(s)
	}
	v.Update(Snapshot{Phase: PhaseChecking, Elapsed: 15 * time.Second, OK: 1500, Workers: 0})
	v.Close()
	v.Close()
	want := "running redlock with 5 clients for 15s (ttl 5s)\n" +
		"  Step 1/3 : FROM debian\n" +
		"      1s/15s  increments ok=100 fail=0 info=0  100 ops/s  workers=5\n" +
		"      6s/15s  increments ok=600 fail=0 info=0  100 ops/s  workers=5\n" +
		"     11s/15s  increments ok=1100 fail=0 info=0  100 ops/s  workers=5  faults: pause-node n3  provisional: overlaps=1 duplicate-writes=0\n" +
		"     15s/15s  increments ok=1500 fail=0 info=0  100 ops/s  workers=0\n"
	if got := buf.String(); got != want {
		t.Errorf("plain output:\n%s\nwant:\n%s", got, want)
	}
}

// A new run (as in a matrix) starts the plain schedule over.
func TestRenderPlainNewRun(t *testing.T) {
	var buf bytes.Buffer
	v := NewMode(&buf, 10*time.Second, false)
	v.Update(running(1, 10))
	v.Update(Snapshot{Phase: PhaseStarting})
	v.Update(running(1, 20))
	if n := strings.Count(buf.String(), "1s/10s"); n != 2 {
		t.Errorf("first line of the second run missing:\n%s", buf.String())
	}
}

// Live mode: the block is redrawn in place, narration goes above it, build steps become the
// block's build line, and Close leaves the final state and the cursor on a fresh line.
func TestRenderLive(t *testing.T) {
	var buf bytes.Buffer
	v := NewMode(&buf, 20*time.Second, true)
	now := time.Unix(1000, 0)
	v.mu.Lock()
	v.now = func() time.Time { return now }
	v.mu.Unlock()

	v.Update(Snapshot{Phase: PhaseStarting})
	fmt.Fprintf(v, "  Step 2/7 : RUN apt-get install")
	fmt.Fprintf(v, " redis\n")
	v.mu.Lock()
	got := v.frame(now)
	v.mu.Unlock()
	if len(got) != 1 || got[0] != "  building image: step 2/7  RUN apt-get install redis" {
		t.Errorf("build line: %q", got)
	}
	fmt.Fprintf(v, "built image locktest-redis:abc in 40s\n")

	v.SetHeader("  cell 2/6  redlock none pause-node")
	for sec := 1; sec <= 10; sec++ {
		s := running(sec, int64(50*sec))
		if sec > 4 {
			s.OK += int64(50 * (sec - 4)) // twice as fast for the last five seconds
		}
		s.Faults, s.HoldersNow, s.Overlaps, s.DuplicateWrites = []string{"pause-node n3", "clock n1"}, 2, 3, 1
		v.Update(s)
	}
	v.mu.Lock()
	got = v.frame(now.Add(400 * time.Millisecond))
	v.mu.Unlock()
	want := []string{
		"  cell 2/6  redlock none pause-node",
		"  running     [###############...............]   10s/20s",
		"     100 ops/s   increments ok 800  fail 0  info 0   workers 5",
		"  faults now: pause-node n3; clock n1",
		"  provisional (the checker decides after the run): holders now 2, overlaps 3, duplicate writes 1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("running frame:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	v.Update(Snapshot{Phase: PhaseChecking, Elapsed: 20 * time.Second, OK: 1800, Workers: 0})
	v.Close()
	out := buf.String()
	if strings.Contains(out, "Step 2/7") {
		t.Errorf("a build step scrolled by instead of being the build line:\n%q", out)
	}
	if !strings.Contains(out, "built image locktest-redis:abc in 40s\n") {
		t.Errorf("narration missing:\n%q", out)
	}
	last := out[strings.LastIndex(out, "\x1b[J"):]
	for _, s := range []string{"finished", "[##############################]   20s/20s", "ok 1800", "80 ops/s on average"} {
		if !strings.Contains(last, s) {
			t.Errorf("final block lacks %q:\n%q", s, last)
		}
	}
	if strings.Contains(last, "faults now") || !strings.HasSuffix(out, "\n") {
		t.Errorf("final block: faults shown after the run, or the cursor not on a fresh line:\n%q", last)
	}
	// Closed: nothing is redrawn any more, and later lines go straight through.
	n := buf.Len()
	time.Sleep(2 * redrawEvery)
	fmt.Fprintf(v, "summary\n")
	if got := buf.String()[n:]; got != "summary\n" {
		t.Errorf("after Close: %q", got)
	}
}

// The live block never wraps, or redrawing would leave copies of it behind.
func TestRenderLiveCutsLines(t *testing.T) {
	var buf bytes.Buffer
	v := NewMode(&buf, time.Minute, true)
	v.mu.Lock()
	v.width = func() int { return 40 }
	v.mu.Unlock()
	v.Update(running(1, 10))
	v.Close()
	for _, l := range strings.Split(buf.String(), "\n") {
		if i := strings.LastIndex(l, "\x1b[2K"); i >= 0 {
			l = l[i+len("\x1b[2K"):]
		}
		if len([]rune(l)) > 40 {
			t.Errorf("line longer than the terminal: %q", l)
		}
	}
}

// Reading progress is for people at a terminal: elsewhere (a pipe, a CI log) it shows nothing.
func TestReadProgressOnlyOnATerminal(t *testing.T) {
	var buf bytes.Buffer
	update, done := ReadProgress(&buf)
	if update != nil {
		t.Errorf("a progress line for a buffer")
	}
	done()
	if buf.Len() != 0 {
		t.Errorf("wrote %q", buf.String())
	}
}
