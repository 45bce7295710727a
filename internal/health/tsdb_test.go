package health

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgeobs/edge-observability-stack/internal/exitcode"
)

// A block moved aside at start makes the stack unhealthy, and the report says
// which, why, where and when; an empty or missing quarantine changes nothing.
func TestCheckQuarantinedBlock(t *testing.T) {
	q := filepath.Join(t.TempDir(), "quarantine")
	o := opts(t, filepath.Join(fixtures, "v2"), allActive(), healthyProm)
	o.TSDBQuarantine = q
	wantExit(t, Check(context.Background(), o), exitcode.OK, "")
	if err := os.MkdirAll(filepath.Join(q, "01M8BJ1Y5R1RWHPQQNEM35C825"), 0o750); err != nil {
		t.Fatal(err)
	}
	wantExit(t, Check(context.Background(), o), exitcode.Failure, "TSDB block 01M8BJ1Y5R1RWHPQQNEM35C825 was unreadable")
	note := "moved 2026-11-26T09:30:00Z\nfrom /var/lib/prometheus/metrics2/01M8BJ1Y5R1RWHPQQNEM35C825\nreason: index: 0 bytes, want at least 5\n"
	if err := os.WriteFile(filepath.Join(q, "01M8BJ1Y5R1RWHPQQNEM35C825", "edge-quarantine.txt"), []byte(note), 0o640); err != nil {
		t.Fatal(err)
	}
	wantExit(t, Check(context.Background(), o), exitcode.Failure, "(index: 0 bytes, want at least 5) and was moved to "+q+"/01M8BJ1Y5R1RWHPQQNEM35C825 2026-11-26T09:30:00Z")
}
