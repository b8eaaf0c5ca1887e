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
