package promconfig

import (
	"testing"

	"github.com/edgeobs/edge-observability-stack/internal/settings"
)

func FuzzRender(f *testing.F) {
	f.Add([]byte("global:\n  external_labels:\n    a: b\nremote_write:\n  - name: edge-fleet\n    url: http://x/\n"))
	f.Add([]byte("global: ~\nremote_write: ~\nrule_files: [a]\n"))
	f.Add([]byte("a: &x {b: 1}\nglobal: *x\n"))
	f.Fuzz(func(t *testing.T, cfg []byte) {
		s := &settings.Settings{URL: "http://c/w", Site: "s", Profile: settings.ProfileLean}
		_, _ = Render(RenderInput{ConfigName: "p", Config: cfg, Settings: s, Device: "m"})
	})
}
