package cgroup

// The unified hierarchy (cgroup v2): one tree, every controller's files in
// each cgroup's directory.

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// sliceV2 reads the slice at rel and the units directly below it.
func (r Reader) sliceV2(rel string) ([]Stats, error) {
	dir := filepath.Join(r.root(), rel)
	if !isDir(dir) {
		return nil, nil
	}
	names, err := units(dir)
	if err != nil {
		return nil, err
	}
	self, err := r.readV2(dir, filepath.Base(rel))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil // removed while reading
		}
		return nil, err
	}
	out := []Stats{self}
	for _, name := range names {
		s, err := r.readV2(filepath.Join(dir, name), name)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // the unit stopped while we read it
			}
			return nil, err
		}
		out = append(out, s)
	}
	sort.Slice(out[1:], func(i, j int) bool { return out[1+i].Unit < out[1+j].Unit })
	return out, nil
}

// readV2 reads one v2 cgroup. Files of controllers not enabled for the
// cgroup are missing; their values stay zero/nil. fs.ErrNotExist is returned
// only when the cgroup directory itself is gone.
func (r Reader) readV2(dir, unit string) (Stats, error) {
	s := Stats{Unit: unit, Version: 2}
	if !isDir(dir) {
		return s, fs.ErrNotExist
	}
	if v, ok, err := r.readUint(filepath.Join(dir, "memory.current")); err != nil {
		return s, err
	} else if ok {
		s.MemoryBytes = &v
	}
	var err error
	if s.MemoryMax, err = r.readV2Limit(filepath.Join(dir, "memory.max")); err != nil {
		return s, err
	}
	if s.MemoryHigh, err = r.readV2Limit(filepath.Join(dir, "memory.high")); err != nil {
		return s, err
	}
	if kv, ok, err := r.readKeyed(filepath.Join(dir, "memory.events")); err != nil {
		return s, err
	} else if ok {
		if v, found := kv["oom_kill"]; found {
			s.OOMKills = &v
		}
	}
	if kv, ok, err := r.readKeyed(filepath.Join(dir, "cpu.stat")); err != nil {
		return s, err
	} else if ok {
		s.CPUSeconds = float64(kv["usage_usec"]) / 1e6
	}
	if b, err := r.file(filepath.Join(dir, "io.stat")); err == nil {
		v := parseIOWritten(b)
		s.IOWriteBytes = &v
	} else if !errors.Is(err, fs.ErrNotExist) {
		return s, fmt.Errorf("cgroup: %w", err)
	}
	return s, nil
}

// parseIOWritten sums the wbytes= fields of io.stat, whose lines are
// "MAJ:MIN rbytes=N wbytes=N rios=N ...", one per device the cgroup did IO
// on (empty before its first). A stacked device (LVM, dm-crypt) is listed
// beside the disk under it, so its writes count at each layer.
func parseIOWritten(b []byte) uint64 {
	var sum uint64
	for _, f := range strings.Fields(string(b)) {
		if v, ok := strings.CutPrefix(f, "wbytes="); ok {
			if n, err := strconv.ParseUint(v, 10, 64); err == nil {
				sum += n
			}
		}
	}
	return sum
}

// readV2Limit parses memory.max/memory.high: a byte count or "max".
func (r Reader) readV2Limit(path string) (*uint64, error) {
	b, err := r.file(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return nil, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("cgroup: %s: invalid limit %q", path, s)
	}
	return &v, nil
}
