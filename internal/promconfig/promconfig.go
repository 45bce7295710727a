// Package promconfig renders the device's Prometheus configuration: the
// user's prometheus.yml with the fleet settings merged in (external labels
// identifying the device, a remote_write entry to the central engine, the
// local and central Alertmanagers, and for the lean profile no sections
// agent mode refuses). Everything else in
// the user's file is kept as written.
package promconfig

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/edgeobs/edge-observability-stack/internal/settings"
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
	Settings   *settings.Settings
	// Device is the device label (see settings.Settings.Device).
	Device string
}

// Render merges the fleet settings into the user's Prometheus configuration.
func Render(in RenderInput) ([]byte, error) {
	s := in.Settings
	if s == nil {
		s = settings.Defaults()
	}
	if in.Device == "" {
		return nil, errors.New("no device id: set " + settings.KeyDeviceID + " or provide a machine id")
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
	if err := addExternalLabels(in.ConfigName, root, s, in.Device); err != nil {
		return nil, err
	}
	if err := setRemoteWrite(in.ConfigName, root, s); err != nil {
		return nil, err
	}
	if err := addAlerting(in.ConfigName, root, s.Alerting); err != nil {
		return nil, err
	}
	if s.Profile == settings.ProfileLean {
		for _, k := range agentForbidden {
			deleteKey(root, k)
		}
	}
	return encode(in.ConfigName, &doc)
}

// addExternalLabels adds device, site, role and EDGE_EXTERNAL_LABELS to
// global.external_labels, but a label the user already set in
// prometheus.yml wins: that file is the more specific, hand-edited source,
// and silently overriding it would be surprising.
func addExternalLabels(name string, root *yaml.Node, s *settings.Settings, device string) error {
	global, err := mappingChild(name, root, "global")
	if err != nil {
		return err
	}
	labels, err := mappingChild(name, global, "external_labels")
	if err != nil {
		return err
	}
	want := []settings.KV{{Key: "device", Value: device}}
	if s.Site != "" {
		want = append(want, settings.KV{Key: "site", Value: s.Site})
	}
	if s.Role != "" {
		want = append(want, settings.KV{Key: "role", Value: s.Role})
	}
	want = append(want, s.ExternalLabels...)
	for _, kv := range want {
		if lookup(labels, kv.Key) == nil {
			labels.Content = append(labels.Content, scalar(kv.Key), scalar(kv.Value))
		}
	}
	return nil
}

// setRemoteWrite replaces the entry named RemoteWriteName with one for the
// settings (none when fleet mode is off), keeping the user's other entries.
func setRemoteWrite(name string, root *yaml.Node, s *settings.Settings) error {
	rw := lookup(root, "remote_write")
	if rw != nil && rw.Kind != yaml.SequenceNode {
		if rw.Kind != yaml.ScalarNode || rw.Tag != "!!null" {
			return fmt.Errorf("%s:%d: remote_write must be a list", name, rw.Line)
		}
		rw.Kind, rw.Tag, rw.Value = yaml.SequenceNode, "!!seq", ""
	}
	if rw != nil {
		kept := rw.Content[:0]
		for _, e := range rw.Content {
			if n := lookup(e, "name"); n == nil || n.Value != RemoteWriteName {
				kept = append(kept, e)
			}
		}
		rw.Content = kept
	}
	if s.URL != "" {
		var entry yaml.Node
		if err := entry.Encode(remoteWriteEntry(s)); err != nil {
			return err
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
	return nil
}

func encode(name string, doc *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Rendered by edgectl from %s and the fleet settings; edit those, not this file.\n", name)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
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

func remoteWriteEntry(s *settings.Settings) remoteWrite {
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

// RenderFile renders the user's configuration at configIn with the
// settings s, the device falling back to the machine id in machineIDFile.
func RenderFile(configIn string, s *settings.Settings, machineIDFile string) ([]byte, error) {
	cfg, err := os.ReadFile(configIn)
	if err != nil {
		return nil, err
	}
	device, _, err := s.Device(machineIDFile)
	if err != nil {
		return nil, err
	}
	return Render(RenderInput{ConfigName: configIn, Config: cfg, Settings: s, Device: device})
}
