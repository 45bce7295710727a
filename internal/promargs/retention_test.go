package promargs

import (
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func withFSSize(t *testing.T, f func(string) (uint64, error)) {
	t.Helper()
	old := fsSize
	fsSize = f
	t.Cleanup(func() { fsSize = old })
}

func TestCapRetentionSize(t *testing.T) {
	dir := t.TempDir()
	const mib = 1 << 20
	var asked string
	size := uint64(64 * mib)
	withFSSize(t, func(p string) (uint64, error) { asked = p; return size, nil })

	for _, c := range []struct {
		name      string
		fs        uint64
		args      []string
		want      []string
		wantNote  string
		wantAsked string
	}{
		{"64MiB disk caps 256MB", 64 * mib,
			[]string{"--storage.tsdb.path=" + dir, "--storage.tsdb.retention.size=256MB", "--x"},
			[]string{"--storage.tsdb.path=" + dir, "--storage.tsdb.retention.size=16MB", "--x"},
			"lowered from 256MB to 16MB: 1/4 of the 64MiB filesystem at " + dir, dir},
		{"separate value", 64 * mib,
			[]string{"--storage.tsdb.retention.size", "256MB", "--storage.tsdb.path", dir},
			[]string{"--storage.tsdb.retention.size", "16MB", "--storage.tsdb.path", dir},
			"lowered from 256MB to 16MB", dir},
		{"big disk keeps the flag", 8 << 30,
			[]string{"--storage.tsdb.path=" + dir, "--storage.tsdb.retention.size=256MB"},
			[]string{"--storage.tsdb.path=" + dir, "--storage.tsdb.retention.size=256MB"},
			"", dir},
		{"exactly four times", 1 << 30,
			[]string{"--storage.tsdb.path=" + dir, "--storage.tsdb.retention.size=256MB"},
			[]string{"--storage.tsdb.path=" + dir, "--storage.tsdb.retention.size=256MB"},
			"", dir},
		{"GiB units", 2 << 30,
			[]string{"--storage.tsdb.path=" + dir, "--storage.tsdb.retention.size=1GB"},
			[]string{"--storage.tsdb.path=" + dir, "--storage.tsdb.retention.size=512MB"},
			"lowered from 1GB to 512MB", dir},
		{"tiny disk in KB", 2 * mib,
			[]string{"--storage.tsdb.path=" + dir, "--storage.tsdb.retention.size=256MB"},
			[]string{"--storage.tsdb.path=" + dir, "--storage.tsdb.retention.size=512KB"},
			"to 512KB", dir},
		{"missing data dir: its existing parent", 64 * mib,
			[]string{"--storage.tsdb.path=" + filepath.Join(dir, "a", "b"), "--storage.tsdb.retention.size=256MB"},
			[]string{"--storage.tsdb.path=" + filepath.Join(dir, "a", "b"), "--storage.tsdb.retention.size=16MB"},
			"filesystem at " + dir, dir},
		{"no size flag: untouched", 64 * mib,
			[]string{"--storage.tsdb.path=" + dir, "--storage.tsdb.retention.time=12h"},
			[]string{"--storage.tsdb.path=" + dir, "--storage.tsdb.retention.time=12h"},
			"", ""},
		{"bad size: left for Prometheus to refuse", 64 * mib,
			[]string{"--storage.tsdb.path=" + dir, "--storage.tsdb.retention.size=lots"},
			[]string{"--storage.tsdb.path=" + dir, "--storage.tsdb.retention.size=lots"},
			"", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			size, asked = c.fs, ""
			got, note := CapRetentionSize(c.args)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("args %q, want %q", got, c.want)
			}
			if (c.wantNote == "") != (note == "") || !strings.Contains(note, c.wantNote) {
				t.Fatalf("note %q, want one containing %q", note, c.wantNote)
			}
			if asked != c.wantAsked {
				t.Fatalf("statfs of %q, want %q", asked, c.wantAsked)
			}
		})
	}
}

func TestCapRetentionSizeStatfsError(t *testing.T) {
	withFSSize(t, func(string) (uint64, error) { return 0, syscall.EIO })
	args := []string{"--storage.tsdb.path=/", "--storage.tsdb.retention.size=256MB"}
	got, note := CapRetentionSize(args)
	if !reflect.DeepEqual(got, args) || !strings.Contains(note, "left at 256MB") || !strings.Contains(note, "input/output error") {
		t.Fatalf("%q %q", got, note)
	}
}

// The real statfs: a quarter of the filesystem under a temp dir.
func TestFSSizeReal(t *testing.T) {
	dir := t.TempDir()
	total, err := fsSize(dir)
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if total == 0 || total != st.Blocks*uint64(st.Bsize) {
		t.Fatalf("fsSize %d, statfs says %d blocks of %d", total, st.Blocks, st.Bsize)
	}
}
