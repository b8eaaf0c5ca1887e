// Package termview shows a run's progress. On a terminal it keeps a few lines at the bottom and
// redraws them in place about four times a second; anywhere else (a CI log, a file, a pipe) it
// prints one plain line every five seconds, so logs stay readable and free of escape codes.
//
// A View is also an io.Writer for the run's narration and logs: whole lines go above the live
// block (or straight through in plain mode), and image build steps ("Step N/M : ...") become the
// block's build line on a terminal instead of scrolling by.
package termview

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Phases of a run, as the harness reports them.
const (
	PhaseStarting = "starting cluster"
	PhaseRunning  = "running"
	PhaseStopping = "stopping"
	PhaseChecking = "checking"
)

// Snapshot is what the view shows of a run at one moment.
type Snapshot struct {
	Phase   string
	Elapsed time.Duration
	// OK, Fail and Info count the increments by outcome.
	OK, Fail, Info int64
	Workers        int64
	// Faults describes the faults in force right now (kind and targets).
	Faults []string
	// Provisional live counts of what looks like an anomaly; the checker decides after the run.
	HoldersNow, Overlaps, DuplicateWrites int64
}

const (
	redrawEvery = 250 * time.Millisecond
	plainEvery  = 5 * time.Second
	rateWindow  = 5 * time.Second
)

// View renders progress to a writer; its methods are safe for concurrent use.
type View struct {
	w     io.Writer
	live  bool
	limit time.Duration
	width func() int
	now   func() time.Time

	mu      sync.Mutex
	header  []string
	snap    Snapshot
	seen    bool      // an Update arrived (for this run)
	at      time.Time // when snap arrived
	samples []Snapshot
	build   string // the latest build step, while the image is being built
	partial []byte // the unfinished last line written to the view
	drawn   int    // lines of the live block on screen
	shown   string // and what they say
	printed Snapshot
	closed  bool

	stop chan struct{}
	done chan struct{}
}

// New returns a view on w: live when w is a terminal and neither NO_COLOR nor TERM=dumb asks for
// plain output, plain otherwise.
func New(w io.Writer, limit time.Duration) *View {
	return NewMode(w, limit, isTerminal(w))
}

// NewMode returns a view that is live or plain as told.
func NewMode(w io.Writer, limit time.Duration, live bool) *View {
	v := &View{w: w, live: live, limit: limit, width: func() int { return 100 }, now: time.Now}
	if f, ok := w.(*os.File); ok && live {
		v.width = func() int {
			if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
				return cols
			}
			return 100
		}
	}
	if live {
		v.stop, v.done = make(chan struct{}), make(chan struct{})
		go v.loop()
	}
	return v
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}

// Live says whether the view redraws in place.
func (v *View) Live() bool { return v.live }

// SetHeader sets lines shown above the run's block (live mode only), such as the cell of a matrix.
func (v *View) SetHeader(lines ...string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.header = lines
}

// Update records the run's state. A snapshot in PhaseStarting begins a new run: the rate and the
// plain-line schedule start over.
func (v *View) Update(s Snapshot) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return
	}
	if s.Phase == PhaseStarting {
		v.samples, v.printed, v.build = nil, Snapshot{}, ""
	}
	if s.Phase != PhaseStarting && s.Phase != "" {
		v.build = "" // the image is built once the cluster runs
	}
	v.snap, v.seen, v.at = s, true, v.now()
	if s.Phase == PhaseRunning {
		v.samples = append(v.samples, s)
		for len(v.samples) > 2 && s.Elapsed-v.samples[0].Elapsed > rateWindow {
			v.samples = v.samples[1:]
		}
		if !v.live && (v.printed.Elapsed == 0 || s.Elapsed-v.printed.Elapsed >= plainEvery) {
			v.printPlain(s)
		}
	}
}

// Write takes the run's narration and logs. Only whole lines are shown; a final partial line waits
// for the rest (or for Close).
func (v *View) Write(p []byte) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(p), v.writeLines(&v.partial, p, true)
}

// BuildSteps returns a writer for narration nobody is meant to read but the image build steps:
// those become the live block's build line, and everything else is dropped. Use it on a terminal.
func (v *View) BuildSteps() io.Writer { return &stepsOnly{v: v} }

type stepsOnly struct {
	v       *View
	partial []byte
}

func (s *stepsOnly) Write(p []byte) (int, error) {
	s.v.mu.Lock()
	defer s.v.mu.Unlock()
	return len(p), s.v.writeLines(&s.partial, p, false)
}

// writeLines shows the whole lines of partial+p (keeping the rest in partial) above the live block,
// or passes them through in plain mode. Build steps become the build line; other lines are dropped
// unless narrate is set.
func (v *View) writeLines(partial *[]byte, p []byte, narrate bool) error {
	*partial = append(*partial, p...)
	i := bytes.LastIndexByte(*partial, '\n')
	if i < 0 {
		return nil
	}
	lines := string((*partial)[:i+1])
	*partial = append((*partial)[:0], (*partial)[i+1:]...)
	if !v.live || v.closed {
		if !narrate {
			return nil
		}
		_, err := io.WriteString(v.w, lines)
		return err
	}
	var keep strings.Builder
	for _, line := range strings.SplitAfter(lines, "\n") {
		if m := buildStep.FindStringSubmatch(line); m != nil {
			v.build = fmt.Sprintf("building image: step %s/%s  %s", m[1], m[2], m[3])
			continue
		}
		if line != "" {
			v.build = "" // "built image ...", or whatever follows the steps
			if narrate {
				keep.WriteString(line)
			}
		}
	}
	if keep.Len() == 0 {
		return nil
	}
	var b strings.Builder
	v.erase(&b)
	b.WriteString(keep.String())
	v.draw(&b, v.frame(v.now()))
	_, err := io.WriteString(v.w, b.String())
	return err
}

// buildStep matches the step lines of a Docker image build (cluster.followBuild prints them).
var buildStep = regexp.MustCompile(`^\s*Step (\d+)/(\d+) : (.*?)\s*$`)

// Close shows the final state once and leaves the cursor on a fresh line below it. Call it before
// anything else is written to the view's writer, on every path; it is idempotent. Lines written
// to the view afterwards go straight through.
func (v *View) Close() {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return
	}
	if len(v.partial) > 0 {
		_ = v.writeLines(&v.partial, []byte{'\n'}, true)
	}
	v.closed = true
	switch {
	case v.live:
		v.redraw(false)
	case v.seen && v.snap.Elapsed > v.printed.Elapsed:
		v.printPlain(v.snap) // the final counts
	}
	v.mu.Unlock()
	if v.live {
		close(v.stop)
		<-v.done
	}
}

// loop redraws the live block until Close.
func (v *View) loop() {
	defer close(v.done)
	t := time.NewTicker(redrawEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			v.mu.Lock()
			if !v.closed {
				v.redraw(true)
			}
			v.mu.Unlock()
		case <-v.stop:
			return
		}
	}
}

// redraw draws the block again, or only if it changed when onlyChanged is set.
func (v *View) redraw(onlyChanged bool) {
	lines := v.frame(v.now())
	if onlyChanged && strings.Join(lines, "\n") == v.shown {
		return
	}
	var b strings.Builder
	v.erase(&b)
	v.draw(&b, lines)
	_, _ = io.WriteString(v.w, b.String())
}

// erase moves the cursor to the first line of the block and clears from there to the end of the
// screen. The block's lines never wrap (draw cuts them to the terminal's width), so counting them
// is enough.
func (v *View) erase(b *strings.Builder) {
	if v.drawn > 0 {
		fmt.Fprintf(b, "\r\x1b[%dA\x1b[J", v.drawn)
	}
	v.drawn = 0
}

func (v *View) draw(b *strings.Builder, lines []string) {
	v.shown = strings.Join(lines, "\n")
	width := v.width() - 1
	for _, l := range lines {
		b.WriteString("\x1b[2K")
		b.WriteString(cut(l, width))
		b.WriteString("\n")
	}
	v.drawn = len(lines)
}

// frame is the live block at time now: nothing before the first Update.
func (v *View) frame(now time.Time) []string {
	if !v.seen {
		return nil
	}
	s := v.snap
	lines := append([]string(nil), v.header...)
	switch s.Phase {
	case PhaseStarting, "":
		if v.build != "" {
			return append(lines, "  "+v.build)
		}
		return append(lines, "  "+PhaseStarting+" ...")
	}
	elapsed, phase, rate := s.Elapsed, s.Phase, "ops/s"
	switch {
	case s.Phase == PhaseRunning && !v.closed:
		// Between two snapshots (one a second) the clock still runs; the counts wait.
		elapsed = min(elapsed+now.Sub(v.at), v.limit)
	case v.closed && s.Phase == PhaseChecking:
		phase = "finished"
	case !v.closed:
		// Stopping or checking: say for how long, so a slow stop does not look like a hang.
		phase += fmt.Sprintf(" %.0fs", now.Sub(v.at).Seconds())
	}
	if s.Phase != PhaseRunning {
		rate = "ops/s on average"
	}
	lines = append(lines, fmt.Sprintf("  %-11s %s %4.0fs/%.0fs", phase, bar(elapsed, v.limit, 30), elapsed.Seconds(), v.limit.Seconds()))
	lines = append(lines, fmt.Sprintf("  %6.0f %s   increments ok %d  fail %d  info %d   workers %d",
		v.rate(), rate, s.OK, s.Fail, s.Info, s.Workers))
	if len(s.Faults) > 0 {
		lines = append(lines, "  faults now: "+strings.Join(s.Faults, "; "))
	}
	lines = append(lines, fmt.Sprintf("  provisional (the checker decides after the run): holders now %d, overlaps %d, duplicate writes %d",
		s.HoldersNow, s.Overlaps, s.DuplicateWrites))
	return lines
}

// rate is the rate of ok increments over the last few seconds while the workload runs, and its
// average after that.
func (v *View) rate() float64 {
	if len(v.samples) == 0 {
		return 0
	}
	if v.snap.Phase != PhaseRunning {
		// The last snapshot of the workload, not the final one: stopping it takes time too.
		last := v.samples[len(v.samples)-1]
		return float64(last.OK) / last.Elapsed.Seconds()
	}
	first, last := v.samples[0], v.samples[len(v.samples)-1]
	if len(v.samples) == 1 {
		first = Snapshot{}
	}
	if d := last.Elapsed - first.Elapsed; d > 0 {
		return float64(last.OK-first.OK) / d.Seconds()
	}
	return 0
}

// printPlain prints the plain progress line; without faults or provisional anomalies it is the
// line locktest has always printed.
func (v *View) printPlain(s Snapshot) {
	last := v.printed
	rate := float64(s.OK-last.OK) / (s.Elapsed - last.Elapsed).Seconds()
	line := fmt.Sprintf("  %5.0fs/%.0fs  increments ok=%d fail=%d info=%d  %.0f ops/s  workers=%d",
		s.Elapsed.Seconds(), v.limit.Seconds(), s.OK, s.Fail, s.Info, rate, s.Workers)
	if len(s.Faults) > 0 {
		line += "  faults: " + strings.Join(s.Faults, "; ")
	}
	if s.Overlaps > 0 || s.DuplicateWrites > 0 {
		line += fmt.Sprintf("  provisional: overlaps=%d duplicate-writes=%d", s.Overlaps, s.DuplicateWrites)
	}
	fmt.Fprintln(v.w, line)
	v.printed = s
}

func bar(done, total time.Duration, width int) string {
	n := width
	if total > 0 && done < total {
		n = int(float64(width) * float64(done) / float64(total))
	}
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

// cut shortens s to at most n characters.
func cut(s string, n int) string {
	r := []rune(s)
	if n < 1 || len(r) <= n {
		return s
	}
	return string(r[:n])
}
