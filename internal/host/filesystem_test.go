package host

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/edgeobs/edge-observability-stack/internal/testtree"
)

// hangingStatfs makes statfs of paths ending in suffix block until release
// is closed, and counts the calls for each path.
type hangingStatfs struct {
	suffix  string
	release chan struct{}
	mu      sync.Mutex
	calls   map[string]int
}

func (h *hangingStatfs) statfs(path string, st *unix.Statfs_t) error {
	h.mu.Lock()
	h.calls[path]++
	h.mu.Unlock()
	if strings.HasSuffix(path, h.suffix) {
		<-h.release
	}
	return unix.Statfs(path, st)
}

func (h *hangingStatfs) count(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[path]
}

// A mount point whose statfs hangs (a dead NFS server) costs one timeout
// in one poll: it is reported with device_error 1, the other mounts as
// usual, and it is not tried again until its call returns.
func TestStuckMountDoesNotStallThePoll(t *testing.T) {
	hang := &hangingStatfs{suffix: "/mnt/nas", release: make(chan struct{}), calls: map[string]int{}}
	statfsFunc = hang.statfs
	t.Cleanup(func() { statfsFunc = unix.Statfs })
	h, err := New(Options{Procfs: filepath.Join(fixtures, "proc"), Sysfs: filepath.Join(fixtures, "sys"),
		Rootfs: filepath.Join(fixtures, "rootfs"), Enabled: only("filesystem"), MountTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	nas := `{device="nas.local:/export/pi",fstype="nfs4",mountpoint="/mnt/nas"}`
	root := `{device="/dev/mmcblk0p2",fstype="ext4",mountpoint="/"}`
	nasPath := filepath.Join(fixtures, "rootfs", "mnt", "nas")
	for poll := 1; poll <= 3; poll++ {
		start := time.Now()
		got := samples(t, h)
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("poll %d took %s with a hung mount", poll, took)
		}
		if got["node_filesystem_device_error"+nas] != 1 || got["node_filesystem_device_error"+root] != 0 {
			t.Fatalf("poll %d: device_error nas %v root %v; want 1 and 0", poll, got["node_filesystem_device_error"+nas], got["node_filesystem_device_error"+root])
		}
		if _, ok := got["node_filesystem_size_bytes"+nas]; ok {
			t.Fatalf("poll %d: a stuck mount has a size", poll)
		}
		if got["node_filesystem_size_bytes"+root] <= 0 {
			t.Fatalf("poll %d: the root filesystem has no size", poll)
		}
		if o := outcome(t, h, "filesystem"); o.Err != nil {
			t.Fatalf("poll %d: a stuck mount failed the collector: %v", poll, o.Err)
		}
	}
	if n := hang.count(nasPath); n != 1 {
		t.Errorf("the stuck mount was tried %d times, want once until it answers", n)
	}
	close(hang.release)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := samples(t, h)
		if got["node_filesystem_device_error"+nas] == 0 && got["node_filesystem_size_bytes"+nas] > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mount did not recover after its statfs returned")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMountPointsBelowRootfs(t *testing.T) {
	c := &filesystemCollector{rootfs: "/host"}
	for in, want := range map[string]string{"/host": "/", "/host/boot": "/boot", "/hostname": "/hostname", "/etc/hosts": "/etc/hosts"} {
		if got := c.stripRoot(in); got != want {
			t.Errorf("stripRoot(%q) = %q, want %q", in, got, want)
		}
	}
	if got := unescapeMount(`/media/My\040Disk\011x\134y`); got != "/media/My Disk\tx\\y" {
		t.Errorf("unescapeMount = %q", got)
	}
}

// The mount table is parsed again when it changes: a disk plugged in shows,
// unplugged it goes.
func TestMountTableChangesAreSeen(t *testing.T) {
	proc, rootfs := t.TempDir(), t.TempDir()
	root := "22 1 179:2 / / rw,noatime shared:1 - ext4 /dev/mmcblk0p2 rw"
	usb := `37 22 8:17 / /media/usb rw,relatime shared:43 - vfat /dev/sda1 rw`
	testtree.Write(t, rootfs, map[string]string{"media/usb/.keep": ""})
	h, err := New(Options{Procfs: proc, Sysfs: t.TempDir(), Rootfs: rootfs, Enabled: only("filesystem")})
	if err != nil {
		t.Fatal(err)
	}
	size := `node_filesystem_size_bytes{device="/dev/sda1",fstype="vfat",mountpoint="/media/usb"}`
	for i, tc := range []struct {
		table string
		usb   bool
	}{{root, false}, {root, false}, {root + "\n" + usb, true}, {root + "\n" + usb, true}, {root, false}} {
		testtree.Write(t, proc, map[string]string{"1/mountinfo": tc.table})
		got := samples(t, h)
		if _, ok := got[size]; ok != tc.usb {
			t.Errorf("poll %d: USB disk exported %v, want %v", i, ok, tc.usb)
		}
		if _, ok := got[`node_filesystem_size_bytes{device="/dev/mmcblk0p2",fstype="ext4",mountpoint="/"}`]; !ok {
			t.Errorf("poll %d: no root filesystem", i)
		}
	}
}
