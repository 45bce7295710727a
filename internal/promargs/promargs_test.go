package promargs

import (
	"reflect"
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
	wantFull := append([]string{"--config.file=/run/x.yml"}, in[1:]...)
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
