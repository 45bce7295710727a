package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// RemoteWriteName names the remote_write entry this package owns. An entry
// with this name in the user's file is replaced (or dropped when fleet mode
// is off); every other entry is kept as written.
const RemoteWriteName = "edge-fleet"

// Top-level sections Prometheus refuses in agent mode; the lean profile
// drops them from the rendered file.
var agentForbidden = []string{"rule_files", "alerting", "remote_read"}

// RenderInput gathers what Render needs.
type RenderInput struct {
	// ConfigName names the user's prometheus.yml in errors.
	ConfigName string
	Config     []byte
	Settings   *Settings
	// MachineID is the fallback device id (contents of /etc/machine-id).
	MachineID string
}

// Render merges the fleet settings into the user's Prometheus configuration.
//
// External labels: device (EDGE_DEVICE_ID or the machine id), site, role and
// EDGE_EXTERNAL_LABELS are added to global.external_labels, but a label the
// user already set in prometheus.yml wins: that file is the more specific,
// hand-edited source, and silently overriding it would be surprising.
func Render(in RenderInput) ([]byte, error) {
	s := in.Settings
	if s == nil {
		s = &Settings{Profile: ProfileFull}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(in.Config, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", in.ConfigName, err)
	}
	if doc.Kind == 0 { // empty file
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: top level must be a mapping", in.ConfigName, root.Line)
	}

	global, err := mappingChild(in.ConfigName, root, "global")
	if err != nil {
		return nil, err
	}
	labels, err := mappingChild(in.ConfigName, global, "external_labels")
	if err != nil {
		return nil, err
	}
	device := s.DeviceID
	if device == "" {
		device = strings.TrimSpace(in.MachineID)
	}
	if device == "" {
		return nil, errors.New("no device id: set " + KeyDeviceID + " or provide a machine id")
	}
	want := []KV{{"device", device}}
	if s.Site != "" {
		want = append(want, KV{"site", s.Site})
	}
	if s.Role != "" {
		want = append(want, KV{"role", s.Role})
	}
	want = append(want, s.ExternalLabels...)
	for _, kv := range want {
		if lookup(labels, kv.Key) == nil {
			labels.Content = append(labels.Content, scalar(kv.Key), scalar(kv.Value))
		}
	}

	rw := lookup(root, "remote_write")
	if rw != nil && rw.Kind != yaml.SequenceNode {
		if rw.Kind == yaml.ScalarNode && rw.Tag == "!!null" {
			rw.Kind, rw.Tag, rw.Value = yaml.SequenceNode, "!!seq", ""
		} else {
			return nil, fmt.Errorf("%s:%d: remote_write must be a list", in.ConfigName, rw.Line)
		}
	}
	if rw != nil {
		kept := rw.Content[:0]
		for _, e := range rw.Content {
			if n := lookup(e, "name"); n != nil && n.Value == RemoteWriteName {
				continue
			}
			kept = append(kept, e)
		}
		rw.Content = kept
	}
	if s.URL != "" {
		var entry yaml.Node
		if err := entry.Encode(remoteWriteEntry(s)); err != nil {
			return nil, err
		}
		if rw == nil {
			rw = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			root.Content = append(root.Content, scalar("remote_write"), rw)
		}
		rw.Content = append(rw.Content, &entry)
	}
	if rw != nil && len(rw.Content) == 0 {
		deleteKey(root, "remote_write")
	}

	if s.Profile == ProfileLean {
		for _, k := range agentForbidden {
			deleteKey(root, k)
		}
	}

	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Rendered by edgectl from %s and the fleet settings; edit those, not this file.\n", in.ConfigName)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Remote-write queue tuned for a 2-core / 500 MB device with a few hundred
// series. At most 2 shards keep the sending goroutines and connections few;
// one shard moves ~10k samples/s (500 samples per request, ~50ms round
// trips), far above the device's ingest. Capacity 2500 per shard bounds the
// in-memory buffer while the WAL, not the queue, holds the backlog during an
// outage. 500 samples per request and a 5s deadline batch the trickle of a
// small device into few requests. Backoff from 30ms up to 5s resumes sending
// within seconds once the central is back, so the backlog drains soon after
// an outage ends.
type queueConfig struct {
	Capacity          int    `yaml:"capacity"`
	MinShards         int    `yaml:"min_shards"`
	MaxShards         int    `yaml:"max_shards"`
	MaxSamplesPerSend int    `yaml:"max_samples_per_send"`
	BatchSendDeadline string `yaml:"batch_send_deadline"`
	MinBackoff        string `yaml:"min_backoff"`
	MaxBackoff        string `yaml:"max_backoff"`
}

type metadataConfig struct {
	Send bool `yaml:"send"`
	// Metadata rarely changes; every 5m instead of the 1m default saves
	// bandwidth on metered links.
	SendInterval string `yaml:"send_interval"`
}

type basicAuth struct {
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
}

type authorization struct {
	Type            string `yaml:"type"`
	CredentialsFile string `yaml:"credentials_file"`
}

type tlsConfig struct {
	CAFile             string `yaml:"ca_file,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify,omitempty"`
}

type remoteWrite struct {
	Name           string            `yaml:"name"`
	URL            string            `yaml:"url"`
	RemoteTimeout  string            `yaml:"remote_timeout"`
	Headers        map[string]string `yaml:"headers,omitempty"`
	BasicAuth      *basicAuth        `yaml:"basic_auth,omitempty"`
	Authorization  *authorization    `yaml:"authorization,omitempty"`
	TLSConfig      *tlsConfig        `yaml:"tls_config,omitempty"`
	QueueConfig    queueConfig       `yaml:"queue_config"`
	MetadataConfig metadataConfig    `yaml:"metadata_config"`
}

func remoteWriteEntry(s *Settings) remoteWrite {
	rw := remoteWrite{
		Name:          RemoteWriteName,
		URL:           s.URL,
		RemoteTimeout: "30s",
		QueueConfig: queueConfig{
			Capacity:          2500,
			MinShards:         1,
			MaxShards:         2,
			MaxSamplesPerSend: 500,
			BatchSendDeadline: "5s",
			MinBackoff:        "30ms",
			MaxBackoff:        "5s",
		},
		MetadataConfig: metadataConfig{Send: true, SendInterval: "5m"},
	}
	if len(s.Headers) > 0 {
		rw.Headers = map[string]string{}
		for _, h := range s.Headers {
			rw.Headers[h.Key] = h.Value
		}
	}
	if s.PasswordFile != "" {
		rw.BasicAuth = &basicAuth{Username: s.Username, PasswordFile: s.PasswordFile}
	}
	if s.BearerTokenFile != "" {
		rw.Authorization = &authorization{Type: "Bearer", CredentialsFile: s.BearerTokenFile}
	}
	if s.CAFile != "" || s.InsecureSkipVerify {
		rw.TLSConfig = &tlsConfig{CAFile: s.CAFile, InsecureSkipVerify: s.InsecureSkipVerify}
	}
	return rw
}

func scalar(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
}

// lookup returns the value node of key in mapping m, or nil.
func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func deleteKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// mappingChild returns the mapping under key, creating it when absent or null.
func mappingChild(name string, m *yaml.Node, key string) (*yaml.Node, error) {
	v := lookup(m, key)
	if v == nil {
		v = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		m.Content = append(m.Content, scalar(key), v)
		return v, nil
	}
	if v.Kind == yaml.AliasNode {
		return nil, fmt.Errorf("%s:%d: %s: YAML aliases are not supported here", name, v.Line, key)
	}
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		v.Kind, v.Tag, v.Value = yaml.MappingNode, "!!map", ""
		return v, nil
	}
	if v.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: %s must be a mapping", name, v.Line, key)
	}
	if v.Style&yaml.FlowStyle != 0 {
		v.Style = 0
	}
	return v, nil
}

// RenderFiles loads the three inputs from disk and renders.
func RenderFiles(configIn, defaults, machineIDFile string) ([]byte, *Settings, error) {
	s, err := LoadSettings(defaults)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := os.ReadFile(configIn)
	if err != nil {
		return nil, nil, err
	}
	var mid string
	if s.DeviceID == "" {
		b, err := os.ReadFile(machineIDFile)
		if err != nil {
			return nil, nil, fmt.Errorf("no %s in %s and cannot read machine id: %w", KeyDeviceID, defaults, err)
		}
		mid = string(b)
	}
	out, err := Render(RenderInput{ConfigName: configIn, Config: cfg, Settings: s, MachineID: mid})
	return out, s, err
}
