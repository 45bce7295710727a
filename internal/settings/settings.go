// Package settings reads and edits the fleet settings of a device,
// /etc/default/edge-observability: shell-style KEY=value lines that choose
// remote_write to a central engine, the labels identifying the device and
// the profile (full or lean). A bad file is an error naming file, line and
// key; an edit keeps comments and order.
package settings

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/edgeobs/edge-observability-stack/internal/fileerr"
)

// Keys accepted in the settings file.
const (
	KeyURL                = "EDGE_REMOTE_WRITE_URL"
	KeyUsername           = "EDGE_REMOTE_WRITE_USERNAME"
	KeyPasswordFile       = "EDGE_REMOTE_WRITE_PASSWORD_FILE"
	KeyBearerTokenFile    = "EDGE_REMOTE_WRITE_BEARER_TOKEN_FILE"
	KeyCAFile             = "EDGE_REMOTE_WRITE_CA_FILE"
	KeyInsecureSkipVerify = "EDGE_REMOTE_WRITE_INSECURE_SKIP_VERIFY"
	KeyHeaders            = "EDGE_REMOTE_WRITE_HEADERS"
	KeyDeviceID           = "EDGE_DEVICE_ID"
	KeySite               = "EDGE_SITE"
	KeyRole               = "EDGE_ROLE"
	KeyExternalLabels     = "EDGE_EXTERNAL_LABELS"
	KeyProfile            = "EDGE_PROFILE"
)

// Profiles.
const (
	ProfileFull = "full"
	ProfileLean = "lean"
)

// Settings is the parsed content of the settings file.
type Settings struct {
	URL                string
	Username           string
	PasswordFile       string
	BearerTokenFile    string
	CAFile             string
	InsecureSkipVerify bool
	Headers            []KV
	DeviceID           string
	Site               string
	Role               string
	ExternalLabels     []KV
	Profile            string
	Alerting           Alerting
}

// KV is one key=value pair of a list setting, in file order.
type KV struct{ Key, Value string }

var (
	keyRe       = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	labelNameRe = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	// RFC 7230 token characters.
	headerNameRe = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$")
)

// Load reads and parses the settings file. A missing file yields the
// defaults (fleet off, profile full) so Prometheus still starts.
func Load(path string) (*Settings, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Defaults(), nil
	}
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// line is one parsed assignment of the settings file.
type line struct {
	num   int
	key   string
	value string
}

// splitAssignments parses the shell-style KEY=value syntax: blank lines and
// # comments are ignored, values may be single- or double-quoted.
func splitAssignments(name string, data []byte) ([]line, error) {
	var out []line
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		text = strings.TrimPrefix(text, "export ")
		key, raw, ok := strings.Cut(text, "=")
		if !ok {
			return nil, &fileerr.Error{File: name, Line: n, Msg: fmt.Sprintf("expected KEY=value, got %q", text)}
		}
		key = strings.TrimSpace(key)
		if !keyRe.MatchString(key) {
			return nil, &fileerr.Error{File: name, Line: n, Msg: fmt.Sprintf("invalid key %q", key)}
		}
		val, err := unquote(raw)
		if err != nil {
			return nil, &fileerr.Error{File: name, Line: n, Setting: key, Msg: err.Error()}
		}
		if !utf8.ValidString(val) || strings.ContainsFunc(val, unicode.IsControl) {
			return nil, &fileerr.Error{File: name, Line: n, Setting: key, Msg: "value is not valid UTF-8 text"}
		}
		out = append(out, line{num: n, key: key, value: val})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

func unquote(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	switch raw[0] {
	case '"':
		if len(raw) < 2 || raw[len(raw)-1] != '"' {
			return "", errors.New("unterminated double quote")
		}
		s := raw[1 : len(raw)-1]
		if strings.ContainsAny(s, "\"$`\\") {
			return "", errors.New(`characters " $ ` + "`" + ` \ are not supported inside a value`)
		}
		return s, nil
	case '\'':
		if len(raw) < 2 || raw[len(raw)-1] != '\'' {
			return "", errors.New("unterminated single quote")
		}
		s := raw[1 : len(raw)-1]
		if strings.Contains(s, "'") {
			return "", errors.New("single quote inside a single-quoted value")
		}
		return s, nil
	}
	if strings.ContainsAny(raw, " \t\"'$`\\;&|<>") {
		return "", errors.New("unquoted value with whitespace or shell characters (quote it)")
	}
	return raw, nil
}

// Parse parses the settings file's content; name is used in errors.
func Parse(name string, data []byte) (*Settings, error) {
	lines, err := splitAssignments(name, data)
	if err != nil {
		return nil, err
	}
	s := Defaults()
	seen := map[string]int{} // line of each key
	for _, l := range lines {
		perr := func(msg string) error { return &fileerr.Error{File: name, Line: l.num, Setting: l.key, Msg: msg} }
		set, known := setters[l.key]
		if !known {
			return nil, perr("unknown key")
		}
		if prev, dup := seen[l.key]; dup {
			return nil, perr(fmt.Sprintf("set again (first set on line %d)", prev))
		}
		seen[l.key] = l.num
		if err := set(s, l.value); err != nil {
			return nil, perr(err.Error())
		}
	}
	if key, msg := s.conflict(); key != "" {
		return nil, &fileerr.Error{File: name, Line: seen[key], Setting: key, Msg: msg}
	}
	return s, nil
}

// Defaults are the settings of an empty file: fleet and alerting off,
// profile full.
func Defaults() *Settings {
	return &Settings{Profile: ProfileFull, Alerting: defaultAlerting()}
}

// setters parse the value of each key into Settings.
var setters = merged(fleetSetters, alertSetters)

func merged(maps ...map[string]func(s *Settings, v string) error) map[string]func(s *Settings, v string) error {
	out := map[string]func(s *Settings, v string) error{}
	for _, m := range maps {
		for k, f := range m {
			out[k] = f
		}
	}
	return out
}

var fleetSetters = map[string]func(s *Settings, v string) error{
	KeyURL:          func(s *Settings, v string) error { return checkURL(v, &s.URL) },
	KeyUsername:     func(s *Settings, v string) error { s.Username = v; return nil },
	KeyPasswordFile: func(s *Settings, v string) error { return absPath(v, &s.PasswordFile) },
	KeyBearerTokenFile: func(s *Settings, v string) error {
		return absPath(v, &s.BearerTokenFile)
	},
	KeyCAFile:             func(s *Settings, v string) error { return absPath(v, &s.CAFile) },
	KeyInsecureSkipVerify: func(s *Settings, v string) error { return boolean(v, false, &s.InsecureSkipVerify) },
	KeyHeaders:            func(s *Settings, v string) error { return kvList(v, &s.Headers, checkHeader) },
	KeyDeviceID:           func(s *Settings, v string) error { return label(v, &s.DeviceID) },
	KeySite:               func(s *Settings, v string) error { return label(v, &s.Site) },
	KeyRole:               func(s *Settings, v string) error { return label(v, &s.Role) },
	KeyExternalLabels:     func(s *Settings, v string) error { return kvList(v, &s.ExternalLabels, checkLabel) },
	KeyProfile: func(s *Settings, v string) error {
		switch v {
		case "":
		case ProfileFull, ProfileLean:
			s.Profile = v
		default:
			return fmt.Errorf("want %q or %q, got %q", ProfileFull, ProfileLean, v)
		}
		return nil
	},
}

// checkURL accepts a remote-write URL: credentials belong in their keys.
func checkURL(v string, dst *string) error {
	return urlWithoutCredentials(v, dst, KeyUsername, KeyPasswordFile)
}

func urlWithoutCredentials(v string, dst *string, userKey, passwordKey string) error {
	u, err := httpURL(v)
	if err != nil {
		return err
	}
	if u != nil && u.User != nil {
		return fmt.Errorf("credentials in the URL are not allowed; use %s and %s", userKey, passwordKey)
	}
	*dst = v
	return nil
}

// httpURL parses an http:// or https:// URL with a host; "" is nil.
func httpURL(v string) (*url.URL, error) {
	if v == "" {
		return nil, nil
	}
	u, err := url.Parse(v)
	if err != nil {
		return nil, fmt.Errorf("invalid URL: %v", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("URL must be http:// or https:// with a host, got %q", v)
	}
	return u, nil
}

func absPath(v string, dst *string) error {
	if v != "" && !strings.HasPrefix(v, "/") {
		return fmt.Errorf("must be an absolute path, got %q", v)
	}
	*dst = v
	return nil
}

func label(v string, dst *string) error {
	if strings.ContainsAny(v, "\x00\n") {
		return errors.New("invalid value")
	}
	*dst = v
	return nil
}

// kvList parses a k=v list into dst after checking each key.
func kvList(v string, dst *[]KV, check func(key string) error) error {
	kvs, err := parseKVList(v)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		if err := check(kv.Key); err != nil {
			return err
		}
	}
	*dst = kvs
	return nil
}

func checkHeader(name string) error {
	if !headerNameRe.MatchString(name) {
		return fmt.Errorf("invalid header name %q", name)
	}
	// Prometheus refuses these in remote_write headers.
	switch http.CanonicalHeaderKey(name) {
	case "Authorization", "Host", "Content-Encoding", "Content-Type", "User-Agent",
		"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
		"Www-Authenticate", "Retry-After", "X-Prometheus-Remote-Write-Version":
		return fmt.Errorf("header %q is reserved by Prometheus", name)
	}
	return nil
}

func checkLabel(name string) error {
	if !labelNameRe.MatchString(name) || strings.HasPrefix(name, "__") {
		return fmt.Errorf("invalid label name %q", name)
	}
	switch name {
	case "device", "site", "role":
		return fmt.Errorf("label %q is set by %s/%s/%s", name, KeyDeviceID, KeySite, KeyRole)
	}
	return nil
}

// conflict checks the keys against each other; it returns the key that is
// wrong, to be reported at its line, and why ("" when all fit).
func (s *Settings) conflict() (key, msg string) {
	switch {
	case s.Username != "" && s.PasswordFile == "":
		return KeyUsername, "needs " + KeyPasswordFile
	case s.PasswordFile != "" && s.Username == "":
		return KeyPasswordFile, "needs " + KeyUsername
	case s.BearerTokenFile != "" && s.PasswordFile != "":
		return KeyBearerTokenFile, "cannot be combined with " + KeyPasswordFile + " (choose basic auth or a bearer token)"
	case s.Profile == ProfileLean && s.URL == "":
		return KeyProfile, "profile lean forwards everything and keeps nothing locally; it needs " + KeyURL
	}
	return s.alertConflict()
}

// Device is the device label: EDGE_DEVICE_ID, or else the machine id read
// from machineIDFile (fromMachineID is then true).
func (s *Settings) Device(machineIDFile string) (id string, fromMachineID bool, err error) {
	if s.DeviceID != "" {
		return s.DeviceID, false, nil
	}
	b, err := os.ReadFile(machineIDFile)
	if err != nil {
		return "", false, fmt.Errorf("no %s and cannot read machine id: %w", KeyDeviceID, err)
	}
	id = strings.TrimSpace(string(b))
	if id == "" {
		return "", false, fmt.Errorf("no %s and the machine id in %s is empty", KeyDeviceID, machineIDFile)
	}
	return id, true, nil
}

// parseKVList parses "k=v,k=v" (empty → nil); keys must be unique.
func parseKVList(v string) ([]KV, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var out []KV
	seen := map[string]bool{}
	for _, part := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("want k=v[,k=v...], got %q", part)
		}
		if seen[k] {
			return nil, fmt.Errorf("%q given twice", k)
		}
		seen[k] = true
		out = append(out, KV{Key: k, Value: strings.TrimSpace(val)})
	}
	return out, nil
}

// Edit returns data with each key in set assigned its value: an
// existing assignment line is rewritten in place (comments and order are
// kept), a missing key is appended. Values are quoted when needed.
func Edit(data []byte, set map[string]string) []byte {
	done := map[string]bool{}
	var out bytes.Buffer
	lines := strings.SplitAfter(string(data), "\n")
	for _, raw := range lines {
		if raw == "" {
			continue
		}
		text := strings.TrimSpace(raw)
		if text != "" && !strings.HasPrefix(text, "#") {
			k, _, ok := strings.Cut(strings.TrimPrefix(text, "export "), "=")
			k = strings.TrimSpace(k)
			if v, want := set[k]; ok && want {
				if done[k] {
					continue // drop a duplicate so the file stays parseable
				}
				done[k] = true
				out.WriteString(k + "=" + quote(v) + "\n")
				continue
			}
		}
		out.WriteString(raw)
		if !strings.HasSuffix(raw, "\n") {
			out.WriteString("\n")
		}
	}
	var missing []string
	for k := range set {
		if !done[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	for _, k := range missing {
		out.WriteString(k + "=" + quote(set[k]) + "\n")
	}
	return out.Bytes()
}

func quote(v string) string {
	if v == "" || !strings.ContainsAny(v, " \t\"'$`\\;&|<>") {
		return v
	}
	return "'" + v + "'"
}
