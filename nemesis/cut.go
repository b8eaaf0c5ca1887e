package nemesis

import (
	"context"
	"fmt"
	"sync"
)

// NewCut returns a fault that takes client→node paths down (see Links): a partition between
// clients and nodes that leaves each client's other paths up, so one client can lose the lock
// nodes while it still reaches the storage, or the reverse. Targets are written as for delay,
// plus "lock" for every lock node: "A:lock", "p1:n2", "A:storage", "n3". Drop holds what is sent
// until the heal and then delivers it (TCP retransmission after a partition: a late write still
// lands); Reject resets the paths' connections and refuses new ones, and nothing sent is
// delivered later.
func NewCut(l Links, mode PartitionMode, targets ...Target) (Fault, error) {
	if mode == "" {
		mode = Drop
	}
	links, err := resolveLinks(l, Cut, targets)
	if err != nil {
		return nil, err
	}
	return &cut{mode: mode, targets: WriteTargets(targets), links: links}, nil
}

type cut struct {
	mode    PartitionMode
	targets []string
	links   []Link

	mu sync.Mutex
}

func (f *cut) Kind() Kind        { return Cut }
func (f *cut) Targets() []string { return f.targets }
func (f *cut) Detail() string    { return fmt.Sprintf("client links down (%s)", f.mode) }

func (f *cut) Inject(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.links {
		l.Cut(f.mode)
	}
	return nil
}

func (f *cut) Heal(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.links {
		l.Restore()
	}
	return nil
}
