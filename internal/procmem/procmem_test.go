package procmem

import (
	"runtime"
	"testing"
)

// PeakRSS sees memory this process touched: a 64 MB slice written through raises it by about that.
func TestPeakRSSSeesMemoryUsed(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("VmHWM is Linux's")
	}
	before, ok := PeakRSS()
	if !ok || before <= 0 {
		t.Fatalf("PeakRSS = %d, %v", before, ok)
	}
	buf := make([]byte, 64<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	after, _ := PeakRSS()
	runtime.KeepAlive(buf)
	if after-before < 48<<20 {
		t.Errorf("peak RSS went from %d to %d MB after touching 64 MB", before>>20, after>>20)
	}
}

// A reading below an earlier one (the kernel's per-CPU estimate, as CI saw: 105.2 MB, then
// 105.1 MB) does not lower the peak; a higher one raises it.
func TestPeakNeverShrinks(t *testing.T) {
	defer highest.Store(0)
	highest.Store(0)
	for _, c := range []struct{ read, want int64 }{
		{105_200 << 10, 105_200 << 10},
		{105_100 << 10, 105_200 << 10},
		{106_000 << 10, 106_000 << 10},
		{1, 106_000 << 10},
	} {
		if got := highestSoFar(c.read); got != c.want {
			t.Errorf("after reading %d: peak %d, want %d", c.read, got, c.want)
		}
	}
}
