// Command bareloop is the baseline of scripts/bench-harness.sh: the lock-protected increments a
// locktest run makes (acquire, read the counter, write it plus one with its write-log entry,
// release), with the same lock and storage code and the same Redis commands, but as goroutines
// of one process with nothing recorded, no worker processes, no hooks and no history. What
// locktest's harness costs is its throughput divided by this one's, on the same servers.
//
//	go run ./internal/bareloop -lock 127.0.0.1:7001 -storage 127.0.0.1:7010 -clients 5 -duration 20s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/locktest/locktest/config"
	"github.com/locktest/locktest/lock"
	"github.com/locktest/locktest/workload"
)

func main() {
	lockAddr := flag.String("lock", "127.0.0.1:7001", "the redis-single lock node")
	storageAddr := flag.String("storage", "127.0.0.1:7010", "the storage node")
	clients := flag.Int("clients", 5, "concurrent clients, as locktest test --clients")
	duration := flag.Duration("duration", 20*time.Second, "how long to run")
	flag.Parse()
	if err := run(*lockAddr, *storageAddr, *clients, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "bareloop:", err)
		os.Exit(1)
	}
}

func run(lockAddr, storageAddr string, clients int, duration time.Duration) error {
	def := config.Default()
	st := workload.NewStorage(storageAddr, def.StorageTimeout, workload.NoFencing)
	defer st.Close()
	if err := st.Reset(context.Background()); err != nil {
		return fmt.Errorf("reset the storage: %w", err)
	}
	var ok, failed atomic.Int64
	stop := time.Now().Add(duration)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		locker, err := lock.New(lock.Config{Backend: lock.RedisSingle, Addrs: []string{lockAddr}, TTL: def.TTL})
		if err != nil {
			return err
		}
		defer locker.Close()
		// Each client its own storage connection, as each worker process has.
		cst := workload.NewStorage(storageAddr, def.StorageTimeout, workload.NoFencing)
		defer cst.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 1; time.Now().Before(stop); n++ {
				if err := cycle(locker, cst, fmt.Sprintf("p%d-%d", c, n), def.AcquireTimeout); err != nil {
					if !errors.Is(err, lock.ErrNotAcquired) {
						errs <- err
						return
					}
					failed.Add(1)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	fmt.Printf("ops/s=%.1f ok=%d not_acquired=%d clients=%d duration=%s\n", float64(ok.Load())/duration.Seconds(), ok.Load(), failed.Load(), clients, duration)
	return nil
}

// cycle is one turn of the harness's worker loop (workload's worker): acquire, read, write,
// release.
func cycle(l lock.Locker, st *workload.Storage, id string, acquireTimeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), acquireTimeout)
	defer cancel()
	lease, err := l.Acquire(ctx)
	if err != nil {
		return err
	}
	v, err := st.Read(context.Background(), lease)
	if err != nil {
		return err
	}
	if err := st.Write(context.Background(), id, v+1, lease); err != nil {
		return err
	}
	return l.Release(ctx, lease)
}
