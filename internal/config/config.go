// Package config loads edge-sensord's optional YAML configuration. Loading
// is strict: an unknown key, a wrong type or an invalid value is an error
// that names the file, the line and the field, and nothing is half-applied.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the reloadable part of the daemon's settings.
type Config struct {
	// PollInterval is how often every source is read.
	PollInterval time.Duration
	// StaleAfter is the number of poll intervals after which a reading that
	// was not refreshed is reported stale and dropped from the gauges.
	StaleAfter int
	// CPUSpikeThreshold is the host CPU use (0-1) above which sensor_cpu_spike is 1.
	CPUSpikeThreshold float64
	// Sources switches sources off by name; absent means on.
	Sources map[string]bool
	// Ignore drops sensors whose name matches any of these.
	Ignore []*regexp.Regexp
}

// MaxStaleAfter bounds stale_after so that the stale window cannot overflow.
const MaxStaleAfter = 10000

// Default is the configuration used when no file is given.
func Default() Config {
	return Config{
		PollInterval:      5 * time.Second,
		StaleAfter:        3,
		CPUSpikeThreshold: 0.9,
		Sources:           map[string]bool{},
	}
}

// Error locates a problem in a configuration file.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: field %q: %s", e.File, e.Line, e.Field, e.Msg)
}

// knownSources is set by the caller (the sensor registry) so that a typo in a
// source name is caught instead of silently ignored.
func validSource(name string, known []string) bool {
	for _, k := range known {
		if k == name {
			return true
		}
	}
	return false
}

// Load reads path over the defaults; base supplies flag-given values that a
// file may override. knownSources lists valid keys of `sources`.
func Load(path string, base Config, knownSources []string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	return Parse(path, data, base, knownSources)
}

// Parse is Load on bytes already read; path is used in error messages only.
func Parse(path string, data []byte, base Config, knownSources []string) (Config, error) {
	cfg := base
	cfg.Sources = map[string]bool{}
	for k, v := range base.Sources {
		cfg.Sources[k] = v
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return cfg, nil // an empty or all-comment file means defaults
		}
		return Config{}, yamlError(path, err)
	}
	if len(root.Content) == 0 {
		return cfg, nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			return Config{}, yamlError(path, err)
		}
		return Config{}, &Error{path, line, "", "more than one YAML document"}
	}
	doc := root.Content[0]
	if doc.Kind == yaml.ScalarNode && doc.Tag == "!!null" {
		return cfg, nil
	}
	if doc.Kind != yaml.MappingNode {
		return Config{}, &Error{path, doc.Line, "", "expected a mapping of settings"}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		fail := func(msg string, args ...any) error {
			return &Error{path, v.Line, k.Value, fmt.Sprintf(msg, args...)}
		}
		if seen[k.Value] {
			return Config{}, &Error{path, k.Line, k.Value, "set twice"}
		}
		seen[k.Value] = true
		switch k.Value {
		case "poll_interval":
			d, err := time.ParseDuration(v.Value)
			if v.Kind != yaml.ScalarNode || err != nil {
				return Config{}, fail("not a duration (e.g. 5s): %q", v.Value)
			}
			if d < 100*time.Millisecond || d > time.Hour {
				return Config{}, fail("must be between 100ms and 1h, got %s", d)
			}
			cfg.PollInterval = d
		case "stale_after":
			var n int
			if err := v.Decode(&n); err != nil || n < 1 || n > MaxStaleAfter {
				return Config{}, fail("must be a whole number of poll intervals from 1 to %d, got %q", MaxStaleAfter, v.Value)
			}
			cfg.StaleAfter = n
		case "cpu_spike_threshold":
			var f float64
			if err := v.Decode(&f); err != nil || !(f > 0 && f <= 1) {
				return Config{}, fail("must be a ratio in (0, 1], got %q", v.Value)
			}
			cfg.CPUSpikeThreshold = f
		case "sources":
			if v.Kind != yaml.MappingNode {
				return Config{}, fail("expected a mapping of source name to true/false")
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				sk, sv := v.Content[j], v.Content[j+1]
				if !validSource(sk.Value, knownSources) {
					return Config{}, &Error{path, sk.Line, "sources." + sk.Value, fmt.Sprintf("unknown source (known: %v)", knownSources)}
				}
				var on bool
				if err := sv.Decode(&on); err != nil || sv.Tag != "!!bool" {
					return Config{}, &Error{path, sv.Line, "sources." + sk.Value, fmt.Sprintf("must be true or false, got %q", sv.Value)}
				}
				cfg.Sources[sk.Value] = on
			}
		case "ignore":
			if v.Kind != yaml.SequenceNode {
				return Config{}, fail("expected a list of regular expressions")
			}
			cfg.Ignore = nil
			for _, item := range v.Content {
				re, err := regexp.Compile("^(?:" + item.Value + ")$")
				if item.Kind != yaml.ScalarNode || err != nil {
					return Config{}, &Error{path, item.Line, "ignore", fmt.Sprintf("bad regular expression %q: %v", item.Value, err)}
				}
				cfg.Ignore = append(cfg.Ignore, re)
			}
		default:
			return Config{}, &Error{path, k.Line, k.Value, "unknown field (known: poll_interval, stale_after, cpu_spike_threshold, sources, ignore)"}
		}
	}
	return cfg, nil
}

// lineRE pulls the line number out of yaml.v3's syntax errors ("yaml: line 3: ...").
var lineRE = regexp.MustCompile(`line (\d+): (.*)`)

func yamlError(path string, err error) error {
	if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
		var line int
		fmt.Sscan(m[1], &line)
		return &Error{File: path, Line: line, Msg: m[2]}
	}
	return fmt.Errorf("%s: %w", path, err)
}

// Ignored reports whether a sensor name is dropped by the ignore list.
func (c Config) Ignored(name string) bool {
	for _, re := range c.Ignore {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

// SourceEnabled reports whether a source is on (sources are on unless switched off).
func (c Config) SourceEnabled(name string) bool {
	on, ok := c.Sources[name]
	return !ok || on
}
