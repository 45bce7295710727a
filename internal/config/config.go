// Package config loads edge-sensord's optional YAML configuration. Loading
// is strict: an unknown key, a wrong type or an invalid value is an error
// that names the file, the line and the field, and nothing is half-applied.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"regexp/syntax"
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/edgeobs/edge-observability-stack/internal/fileerr"
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

// Ranges of the settings, the same whether a flag or the file sets them.
const (
	MinPollInterval = 100 * time.Millisecond
	MaxPollInterval = time.Hour
	// MaxStaleAfter bounds stale_after so that the stale window cannot overflow.
	MaxStaleAfter = 10000
)

// Default is the configuration used when no file is given.
func Default() Config {
	return Config{
		PollInterval:      5 * time.Second,
		StaleAfter:        3,
		CPUSpikeThreshold: 0.9,
		Sources:           map[string]bool{},
	}
}

// fieldError is a problem with one field of the file, at a line.
func fieldError(path string, line int, field, msg string) error {
	return &fileerr.Error{File: path, Line: line, Setting: fmt.Sprintf("field %q", field), Msg: msg}
}

// RangeError is a setting outside its range. Field is the setting's key in
// the file; the daemon names the matching flag instead.
type RangeError struct {
	Field string
	Msg   string
}

func (e *RangeError) Error() string { return e.Field + ": " + e.Msg }

// Validate checks the range of every setting. The values of flags and of the
// file both go through it, so that the two cannot drift apart.
func (c Config) Validate() error {
	switch {
	case c.PollInterval < MinPollInterval || c.PollInterval > MaxPollInterval:
		return &RangeError{"poll_interval", fmt.Sprintf("must be between %s and %s, got %s", MinPollInterval, MaxPollInterval, c.PollInterval)}
	case c.StaleAfter < 1 || c.StaleAfter > MaxStaleAfter:
		return &RangeError{"stale_after", fmt.Sprintf("must be a whole number of poll intervals from 1 to %d, got %d", MaxStaleAfter, c.StaleAfter)}
	case !(c.CPUSpikeThreshold > 0 && c.CPUSpikeThreshold <= 1):
		return &RangeError{"cpu_spike_threshold", fmt.Sprintf("must be a ratio in (0, 1], got %g", c.CPUSpikeThreshold)}
	}
	return nil
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
	cfg.Sources = maps.Clone(base.Sources)
	if cfg.Sources == nil {
		cfg.Sources = map[string]bool{}
	}
	doc, err := document(path, data)
	if doc == nil || err != nil {
		return cfg, err
	}
	lines := map[string]int{} // of each key set, for Validate's errors
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		if _, dup := lines[k.Value]; dup {
			return Config{}, fieldError(path, k.Line, k.Value, "set twice")
		}
		lines[k.Value] = v.Line
		if err := cfg.set(path, k, v, knownSources); err != nil {
			return Config{}, err
		}
	}
	if err := cfg.Validate(); err != nil {
		var re *RangeError
		if errors.As(err, &re) && lines[re.Field] > 0 {
			return Config{}, fieldError(path, lines[re.Field], re.Field, re.Msg)
		}
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// document returns the file's one mapping of settings, or nil when the file
// holds no settings at all.
func document(path string, data []byte) (*yaml.Node, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // an empty or all-comment file means defaults
		}
		return nil, yamlError(path, err)
	}
	if len(root.Content) == 0 {
		return nil, nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlError(path, err)
		}
		return nil, &fileerr.Error{File: path, Line: extra.Line, Msg: "more than one YAML document"}
	}
	doc := root.Content[0]
	if doc.Kind == yaml.ScalarNode && doc.Tag == "!!null" {
		return nil, nil
	}
	if doc.Kind != yaml.MappingNode {
		return nil, &fileerr.Error{File: path, Line: doc.Line, Msg: "expected a mapping of settings"}
	}
	return doc, nil
}

// set decodes one key of the file into c; Validate checks the ranges after.
func (c *Config) set(path string, k, v *yaml.Node, knownSources []string) error {
	fail := func(msg string, args ...any) error {
		return fieldError(path, v.Line, k.Value, fmt.Sprintf(msg, args...))
	}
	switch k.Value {
	case "poll_interval":
		d, err := time.ParseDuration(v.Value)
		if v.Kind != yaml.ScalarNode || err != nil {
			return fail("not a duration (e.g. 5s): %q", v.Value)
		}
		c.PollInterval = d
	case "stale_after":
		if err := v.Decode(&c.StaleAfter); err != nil {
			return fail("must be a whole number of poll intervals from 1 to %d, got %q", MaxStaleAfter, v.Value)
		}
	case "cpu_spike_threshold":
		if err := v.Decode(&c.CPUSpikeThreshold); err != nil {
			return fail("must be a ratio in (0, 1], got %q", v.Value)
		}
	case "sources":
		if v.Kind != yaml.MappingNode {
			return fail("expected a mapping of source name to true/false")
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			sk, sv := v.Content[j], v.Content[j+1]
			if !slices.Contains(knownSources, sk.Value) {
				return fieldError(path, sk.Line, "sources."+sk.Value, fmt.Sprintf("unknown source (known: %v)", knownSources))
			}
			var on bool
			if err := sv.Decode(&on); err != nil || sv.Tag != "!!bool" {
				return fieldError(path, sv.Line, "sources."+sk.Value, fmt.Sprintf("must be true or false, got %q", sv.Value))
			}
			c.Sources[sk.Value] = on
		}
	case "ignore":
		if v.Kind != yaml.SequenceNode {
			return fail("expected a list of regular expressions")
		}
		c.Ignore = nil
		for _, item := range v.Content {
			re, err := ignorePattern(item)
			if err != nil {
				return fieldError(path, item.Line, "ignore", err.Error())
			}
			c.Ignore = append(c.Ignore, re)
		}
	default:
		return fieldError(path, k.Line, k.Value, "unknown field (known: poll_interval, stale_after, cpu_spike_threshold, sources, ignore)")
	}
	return nil
}

// ignorePattern compiles one entry of ignore, matching whole names. The
// user's pattern is checked alone first, so that an error quotes only what
// they wrote, and so that "a)|(b" cannot escape the anchors around it.
func ignorePattern(item *yaml.Node) (*regexp.Regexp, error) {
	if item.Kind != yaml.ScalarNode {
		return nil, errors.New("expected a regular expression, got a list or a mapping")
	}
	if _, err := regexp.Compile(item.Value); err != nil {
		var se *syntax.Error
		if errors.As(err, &se) {
			return nil, fmt.Errorf("bad regular expression %q: %s in %q", item.Value, se.Code, se.Expr)
		}
		return nil, fmt.Errorf("bad regular expression %q: %v", item.Value, err)
	}
	return regexp.Compile("^(?:" + item.Value + ")$")
}

// lineRE pulls the line number out of yaml.v3's syntax errors ("yaml: line 3: ...").
var lineRE = regexp.MustCompile(`line (\d+): (.*)`)

func yamlError(path string, err error) error {
	if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
		var line int
		fmt.Sscan(m[1], &line)
		return &fileerr.Error{File: path, Line: line, Msg: m[2]}
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
