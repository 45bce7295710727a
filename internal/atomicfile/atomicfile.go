// Package atomicfile replaces files so that a reader (Prometheus starting, a
// power cut) sees the old content or the new one, never a part.
package atomicfile

import (
	"os"
	"path/filepath"
	"syscall"
)

// Write replaces path via a temporary file in the same directory, keeping
// the mode and ownership of an existing file (the settings file is 0640
// root:prometheus and may point at credentials); mode applies to a new file.
func Write(path string, data []byte, mode os.FileMode) error {
	uid, gid := -1, -1
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return err
	}
	if uid >= 0 && os.Geteuid() == 0 {
		if err := os.Chown(tmp.Name(), uid, gid); err != nil {
			return err
		}
	}
	return os.Rename(tmp.Name(), path)
}
