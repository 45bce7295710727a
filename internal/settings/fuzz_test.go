package settings_test

import (
	"strings"
	"testing"

	"github.com/edgeobs/edge-observability-stack/internal/promconfig"
	"github.com/edgeobs/edge-observability-stack/internal/settings"
)

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"EDGE_REMOTE_WRITE_URL=https://c/w\nEDGE_REMOTE_WRITE_HEADERS=X-Scope-OrgID=t\n",
		"# c\nEDGE_SITE='a b'\nEDGE_PROFILE=lean\n",
		"EDGE_EXTERNAL_LABELS=\"a=b,c=d\"\nEDGE_REMOTE_WRITE_INSECURE_SKIP_VERIFY=true",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := settings.Parse("f", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		// Rewriting a valid file with its own values keeps it valid and equal.
		set := map[string]string{settings.KeySite: s.Site, settings.KeyRole: s.Role, settings.KeyURL: s.URL}
		s2, err := settings.Parse("f", settings.Edit(data, set))
		if err != nil {
			t.Fatalf("edited file no longer parses: %v", err)
		}
		if s2.Site != s.Site || s2.Role != s.Role || s2.URL != s.URL || s2.Profile != s.Profile {
			t.Fatalf("edit changed values: %+v -> %+v", s, s2)
		}
		if _, err := promconfig.Render(promconfig.RenderInput{ConfigName: "p", Config: []byte("scrape_configs: []\n"), Settings: s, Device: "m"}); err != nil {
			t.Fatalf("valid settings do not render: %v", err)
		}
	})
}
