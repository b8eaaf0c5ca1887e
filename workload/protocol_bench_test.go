package workload

import (
	"encoding/json"
	"io"
	"testing"

	"github.com/locktest/locktest/history"
)

// What one worker→coordinator line costs at each end (issue 11's hot path): a worker encodes a
// line per history record and per hook it waits at; the coordinator decodes every line, strictly
// (eventReader: unknown fields refused, the record checked); EventDecode is the plain decoding
// beside it, for the ratio.
//
//	go test ./workload -run '^$' -bench Event -benchmem

var benchOp = history.Op{Time: 254223234862123, Process: 3, Client: 3, Type: history.OK, F: history.Acquire,
	Owner: "0123456789abcdef01234567", Token: 12345, Deadline: 254228234862123}

func BenchmarkEventEncode(b *testing.B) {
	enc := json.NewEncoder(io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		if err := enc.Encode(Event{Kind: EvOp, Op: &benchOp, Process: 3}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEventDecode(b *testing.B) {
	line, err := json.Marshal(Event{Kind: EvOp, Op: &benchOp, Process: 3})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var e Event
		if err := json.Unmarshal(line, &e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEventDecodeStrict(b *testing.B) {
	line, err := json.Marshal(Event{Kind: EvOp, Op: &benchOp, Process: 3})
	if err != nil {
		b.Fatal(err)
	}
	r := eventReader{process: 3, ready: true}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.decode(line); err != nil {
			b.Fatal(err)
		}
	}
}
