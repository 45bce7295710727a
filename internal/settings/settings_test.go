package settings

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseErrorsNameFileLineKey(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"unknown key", "# c\nEDGE_SITE=a\nEDGE_SIET=b\n", "f.env:3: EDGE_SIET: unknown key"},
		{"bad bool", "EDGE_REMOTE_WRITE_INSECURE_SKIP_VERIFY=yes please\n", "f.env:1: EDGE_REMOTE_WRITE_INSECURE_SKIP_VERIFY: unquoted value"},
		{"bad bool value", "EDGE_REMOTE_WRITE_INSECURE_SKIP_VERIFY=maybe\n", "f.env:1: EDGE_REMOTE_WRITE_INSECURE_SKIP_VERIFY: want true or false"},
		{"bad profile", "\nEDGE_PROFILE=tiny\n", "f.env:2: EDGE_PROFILE: want"},
		{"bad url", "EDGE_REMOTE_WRITE_URL=ftp://x/y\n", "f.env:1: EDGE_REMOTE_WRITE_URL: URL must be http"},
		{"url creds", "EDGE_REMOTE_WRITE_URL=https://u:p@x/y\n", "f.env:1: EDGE_REMOTE_WRITE_URL: credentials in the URL"},
		{"relative path", "EDGE_REMOTE_WRITE_CA_FILE=ca.pem\n", "f.env:1: EDGE_REMOTE_WRITE_CA_FILE: must be an absolute path"},
		{"no equals", "EDGE_SITE\n", "f.env:1: expected KEY=value"},
		{"duplicate", "EDGE_SITE=a\nEDGE_SITE=b\n", "f.env:2: EDGE_SITE: set again (first set on line 1)"},
		{"bad label", "EDGE_EXTERNAL_LABELS=ok=1,9bad=2\n", `f.env:1: EDGE_EXTERNAL_LABELS: invalid label name "9bad"`},
		{"reserved label", "EDGE_EXTERNAL_LABELS=device=x\n", `f.env:1: EDGE_EXTERNAL_LABELS: label "device" is set by`},
		{"bad kv", "EDGE_REMOTE_WRITE_HEADERS=X-A\n", "f.env:1: EDGE_REMOTE_WRITE_HEADERS: want k=v"},
		{"reserved header", "EDGE_REMOTE_WRITE_HEADERS=authorization=x\n", `f.env:1: EDGE_REMOTE_WRITE_HEADERS: header "authorization" is reserved`},
		{"user without password", "EDGE_REMOTE_WRITE_URL=http://c/w\n\nEDGE_REMOTE_WRITE_USERNAME=u\n", "f.env:3: EDGE_REMOTE_WRITE_USERNAME: needs EDGE_REMOTE_WRITE_PASSWORD_FILE"},
		{"password without user", "EDGE_REMOTE_WRITE_PASSWORD_FILE=/p\n", "f.env:1: EDGE_REMOTE_WRITE_PASSWORD_FILE: needs EDGE_REMOTE_WRITE_USERNAME"},
		{"basic and bearer", "EDGE_REMOTE_WRITE_USERNAME=u\nEDGE_REMOTE_WRITE_PASSWORD_FILE=/p\nEDGE_REMOTE_WRITE_BEARER_TOKEN_FILE=/t\n", "f.env:3: EDGE_REMOTE_WRITE_BEARER_TOKEN_FILE: cannot be combined"},
		{"lean without url", "EDGE_PROFILE=lean\n", "f.env:1: EDGE_PROFILE: profile lean forwards everything"},
		{"unterminated quote", "EDGE_SITE=\"abc\n", "f.env:1: EDGE_SITE: unterminated double quote"},
		{"shell expansion", "EDGE_SITE=\"$HOST\"\n", "f.env:1: EDGE_SITE: characters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse("f.env", []byte(c.in))
			if err == nil {
				t.Fatalf("no error, got %+v", s)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("error %q, want prefix %q", err, c.want)
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	in := `# comment
  # indented comment

EDGE_REMOTE_WRITE_URL=https://mimir.example/api/v1/push
export EDGE_REMOTE_WRITE_USERNAME='dev 1'
EDGE_REMOTE_WRITE_PASSWORD_FILE="/etc/pw file"
EDGE_REMOTE_WRITE_INSECURE_SKIP_VERIFY=true
EDGE_REMOTE_WRITE_HEADERS="X-Scope-OrgID=t1, X-Other = v"
EDGE_EXTERNAL_LABELS=
EDGE_SITE=plant-a
EDGE_PROFILE=lean
`
	s, err := Parse("f", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &Settings{
		URL: "https://mimir.example/api/v1/push", Username: "dev 1", PasswordFile: "/etc/pw file",
		InsecureSkipVerify: true, Headers: []KV{{"X-Scope-OrgID", "t1"}, {"X-Other", "v"}},
		Site: "plant-a", Profile: ProfileLean,
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("got %+v\nwant %+v", s, want)
	}
}

func TestShippedDefaultsFileIsFleetOff(t *testing.T) {
	s, err := Load("../../etc/default/edge-observability")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, &Settings{Profile: ProfileFull}) {
		t.Fatalf("shipped defaults: %+v, want fleet off and profile full", s)
	}
}

func TestLoadMissingFileIsFleetOff(t *testing.T) {
	s, err := Load(filepath.Join(t.TempDir(), "nope"))
	if err != nil || s.URL != "" || s.Profile != ProfileFull {
		t.Fatalf("got %+v, %v", s, err)
	}
}

func TestEditKeepsComments(t *testing.T) {
	in := "# head\nEDGE_REMOTE_WRITE_URL=\n\n# site\nEDGE_SITE=a\nEDGE_SITE=dup\nEDGE_ROLE=r"
	got := string(Edit([]byte(in), map[string]string{
		KeyURL: "http://c/w", KeySite: "b c", KeyProfile: "lean", KeyDeviceID: "",
	}))
	want := "# head\nEDGE_REMOTE_WRITE_URL=http://c/w\n\n# site\nEDGE_SITE='b c'\nEDGE_ROLE=r\nEDGE_DEVICE_ID=\nEDGE_PROFILE=lean\n"
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	if _, err := Parse("x", []byte(got)); err != nil {
		t.Fatal(err)
	}
}

// The device is EDGE_DEVICE_ID, else the machine id, trimmed.
func TestDevice(t *testing.T) {
	mid := filepath.Join(t.TempDir(), "machine-id")
	if err := os.WriteFile(mid, []byte("abc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if id, fromMID, err := (&Settings{}).Device(mid); id != "abc" || !fromMID || err != nil {
		t.Fatalf("from machine id: %q %v %v", id, fromMID, err)
	}
	if id, fromMID, err := (&Settings{DeviceID: "dev-9"}).Device(mid); id != "dev-9" || fromMID || err != nil {
		t.Fatalf("EDGE_DEVICE_ID: %q %v %v", id, fromMID, err)
	}
	if _, _, err := (&Settings{}).Device(mid + ".missing"); err == nil || !strings.Contains(err.Error(), "no EDGE_DEVICE_ID and cannot read machine id") {
		t.Fatalf("missing machine id: %v", err)
	}
	if err := os.WriteFile(mid, []byte("\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := (&Settings{}).Device(mid); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Fatalf("empty machine id: %v", err)
	}
}
