//go:build integration

package integration

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// memCgroup is a memory cgroup the test made, on cgroup v2 (/sys/fs/cgroup) or v1
// (/sys/fs/cgroup/memory), with a hard limit, a soft one (v2's memory.high; v1 has none that
// acts the same), and no swap. Processes join it through wrap. It samples its usage every 50 ms
// for the peak, as neither version's own peak can be reset on every kernel, and its anonymous
// memory: the usage counts the page cache of the files its processes read and write, which
// the kernel reclaims when the usage reaches the limit, while anonymous memory it cannot.
type memCgroup struct {
	dir string
	v2  bool

	mu       sync.Mutex
	peak     int64
	anonPeak int64
	stop     chan struct{}
	done     chan struct{}
}

// newMemCgroup makes a memory cgroup limited to max bytes (high: the soft limit, v2 only). It
// fails the test, with the reason, when neither cgroup version offers the memory controller
// to this process (the tests run as root).
func newMemCgroup(t *testing.T, max, high int64) *memCgroup {
	t.Helper()
	parent, v2, err := memCgroupParent()
	if err != nil {
		t.Fatalf("a memory cgroup is required (run as root on a kernel with the memory controller): %v", err)
	}
	c := &memCgroup{dir: filepath.Join(parent, fmt.Sprintf("edge-test-%d-%d", os.Getpid(), time.Now().UnixNano())), v2: v2,
		stop: make(chan struct{}), done: make(chan struct{})}
	if err := os.Mkdir(c.dir, 0o755); err != nil {
		t.Fatalf("making a memory cgroup: %v", err)
	}
	t.Cleanup(c.remove)
	limits := [][2]string{{"memory.limit_in_bytes", fmt.Sprint(max)}}
	if v2 {
		limits = [][2]string{{"memory.max", fmt.Sprint(max)}, {"memory.high", fmt.Sprint(high)}, {"memory.swap.max", "0"}}
	} else if _, err := os.Stat(filepath.Join(c.dir, "memory.memsw.limit_in_bytes")); err == nil {
		limits = append(limits, [2]string{"memory.memsw.limit_in_bytes", fmt.Sprint(max)})
	}
	for _, l := range limits {
		if err := os.WriteFile(filepath.Join(c.dir, l[0]), []byte(l[1]), 0); err != nil {
			t.Fatalf("memory cgroup %s: %v", c.dir, err)
		}
	}
	go c.sample()
	return c
}

// memCgroupParent is where the test's cgroup goes: on v2 the root, whose children may have
// controllers (a cgroup holding processes, such as the test's own, may not); on v1 the test's
// own memory cgroup, so that whatever limits it stay in force.
func memCgroupParent() (dir string, v2 bool, err error) {
	var st syscall.Statfs_t
	if syscall.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == 0x63677270 { // CGROUP2_SUPER_MAGIC
		ctl, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
		if err != nil || !strings.Contains(" "+strings.TrimSpace(string(ctl))+" ", " memory ") {
			return "", true, fmt.Errorf("cgroup v2 at /sys/fs/cgroup without the memory controller (%q, %v)", ctl, err)
		}
		sub, _ := os.ReadFile("/sys/fs/cgroup/cgroup.subtree_control")
		if !strings.Contains(string(sub), "memory") {
			if err := os.WriteFile("/sys/fs/cgroup/cgroup.subtree_control", []byte("+memory"), 0); err != nil {
				return "", true, fmt.Errorf("enabling the memory controller for children of /sys/fs/cgroup: %w", err)
			}
		}
		return "/sys/fs/cgroup", true, nil
	}
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err != nil {
		return "", false, fmt.Errorf("neither cgroup v2 with memory at /sys/fs/cgroup nor v1's /sys/fs/cgroup/memory: %w", err)
	}
	own := "/"
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", false, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) == 3 && strings.Contains(","+f[1]+",", ",memory,") {
			own = f[2]
		}
	}
	return filepath.Join("/sys/fs/cgroup/memory", own), false, nil
}

// wrap returns the command line that runs argv inside the cgroup: a shell joins it, then
// execs argv, which so keeps the shell's PID and starts inside.
func (c *memCgroup) wrap(argv ...string) []string {
	return append([]string{"/bin/sh", "-c", `echo $$ >"$0/cgroup.procs" && exec "$@"`, c.dir}, argv...)
}

func (c *memCgroup) read(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(c.dir, name))
	return strings.TrimSpace(string(b)), err
}

// usage is the memory charged to the cgroup now.
func (c *memCgroup) usage() int64 {
	name := "memory.usage_in_bytes"
	if c.v2 {
		name = "memory.current"
	}
	s, _ := c.read(name)
	v, _ := strconv.ParseInt(s, 10, 64)
	return v
}

// anon is the cgroup's anonymous memory now (v1: rss of memory.stat, v2: anon).
func (c *memCgroup) anon() int64 {
	key := "rss"
	if c.v2 {
		key = "anon"
	}
	s, _ := c.read("memory.stat")
	for _, line := range strings.Split(s, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == key {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v
		}
	}
	return 0
}

func (c *memCgroup) sample() {
	defer close(c.done)
	for {
		u, a := c.usage(), c.anon()
		c.mu.Lock()
		c.peak, c.anonPeak = max(c.peak, u), max(c.anonPeak, a)
		c.mu.Unlock()
		select {
		case <-c.stop:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// takePeak returns the highest usage since the last call and starts a new period. On v1 the
// kernel's own high-water mark (which misses nothing between samples) counts too.
func (c *memCgroup) takePeak() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := max(c.peak, c.usage())
	if !c.v2 {
		if s, err := c.read("memory.max_usage_in_bytes"); err == nil {
			v, _ := strconv.ParseInt(s, 10, 64)
			p = max(p, v)
			os.WriteFile(filepath.Join(c.dir, "memory.max_usage_in_bytes"), []byte("0"), 0)
		}
	}
	c.peak = 0
	return p
}

// takeAnonPeak returns the highest anonymous memory since the last call and starts a new
// period.
func (c *memCgroup) takeAnonPeak() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := max(c.anonPeak, c.anon())
	c.anonPeak = 0
	return p
}

// oomKills counts the processes the kernel's OOM killer took in the cgroup.
func (c *memCgroup) oomKills() int {
	name := "memory.oom_control"
	if c.v2 {
		name = "memory.events"
	}
	s, _ := c.read(name)
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "oom_kill" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// remove kills what is left in the cgroup and removes it.
func (c *memCgroup) remove() {
	close(c.stop)
	<-c.done
	for range 50 {
		procs, _ := c.read("cgroup.procs")
		if procs == "" {
			break
		}
		for _, p := range strings.Fields(procs) {
			if pid, err := strconv.Atoi(p); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	for range 50 {
		if err := os.Remove(c.dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
