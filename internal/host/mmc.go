package host

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/prometheus/procfs/blockdevice"
)

var (
	mmcLifeDesc = desc("edge_mmc_life_time_used_ratio",
		"Upper bound of the band of its rated life an eMMC device reports used (life_time, JEDEC DEVICE_LIFE_TIME_EST_TYP_A/B: 0.1 for 0-10 %, ..., 1.0 for 90-100 %, 1.1 when exceeded); absent where the device does not say (microSD cards).",
		"device", "type")
	mmcPreEOLDesc = desc("edge_mmc_pre_eol",
		"Pre-end-of-life state an eMMC device reports for its reserved blocks (pre_eol_info): 1 normal, 2 warning (80 % consumed), 3 urgent (90 %); absent where the device does not say.",
		"device")
)

// mmcCollector reads the wear an eMMC device reports of itself
// (/sys/block/mmcblkN/device/life_time and pre_eol_info). SD cards have
// neither attribute, and a value of 0x00 means "not defined": both are
// absent, never 0.
type mmcCollector struct {
	block blockdevice.FS
	dir   string
	read  func(string) (string, error)
}

func newMMC(e *env) collector {
	return &mmcCollector{block: e.block, dir: filepath.Join(e.sysfs, "block"), read: e.once}
}

func (c *mmcCollector) update(p *poll) error {
	devs, err := c.block.SysBlockDevices()
	if errors.Is(err, fs.ErrNotExist) {
		return errNoData
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, dev := range devs {
		if !strings.HasPrefix(dev, "mmcblk") || strings.Contains(dev, "boot") || strings.Contains(dev, "rpmb") {
			continue
		}
		if err := c.device(p, dev); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// device exports one device's wear; a failed or garbage attribute is counted
// and returned, and leaves its series out.
func (c *mmcCollector) device(p *poll, dev string) error {
	var errs []error
	life := filepath.Join(c.dir, dev, "device", "life_time")
	if exists(life) {
		a, b, err := readLifeTime(c.read, life)
		if err != nil {
			p.readError(life, reasonOf(err), err)
			errs = append(errs, err)
		}
		for i, est := range [...]uint64{a, b} {
			if err == nil && est != 0 {
				p.gauge(mmcLifeDesc, float64(est)/10, dev, [...]string{"A", "B"}[i])
			}
		}
	}
	eol := filepath.Join(c.dir, dev, "device", "pre_eol_info")
	if exists(eol) {
		v, err := readHexByte(c.read, eol)
		switch {
		case err == nil && v > 3:
			err = fmt.Errorf("%s: %w: pre-EOL state 0x%02x is not defined", eol, errGarbage, v)
			fallthrough
		case err != nil:
			p.readError(eol, reasonOf(err), err)
			errs = append(errs, err)
		case v != 0:
			p.gauge(mmcPreEOLDesc, float64(v), dev)
		}
	}
	return errors.Join(errs...)
}

// readLifeTime reads "0xAA 0xBB", the type A and B estimates in tenths of
// the rated life (1 = 0-10 % used, 0x0b = exceeded, 0 = not defined).
func readLifeTime(read func(string) (string, error), path string) (a, b uint64, err error) {
	s, err := readAttr(read, path)
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(s)
	if len(f) == 2 {
		if a, err = parseHexByte(f[0]); err == nil {
			b, err = parseHexByte(f[1])
		}
	}
	if len(f) != 2 || err != nil || a > 0x0b || b > 0x0b {
		return 0, 0, fmt.Errorf("%s: %w: %q is not two life time estimates (0x00 to 0x0b)", path, errGarbage, s)
	}
	return a, b, nil
}

func readHexByte(read func(string) (string, error), path string) (uint64, error) {
	s, err := readAttr(read, path)
	if err != nil {
		return 0, err
	}
	v, err := parseHexByte(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w: %q is not a byte in hexadecimal (0x01)", path, errGarbage, s)
	}
	return v, nil
}

// parseHexByte parses the kernel's "0x%02x".
func parseHexByte(s string) (uint64, error) {
	h, ok := strings.CutPrefix(s, "0x")
	if !ok || h == "" || h[0] == '+' {
		return 0, errGarbage
	}
	return strconv.ParseUint(h, 16, 8)
}
