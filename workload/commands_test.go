package workload

import (
	"encoding/json"
	"os"
	"testing"
)

func pipe(t *testing.T) (*commandPipe, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	c, err := newCommandPipe(r)
	if err != nil {
		t.Fatal(err)
	}
	return c, w
}

func send(t *testing.T, w *os.File, c Command) {
	t.Helper()
	b, _ := json.Marshal(c)
	if _, err := w.Write(append(b, '\n')); err != nil {
		t.Fatal(err)
	}
}

// The rule scenarios rely on: a command whose write completed before the worker reaches a hook is
// in force at that hook, even while a background server is reading the same pipe (the race that
// made K1-W miss one run in ten: the server had read the line but not applied it yet).
func TestCommandSentBeforeHookIsInForce(t *testing.T) {
	c, w := pipe(t)
	hooks := newHookState(nil)
	apply := func(line []byte) {
		cmd, err := decodeCommand(line)
		if err != nil {
			t.Error(err)
			return
		}
		hooks.apply(cmd)
	}
	done := make(chan struct{})
	go c.Serve(apply, func() { close(done) })
	for i := range 5000 {
		h := Hooks[i%len(Hooks)]
		send(t, w, Command{Cmd: CmdWaitAt, Hooks: []Hook{h}})
		c.Take(apply) // what the loop does at a hook
		if !hooks.arrive(h) {
			t.Fatalf("round %d: wait-at %s sent before the hook was not in force at it", i, h)
		}
		hooks.leave()
	}
	w.Close()
	<-done // the server sees the coordinator go away
}

func TestCommandPipeLinesAndClose(t *testing.T) {
	c, w := pipe(t)
	var got []string
	apply := func(line []byte) { got = append(got, string(line)) }
	if _, err := w.WriteString(`{"cmd":"wait-at","hooks":["after-read"]}` + "\n" + `{"cmd":"st`); err != nil {
		t.Fatal(err)
	}
	if c.Take(apply) {
		t.Fatal("closed too early")
	}
	if len(got) != 1 {
		t.Fatalf("got %q, want only the complete line", got)
	}
	w.WriteString(`op"}` + "\n")
	w.Close()
	if !c.Take(apply) {
		t.Error("a closed writer was not seen as closed")
	}
	if len(got) != 2 || got[1] != `{"cmd":"stop"}` {
		t.Errorf("got %q, want the second line completed", got)
	}
}

func TestFirstLineLeavesTheRest(t *testing.T) {
	c, w := pipe(t)
	w.WriteString("config\n" + `{"cmd":"stop"}` + "\n")
	line, err := c.FirstLine()
	if err != nil || string(line) != "config" {
		t.Fatalf("FirstLine = %q, %v", line, err)
	}
	n := 0
	c.Take(func([]byte) { n++ })
	if n != 1 {
		t.Errorf("%d lines left after the first, want 1", n)
	}
	w.Close()
	if _, err := c.FirstLine(); err == nil {
		t.Error("FirstLine on a closed, empty pipe did not fail")
	}
}

func TestContinueOnlyEndsTheWaitItNames(t *testing.T) {
	s := newHookState([]Hook{AfterRead, AfterWrite})
	// A continue naming a hook the worker is not waiting at is stale: it must not pre-release.
	s.apply(Command{Cmd: CmdContinue, Hook: AfterWrite})
	if !s.arrive(AfterWrite) {
		t.Fatal("not waiting at a wait-at hook")
	}
	select {
	case <-s.resume:
		t.Fatal("a continue sent before the wait released it")
	default:
	}
	s.apply(Command{Cmd: CmdContinue, Hook: AfterRead}) // names another hook
	select {
	case <-s.resume:
		t.Fatal("a continue for another hook released the wait")
	default:
	}
	s.apply(Command{Cmd: CmdContinue, Hook: AfterWrite})
	s.apply(Command{Cmd: CmdContinue, Hook: AfterWrite}) // a duplicate, left over
	<-s.resume
	s.leave()
	if !s.arrive(AfterWrite) {
		t.Fatal("not waiting the second time")
	}
	select {
	case <-s.resume:
		t.Fatal("a continue left over from the last wait released this one")
	default:
	}
	s.leave()
	s.apply(Command{Cmd: CmdWaitAt})
	if s.arrive(AfterRead) {
		t.Error("still waiting after wait-at with no hooks")
	}
}
