package lock

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// notAcquired marks err as a certain non-acquisition.
func notAcquired(err error) error {
	if errors.Is(err, ErrNotAcquired) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrNotAcquired, err)
}

// sleepRetry waits a random part of max before the next attempt; false if ctx ended first.
func sleepRetry(ctx context.Context, max time.Duration) bool {
	d := max/4 + rand.N(max-max/4+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
