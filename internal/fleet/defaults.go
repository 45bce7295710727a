// Package fleet renders the device Prometheus configuration for fleet mode
// (external labels identifying the device, remote_write to a central engine)
// from /etc/default/edge-observability, and edits that file.
package fleet

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
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Keys accepted in the defaults file.
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

var knownKeys = map[string]bool{
	KeyURL: true, KeyUsername: true, KeyPasswordFile: true, KeyBearerTokenFile: true,
	KeyCAFile: true, KeyInsecureSkipVerify: true, KeyHeaders: true, KeyDeviceID: true,
	KeySite: true, KeyRole: true, KeyExternalLabels: true, KeyProfile: true,
}

// Profiles.
const (
	ProfileFull = "full"
	ProfileLean = "lean"
)

// Settings is the parsed content of the defaults file.
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
}

// KV is one key=value pair of a list setting, in file order.
type KV struct{ Key, Value string }

// ParseError locates a problem in the defaults file.
type ParseError struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
}

var (
	keyRe       = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	labelNameRe = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	// RFC 7230 token characters.
	headerNameRe = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$")
)

// LoadSettings reads and parses the defaults file. A missing file yields the
// defaults (fleet off, profile full) so Prometheus still starts.
func LoadSettings(path string) (*Settings, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Settings{Profile: ProfileFull}, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseSettings(path, data)
}

// line is one parsed assignment of the defaults file.
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
			return nil, &ParseError{File: name, Line: n, Msg: fmt.Sprintf("expected KEY=value, got %q", text)}
		}
		key = strings.TrimSpace(key)
		if !keyRe.MatchString(key) {
			return nil, &ParseError{File: name, Line: n, Msg: fmt.Sprintf("invalid key %q", key)}
		}
		val, err := unquote(raw)
		if err != nil {
			return nil, &ParseError{File: name, Line: n, Key: key, Msg: err.Error()}
		}
		if !utf8.ValidString(val) || strings.ContainsFunc(val, unicode.IsControl) {
			return nil, &ParseError{File: name, Line: n, Key: key, Msg: "value is not valid UTF-8 text"}
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

// ParseSettings parses the defaults file content; name is used in errors.
func ParseSettings(name string, data []byte) (*Settings, error) {
	lines, err := splitAssignments(name, data)
	if err != nil {
		return nil, err
	}
	s := &Settings{Profile: ProfileFull}
	seen := map[string]int{}
	for _, l := range lines {
		perr := func(format string, a ...any) error {
			return &ParseError{File: name, Line: l.num, Key: l.key, Msg: fmt.Sprintf(format, a...)}
		}
		if !knownKeys[l.key] {
			return nil, perr("unknown key")
		}
		if prev, dup := seen[l.key]; dup {
			return nil, perr("set again (first set on line %d)", prev)
		}
		seen[l.key] = l.num
		v := l.value
		switch l.key {
		case KeyURL:
			if v != "" {
				u, err := url.Parse(v)
				if err != nil {
					return nil, perr("invalid URL: %v", err)
				}
				if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return nil, perr("URL must be http:// or https:// with a host, got %q", v)
				}
				if u.User != nil {
					return nil, perr("credentials in the URL are not allowed; use %s and %s", KeyUsername, KeyPasswordFile)
				}
			}
			s.URL = v
		case KeyUsername:
			s.Username = v
		case KeyPasswordFile, KeyBearerTokenFile, KeyCAFile:
			if v != "" && !strings.HasPrefix(v, "/") {
				return nil, perr("must be an absolute path, got %q", v)
			}
			switch l.key {
			case KeyPasswordFile:
				s.PasswordFile = v
			case KeyBearerTokenFile:
				s.BearerTokenFile = v
			default:
				s.CAFile = v
			}
		case KeyInsecureSkipVerify:
			if v == "" {
				break
			}
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, perr("want true or false, got %q", v)
			}
			s.InsecureSkipVerify = b
		case KeyHeaders:
			kvs, err := parseKVList(v)
			if err != nil {
				return nil, perr("%v", err)
			}
			for _, kv := range kvs {
				if !headerNameRe.MatchString(kv.Key) {
					return nil, perr("invalid header name %q", kv.Key)
				}
				// Prometheus refuses these in remote_write headers.
				switch http.CanonicalHeaderKey(kv.Key) {
				case "Authorization", "Host", "Content-Encoding", "Content-Type", "User-Agent",
					"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
					"Www-Authenticate", "Retry-After", "X-Prometheus-Remote-Write-Version":
					return nil, perr("header %q is reserved by Prometheus", kv.Key)
				}
			}
			s.Headers = kvs
		case KeyDeviceID, KeySite, KeyRole:
			if strings.ContainsAny(v, "\x00\n") {
				return nil, perr("invalid value")
			}
			switch l.key {
			case KeyDeviceID:
				s.DeviceID = v
			case KeySite:
				s.Site = v
			default:
				s.Role = v
			}
		case KeyExternalLabels:
			kvs, err := parseKVList(v)
			if err != nil {
				return nil, perr("%v", err)
			}
			for _, kv := range kvs {
				if !labelNameRe.MatchString(kv.Key) || strings.HasPrefix(kv.Key, "__") {
					return nil, perr("invalid label name %q", kv.Key)
				}
				switch kv.Key {
				case "device", "site", "role":
					return nil, perr("label %q is set by %s/%s/%s", kv.Key, KeyDeviceID, KeySite, KeyRole)
				}
			}
			s.ExternalLabels = kvs
		case KeyProfile:
			switch v {
			case "":
			case ProfileFull, ProfileLean:
				s.Profile = v
			default:
				return nil, perr("want %q or %q, got %q", ProfileFull, ProfileLean, v)
			}
		}
	}
	// Cross-key checks, reported at the line of the key that is wrong.
	at := func(key string) int { return seen[key] }
	if s.Username != "" && s.PasswordFile == "" {
		return nil, &ParseError{File: name, Line: at(KeyUsername), Key: KeyUsername, Msg: "needs " + KeyPasswordFile}
	}
	if s.PasswordFile != "" && s.Username == "" {
		return nil, &ParseError{File: name, Line: at(KeyPasswordFile), Key: KeyPasswordFile, Msg: "needs " + KeyUsername}
	}
	if s.BearerTokenFile != "" && s.PasswordFile != "" {
		return nil, &ParseError{File: name, Line: at(KeyBearerTokenFile), Key: KeyBearerTokenFile,
			Msg: "cannot be combined with " + KeyPasswordFile + " (choose basic auth or a bearer token)"}
	}
	if s.Profile == ProfileLean && s.URL == "" {
		return nil, &ParseError{File: name, Line: at(KeyProfile), Key: KeyProfile,
			Msg: "profile lean forwards everything and keeps nothing locally; it needs " + KeyURL}
	}
	return s, nil
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

// EditSettings returns data with each key in set assigned its value: an
// existing assignment line is rewritten in place (comments and order are
// kept), a missing key is appended. Values are quoted when needed.
func EditSettings(data []byte, set map[string]string) []byte {
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
