package main

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// check runs write on in and compares what it wrote with want.
func check(t *testing.T, write func(io.Writer, io.Reader) error, in, want string) {
	t.Helper()
	var b strings.Builder
	if err := write(&b, strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Errorf("got\n%swant\n%s", b.String(), want)
	}
}

const wrkOut = `Running 10s test @ http://127.0.0.1:8000/metrics
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   812.34us  200.12us   5.01ms   90.00%
    Req/Sec     4.90k   300.00     5.20k    80.00%
  Latency Distribution
     50%  780.00us
     75%  900.00us
     90%    1.02ms
     99%    1.50s
  48765 requests in 10.00s, 100.00MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   4876.50
Transfer/sec:     10.00MB
`

func TestParseWrk(t *testing.T) {
	p50, p99, rps, non2xx, err := parseWrk(wrkOut)
	if err != nil {
		t.Fatal(err)
	}
	if p50 != 0.78 || p99 != 1500 || rps != 4876.5 || non2xx != 3 {
		t.Errorf("got p50 %v p99 %v rps %v non2xx %v", p50, p99, rps, non2xx)
	}
	if _, _, _, _, err := parseWrk("wrk: connection refused\n"); err == nil {
		t.Error("no error for output without a latency distribution")
	}
	if _, _, _, _, err := parseWrk(strings.Replace(wrkOut, "1.50s", "1.5x", 1)); err == nil {
		t.Error("no error for an unknown unit")
	}
}

func TestGobench(t *testing.T) {
	in := `goos: linux
BenchmarkPollOnce-2   	  1000	      3000 ns/op	     512 B/op	       7 allocs/op
BenchmarkGather-2     	  2000	      1000 ns/op	     100 B/op	       2 allocs/op
BenchmarkPollOnce-2   	  1000	      1000 ns/op	     256 B/op	       7 allocs/op
BenchmarkPollOnce-2   	  1000	      2000 ns/op	     128 B/op	       7 allocs/op
BenchmarkGather-2     	  2000	      3000 ns/op	     100 B/op	       4 allocs/op
PASS
`
	check(t, writeGobench, in, "| BenchmarkPollOnce | 2000 | 256 | 7 |\n| BenchmarkGather | 2000 | 100 | 3 |\n")
	withCPU := `BenchmarkDaemonPoll/host=on         	     400	   3040264 ns/op	   1774870 cpu-ns/op	  306501 B/op	    2875 allocs/op
BenchmarkDaemonPoll/host=on         	     400	   3532231 ns/op	   2039178 cpu-ns/op	  306497 B/op	    2875 allocs/op
BenchmarkDaemonPoll/host=on         	     400	   3966848 ns/op	   1908780 cpu-ns/op	  306502 B/op	    2875 allocs/op
`
	check(t, writeGobench, withCPU, "| BenchmarkDaemonPoll/host=on | 3532231 | 306501 | 2875 | 1908780 |\n")
}

func TestFuzz(t *testing.T) {
	in := `=== fuzz github.com/edgeobs/edge-observability-stack/internal/config FuzzParse (10s)
fuzz: elapsed: 3s, execs: 1000 (333/sec), new interesting: 2 (total: 40)
fuzz: elapsed: 10s, execs: 5000 (400/sec), new interesting: 3 (total: 41)
ok  	github.com/edgeobs/edge-observability-stack/internal/config	10.1s
=== fuzz github.com/edgeobs/edge-observability-stack/internal/web FuzzQuery (10s)
fuzz: elapsed: 10s, execs: 70 (7/sec), new interesting: 0 (total: 9)
=== fuzz github.com/edgeobs/edge-observability-stack/internal/web FuzzQuery: deadline race without a failing input (go.dev/issue/75804); again for 70 executions
ok  	github.com/edgeobs/edge-observability-stack/internal/web	1.0s
`
	check(t, writeFuzz, in, "| internal/config | FuzzParse | 5000 | 41 | PASS |\n| internal/web | FuzzQuery | 70 | 9 | PASS |\n")
}

func TestSdwrites(t *testing.T) {
	var b strings.Builder
	writeRates(&b, [][]string{
		{"100", "shipped", "0", "1000", "0", "5000", "1", "1"},
		{"100", "default", "0", "0", "0", "0", "1", "1"},
		{"1900", "shipped", "0", "4600", "100", "8600", "1", "1"},
		{"1900", "default", "0", "1800", "0", "900", "1", "1"},
	})
	want := "default write_bytes_per_hour=3600 wchar_per_hour=1800 over 1800s\nshipped write_bytes_per_hour=7000 wchar_per_hour=7200 over 1800s\n"
	if b.String() != want {
		t.Errorf("rates: got\n%swant\n%s", b.String(), want)
	}
	files := `10 ./shipped/data/wal/00000000 100
20 ./shipped/data/wal/00000000 300
20 ./shipped/data/wal/checkpoint.00000001/00000000 50
20 ./shipped/data/01HX/chunks/000001 1000
30 ./shipped/data/chunks_head/000001 70
30 ./shipped/data/queries.active 20
30 ./default/data/wal/00000001 5
`
	check(t, writeFileGrowth, files, "default wal 5\nshipped blocks 1000\nshipped checkpoint 50\nshipped chunks_head 70\nshipped other 20\nshipped wal 300\n")
}

func TestIORow(t *testing.T) {
	row, err := ioRow(os.Getpid())
	if err != nil {
		t.Skipf("no /proc/self/io here: %v", err)
	}
	f := strings.Split(row, ",")
	if len(f) != len(strings.Split(ioHeader, ","))-2 {
		t.Fatalf("%q: %d fields for %s", row, len(f), ioHeader)
	}
	if rss, _ := strconv.Atoi(f[4]); rss <= 0 {
		t.Errorf("%q: no VmRSS", row)
	}
	if _, err := ioRow(-1); err == nil {
		t.Error("no error for a process that does not exist")
	}
}

func TestAlertsReport(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"off.kv":      "duration_s 600\nprometheus.usage_bytes 41943040\nslice.usage_bytes 52428800\n",
		"idle.kv":     "duration_s 600\nalertmanager.usage_bytes 31457280\nalertmanager.peak_bytes 33554432\nalertmanager.cgroup_cpu_s_per_min 0.012\nslice.usage_bytes 73400320\n",
		"flapping.kv": "duration_s 1200\nalertmanager.usage_bytes 34603008\nalertmanager.peak_bytes 36700160\nalertmanager.cgroup_cpu_s_per_min 0.1\nslice.usage_bytes 78643200\n",
		"counts.kv":   "alertmanager_version 0.28.1\nflapping_alerts 12\nwebhook_notifications 41\nmails 40\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	if err := writeAlertsReport(&b, dir); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Alertmanager 0.28.1; alerting off 600 s, on and idle 600 s, then 1200 s with 12 alerts firing and resolving every 2 minutes (41 webhook notifications, 40 mails during that soak).",
		"| alertmanager: cgroup memory at the end (MiB) | – | 30.0 | 33.0 | – |",
		"| alertmanager: CPU seconds per minute (cgroup) | – | 0.01 | 0.10 | – |",
		"| whole stack (slice): cgroup memory at the end (MiB) | 50.0 | 70.0 | 75.0 | 1.50 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if err := writeAlertsReport(io.Discard, t.TempDir()); err == nil {
		t.Error("no error without the files")
	}
}
