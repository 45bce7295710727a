package main

import (
	"bufio"
	"encoding/csv"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// cgsoak samples control groups for a while: the kernel's memory charge of
// each (cgroup v1 or v2 files) and every process in it (PSS, and CPU time
// including reaped children, so a plugin's short-lived helpers count), and
// prints the figures at the end. It runs where the cgroups are mounted
// (inside the booted container), so its own memory is in none of them.
//
//	benchtool cgsoak -duration DUR -interval DUR -out DIR NAME=CGROUP...
//
// CGROUP is a unit's ControlGroup path (systemctl show -p ControlGroup).
func cgsoak(args []string) error {
	fl := flag.NewFlagSet("cgsoak", flag.ExitOnError)
	dur := fl.Duration("duration", 10*time.Minute, "soak length")
	every := fl.Duration("interval", 30*time.Second, "sampling period")
	root := fl.String("root", "/sys/fs/cgroup", "cgroup mount point")
	dir := fl.String("out", "", "directory for groups.csv and processes.csv")
	fl.Parse(args)
	if fl.NArg() == 0 || *dir == "" {
		return fmt.Errorf("want -out DIR and NAME=CGROUP arguments")
	}
	s := &soak{first: map[string]map[int]procCPU{}, last: map[string]map[int]procCPU{}, cpu0: map[string]int64{}}
	for _, a := range fl.Args() {
		name, path, ok := strings.Cut(a, "=")
		if !ok {
			return fmt.Errorf("%q: want NAME=CGROUP", a)
		}
		g, err := openCgroup(*root, name, path)
		if err != nil {
			return err
		}
		s.groups = append(s.groups, g)
	}
	gw, pw, closeAll, err := soakWriters(*dir)
	if err != nil {
		return err
	}
	defer closeAll()
	for _, g := range s.groups {
		g.resetPeak()
	}
	start := time.Now()
	for t := start; ; t = t.Add(*every) {
		time.Sleep(time.Until(t))
		s.sample(int(time.Since(start).Seconds()), gw, pw)
		gw.Flush()
		pw.Flush()
		if t.Add(*every).After(start.Add(*dur)) {
			break
		}
	}
	mins := time.Since(start).Minutes()
	out("duration_s", int(time.Since(start).Seconds()))
	for i := range s.groups {
		s.print(i, mins)
	}
	return nil
}

// soak is the groups sampled and what the figures at the end need: each
// process's CPU at its first and last sample, and each group's last sample
// and CPU at the start.
type soak struct {
	groups      []cgroup
	first, last map[string]map[int]procCPU // by group, by pid
	end         []groupSample
	cpu0        map[string]int64
}

// sample samples every group el seconds into the soak, into the CSV files.
func (s *soak) sample(el int, gw, pw *csv.Writer) {
	s.end = s.end[:0]
	for _, g := range s.groups {
		gs := g.sample()
		s.end = append(s.end, gs)
		if el == 0 {
			s.cpu0[g.name] = gs.cpuUsec
		}
		gw.Write([]string{strconv.Itoa(el), g.name, i64(gs.usage), i64(gs.peak), i64(gs.anon), i64(gs.file), i64(gs.pssKiB), strconv.Itoa(len(gs.procs)), i64(gs.cpuUsec)})
		if s.first[g.name] == nil {
			s.first[g.name] = map[int]procCPU{}
			s.last[g.name] = map[int]procCPU{}
		}
		for _, p := range gs.procs {
			if el == 0 {
				s.first[g.name][p.pid] = p
			}
			s.last[g.name][p.pid] = p
			pw.Write([]string{strconv.Itoa(el), g.name, strconv.Itoa(p.pid), p.comm, i64(p.pssKiB), i64(p.ticks)})
		}
	}
}

// print prints the figures of the i-th group over a soak of mins minutes.
func (s *soak) print(i int, mins float64) {
	g, end := s.groups[i], s.end[i]
	out(g.name+".usage_bytes", end.usage)
	out(g.name+".peak_bytes", end.peak)
	out(g.name+".anon_bytes", end.anon)
	out(g.name+".file_bytes", end.file)
	out(g.name+".file_mapped_bytes", end.mapped)
	out(g.name+".pss_kib", end.pssKiB)
	out(g.name+".processes", len(end.procs))
	byComm, ticks := s.byComm(g.name, end)
	out(g.name+".cpu_s", float64(ticks)/clkTck)
	out(g.name+".cpu_s_per_min", float64(ticks)/clkTck/mins)
	if end.cpuUsec >= 0 && s.cpu0[g.name] >= 0 {
		out(g.name+".cgroup_cpu_s_per_min", float64(end.cpuUsec-s.cpu0[g.name])/1e6/mins)
	}
	for _, comm := range slices.Sorted(maps.Keys(byComm)) {
		c := byComm[comm]
		if c.n == 0 {
			continue // exited before the end; its CPU is in the group's
		}
		out(fmt.Sprintf("%s.proc.%s.count", g.name, comm), c.n)
		out(fmt.Sprintf("%s.proc.%s.pss_kib", g.name, comm), c.pssKiB)
		out(fmt.Sprintf("%s.proc.%s.cpu_s_per_min", g.name, comm), float64(c.ticks)/clkTck/mins)
	}
}

// byComm sums the group's processes by command: the CPU ticks each spent
// during the soak (a process started during it counts whole), and the PSS
// and count of those alive at the end; ticks is the group's total.
func (s *soak) byComm(group string, end groupSample) (byComm map[string]*commTotal, ticks int64) {
	byComm = map[string]*commTotal{}
	for pid, p := range s.last[group] {
		d := p.ticks - s.first[group][pid].ticks
		ticks += d
		c := byComm[p.comm]
		if c == nil {
			c = &commTotal{}
			byComm[p.comm] = c
		}
		c.ticks += d
	}
	for _, p := range end.procs {
		c := byComm[p.comm]
		c.pssKiB += p.pssKiB
		c.n++
	}
	return byComm, ticks
}

type commTotal struct {
	pssKiB, ticks int64
	n             int
}

func i64(v int64) string { return strconv.FormatInt(v, 10) }

func soakWriters(dir string) (groups, procs *csv.Writer, closeAll func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, nil, err
	}
	gf, err := os.Create(filepath.Join(dir, "groups.csv"))
	if err != nil {
		return nil, nil, nil, err
	}
	pf, err := os.Create(filepath.Join(dir, "processes.csv"))
	if err != nil {
		gf.Close()
		return nil, nil, nil, err
	}
	groups, procs = csv.NewWriter(gf), csv.NewWriter(pf)
	groups.Write([]string{"t", "group", "usage_bytes", "peak_bytes", "anon_bytes", "file_bytes", "pss_kib_sum", "processes", "cgroup_cpu_usec"})
	procs.Write([]string{"t", "group", "pid", "comm", "pss_kib", "cpu_ticks"})
	return groups, procs, func() { gf.Close(); pf.Close() }, nil
}

// cgroup is one group's memory directory: cgroup v1 (memory controller
// hierarchy) or v2 (unified).
type cgroup struct {
	name, dir string
	v1        bool
	cpu       string // cpu.stat (usage_usec) or cpuacct.usage (ns); "" when neither
}

func openCgroup(root, name, path string) (cgroup, error) {
	var g cgroup
	if d := filepath.Join(root, "memory", path); fileExists(filepath.Join(d, "memory.usage_in_bytes")) {
		g = cgroup{name: name, dir: d, v1: true}
	} else if d := filepath.Join(root, path); fileExists(filepath.Join(d, "memory.current")) {
		g = cgroup{name: name, dir: d}
	} else {
		return g, fmt.Errorf("%s: no memory accounting for %s under %s", name, path, root)
	}
	// The group's CPU time counts processes that have exited too. A hybrid
	// layout has it in the unified hierarchy whatever the v1 controllers.
	for _, f := range []string{filepath.Join(root, path, "cpu.stat"), filepath.Join(root, "unified", path, "cpu.stat"),
		filepath.Join(root, "cpu,cpuacct", path, "cpuacct.usage"), filepath.Join(root, "cpuacct", path, "cpuacct.usage")} {
		if fileExists(f) {
			g.cpu = f
			break
		}
	}
	return g, nil
}

// cpuUsec is the group's CPU time in µs, or -1 when unknown.
func (g cgroup) cpuUsec() int64 {
	switch {
	case g.cpu == "":
		return -1
	case strings.HasSuffix(g.cpu, "cpuacct.usage"):
		return readInt(g.cpu) / 1000
	}
	if v, ok := readKV(g.cpu)["usage_usec"]; ok {
		return v
	}
	return -1
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// resetPeak starts the high-water mark at the soak (v1; v2's memory.peak
// is reset per open file only on newer kernels, so it is left alone).
func (g cgroup) resetPeak() {
	if g.v1 {
		os.WriteFile(filepath.Join(g.dir, "memory.max_usage_in_bytes"), []byte("0"), 0)
	}
}

type groupSample struct {
	usage, peak, anon, file, pssKiB int64
	// mapped is the part of file that processes map (executables and
	// libraries, mmap()ed files); the rest was read or written.
	mapped  int64
	cpuUsec int64
	procs   []procCPU
}

type procCPU struct {
	pid           int
	comm          string
	pssKiB, ticks int64
}

func (g cgroup) sample() groupSample {
	var s groupSample
	usage, peak, anonKey, fileKey, mappedKey := "memory.current", "memory.peak", "anon", "file", "file_mapped"
	if g.v1 {
		usage, peak, anonKey, fileKey, mappedKey = "memory.usage_in_bytes", "memory.max_usage_in_bytes", "total_rss", "total_cache", "total_mapped_file"
	}
	s.usage = readInt(filepath.Join(g.dir, usage))
	s.peak = readInt(filepath.Join(g.dir, peak))
	stat := readKV(filepath.Join(g.dir, "memory.stat"))
	s.anon, s.file, s.mapped = stat[anonKey], stat[fileKey], stat[mappedKey]
	s.cpuUsec = g.cpuUsec()
	for _, pid := range g.pids() {
		p, err := sampleCPU(pid)
		if err != nil {
			continue // gone since cgroup.procs was read
		}
		s.procs = append(s.procs, p)
		s.pssKiB += p.pssKiB
	}
	return s
}

// pids lists the processes of the group and its descendants.
func (g cgroup) pids() []int {
	var pids []int
	filepath.WalkDir(g.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
			return nil
		}
		b, _ := os.ReadFile(p)
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				pids = append(pids, n)
			}
		}
		return nil
	})
	return pids
}

// sampleCPU reads a process's PSS and its CPU ticks: utime+stime of its
// threads and cutime+cstime of the children it reaped.
func sampleCPU(pid int) (procCPU, error) {
	p := procCPU{pid: pid}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return p, err
	}
	s := string(stat)
	lp, rp := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if lp < 0 || rp < lp {
		return p, fmt.Errorf("pid %d: bad stat", pid)
	}
	p.comm = strings.ReplaceAll(s[lp+1:rp], " ", "_")
	rest := strings.Fields(s[rp+1:])
	for _, i := range []int{11, 12, 13, 14} { // fields 14-17
		v, _ := strconv.ParseInt(rest[i], 10, 64)
		p.ticks += v
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid)); err == nil {
		kibFields(b, map[string]*int64{"Pss:": &p.pssKiB})
	}
	return p, nil
}

func readInt(p string) int64 {
	b, _ := os.ReadFile(p)
	v, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return v
}

func readKV(p string) map[string]int64 {
	m := map[string]int64{}
	f, err := os.Open(p)
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), " "); ok {
			m[k], _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return m
}
