// Command memhog allocates the given amount of memory and writes to every
// page so that it is really charged to its cgroup, then holds it for a while
// (2s, or the optional second argument). The end-to-end test runs it inside
// edge-observability.slice to show that the slice's memory cap is enforced
// (memhog must be killed before it prints "done"), and under a MemoryHigh=
// below SIZE to show throttling without a kill.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

const chunk = 4 << 20 // allocate in 4 MiB steps so usage grows gradually

func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return n * mult, nil
}

func main() {
	if len(os.Args) < 2 || len(os.Args) > 3 {
		fmt.Fprintln(os.Stderr, "usage: memhog SIZE [HOLD] (e.g. 400M 30s)")
		os.Exit(2)
	}
	total, err := parseSize(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	hold := 2 * time.Second
	if len(os.Args) == 3 {
		if hold, err = time.ParseDuration(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	pagesize := os.Getpagesize()
	var held [][]byte // keep every chunk reachable so nothing is freed
	var done int64
	for done < total {
		b := make([]byte, chunk)
		for i := 0; i < len(b); i += pagesize {
			b[i] = 1
		}
		held = append(held, b)
		done += chunk
		if done%(64<<20) == 0 {
			fmt.Printf("touched %d MiB\n", done>>20)
		}
	}
	fmt.Printf("done: touched %d MiB in %d chunks\n", done>>20, len(held))
	// Hold the memory so that the cgroup's files show it.
	time.Sleep(hold)
	runtime.KeepAlive(held)
}
