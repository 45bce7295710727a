package promargs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/alecthomas/units"
)

// RetentionDivisor: --storage.tsdb.retention.size may claim at most this
// fraction (1/RetentionDivisor) of the filesystem holding the TSDB. On a
// device that filesystem is usually the root one, shared with the system
// and its workload, and Prometheus needs room beyond the retained size:
// retention is enforced only when blocks are reloaded (at start and after
// each compaction), and a compaction writes its new block before deleting
// the old ones.
const RetentionDivisor = 4

// fsSize returns the total size of the filesystem holding path; a variable
// so tests can give any size.
var fsSize = func(path string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, err
	}
	return st.Blocks * uint64(st.Bsize), nil
}

// CapRetentionSize lowers --storage.tsdb.retention.size to
// 1/RetentionDivisor of the filesystem under --storage.tsdb.path when that
// is smaller, so that Prometheus's own data cannot fill a small disk. It
// returns the arguments and a message for the log ("" when nothing
// changed). Without the flag, the arguments are returned as they are.
func CapRetentionSize(args []string) ([]string, string) {
	path := "data/" // Prometheus's default
	sizeAt, size := -1, ""
	for i := 0; i < len(args); i++ {
		name, hasValue := flagName(args[i])
		value := ""
		if hasValue {
			_, value, _ = strings.Cut(args[i], "=")
		} else if i+1 < len(args) && (name == "storage.tsdb.path" || name == "storage.tsdb.retention.size") {
			value = args[i+1]
		}
		switch name {
		case "storage.tsdb.path":
			path = value
		case "storage.tsdb.retention.size":
			sizeAt, size = i, value
		}
	}
	if sizeAt < 0 {
		return args, ""
	}
	want, err := units.ParseBase2Bytes(size)
	if err != nil || want <= 0 {
		// Prometheus itself reports a bad value and refuses to start.
		return args, ""
	}
	dir, err := existingDir(path)
	if err != nil {
		return args, fmt.Sprintf("retention size left at %s: %v", size, err)
	}
	total, err := fsSize(dir)
	if err != nil {
		return args, fmt.Sprintf("retention size left at %s: size of the filesystem at %s: %v", size, dir, err)
	}
	limit := units.Base2Bytes(total / RetentionDivisor)
	if limit >= want {
		return args, ""
	}
	// Whole MiB (Prometheus's "MB"), or KiB on a tiny filesystem.
	capped := fmt.Sprintf("%dKB", limit/units.KiB)
	if limit >= units.MiB {
		capped = fmt.Sprintf("%dMB", limit/units.MiB)
	}
	out := append([]string(nil), args...)
	if _, hasValue := flagName(out[sizeAt]); hasValue {
		out[sizeAt] = "--storage.tsdb.retention.size=" + capped
	} else {
		out[sizeAt+1] = capped
	}
	return out, fmt.Sprintf("--storage.tsdb.retention.size lowered from %s to %s: 1/%d of the %s filesystem at %s",
		size, capped, RetentionDivisor, units.Base2Bytes(total).String(), dir)
}

// existingDir is path or its nearest existing parent: on a first start
// the TSDB directory may not exist yet, but its filesystem does.
func existingDir(path string) (string, error) {
	p, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(p)
		if parent == p {
			return "", fmt.Errorf("no existing directory above %s", path)
		}
		p = parent
	}
}
