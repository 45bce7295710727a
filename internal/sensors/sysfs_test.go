package sensors

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/sensors/sensorstest"
)

// withReadFile swaps the read seam for one test. Tests using it must not
// run in parallel.
func withReadFile(t *testing.T, f func(path string) (string, error)) {
	t.Helper()
	old := readFile
	readFile = f
	t.Cleanup(func() { readFile = old })
}

// waitIdle waits for reads abandoned by a test to return, so they cannot
// make a later test see a busy path.
func waitIdle(t *testing.T) {
	t.Helper()
	for range 10000 {
		inflight.Lock()
		n := len(inflight.paths)
		inflight.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("abandoned reads never returned")
}

func TestReadOnce(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "attr")
	if err := os.WriteFile(p, []byte(" 42000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := readOnce(p); err != nil || s != " 42000\n" {
		t.Errorf("readOnce = %q, %v", s, err)
	}
	// One read of at most a page: longer content is cut, not read in a loop.
	if err := os.WriteFile(p, []byte(strings.Repeat("1", 5000)), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := readOnce(p); err != nil || len(s) != 4096 {
		t.Errorf("readOnce of 5000 bytes returned %d bytes, %v", len(s), err)
	}
	_, err := readOnce(filepath.Join(dir, "missing"))
	if reasonOf(err) != ReasonVanished {
		t.Errorf("missing file: reason %q (%v), want vanished", reasonOf(err), err)
	}
	// A directory opens but read(2) fails with EISDIR: some other errno is io.
	_, err = readOnce(dir)
	if !errors.Is(err, syscall.EISDIR) || reasonOf(err) != ReasonIO {
		t.Errorf("directory: reason %q (%v), want io from EISDIR", reasonOf(err), err)
	}
}

func TestReadAttrEmptyAndTrim(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "attr")
	os.WriteFile(p, []byte("  \n"), 0o644)
	if _, err := (attrReader{timeout: time.Second}).readAttr(context.Background(), p); reasonOf(err) != ReasonEmpty {
		t.Errorf("blank attribute: reason %q (%v)", reasonOf(err), err)
	}
	os.WriteFile(p, []byte("Core 0\n"), 0o644)
	if s, err := (attrReader{timeout: time.Second}).readAttr(context.Background(), p); err != nil || s != "Core 0" {
		t.Errorf("readAttr = %q, %v", s, err)
	}
}

// TestErrnoReasons injects errors a regular file cannot produce into one
// attribute of the fixture and checks the reason and that no value leaks.
func TestErrnoReasons(t *testing.T) {
	const target = "hwmon_lm75_i2c_1_0048_temp1"
	for _, tc := range []struct {
		errno  syscall.Errno
		reason string
	}{
		{syscall.EIO, ReasonIO},
		{syscall.EAGAIN, ReasonIO},
		{syscall.ENODATA, ReasonIO},
		{syscall.EINVAL, ReasonIO},
		{syscall.ENODEV, ReasonVanished},
		{syscall.ENOENT, ReasonVanished},
	} {
		t.Run(tc.errno.Error(), func(t *testing.T) {
			withReadFile(t, func(path string) (string, error) {
				if strings.HasSuffix(path, "1-0048/hwmon/hwmon1/temp1_input") || strings.HasSuffix(path, "class/hwmon/hwmon1/temp1_input") {
					return "", &os.PathError{Op: "read", Path: path, Err: tc.errno}
				}
				return readOnce(path)
			})
			res := readSource(t, "hwmon", fixture)
			for _, r := range res.Readings {
				if r.Name == target {
					t.Fatalf("failed sensor still has a reading: %+v", r)
				}
			}
			var found []ReadError
			for _, e := range res.Errors {
				if e.Name == target {
					found = append(found, e)
				}
			}
			if len(found) != 1 || found[0].Reason != tc.reason || !errors.Is(found[0].Err, tc.errno) {
				t.Fatalf("errors for %s: %+v, want one with reason %s", target, found, tc.reason)
			}
			// The other sensors are unaffected.
			if len(res.Readings) != 13 {
				t.Errorf("got %d readings, want 13", len(res.Readings))
			}
		})
	}
}

func TestVanishedBetweenListAndRead(t *testing.T) {
	dir := t.TempDir()
	if err := sensorstest.WriteHwmonTree(dir, 4); err != nil {
		t.Fatal(err)
	}
	withReadFile(t, func(path string) (string, error) {
		if strings.HasSuffix(path, "/in2_input") {
			// The chip is unbound after the directory listing.
			if err := os.Remove(path); err != nil {
				return "", err
			}
		}
		return readOnce(path)
	})
	res := readSource(t, "hwmon", filepath.Join(dir))
	checkResult(t, Result{Readings: res.Readings[:0], Errors: res.Errors}, nil,
		[]wantErr{{"hwmon_edgebench_platform_edgebench_0_in2", ReasonVanished, Voltage, "edgebench_platform_edgebench_0"}})
	if len(res.Readings) != 3 {
		t.Errorf("got %d readings, want the 3 remaining", len(res.Readings))
	}
}

func TestW1DeviceVanished(t *testing.T) {
	dir := t.TempDir()
	bus := filepath.Join(dir, "bus", "w1", "devices")
	os.MkdirAll(bus, 0o755)
	// The bus still lists the device but its directory is gone.
	os.Symlink("../../../devices/w1_bus_master1/28-000000000001", filepath.Join(bus, "28-000000000001"))
	// w1_slave disappears between listing the device and reading it.
	dev := filepath.Join(dir, "devices", "w1_bus_master1", "28-000000000002")
	os.MkdirAll(dev, 0o755)
	os.WriteFile(filepath.Join(dev, "w1_slave"), []byte("x : crc=1 YES\nx t=1000\n"), 0o644)
	os.Symlink("../../../devices/w1_bus_master1/28-000000000002", filepath.Join(bus, "28-000000000002"))
	withReadFile(t, func(path string) (string, error) {
		os.Remove(path)
		return readOnce(path)
	})
	res := readSource(t, "w1", dir)
	checkResult(t, res, nil, []wantErr{{"w1_28_000000000001", ReasonVanished, Temperature, "28-000000000001"}, {"w1_28_000000000002", ReasonVanished, Temperature, "28-000000000002"}})
}

func TestHungReadTimesOut(t *testing.T) {
	release := make(chan struct{})
	var hungCalls atomic.Int32
	withReadFile(t, func(path string) (string, error) {
		if strings.HasSuffix(path, "/hwmon1/temp1_input") {
			hungCalls.Add(1)
			<-release
		}
		return readOnce(path)
	})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
		waitIdle(t)
	})
	// Long enough that the healthy reads never hit it on a loaded machine.
	src := &hwmonSource{sysfsSource{name: "hwmon", sysfs: fixture, attrReader: attrReader{timeout: time.Second}}, newLimitCache(0)}
	const target = "hwmon_lm75_i2c_1_0048_temp1"
	read := func() Result {
		t.Helper()
		res, err := src.Read(context.Background())
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		return res
	}
	timedOut := func(res Result) bool {
		for _, e := range res.Errors {
			if e.Name == target && e.Reason == ReasonTimeout {
				return true
			}
		}
		return false
	}

	res := read()
	if !timedOut(res) || len(res.Readings) != 13 {
		t.Fatalf("first read: want timeout for %s and 13 other readings, got %d readings, errors %v", target, len(res.Readings), res.Errors)
	}
	// While the first read is stuck in the "kernel", a second poll must not
	// start another read of the same file.
	res = read()
	if !timedOut(res) || hungCalls.Load() != 1 {
		t.Fatalf("second read: timeout=%v, reads of the hung file=%d, want true and 1", timedOut(res), hungCalls.Load())
	}
	close(release)
	// Once the stuck read returns, the path is read again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		res = read()
		if !timedOut(res) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("path still considered busy after the read returned")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(res.Readings) != 14 {
		t.Errorf("after release: %d readings, want 14", len(res.Readings))
	}
}

func TestContextEndsRead(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, s := range NewSources(Options{SysfsPath: fixture, Simulate: true}) {
		res, err := s.Read(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", s.Name(), err)
		}
		if len(res.Readings) != 0 {
			t.Errorf("%s: %d readings from a cancelled read", s.Name(), len(res.Readings))
		}
	}
}

func TestRegistry(t *testing.T) {
	names := func(ss []Source) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Name())
		}
		return out
	}
	if got := names(NewSources(Options{SysfsPath: fixture})); !slices.Equal(got, []string{"hwmon", "thermal", "iio", "w1"}) {
		t.Errorf("default sources: %v", got)
	}
	if got := names(NewSources(Options{SysfsPath: fixture, Simulate: true})); !slices.Equal(got, SourceNames()) {
		t.Errorf("with simulate: %v, want %v", got, SourceNames())
	}
	off := func(name string) bool { return name != "iio" && name != "simulated" }
	got := names(NewSources(Options{SysfsPath: fixture, Simulate: true, Enabled: off}))
	if !slices.Equal(got, []string{"hwmon", "thermal", "w1"}) {
		t.Errorf("with disabled: %v", got)
	}
}

func TestSimulatedDeterministic(t *testing.T) {
	a, b := NewSources(Options{Simulate: true, Enabled: func(name string) bool { return name == "simulated" }}), &simulatedSource{}
	if len(a) != 1 || a[0].Name() != "simulated" {
		t.Fatalf("sources: %v", a)
	}
	var first, later Result
	for step := range 20 {
		ra, err := a[0].Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		rb, _ := b.Read(context.Background())
		if !reflect.DeepEqual(ra.Readings, rb.Readings) {
			t.Fatalf("step %d: two sources disagree", step)
		}
		if !reflect.DeepEqual(ra.Readings, simulatedReadings(uint64(step))) {
			t.Fatalf("step %d: not a function of the step", step)
		}
		if !slices.IsSortedFunc(ra.Readings, func(x, y Reading) int { return strings.Compare(x.Name, y.Name) }) {
			t.Fatalf("step %d: unsorted", step)
		}
		kinds := map[Kind]bool{}
		for _, r := range ra.Readings {
			kinds[r.Kind] = true
			if err := Check(r.Kind, r.Value); err != nil {
				t.Errorf("step %d: %s: %v", step, r.Name, err)
			}
			// Simulated values stay inside their limits, so the shipped alerts stay quiet.
			for _, l := range r.Limits {
				crossed := r.Value >= l.Value
				if l.Type == "min" {
					crossed = r.Value <= l.Value
				}
				if crossed {
					t.Errorf("step %d: %s = %g crosses its %s limit %g", step, r.Name, r.Value, l.Type, l.Value)
				}
			}
		}
		if len(kinds) != len(Kinds) {
			t.Errorf("step %d: %d kinds, want every kind (%d)", step, len(kinds), len(Kinds))
		}
		if step == 0 {
			first = ra
		}
		later = ra
	}
	if reflect.DeepEqual(first.Readings, later.Readings) {
		t.Error("values do not change with the step")
	}
}

func TestWriteHwmonTree(t *testing.T) {
	for _, tc := range []struct {
		n      int
		write  func(string, int) error
		limits int
	}{
		{0, sensorstest.WriteHwmonTree, 0}, {1, sensorstest.WriteHwmonTree, 0}, {16, sensorstest.WriteHwmonTree, 0},
		{17, sensorstest.WriteHwmonTree, 0}, {100, sensorstest.WriteHwmonTree, 0}, {17, sensorstest.WriteHwmonTreeWithLimits, 2},
	} {
		n, dir := tc.n, t.TempDir()
		if err := tc.write(dir, n); err != nil {
			t.Fatal(err)
		}
		res := readSource(t, "hwmon", dir)
		if len(res.Readings) != n || len(res.Errors) != 0 || len(res.LimitErrors) != 0 {
			t.Errorf("n=%d: %d readings, errors %v %v", n, len(res.Readings), res.Errors, res.LimitErrors)
		}
		names := map[string]bool{}
		for _, r := range res.Readings {
			names[r.Name] = true
			if r.Label == "" || !strings.HasPrefix(r.Chip, "edgebench_platform_edgebench_") || len(r.Limits) != tc.limits {
				t.Errorf("n=%d: reading %+v", n, r)
			}
		}
		if len(names) != n {
			t.Errorf("n=%d: %d distinct names", n, len(names))
		}
	}
}

func TestDeviceIDAndSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"Package id 0": "Package_id_0",
		"cpu-thermal":  "cpu_thermal",
		"--x--":        "x",
		"iio:device0":  "iio_device0",
	} {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
	dir := t.TempDir()
	dev := filepath.Join(dir, "devices", "platform", "soc", "i2c-1", "1-0048")
	os.MkdirAll(dev, 0o755)
	if got := deviceID(dev); got != "i2c_1_1_0048" {
		t.Errorf("without subsystem link: %q", got)
	}
	os.Symlink("../../../../../bus/i2c", filepath.Join(dev, "subsystem"))
	if got := deviceID(dev); got != "i2c_1_0048" {
		t.Errorf("with subsystem link: %q", got)
	}
}

// A poll deadline that passes during a hung read ends the read at once and
// the source reports the partial result with the context error.
func TestHungReadContextDeadline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	release := make(chan struct{})
	t.Cleanup(func() { close(release); waitIdle(t) })
	withReadFile(t, func(path string) (string, error) {
		if strings.HasSuffix(path, "/hwmon1/temp1_input") {
			cancel() // the poll deadline passes while the driver hangs
			<-release
		}
		return readOnce(path)
	})
	src := &hwmonSource{sysfsSource{name: "hwmon", sysfs: fixture, attrReader: attrReader{timeout: time.Hour}}, newLimitCache(0)}
	res, err := src.Read(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(res.Errors) != 1 || res.Errors[0].Name != "hwmon_lm75_i2c_1_0048_temp1" || res.Errors[0].Reason != ReasonTimeout {
		t.Errorf("errors = %v, want one timeout for the hung sensor", res.Errors)
	}
	for _, r := range res.Readings {
		if strings.HasPrefix(r.Name, "hwmon_lm75") {
			t.Errorf("reading from the hung chip: %+v", r)
		}
	}
}

// A cached resolution is used only while the links read the same: a
// device replugged under the same hwmonN name is resolved afresh.
func TestResolveLinks(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"devices/i2c-1/1-0048/hwmon/hwmon0", "devices/i2c-2/2-0049/hwmon/hwmon0", "plain/dev"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	class := filepath.Join(root, "class", "hwmon")
	if err := os.MkdirAll(class, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(class, "hwmon0")
	plug := func(bus string) {
		t.Helper()
		os.Remove(link)
		if err := os.Symlink("../../devices/"+bus+"/hwmon/hwmon0", link); err != nil {
			t.Fatal(err)
		}
	}
	want := func(path, wantReal string, keys ...string) {
		t.Helper()
		got, err := resolveLinks(path, keys...)
		if err != nil || got != wantReal {
			t.Fatalf("resolveLinks(%s) = %q, %v; want %q", path, got, err, wantReal)
		}
	}
	plug("i2c-1/1-0048")
	want(link, filepath.Join(root, "devices/i2c-1/1-0048/hwmon/hwmon0"), link)
	want(link, filepath.Join(root, "devices/i2c-1/1-0048/hwmon/hwmon0"), link) // cached
	plug("i2c-2/2-0049")
	want(link, filepath.Join(root, "devices/i2c-2/2-0049/hwmon/hwmon0"), link)
	// Not a symlink: resolved every time, no error.
	plain := filepath.Join(root, "plain", "dev")
	want(plain, plain, plain)
	// Gone: an error, as from filepath.EvalSymlinks.
	os.Remove(link)
	if _, err := resolveLinks(link, link); err == nil {
		t.Fatal("no error for a vanished link")
	}
}
