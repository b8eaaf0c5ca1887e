package delayproxy

import (
	"io"
	"net"
	"testing"
	"time"
)

// Benchmarks compare a direct connection to an echo server with one through
// the proxy at 0 delay, in the same run. Compare ratios, not absolute times.

const benchMsg = 64

func benchConns(b *testing.B) (direct, proxied *net.TCPConn) {
	s := startEcho(b)
	p := startProxy(b, s.addr())
	direct, proxied = dial(b, s.addr()), dial(b, p.Addr())
	roundTrip(b, direct, make([]byte, benchMsg)) // warm up both paths
	roundTrip(b, proxied, make([]byte, benchMsg))
	return direct, proxied
}

// startBare starts the simplest possible forwarder to target (one plain
// read/write loop per direction, no delay support), the floor any user-space
// proxy pays for the two extra loopback hops.
func startBare(b *testing.B, target string) string {
	s := startServer(b, func(c net.Conn) {
		t, err := net.Dial("tcp4", target)
		if err != nil {
			return
		}
		defer t.Close()
		done := make(chan struct{})
		go func() { forward(c, t); close(done) }()
		forward(t, c)
		<-done
	})
	return s.addr()
}

func forward(dst, src net.Conn) {
	buf := make([]byte, readBufSize)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.(*net.TCPConn).CloseWrite()
}

func rt(b *testing.B, c *net.TCPConn, out, in []byte) {
	if _, err := c.Write(out); err != nil {
		b.Fatal(err)
	}
	if _, err := io.ReadFull(c, in); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRoundTrip64 measures one 64-byte request/response round trip per
// op, over each path separately.
func BenchmarkRoundTrip64(b *testing.B) {
	for _, path := range []string{"direct", "proxied"} {
		b.Run(path, func(b *testing.B) {
			direct, proxied := benchConns(b)
			c := direct
			if path == "proxied" {
				c = proxied
			}
			out, in := make([]byte, benchMsg), make([]byte, benchMsg)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				rt(b, c, out, in)
			}
		})
	}
}

// BenchmarkRoundTrip64Ratio interleaves round trips over three paths in one
// loop, so all see the same machine load: direct, through a bare forwarder
// (startBare) and through the Proxy at 0 delay. It reports each path's ns per
// round trip, proxied/direct ("ratio") and proxied/bare ("ratio-vs-bare", the
// cost of the delay machinery itself). ns/op is for the three round trips.
func BenchmarkRoundTrip64Ratio(b *testing.B) {
	direct, proxied := benchConns(b)
	bare := dial(b, startBare(b, direct.RemoteAddr().String()))
	out, in := make([]byte, benchMsg), make([]byte, benchMsg)
	roundTrip(b, bare, out)
	var dDirect, dBare, dProxied time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		rt(b, direct, out, in)
		t1 := time.Now()
		rt(b, bare, out, in)
		t2 := time.Now()
		rt(b, proxied, out, in)
		dProxied += time.Since(t2)
		dBare += t2.Sub(t1)
		dDirect += t1.Sub(t0)
	}
	n := float64(b.N)
	b.ReportMetric(float64(dDirect.Nanoseconds())/n, "direct-ns/rt")
	b.ReportMetric(float64(dBare.Nanoseconds())/n, "bare-ns/rt")
	b.ReportMetric(float64(dProxied.Nanoseconds())/n, "proxied-ns/rt")
	b.ReportMetric(float64(dProxied)/float64(dDirect), "ratio")
	b.ReportMetric(float64(dProxied)/float64(dBare), "ratio-vs-bare")
}

// BenchmarkStream256KiB streams 256 KiB through the echo server and back per
// op (throughput of the pass-through path).
func BenchmarkStream256KiB(b *testing.B) {
	payload := make([]byte, 256<<10)
	for _, path := range []string{"direct", "proxied"} {
		b.Run(path, func(b *testing.B) {
			direct, proxied := benchConns(b)
			c := direct
			if path == "proxied" {
				c = proxied
			}
			got := make([]byte, len(payload))
			b.SetBytes(int64(len(payload)))
			b.ResetTimer()
			for range b.N {
				errc := make(chan error, 1)
				go func() { _, err := c.Write(payload); errc <- err }()
				if _, err := io.ReadFull(c, got); err != nil {
					b.Fatal(err)
				}
				if err := <-errc; err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
