package checker

import "testing"

// benchCheck measures Check on a synthetic history of n increments by 8 processes under a working
// lock (6 lock and increment records per increment, plus the write log), optionally with one lost
// update in the middle. Building the history is not measured.
func benchCheck(b *testing.B, n int, lost bool) {
	cfg := synthConfig{processes: 8, incrs: n, seed: 11}
	if lost {
		cfg.lostAt, cfg.lostOverlap = n/2, true
	}
	ops := synthetic(cfg)
	want := Valid
	if lost {
		want = Invalid
	}
	b.ReportAllocs()
	b.ResetTimer()
	var res *Result
	for b.Loop() {
		res = Check(ops, Options{})
	}
	if res.Valid != want {
		b.Fatalf("Valid = %v, want %v: %+v %+v", res.Valid, want, res.Anomalies, res.Linearizability)
	}
	b.ReportMetric(float64(res.Linearizability.Chunks), "chunks")
	b.ReportMetric(float64(res.Linearizability.CheckDuration.Milliseconds()), "porcupine-ms")
}

func BenchmarkCheck100k(b *testing.B)     { benchCheck(b, 100_000, false) }
func BenchmarkCheck1M(b *testing.B)       { benchCheck(b, 1_000_000, false) }
func BenchmarkCheck100kLost(b *testing.B) { benchCheck(b, 100_000, true) }
func BenchmarkCheck1MLost(b *testing.B)   { benchCheck(b, 1_000_000, true) }
