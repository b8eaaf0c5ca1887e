package workload

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/locktest/locktest/history"
)

func TestEventReaderRefusesWhatBreaksTheProtocol(t *testing.T) {
	const ready = `{"kind":"ready","process":1,"protocol":1}`
	for _, tt := range []struct {
		name  string
		lines []string // the last one must be refused with want in the error
		want  string
	}{
		{"not JSON", []string{ready, `hello`}, "not an event"},
		{"an empty line", []string{ready, ``}, "not an event"},
		{"a cut line", []string{ready, `{"kind":"hook","process":1,"hook":"aft`}, "not an event"},
		{"two values", []string{ready, `{"kind":"hook","process":1,"hook":"after-read","waiting":true} {}`}, "more than one"},
		{"unknown field", []string{ready, `{"kind":"hook","process":1,"hook":"after-read","wait":true}`}, "unknown field"},
		{"no ready first", []string{`{"kind":"hook","process":1,"hook":"after-read","waiting":true}`}, "first event must be ready"},
		{"another protocol", []string{`{"kind":"ready","process":1,"protocol":2}`}, "protocol 2"},
		{"another process", []string{ready, `{"kind":"hook","process":2,"hook":"after-read","waiting":true}`}, "process 2 in an event of process 1"},
		{"unknown hook", []string{ready, `{"kind":"hook","process":1,"hook":"after-lunch","waiting":true}`}, "unknown hook"},
		{"unknown kind", []string{ready, `{"kind":"log","process":1}`}, "unknown event kind"},
		{"op without op", []string{ready, `{"kind":"op","process":1}`}, "without its op"},
		{"someone else's record", []string{ready, `{"kind":"op","process":1,"op":{"time":5,"process":0,"client":0,"type":"invoke","f":"acquire"}}`}, "a record of process 0"},
		{"a harness record", []string{ready, `{"kind":"op","process":1,"op":{"time":5,"process":1,"client":1,"type":"ok","f":"read","value":3}}`}, `"read" record`},
		{"an increment without its id", []string{ready, `{"kind":"op","process":1,"op":{"time":5,"process":1,"client":1,"type":"invoke","f":"incr"}}`}, "without an id"},
		{"an ok increment without the value read", []string{ready, `{"kind":"op","process":1,"op":{"time":5,"process":1,"client":1,"type":"ok","f":"incr","id":"p1-1"}}`}, "without the value it read"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := eventReader{process: 1}
			for i, line := range tt.lines {
				_, err := r.decode([]byte(line))
				last := i == len(tt.lines)-1
				if !last && err != nil {
					t.Fatalf("line %d refused: %v", i+1, err)
				}
				if last && (err == nil || !strings.Contains(err.Error(), tt.want)) {
					t.Errorf("%s: %v, want an error containing %q", line, err, tt.want)
				}
			}
		})
	}
	// What the built-in worker sends passes, line after line through the one decoder: with
	// trailing blanks, and longer than its buffer.
	r := eventReader{process: 1}
	long := `{"kind":"op","op":{"time":9,"process":1,"client":1,"type":"info","f":"incr","id":"p1-2","error":"` + strings.Repeat("x", 5000) + `"},"process":1}`
	for _, line := range []string{ready, long + "  ", long,
		`{"kind":"op","op":{"time":7,"process":1,"client":1,"type":"ok","f":"acquire","owner":"o","deadline":9},"process":1}`,
		`{"kind":"hook","hook":"after-read","time":8,"process":1,"holding":true,"in_lease":true,"waiting":true}`,
		`{"kind":"op","op":{"time":9,"process":1,"client":1,"type":"fail","f":"incr","id":"p1-1","value":3,"error":"x","skipped":true},"process":1}`,
	} {
		if _, err := r.decode([]byte(line)); err != nil {
			t.Errorf("%s: %v", line, err)
		}
	}
}

// An external client that breaks the protocol stops the run with an error naming the client and
// the line, and is killed at once; one that exits is reaped. No containers: the run never gets
// to its storage.
func TestExternalClientThatBreaksTheProtocol(t *testing.T) {
	hw, err := history.Create(filepath.Join(t.TempDir(), "history.lkh"))
	if err != nil {
		t.Fatal(err)
	}
	defer hw.Close()
	// A client that says it is ready, then sends garbage, then would hang.
	script := `read cfg; n=$(echo "$cfg" | sed -E 's/.*"process":([0-9]+).*/\1/')
echo "{\"kind\":\"ready\",\"process\":$n,\"protocol\":1}"
echo "this is not JSON"
sleep 60`
	p := Params{Clients: 2, ClientCmd: []string{"sh", "-c", script}, History: hw, Log: slog.New(slog.DiscardHandler), WorkerLog: io.Discard}
	c := &counters{protocol: newBrokenOnce()}
	start := time.Now()
	procs, err := startWorkers(p, c, func(Event) {})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.protocol.broken:
	case <-time.After(10 * time.Second):
		killAll(procs)
		t.Fatal("no protocol error after 10s")
	}
	var pe *ProtocolError
	if !errors.As(c.protocol.err, &pe) || !strings.Contains(pe.Error(), "sh -c") || !strings.Contains(pe.Error(), `"this is not JSON"`) {
		t.Errorf("error %v: want a ProtocolError naming the client and quoting its line", c.protocol.err)
	}
	// The offender is killed at once, not after the 60 s it would sleep; the other is stopped here.
	<-procs[pe.Process].done
	killAll(procs)
	for _, pr := range procs {
		<-pr.done
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
}
