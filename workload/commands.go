package workload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// commandPipe is the worker's end of the coordinator→worker pipe.
//
// Why not a goroutine that decodes stdin as lines arrive: a command written while the worker was
// SIGSTOPped sits in the kernel's pipe buffer, and on SIGCONT the client loop and such a reader
// goroutine resume together. The loop could pass its next hook before the reader had applied a
// "wait here" that was sent long before — which is how a scripted scenario once missed one run in
// ten. So the loop itself takes every pending command, synchronously, at each hook (Take): a
// command whose write to the pipe completed before the worker reached a hook is in force at that
// hook, whether the worker was running, stopped or waiting. A background goroutine (Serve) takes
// commands too, so a stop or a continue reaches a worker that is waiting or inside a long call.
type commandPipe struct {
	fd int

	mu      sync.Mutex // one taker at a time: a command is applied before the next taker reads
	partial []byte     // bytes of a line not yet complete
	closed  bool       // the coordinator closed its end (or the pipe broke)
}

// newCommandPipe takes over f (the worker's stdin) for non-blocking reads.
func newCommandPipe(f *os.File) (*commandPipe, error) {
	fd := int(f.Fd())
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, fmt.Errorf("command pipe: %w", err)
	}
	return &commandPipe{fd: fd}, nil
}

// Take reads everything the pipe holds now, without blocking, and passes each complete line to
// apply, all before it returns. It reports whether the pipe is closed.
func (c *commandPipe) Take(apply func(line []byte)) (closed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fill()
	for line := c.nextLine(); line != nil; line = c.nextLine() {
		apply(line)
	}
	return c.closed
}

// fill moves every byte the pipe holds now into c.partial. The caller holds c.mu.
func (c *commandPipe) fill() {
	var chunk [4096]byte
	for !c.closed {
		n, err := unix.Read(c.fd, chunk[:])
		switch {
		case n > 0:
			c.partial = append(c.partial, chunk[:n]...)
		case errors.Is(err, unix.EINTR):
		case errors.Is(err, unix.EAGAIN):
			return
		default:
			c.closed = true // n == 0: end of file; any other error: the pipe is unusable either way
		}
	}
}

// nextLine removes and returns the first complete line of c.partial, or nil. The caller holds c.mu.
func (c *commandPipe) nextLine() []byte {
	i := bytes.IndexByte(c.partial, '\n')
	if i < 0 {
		return nil
	}
	line := bytes.Clone(c.partial[:i])
	c.partial = c.partial[i+1:]
	return line
}

// Readable blocks until the pipe has data or is closed.
func (c *commandPipe) Readable() {
	fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}}
	for {
		// A SIGSTOP/SIGCONT of the worker interrupts poll; anything else is a closed or broken
		// pipe, which Take then finds.
		if _, err := unix.Poll(fds, -1); !errors.Is(err, unix.EINTR) {
			return
		}
	}
}

// Serve takes commands as they arrive until the pipe closes, then calls closed.
func (c *commandPipe) Serve(apply func(line []byte), closed func()) {
	for {
		if c.Take(apply) {
			closed()
			return
		}
		c.Readable()
	}
}

// FirstLine blocks until one whole line has arrived and returns it; later lines stay for Take.
// The worker's configuration comes this way.
func (c *commandPipe) FirstLine() ([]byte, error) {
	for {
		c.mu.Lock()
		c.fill()
		line, closed := c.nextLine(), c.closed
		c.mu.Unlock()
		switch {
		case line != nil:
			return line, nil
		case closed:
			return nil, errors.New("command pipe closed before the first line")
		}
		c.Readable()
	}
}

// decodeCommand parses one command line.
func decodeCommand(line []byte) (Command, error) {
	var c Command
	if err := json.Unmarshal(line, &c); err != nil {
		return c, fmt.Errorf("unreadable command %q: %w", line, err)
	}
	return c, nil
}
