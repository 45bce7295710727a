package host

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultMountTimeout bounds statfs(2) of a mount point within a poll.
const DefaultMountTimeout = time.Second

// statfser calls statfs(2) on mount points without letting one that does
// not answer (a dead NFS server, a yanked USB disk) stall the poll: each
// call runs in its own goroutine, and those not done within the timeout
// are reported as failed and their mount point marked stuck. A stuck
// mount point is not tried again, and keeps failing, until its call
// returns; so at most one goroutine per mount point is ever blocked.
type statfser struct {
	timeout time.Duration

	mu    sync.Mutex
	stuck map[string]*statfsCall
}

// statfsCall is one statfs(2) and its outcome.
type statfsCall struct {
	path string
	unix.Statfs_t
	err  error
	done bool
}

var errStuck = errors.New("an earlier statfs has not answered yet; not tried again until it does")

func newStatfser(timeout time.Duration) *statfser {
	if timeout <= 0 {
		timeout = DefaultMountTimeout
	}
	return &statfser{timeout: timeout, stuck: map[string]*statfsCall{}}
}

// stat returns the outcome of statfs for each path, within the timeout.
func (s *statfser) stat(paths []string) []*statfsCall {
	calls := make([]*statfsCall, len(paths))
	finished := make(chan struct{}, len(paths))
	started := 0
	s.mu.Lock()
	for i, path := range paths {
		c := &statfsCall{path: path}
		calls[i] = c
		if s.stuck[path] != nil {
			c.err, c.done = errStuck, true
			continue
		}
		started++
		go s.call(c, finished)
	}
	s.mu.Unlock()
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
wait:
	for n := 0; n < started; n++ {
		select {
		case <-finished:
		case <-timer.C:
			break wait
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settle(calls)
}

// settle marks the paths of the calls still running stuck and reports
// them failed, under s.mu. A late call writes only into its own struct,
// which is no longer in the slice returned.
func (s *statfser) settle(calls []*statfsCall) []*statfsCall {
	for i, c := range calls {
		if !c.done {
			s.stuck[c.path] = c
			calls[i] = &statfsCall{path: c.path, err: fmt.Errorf("statfs did not answer within %s", s.timeout), done: true}
		}
	}
	return calls
}

func (s *statfser) call(c *statfsCall, finished chan<- struct{}) {
	var st unix.Statfs_t
	err := statfsFunc(c.path, &st)
	s.mu.Lock()
	c.Statfs_t, c.err, c.done = st, err, true
	if s.stuck[c.path] == c {
		delete(s.stuck, c.path)
	}
	s.mu.Unlock()
	finished <- struct{}{}
}

// statfsFunc is statfs(2); tests replace it with one that hangs.
var statfsFunc = unix.Statfs
