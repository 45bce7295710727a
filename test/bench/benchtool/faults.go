package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// faultStep changes the chip's files (change, on tempN_input), waits, takes
// the snapshot name of tempN's sensor, which the report's row label
// describes, and then runs after.
type faultStep struct {
	name, label string
	n           int
	change      func(f *faultRun, file string) error
	wait        time.Duration
	after       func(f *faultRun)
}

// faultSteps is the scenario, in order; each label says how long after the
// change its snapshot was taken.
var faultSteps = []faultStep{
	{"0-baseline", "baseline (temp1)", 1, (*faultRun).keepOriginals, 2 * time.Second, nil},
	// The attribute file vanishes (driver unbound, device unplugged).
	{"1a-vanished", "temp1_input deleted, +1.5 s", 1, (*faultRun).remove, 1500 * time.Millisecond, nil},
	{"1b-vanished-later", "temp1_input deleted, +4.5 s", 1, nil, 3 * time.Second, nil},
	{"1c-restored", "temp1_input restored, +2.5 s", 1, (*faultRun).restore, 2500 * time.Millisecond, nil},
	// Garbage instead of a number.
	{"2a-garbage", "temp2_input = garbage, +1.5 s (temp2)", 2, (*faultRun).garbage, 1500 * time.Millisecond, nil},
	{"2b-garbage-later", "temp2_input = garbage, +4.5 s (temp2)", 2, nil, 3 * time.Second, nil},
	{"2c-restored", "temp2_input restored, +2.5 s (temp2)", 2, (*faultRun).restore, 2500 * time.Millisecond, nil},
	// A FIFO: open(2) blocks until a writer appears, like a hung driver.
	// Does another sensor of the same chip keep updating meanwhile?
	{"3a-fifo", "temp3_input = FIFO, +2.5 s (temp3)", 3, (*faultRun).fifo, 2500 * time.Millisecond, func(f *faultRun) { f.times[0] = f.sensorTime(1) }},
	{"3b-fifo-later", "temp3_input = FIFO, +8.5 s (temp3)", 3, nil, 6 * time.Second, func(f *faultRun) { f.times[1] = f.sensorTime(1) }},
	{"3c-released", "FIFO replaced by the file and released, +2.5 s (temp3)", 3, (*faultRun).release, 2500 * time.Millisecond, nil},
}

type faultRun struct {
	url, sysfs, chip, sensor, out string
	pid                           int
	client                        *http.Client
	orig                          map[string][]byte // the attribute files as the fixture has them
	times                         [2]string         // temp1's last good read with the FIFO in place, before and after
}

// faults plays run.sh's faults part against an edge-sensord that reads a
// copy of the fixture sysfs: three attribute files of one hwmon chip vanish,
// hold garbage and turn into a FIFO (a hung driver) while it runs, and after
// each change a snapshot of what its endpoints say goes to OUT/NAME.txt. It
// prints "key value" lines: whether the daemon was alive at the end, and the
// last good read of the chip's first sensor while the third one blocked.
//
//	benchtool faults -url URL -pid PID -sysfs DIR -chip DIR -sensor PREFIX -out DIR
//
// PREFIX+N is the sensor of the chip's tempN_input.
func faults(args []string) error {
	fs := flag.NewFlagSet("faults", flag.ExitOnError)
	f := &faultRun{client: &http.Client{Timeout: 10 * time.Second}, orig: map[string][]byte{}}
	fs.StringVar(&f.url, "url", "", "the daemon's base URL")
	fs.IntVar(&f.pid, "pid", 0, "the daemon's process")
	fs.StringVar(&f.sysfs, "sysfs", "", "the copy of the sysfs tree the daemon reads")
	fs.StringVar(&f.chip, "chip", "", "the hwmon chip directory, below -sysfs")
	fs.StringVar(&f.sensor, "sensor", "", "sensor name of tempN_input, less N")
	fs.StringVar(&f.out, "out", "", "directory for the snapshots")
	fs.Parse(args)
	if f.url == "" || f.pid == 0 || f.sysfs == "" || f.chip == "" || f.sensor == "" || f.out == "" {
		return fmt.Errorf("want -url, -pid, -sysfs, -chip, -sensor and -out")
	}
	for _, s := range faultSteps {
		if err := f.step(s); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	alive := "no"
	if syscall.Kill(f.pid, 0) == nil {
		alive = "yes"
	}
	out("alive", alive)
	out("fifo_temp1_time_before", f.times[0])
	out("fifo_temp1_time_after", f.times[1])
	return nil
}

func (f *faultRun) step(s faultStep) error {
	file := fmt.Sprintf("temp%d_input", s.n)
	if s.change != nil {
		if err := s.change(f, file); err != nil {
			return err
		}
	}
	time.Sleep(s.wait)
	snap, err := f.snapshot(fmt.Sprintf("%s%d", f.sensor, s.n))
	if err != nil {
		return err
	}
	if s.after != nil {
		s.after(f)
	}
	return os.WriteFile(filepath.Join(f.out, s.name+".txt"), []byte(snap), 0o644)
}

func (f *faultRun) keepOriginals(string) error {
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("temp%d_input", i)
		b, err := os.ReadFile(filepath.Join(f.chip, name))
		if err != nil {
			return err
		}
		f.orig[name] = b
	}
	return nil
}

func (f *faultRun) remove(file string) error { return os.Remove(filepath.Join(f.chip, file)) }

func (f *faultRun) garbage(file string) error {
	return os.WriteFile(filepath.Join(f.chip, file), []byte("garbage\n"), 0o644)
}

// restore puts the original back atomically (a rename over the path).
func (f *faultRun) restore(file string) error {
	tmp, err := os.CreateTemp(filepath.Dir(f.sysfs), file+".new")
	if err != nil {
		return err
	}
	_, err = tmp.Write(f.orig[file])
	if err := errors.Join(err, tmp.Close()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(f.chip, file))
}

func (f *faultRun) fifo(file string) error {
	path := filepath.Join(f.chip, file)
	if err := os.Remove(path); err != nil {
		return err
	}
	return syscall.Mkfifo(path, 0o666)
}

// release puts a regular file at the FIFO's path first, then writes to the
// old FIFO through a second link, which ends the read blocked on it.
func (f *faultRun) release(file string) error {
	link := filepath.Join(filepath.Dir(f.sysfs), "fifo-link")
	if err := os.Link(filepath.Join(f.chip, file), link); err != nil {
		return err
	}
	defer os.Remove(link)
	if err := f.restore(file); err != nil {
		return err
	}
	// O_NONBLOCK: the open fails until a reader has the FIFO open; give it 2 s.
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		w, err := os.OpenFile(link, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			_, err = w.WriteString("41000\n")
			return errors.Join(err, w.Close())
		}
	}
	return nil
}

// snapshot is what each endpoint says now about sensor, in the format of
// results/faults/*.txt.
func (f *faultRun) snapshot(sensor string) (string, error) {
	var b strings.Builder
	_, body, err := f.get("/sensor/" + sensor)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "## /sensor/%s\n%s", sensor, body)
	code, body, err := f.get("/healthz")
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "## /healthz (%d)\n%s", code, body)
	_, body, err = f.get("/metrics")
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "## /metrics (selected)\n%s", selectLines(body, faultMetrics(sensor)))
	st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", f.pid))
	var threads, rss int64 = -1, -1
	kibFields(st, map[string]*int64{"Threads:": &threads, "VmRSS:": &rss})
	fmt.Fprintf(&b, "## process: threads %d, RSS %d kB\n", threads, rss)
	return b.String(), nil
}

// faultMetrics selects the series a fault of sensor shows in.
func faultMetrics(sensor string) *regexp.Regexp {
	s := regexp.QuoteMeta(sensor)
	return regexp.MustCompile(`^(edge_sensor_read_errors_total\{.*source="hwmon"|sensor_failed_events_total|edge_sensor_stale\{sensor="` + s +
		`"|edge_sensor_temperature_celsius\{.*sensor="` + s + `"|edge_sensor_scrape_collector_(success|duration_seconds)\{collector="hwmon"|edge_sensor_poll_duration_seconds)`)
}

func (f *faultRun) get(path string) (int, string, error) {
	resp, err := f.client.Get(f.url + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// sensorTime is the time of tempN's last good read, "?" when unknown.
func (f *faultRun) sensorTime(n int) string {
	_, body, err := f.get(fmt.Sprintf("/sensor/%s%d", f.sensor, n))
	var s struct{ Time string }
	if err != nil || json.Unmarshal([]byte(body), &s) != nil {
		return "?"
	}
	return s.Time
}

// faultsReport prints the markdown of run.sh's faults part from its DIR: the
// snapshots and "key value" output (faults.kv) of faults, and restart.kv of
// benchtool ready -after-sigkill.
//
//	benchtool faults-report -load-before L -load-after L -sysfs DIR DIR
func faultsReport(args []string) error {
	return runReport("faults-report", args, option{"sysfs", "", "the sysfs copy the daemon read, left out of error messages"}, writeFaults)
}

func writeFaults(w io.Writer, dir string, run runInfo, sysfs string) error {
	kv, err := loadKV(filepath.Join(dir, "faults.kv"))
	if err != nil {
		return err
	}
	restart, err := loadKV(filepath.Join(dir, "restart.kv"))
	if err != nil {
		return err
	}
	snaps := map[string]snapshot{}
	for _, s := range faultSteps {
		if snaps[s.name], err = readSnapshot(filepath.Join(dir, s.name+".txt")); err != nil {
			return err
		}
	}
	strip := strings.NewReplacer(sysfs+"/", "", filepath.Dir(sysfs)+"/", "")
	fmt.Fprintf(w, "### Faults\n\n%s A copy of test/fixtures/sysfs, --poll.interval=1s, --sensors.stale-after=3; files of hwmon0 (coretemp) changed while running. Snapshots: results/faults/*.txt.\n\n", run.loads())
	fmt.Fprintln(w, "| Moment | /sensor status | value | error | edge_sensor_stale | read_errors_total{source=hwmon} | sensor_failed_events_total | /healthz |\n|---|---|---|---|---|---|---|---|")
	for _, s := range faultSteps {
		r, err := snaps[s.name].row(s.label, strip)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		fmt.Fprintln(w, r)
	}
	fmt.Fprintf(w, "\nWhile temp3_input was a FIFO, temp1 (same chip) kept being read: its last good read moved from %s to %s.\n", kv["fifo_temp1_time_before"], kv["fifo_temp1_time_after"])
	fmt.Fprintf(w, "Poll duration and threads at +2.5 s / +8.5 s with the FIFO: %s / %s\n", snaps["3a-fifo"].pollAndProcess(), snaps["3b-fifo-later"].pollAndProcess())
	fmt.Fprintf(w, "Daemon alive throughout: %s.\n\n", kv["alive"])
	runs := 0
	for k := range restart {
		if strings.HasPrefix(k, "ready_ms_run") {
			runs++
		}
	}
	fmt.Fprintf(w, "SIGKILL then restart (%d runs; a scrape connection was open at the kill): start → READY=1 %s ms (min %s, max %s); start → first 200 on /metrics %s ms (min %s, max %s).\n",
		runs, restart["ready_ms_median"], restart["ready_ms_min"], restart["ready_ms_max"], restart["first200_ms_median"], restart["first200_ms_min"], restart["first200_ms_max"])
	return nil
}

// snapshot is a results/faults/*.txt file: its "## " sections by heading.
type snapshot struct {
	sensor, healthz, process string
	sensorJSON, metrics      string
}

func readSnapshot(path string) (snapshot, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return snapshot{}, err
	}
	var s snapshot
	var section *string
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "## /sensor/"):
			s.sensor, section = strings.TrimPrefix(l, "## /sensor/"), &s.sensorJSON
		case strings.HasPrefix(l, "## /healthz ("):
			s.healthz, section = strings.TrimSuffix(strings.TrimPrefix(l, "## /healthz ("), ")"), nil
		case l == "## /metrics (selected)":
			section = &s.metrics
		case strings.HasPrefix(l, "## process: "):
			s.process, section = l, nil
		case section != nil:
			*section += l + "\n"
		}
	}
	if s.sensor == "" {
		return s, fmt.Errorf("%s: no /sensor section", path)
	}
	return s, nil
}

// row is the snapshot's row of the table.
func (s snapshot) row(label string, strip *strings.Replacer) (string, error) {
	var js struct {
		Status *string
		Value  json.RawMessage
		Error  string
	}
	status, value := "?", "?"
	if json.Unmarshal([]byte(s.sensorJSON), &js) == nil {
		status, value = "null", "null"
		if js.Status != nil {
			status = *js.Status
		}
		if len(js.Value) > 0 {
			value = string(js.Value)
		}
	}
	errText := strip.Replace(js.Error)
	if len(errText) > 110 {
		errText = errText[:110]
	}
	fams, err := parseExposition(s.metrics)
	if err != nil {
		return "", err
	}
	stale := "absent"
	if v, ok := sampleOf(fams["edge_sensor_stale"], "sensor", s.sensor); ok {
		stale = v
	}
	readErrs := samplesBy(fams["edge_sensor_read_errors_total"], "reason", func(l map[string]string) bool { return l["source"] == "hwmon" })
	events := samplesBy(fams["sensor_failed_events_total"], "reason", nil)
	return row(label, status, value, cmp.Or(errText, "–"), stale, readErrs, events, s.healthz), nil
}

// pollAndProcess is the poll duration and the process's line.
func (s snapshot) pollAndProcess() string {
	return strings.TrimSpace(selectLines(s.metrics, regexp.MustCompile(`^edge_sensor_poll_duration_seconds`))) + " " + s.process
}
