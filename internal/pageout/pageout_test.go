package pageout

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestFileRegions(t *testing.T) {
	const smaps = `00400000-009a5000 r-xp 00000000 08:01 1234      /usr/bin/edge-sensord
Size:               5780 kB
Rss:                5100 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me
009a5000-00fb8000 r--p 005a5000 08:01 1234      /usr/bin/edge-sensord
Rss:                4000 kB
Anonymous:             0 kB
00fb8000-0102d000 rw-p 00bb8000 08:01 1234      /usr/bin/edge-sensord
Anonymous:           100 kB
0102d000-03071000 rw-p 00000000 00:00 0
Anonymous:          2000 kB
01100000-01101000 r--p 00c00000 08:01 1234      /usr/bin/edge-sensord
Anonymous:             4 kB
7f0000000000-7f0000001000 r--p 00000000 08:01 99        /usr/bin/edge-sensord.old
Anonymous:             0 kB
7f0000002000-7f0000003000 r--p 00000000 08:01 77        /opt/my dir/edge-sensord
Anonymous:             0 kB
`
	got, err := FileRegions(strings.NewReader(smaps), "/usr/bin/edge-sensord")
	want := []Region{{0x400000, 0x9a5000}, {0x9a5000, 0xfb8000}} // not the written one, nor the relocated one
	if err != nil || len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("FileRegions = %x, %v; want %x", got, err, want)
	}
	got, err = FileRegions(strings.NewReader(smaps), "/opt/my dir/edge-sensord")
	if err != nil || len(got) != 1 || got[0] != (Region{0x7f0000002000, 0x7f0000003000}) {
		t.Fatalf("path with a space: %x, %v", got, err)
	}
	for _, bad := range []string{"zz-10 r--p 0 08:01 1 /x\n", "20-10 r--p 0 08:01 1 /x\n"} {
		if r, err := FileRegions(strings.NewReader(bad), "/x"); err == nil {
			t.Errorf("FileRegions(%q) = %x, want an error", bad, r)
		}
	}
}

// exeRss sums the resident kB of the executable's read-only mappings.
func exeRss(t *testing.T) int {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kb, in := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if fields := strings.Fields(line); len(fields) >= 6 && strings.Contains(fields[0], "-") {
			in = strings.HasSuffix(line, " "+exe) && !strings.Contains(fields[1], "w")
			continue
		}
		if v, ok := strings.CutPrefix(line, "Rss:"); in && ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(v, "kB")))
			if err != nil {
				t.Fatalf("smaps line %q: %v", line, err)
			}
			kb += n
		}
	}
	return kb
}

func TestExecutable(t *testing.T) {
	before := exeRss(t)
	n, err := Executable()
	if err != nil || n == 0 {
		t.Fatalf("Executable() = %d, %v", n, err)
	}
	after := exeRss(t)
	t.Logf("uid %d: executable resident: %d kB before, %d kB after paging out %d bytes", os.Getuid(), before, after, n)
	if after > before*3/4 {
		t.Fatalf("executable still %d kB resident after page-out (was %d kB)", after, before)
	}
}

// The daemon's unit runs it as a dynamic user, who neither owns nor may write
// its executable: the kernel then skips its pages in MADV_PAGEOUT. The test
// binary is copied where another user can run it, and TestExecutable runs
// there as nobody.
func TestExecutableNotOwner(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a process as another user; TestExecutable covered this user")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "pageout")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	copyExe := filepath.Join(dir, "pageout.test")
	if err := copyFile(exe, copyExe); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(copyExe, "-test.run=^TestExecutable$", "-test.v")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	t.Logf("as nobody:\n%s", out)
	if err != nil || !strings.Contains(string(out), "uid 65534:") {
		t.Fatalf("TestExecutable as nobody: %v", err)
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	// Written pages are dirty; the kernel evicts only clean ones.
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
