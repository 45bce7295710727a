package host

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/edgeobs/edge-observability-stack/internal/fsread"
	"github.com/edgeobs/edge-observability-stack/internal/sensors"
)

var throttleDesc = desc("edge_rpi_throttle",
	"Raspberry Pi firmware's throttling state: 1 when the condition holds (state=\"now\") or has occurred (state=\"since_boot\", see the README for what the kernel does to these bits), 0 when not; absent where the board or kernel cannot tell.",
	"condition", "state")

// throttleConditions are the bits of the firmware's throttled word: the
// condition now in bits 0-3, and the same conditions "has occurred" in
// bits 16-19.
var throttleConditions = [...]string{"undervoltage", "frequency_capped", "throttled", "soft_temp_limit"}

// rpiCollector reads the power and throttling state of a Raspberry Pi: the
// firmware's throttled word from the get_throttled attribute of the
// raspberrypi-firmware device, or, where that is absent, under-voltage
// alone from the rpi_volt hwmon's in0_lcrit_alarm.
//
// Only the raspberrypi-hwmon driver (rpi_volt) asks the firmware for the
// word, every 2 s; get_throttled shows its last answer. Without rpi_volt
// the word is never refreshed, so it is not read. The Pi Zero family and
// the Compute Modules have no under-voltage detection: their under-voltage
// bit is always 0, so it is not exported there.
type rpiCollector struct {
	drivers string // the firmware driver's directory, listing its bound devices
	hwmon   string
	model   string
	read    func(string) (string, error)
}

func newRPi(e *env) collector {
	return &rpiCollector{read: e.once,
		drivers: filepath.Join(e.sysfs, "bus", "platform", "drivers", "raspberrypi-firmware"),
		hwmon:   filepath.Join(e.sysfs, "class", "hwmon"),
		model:   filepath.Join(e.sysfs, "firmware", "devicetree", "base", "model"),
	}
}

func (c *rpiCollector) update(p *poll) error {
	alarm := c.voltAlarm()
	if alarm == "" {
		return errNoData
	}
	detects := c.detectsUndervoltage()
	word := c.throttledWord()
	var wordErr error
	if word != "" {
		w, err := readHexWord(c.read, word)
		if err == nil {
			c.addWord(p, w, detects)
			return nil
		}
		// Counted and reported; under-voltage now still comes from rpi_volt.
		p.readError(word, reasonOf(err), err)
		wordErr = err
	}
	v, err := readFlag(c.read, alarm)
	if err != nil {
		p.readError(alarm, reasonOf(err), err)
		return errors.Join(wordErr, err)
	}
	if detects {
		p.gauge(throttleDesc, float64(v), "undervoltage", "now")
	}
	return wordErr
}

func (c *rpiCollector) addWord(p *poll, w uint64, detects bool) {
	for i, cond := range throttleConditions {
		if i == 0 && !detects {
			continue
		}
		p.gauge(throttleDesc, float64(w>>i&1), cond, "now")
		p.gauge(throttleDesc, float64(w>>(16+i)&1), cond, "since_boot")
	}
}

// throttledWord finds get_throttled on the device bound to the firmware
// driver, whose name differs between boards (soc:firmware on a Pi 4);
// "" when there is none.
func (c *rpiCollector) throttledWord() string {
	entries, _ := fsread.DirNames(c.drivers)
	for _, e := range entries {
		// bind, unbind, uevent and module are not devices: no such file below them.
		if p := filepath.Join(c.drivers, e, "get_throttled"); exists(p) {
			return p
		}
	}
	return ""
}

// voltAlarm finds in0_lcrit_alarm of the hwmon named rpi_volt; "" when
// there is none.
func (c *rpiCollector) voltAlarm() string {
	entries, _ := fsread.DirNames(c.hwmon)
	for _, e := range entries {
		if name, err := c.read(filepath.Join(c.hwmon, e, "name")); err == nil && strings.TrimSpace(name) == "rpi_volt" {
			return filepath.Join(c.hwmon, e, "in0_lcrit_alarm")
		}
	}
	return ""
}

// detectsUndervoltage tells the boards with under-voltage detection (every
// one since the B+) from the Zero family and the Compute Modules, by the
// device tree's model ("Raspberry Pi Zero W Rev 1.1").
func (c *rpiCollector) detectsUndervoltage() bool {
	model, err := c.read(c.model)
	if err != nil {
		return true
	}
	model = strings.TrimRight(model, "\x00\n ")
	return !strings.Contains(model, "Raspberry Pi Zero") && !strings.Contains(model, "Compute Module")
}

// errEmpty and errGarbage are attributes that hold no value.
var (
	errEmpty   = errors.New("empty attribute")
	errGarbage = errors.New("garbage")
)

// readHexWord reads an attribute printed with %x: hexadecimal digits
// without a prefix.
func readHexWord(read func(string) (string, error), path string) (uint64, error) {
	s, err := readAttr(read, path)
	if err != nil {
		return 0, err
	}
	w, err := strconv.ParseUint(s, 16, 32)
	if err != nil || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("%s: %w: %q is not a hexadecimal 32-bit word", path, errGarbage, s)
	}
	return w, nil
}

// readFlag reads an attribute holding 0 or 1.
func readFlag(read func(string) (string, error), path string) (int, error) {
	s, err := readAttr(read, path)
	if err != nil {
		return 0, err
	}
	if s != "0" && s != "1" {
		return 0, fmt.Errorf("%s: %w: %q is neither 0 nor 1", path, errGarbage, s)
	}
	return int(s[0] - '0'), nil
}

// readAttr reads a sysfs attribute with one read and trims it.
func readAttr(read func(string) (string, error), path string) (string, error) {
	s, err := read(path)
	if err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("%s: %w", path, errEmpty)
	}
	return s, nil
}

// reasonOf labels a failed attribute read as the sources' are.
func reasonOf(err error) string {
	switch {
	case errors.Is(err, errEmpty):
		return sensors.ReasonEmpty
	case errors.Is(err, errGarbage):
		return sensors.ReasonParse
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENODEV):
		return sensors.ReasonVanished
	default:
		return sensors.ReasonIO
	}
}

// exists reports whether path names a file (without reading it: a read of
// get_throttled has a side effect on some kernels, see the README).
func exists(path string) bool { return unix.Access(path, unix.F_OK) == nil }
