package promargs

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestBuild(t *testing.T) {
	in := []string{
		"--config.file=/etc/prometheus/prometheus.yml",
		"--storage.tsdb.path=/var/lib/prometheus/metrics2/",
		"--storage.tsdb.retention.time", "12h",
		"--storage.tsdb.retention.size=256MB",
		"--storage.tsdb.wal-compression",
		"--no-storage.tsdb.use-lockfile",
		"--web.listen-address=127.0.0.1:9090",
		"--rules.alert.for-grace-period=5m",
		"--query.timeout", "1m",
		"--alertmanager.notification-queue-capacity=10",
		"--storage.remote.read-sample-limit=1",
		"--storage.remote.flush-deadline=1m",
		"--web.enable-lifecycle",
	}
	full := Build(false, "/run/x.yml", in)
	// The query limits the command line lacks are added; its own --query.timeout is kept.
	wantFull := append(append([]string{"--config.file=/run/x.yml"}, in[1:]...), "--query.max-concurrency=2", "--query.max-samples=50000")
	if !reflect.DeepEqual(full, wantFull) {
		t.Fatalf("full:\n got %q\nwant %q", full, wantFull)
	}
	lean := Build(true, "/run/x.yml", in)
	wantLean := []string{
		"--config.file=/run/x.yml",
		"--web.listen-address=127.0.0.1:9090",
		"--storage.remote.flush-deadline=1m",
		"--web.enable-lifecycle",
		"--enable-feature=agent",
		"--storage.agent.path=" + AgentPath,
	}
	if !reflect.DeepEqual(lean, wantLean) {
		t.Fatalf("lean:\n got %q\nwant %q", lean, wantLean)
	}
	// Explicit agent flags are kept, a separate --config.file value is dropped.
	got := Build(true, "/o.yml", []string{"--config.file", "/a.yml", "--storage.agent.path=/d", "--storage.agent.retention.max-time=8h"})
	want := []string{"--config.file=/o.yml", "--storage.agent.path=/d", "--storage.agent.retention.max-time=8h", "--enable-feature=agent"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// The drop-in's ExecStart= sets the query limits Build adds, the same.
func TestQueryLimitsOfTheDropIn(t *testing.T) {
	b, err := os.ReadFile("../../systemd/prometheus.service.d/edge-observability.conf")
	if err != nil {
		t.Fatal(err)
	}
	unit := strings.ReplaceAll(string(b), "\\\n", " ")
	exec := regexp.MustCompile(`(?m)^ExecStart=(.+)$`).FindAllStringSubmatch(unit, -1)
	if len(exec) == 0 {
		t.Fatal("no ExecStart= in the drop-in")
	}
	var got []string
	for _, a := range strings.Fields(exec[len(exec)-1][1]) {
		if strings.HasPrefix(a, "--query.") {
			got = append(got, a)
		}
	}
	slices.Sort(got)
	if want := QueryLimits(); !slices.Equal(got, want) {
		t.Fatalf("the drop-in's query flags %q, want %q", got, want)
	}
	if got := Build(false, "/c.yml", nil); !slices.Equal(got[1:], QueryLimits()) {
		t.Fatalf("Build without flags: %q", got)
	}
}
