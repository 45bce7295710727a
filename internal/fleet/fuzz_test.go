package fleet

import (
	"strings"
	"testing"
)

func FuzzParseSettings(f *testing.F) {
	f.Add([]byte("EDGE_REMOTE_WRITE_URL=https://c/w\nEDGE_REMOTE_WRITE_HEADERS=X-Scope-OrgID=t\n"))
	f.Add([]byte("# c\nEDGE_SITE='a b'\nEDGE_PROFILE=lean\n"))
	f.Add([]byte("EDGE_EXTERNAL_LABELS=\"a=b,c=d\"\nEDGE_REMOTE_WRITE_INSECURE_SKIP_VERIFY=true"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSettings("f", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		// Rewriting a valid file with its own values keeps it valid and equal.
		set := map[string]string{KeySite: s.Site, KeyRole: s.Role, KeyURL: s.URL}
		s2, err := ParseSettings("f", EditSettings(data, set))
		if err != nil {
			t.Fatalf("edited file no longer parses: %v", err)
		}
		if s2.Site != s.Site || s2.Role != s.Role || s2.URL != s.URL || s2.Profile != s.Profile {
			t.Fatalf("edit changed values: %+v -> %+v", s, s2)
		}
		if _, err := Render(RenderInput{ConfigName: "p", Config: []byte("scrape_configs: []\n"), Settings: s, MachineID: "m"}); err != nil {
			t.Fatalf("valid settings do not render: %v", err)
		}
	})
}

func FuzzRender(f *testing.F) {
	f.Add([]byte("global:\n  external_labels:\n    a: b\nremote_write:\n  - name: edge-fleet\n    url: http://x/\n"))
	f.Add([]byte("global: ~\nremote_write: ~\nrule_files: [a]\n"))
	f.Add([]byte("a: &x {b: 1}\nglobal: *x\n"))
	f.Fuzz(func(t *testing.T, cfg []byte) {
		s := &Settings{URL: "http://c/w", Site: "s", Profile: ProfileLean}
		_, _ = Render(RenderInput{ConfigName: "p", Config: cfg, Settings: s, MachineID: "m"})
	})
}
