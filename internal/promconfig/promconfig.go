// Package promconfig renders the device's Prometheus configuration: the
// user's prometheus.yml with the fleet settings merged in (external labels
// identifying the device, a remote_write entry to the central engine, the
// local and central Alertmanagers, and for the lean profile no sections
// agent mode refuses). Everything else in
// the user's file is kept as written.
package promconfig

import (
	"errors"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/edgeobs/edge-observability-stack/internal/settings"
	"github.com/edgeobs/edge-observability-stack/internal/yamledit"
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
	doc, root, err := yamledit.Parse(in.ConfigName, in.Config)
	if err != nil {
		return nil, err
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
			yamledit.Delete(root, k)
		}
	}
	return yamledit.Encode("Rendered by edgectl from "+in.ConfigName+" and the fleet settings; edit those, not this file.", doc)
}

// addExternalLabels adds device, site, role and EDGE_EXTERNAL_LABELS to
// global.external_labels, but a label the user already set in
// prometheus.yml wins: that file is the more specific, hand-edited source,
// and silently overriding it would be surprising.
func addExternalLabels(name string, root *yaml.Node, s *settings.Settings, device string) error {
	global, err := yamledit.Mapping(name, root, "global")
	if err != nil {
		return err
	}
	labels, err := yamledit.Mapping(name, global, "external_labels")
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
		if yamledit.Lookup(labels, kv.Key) == nil {
			labels.Content = append(labels.Content, yamledit.Scalar(kv.Key), yamledit.Scalar(kv.Value))
		}
	}
	return nil
}

// setRemoteWrite replaces the entry named RemoteWriteName with one for the
// settings (none when fleet mode is off), keeping the user's other entries.
func setRemoteWrite(name string, root *yaml.Node, s *settings.Settings) error {
	rw, err := yamledit.Sequence(name, root, "remote_write")
	if err != nil {
		return err
	}
	yamledit.DropNamed(rw, RemoteWriteName)
	if s.URL != "" {
		if err := yamledit.Append(rw, remoteWriteEntry(s)); err != nil {
			return err
		}
	}
	if len(rw.Content) == 0 {
		yamledit.Delete(root, "remote_write")
	}
	return nil
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
