package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clkTck is USER_HZ, which the kernel fixes at 100 for /proc/PID/stat on
// every architecture we ship for.
const clkTck = 100

type procSample struct {
	rssKiB, pssKiB int64
	anonKiB        int64         // RssAnon: heap, stacks, runtime
	fileKiB        int64         // RssFile: mapped pages of the executable and libraries
	cpu            time.Duration // utime + stime
	// schedCPU sums the nanosecond run times of /proc/PID/task/*/schedstat:
	// utime and stime are sampled at the 10 ms tick, too coarse for a few
	// short polls a second; threads that exited drop out of this one.
	schedCPU time.Duration
	threads  int
	fds      int
}

// kibFields sets each of fields from its "Name: N kB" line of a /proc file.
func kibFields(data []byte, fields map[string]*int64) {
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		if p, ok := fields[f[0]]; ok {
			*p, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
}

func sampleProc(pid int) (procSample, error) {
	var s procSample
	rollup, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return s, err
	}
	kibFields(rollup, map[string]*int64{"Rss:": &s.rssKiB, "Pss:": &s.pssKiB})
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		kibFields(st, map[string]*int64{"RssAnon:": &s.anonKiB, "RssFile:": &s.fileKiB})
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// comm may contain spaces and parentheses; fields restart after the last ')'.
	rest := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	// rest[0] is field 3 (state); utime is field 14, stime 15, num_threads 20.
	ut, _ := strconv.ParseInt(rest[11], 10, 64)
	st, _ := strconv.ParseInt(rest[12], 10, 64)
	s.threads, _ = strconv.Atoi(rest[17])
	s.cpu = time.Duration(ut+st) * time.Second / clkTck
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		s.fds = len(ents)
	}
	if tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid)); err == nil {
		for _, t := range tasks {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
			if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
				ns, _ := strconv.ParseInt(f[0], 10, 64)
				s.schedCPU += time.Duration(ns)
			}
		}
	}
	return s, nil
}

func (s procSample) print(prefix string) {
	out(prefix+"rss_kib", s.rssKiB)
	out(prefix+"pss_kib", s.pssKiB)
	out(prefix+"rss_anon_kib", s.anonKiB)
	out(prefix+"rss_file_kib", s.fileKiB)
	out(prefix+"cpu_ms", s.cpu.Milliseconds())
	out(prefix+"threads", s.threads)
	out(prefix+"fds", s.fds)
}

func procstat(args []string) error {
	fs := flag.NewFlagSet("procstat", flag.ExitOnError)
	pid := fs.Int("pid", 0, "process to sample")
	prefix := fs.String("prefix", "", "key prefix")
	fs.Parse(args)
	s, err := sampleProc(*pid)
	if err != nil {
		return err
	}
	s.print(*prefix)
	return nil
}

// ioHeader is the first line of iosample's CSV; reportIO and writeRates read its columns.
const ioHeader = "time,proc,read_bytes,write_bytes,cancelled_write_bytes,wchar,vmrss_kib,vmhwm_kib"

// ioSample prints, every -every (for -for, or until it is stopped), a CSV row per NAME=PID:
// the time (Unix seconds), NAME, read_bytes, write_bytes, cancelled_write_bytes and wchar of
// /proc/PID/io, and VmRSS and VmHWM in KiB. A process that has gone is left out of the round.
//
//	benchtool iosample [-every 5s] [-for DUR] NAME=PID...
func ioSample(args []string) error {
	fs := flag.NewFlagSet("iosample", flag.ExitOnError)
	every := fs.Duration("every", 5*time.Second, "sampling period")
	total := fs.Duration("for", 0, "sample this long (0: until stopped)")
	fs.Parse(args)
	if fs.NArg() == 0 || *every <= 0 || *total < 0 {
		return fmt.Errorf("want -every above 0, -for 0 or above, NAME=PID...")
	}
	names, pids := make([]string, fs.NArg()), make([]int, fs.NArg())
	for i, a := range fs.Args() {
		n, p, ok := strings.Cut(a, "=")
		pid, err := strconv.Atoi(p)
		if !ok || err != nil || n == "" {
			return fmt.Errorf("%q: want NAME=PID", a)
		}
		names[i], pids[i] = n, pid
	}
	fmt.Println(ioHeader)
	// Rounds at 0, every, 2*every, ... up to and including total.
	for round := int64(0); *total == 0 || round <= int64(*total / *every); round++ {
		if round > 0 {
			time.Sleep(*every)
		}
		t := time.Now().Unix()
		for i, pid := range pids {
			if row, err := ioRow(pid); err == nil {
				fmt.Printf("%d,%s,%s\n", t, names[i], row)
			}
		}
	}
	return nil
}

// ioRow: "read_bytes,write_bytes,cancelled_write_bytes,wchar,vmrss_kib,vmhwm_kib" of pid.
func ioRow(pid int) (string, error) {
	io, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return "", err
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", err
	}
	var r, w, c, x, rss, hwm int64
	kibFields(io, map[string]*int64{"read_bytes:": &r, "write_bytes:": &w, "cancelled_write_bytes:": &c, "wchar:": &x})
	kibFields(st, map[string]*int64{"VmRSS:": &rss, "VmHWM:": &hwm})
	return fmt.Sprintf("%d,%d,%d,%d,%d,%d", r, w, c, x, rss, hwm), nil
}
