package pageout

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestFileRegions(t *testing.T) {
	const maps = `00400000-009a5000 r-xp 00000000 08:01 1234      /usr/bin/edge-sensord
009a5000-00fb8000 r--p 005a5000 08:01 1234      /usr/bin/edge-sensord
00fb8000-0102d000 rw-p 00bb8000 08:01 1234      /usr/bin/edge-sensord
0102d000-03071000 rw-p 00000000 00:00 0
c000000000-c000400000 rw-p 00000000 00:00 0
7f0000000000-7f0000001000 r--p 00000000 08:01 99        /usr/bin/edge-sensord.old
7f0000002000-7f0000003000 r--p 00000000 08:01 77        /opt/my dir/edge-sensord
7ffd1000-7ffd3000 r--p 00000000 00:00 0                  [vvar]
`
	got, err := FileRegions(strings.NewReader(maps), "/usr/bin/edge-sensord")
	want := []Region{{0x400000, 0x9a5000}, {0x9a5000, 0xfb8000}}
	if err != nil || len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("FileRegions = %x, %v; want %x", got, err, want)
	}
	got, err = FileRegions(strings.NewReader(maps), "/opt/my dir/edge-sensord")
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
	if errors.Is(err, ErrUnsupported) {
		t.Skip("kernel without MADV_PAGEOUT (before 5.4)")
	}
	if err != nil || n == 0 {
		t.Fatalf("Executable() = %d, %v", n, err)
	}
	after := exeRss(t)
	t.Logf("executable resident: %d kB before, %d kB after paging out %d bytes", before, after, n)
	if after > before/2 {
		t.Fatalf("executable still %d kB resident after page-out (was %d kB)", after, before)
	}
}
