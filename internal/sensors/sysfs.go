package sensors

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/fsread"
)

// DefaultReadTimeout bounds one attribute read. A DS18B20 conversion takes
// about 750 ms, so this leaves room for slow buses while keeping a hung
// driver from stalling a whole poll.
const DefaultReadTimeout = 2 * time.Second

// Sentinel causes; reasonOf maps them (and errno values) to Reason* labels.
var (
	errEmpty   = errors.New("empty attribute")
	errParse   = errors.New("not a number")
	errUnknown = errors.New("not a known value") // a word outside the attribute's documented set
	errRange   = errors.New("out of range")
	errCRC     = errors.New("crc check failed")
	errTimeout = errors.New("read timed out")
)

// readFile, when set, replaces the reading of attributes, so tests can
// inject EIO, EAGAIN or a hung read, which a regular file cannot produce.
var readFile func(path string) (string, error)

// readOnce is the uncached reader: exactly one read(2) (see fsread.Once).
var readOnce = fsread.Once

// inflight holds the paths whose read has not returned yet. A read that
// timed out leaves its goroutine blocked in the kernel; refusing to start
// another read of the same path bounds those goroutines to one per path.
var inflight = struct {
	sync.Mutex
	paths map[string]bool
}{paths: map[string]bool{}}

// attrReader reads one source's attributes: each with a timeout, through the
// daemon's cache of open files when it has one.
type attrReader struct {
	timeout time.Duration
	files   *fsread.Handles
}

// readAttr reads one attribute, giving up after the timeout or when ctx
// ends, and returns its trimmed content. Errors wrap a sentinel or an errno
// that reasonOf understands.
func (a attrReader) readAttr(ctx context.Context, path string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("%w: %v", errTimeout, err)
	}
	inflight.Lock()
	if inflight.paths[path] {
		inflight.Unlock()
		return "", fmt.Errorf("%w: previous read of %s still outstanding", errTimeout, path)
	}
	inflight.paths[path] = true
	inflight.Unlock()

	type result struct {
		s   string
		err error
	}
	done := make(chan result, 1)
	read := readFile // captured here so a late goroutine never races a test swapping the seam
	switch {
	case read != nil:
	case a.files != nil:
		read = a.files.Once
	default:
		read = readOnce
	}
	go func() {
		s, err := read(path)
		inflight.Lock()
		delete(inflight.paths, path)
		inflight.Unlock()
		done <- result{s, err}
	}()

	timeout := a.timeout
	if timeout <= 0 {
		timeout = DefaultReadTimeout
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var r result
	select {
	case r = <-done:
	case <-timer.C:
		select {
		case r = <-done: // finished just in time; select picks randomly among ready cases
		default:
			return "", fmt.Errorf("%s: %w after %v", path, errTimeout, timeout)
		}
	case <-ctx.Done():
		return "", fmt.Errorf("%s: %w: %v", path, errTimeout, ctx.Err())
	}
	if r.err != nil {
		return "", r.err
	}
	s := strings.TrimSpace(r.s)
	if s == "" {
		return "", fmt.Errorf("%s: %w", path, errEmpty)
	}
	return s, nil
}

// reasonOf classifies an error from readAttr or a parser.
func reasonOf(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, errEmpty):
		return ReasonEmpty
	case errors.Is(err, errParse), errors.Is(err, errUnknown):
		return ReasonParse
	case errors.Is(err, errRange):
		return ReasonRange
	case errors.Is(err, errCRC):
		return ReasonCRC
	case errors.Is(err, errTimeout):
		return ReasonTimeout
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ENODEV):
		return ReasonVanished
	default:
		return ReasonIO
	}
}

// parseInt parses a sysfs integer strictly: optional sign and decimal
// digits only (no hex, underscores, NaN or Inf).
func parseInt(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errEmpty
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", errParse, s)
	}
	return n, nil
}

// parseScaled parses an integer attribute and divides it by div, which
// converts the sysfs unit to the base unit of k (1000 for milli, 1e6 for
// micro, ...), then range-checks it.
func parseScaled(k Kind, s string, div float64) (float64, error) {
	n, err := parseInt(s)
	if err != nil {
		return 0, err
	}
	return checked(k, float64(n)/div)
}

// parseMilli parses a value in thousandths of the base unit (m°C, mV, mA).
func parseMilli(k Kind, s string) (float64, error) { return parseScaled(k, s, 1e3) }

// decimalRE is the fixed-point format the IIO core prints (IIO_VAL_INT_PLUS_MICRO
// and friends), e.g. "-12.5", "0.010000000", "101.325".
var decimalRE = regexp.MustCompile(`^[-+]?[0-9]+(\.[0-9]+)?$`)

// parseDecimal parses a decimal number strictly (no exponent, NaN or Inf).
func parseDecimal(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errEmpty
	}
	if !decimalRE.MatchString(s) {
		return 0, fmt.Errorf("%w: %q", errParse, s)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// Only overflow is possible after the regexp; that is a range problem.
		return 0, fmt.Errorf("%w: %q", errRange, s)
	}
	return v, nil
}

// checked passes v through Check, wrapping a failure as errRange.
func checked(k Kind, v float64) (float64, error) {
	if err := Check(k, v); err != nil {
		return 0, fmt.Errorf("%w: %v", errRange, err)
	}
	return v, nil
}

var unsafeChars = regexp.MustCompile(`[^a-zA-Z0-9_]+`)

// sanitize maps s onto [a-zA-Z0-9_] for use in sensor names.
func sanitize(s string) string {
	return strings.Trim(unsafeChars.ReplaceAllString(s, "_"), "_")
}

// deviceID names a device in /sys/devices stably across boots and probe
// order: its bus (the subsystem link) and its bus address (the directory
// name), e.g. "platform_coretemp_0" or "i2c_1_0048". Without a subsystem
// link the parent directory stands in for the bus.
func deviceID(devPath string) string {
	bus := ""
	if target, err := os.Readlink(filepath.Join(devPath, "subsystem")); err == nil {
		bus = filepath.Base(target)
	} else {
		bus = filepath.Base(filepath.Dir(devPath))
	}
	return sanitize(bus + "_" + filepath.Base(devPath))
}

// links caches symlink resolutions for resolveLinks: fully resolving a
// sysfs path walks every component with lstat (about ten syscalls), and a
// chip's device does not change while its links read the same.
var links = struct {
	sync.Mutex
	m map[string]resolved
}{m: map[string]resolved{}}

type resolved struct {
	key, real string
}

// resolveLinks is filepath.EvalSymlinks(path) remembered for as long as
// the symlinks in keys (path itself and any link on the way whose target
// names the device) read the same. A replugged device that gets the same
// hwmonN or iio:deviceN name has a different link target, so it is
// resolved afresh.
func resolveLinks(path string, keys ...string) (string, error) {
	var key strings.Builder
	for _, k := range keys {
		t, err := os.Readlink(k)
		if err != nil {
			// Not a link (an unusual layout) or gone: no key, no cache.
			return filepath.EvalSymlinks(path)
		}
		key.WriteString(t)
		key.WriteByte(0)
	}
	links.Lock()
	r, ok := links.m[path]
	links.Unlock()
	if ok && r.key == key.String() {
		return r.real, nil
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", err
	}
	links.Lock()
	links.m[path] = resolved{key.String(), real}
	links.Unlock()
	return real, nil
}

// listDir returns the entry names of dir; a missing dir is not an error.
func listDir(dir string) ([]string, error) {
	names, err := fsread.DirNames(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return names, err
}

// sysfsSource is what every sysfs source has: its name (given by the
// registry), where sysfs is mounted and how to read attributes.
type sysfsSource struct {
	name  string
	sysfs string
	attrReader
}

func (s *sysfsSource) Name() string { return s.name }

// start begins a Read: the directory at path below sysfs, its entries
// sorted (none when it does not exist), and an empty result.
func (s *sysfsSource) start(path ...string) (dir string, entries []string, c resultBuilder, err error) {
	dir = filepath.Join(append([]string{s.sysfs}, path...)...)
	entries, err = listDir(dir)
	slices.Sort(entries)
	return dir, entries, resultBuilder{source: s.name}, err
}

// resultBuilder accumulates one Read's outcome (readings and errors).
type resultBuilder struct {
	source string
	res    Result
}

func (c *resultBuilder) add(name string, k Kind, v float64, chip, label string, limits ...Limit) {
	c.res.Readings = append(c.res.Readings, Reading{Name: name, Kind: k, Value: v, Source: c.source, Chip: chip, Label: label, Limits: limits})
}

// fail records a failed read of the sensor name, of kind k on chip as far as
// the source knows them ("" for a device that could not be read at all).
func (c *resultBuilder) fail(name string, k Kind, chip string, err error) {
	c.res.Errors = append(c.res.Errors, ReadError{Name: name, Kind: k, Chip: chip, Source: c.source, Reason: reasonOf(err), Err: err})
}

// failLimit records a limit of sensor name that could not be read.
func (c *resultBuilder) failLimit(name string, err error) {
	c.res.LimitErrors = append(c.res.LimitErrors, ReadError{Name: name, Source: c.source, Reason: reasonOf(err), Err: err})
}

// result sorts by name so output is deterministic, and reports a ctx that
// ended mid-read as a failure of the source as a whole.
func (c *resultBuilder) result(ctx context.Context) (Result, error) {
	sortResult(&c.res)
	if err := ctx.Err(); err != nil {
		return c.res, fmt.Errorf("%s: %w", c.source, err)
	}
	return c.res, nil
}
