package health

import (
	"context"
	"strings"
	"testing"

	"github.com/edgeobs/edge-observability-stack/internal/exitcode"
	"github.com/edgeobs/edge-observability-stack/internal/reload"
)

// A reload edge-sensord refused is a warning until one succeeds, as the
// daemon shows it; no record (not under systemd) says nothing.
func TestCheckSensordReload(t *testing.T) {
	dir := t.TempDir()
	o := opts(t, smallTree(t, "cpu memory"), allActive(), healthyProm) // nothing else to warn about
	o.SensordRuntimeDir = dir
	if r := Check(context.Background(), o); r.ExitCode != exitcode.OK || len(r.Warnings) != 0 {
		t.Fatalf("no record: exit %d, warnings %q", r.ExitCode, r.Warnings)
	}
	reason := `/etc/edge-sensord/config.yml:2: field "stale_afterr": unknown field`
	if err := reload.Record(dir, reload.Result{Seq: 1, Err: reason}); err != nil {
		t.Fatal(err)
	}
	want := "edge-sensord refused its last reload and runs the configuration it had: " + reason
	if r := Check(context.Background(), o); r.ExitCode != exitcode.OK || len(r.Warnings) != 1 || !strings.HasPrefix(r.Warnings[0], want) {
		t.Fatalf("refused reload: exit %d, warnings %q, want %q", r.ExitCode, r.Warnings, want)
	}
	if err := reload.Record(dir, reload.Result{Seq: 2}); err != nil {
		t.Fatal(err)
	}
	if r := Check(context.Background(), o); len(r.Warnings) != 0 {
		t.Fatalf("after a good reload: warnings %q", r.Warnings)
	}
}
