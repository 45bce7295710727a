//go:build integration

package integration

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"

	"github.com/edgeobs/edge-observability-stack/internal/freeport"
)

// TestFleetAlertsReachTheCentre: a device configured with `edgectl fleet
// enable URL --alertmanager ...` remote-writes to Debian's VictoriaMetrics
// and sends its alerts, with its device/site/role labels, to its local
// Alertmanager and to a central one behind TLS and basic auth. Debian's
// vmalert evaluates the shipped central rules against VictoriaMetrics: once
// the device's stack stops, EdgeDeviceStoppedReporting reaches the central
// Alertmanager for that device.
func TestFleetAlertsReachTheCentre(t *testing.T) {
	requireAlertmanager(t)
	for _, b := range []string{"/usr/bin/victoria-metrics", "/usr/bin/vmalert"} {
		if _, err := os.Stat(b); err != nil {
			t.Fatalf("%s is required (apt-get install victoria-metrics, or `make deps`): %v", b, err)
		}
	}
	t.Parallel()
	dir := t.TempDir()
	vm := startVictoriaMetrics(t, dir)
	centralHook, localHook := newWebhookSink(t), newWebhookSink(t)
	central := startCentralAlertmanager(t, dir, centralHook)

	// The device: the daemon without a memory controller (a Pi kernel) fires the shipped
	// EdgeMemoryBudgetNotEnforced at once.
	daemon := startDaemon(t, "--path.cgroupfs="+repoPath(t, "test/fixtures/cgroup/v2-nomemory"),
		"--path.procfs="+repoPath(t, "test/fixtures/proc/pi-6.12"))
	f := newAlertFiles(t, "EDGE_DEVICE_ID=pump-21\n", rulesConfig(t, daemon))
	if code, out := f.edgectl(t, append([]string{"alerts", "enable", "--webhook", localHook.url()}, fastTiming...)...); code != 0 {
		t.Fatalf("edgectl alerts enable: exit %d\n%s", code, out)
	}
	if code, out := f.edgectl(t, "fleet", "enable", vm+"/api/v1/write", "--site", "plant-b", "--role", "gateway",
		"--alertmanager", central.url, "--alertmanager-username", "pump-21", "--alertmanager-password-file", central.passwordFile,
		"--alertmanager-ca-file", central.caFile); code != 0 {
		t.Fatalf("edgectl fleet enable: exit %d\n%s", code, out)
	}
	f.startAlertmanager(t)
	_, stopProm := f.startPrometheusStoppable(t)

	// The device's alert at both Alertmanagers, with its labels.
	for name, hook := range map[string]*webhookSink{"central": centralHook, "local": localHook} {
		waitUntil(t, "EdgeMemoryBudgetNotEnforced at the "+name+" Alertmanager", 60*time.Second, func() bool {
			return hook.count("EdgeMemoryBudgetNotEnforced", "firing") > 0
		})
		labels, _, _ := hook.find("EdgeMemoryBudgetNotEnforced", "firing")
		if labels["device"] != "pump-21" || labels["site"] != "plant-b" || labels["role"] != "gateway" {
			t.Errorf("%s: labels %v, want device pump-21, site plant-b, role gateway", name, labels)
		}
	}

	// The centre's rules, with the silence shortened from 10 minutes to 20 seconds.
	rules := shortenedCentralRules(t, dir, "10m", "20s")
	vmalert := "127.0.0.1:" + strconv.Itoa(freeport.Port(t))
	startProc(t, "vmalert", "http://"+vmalert, httpOK("http://"+vmalert+"/-/healthy"), "/usr/bin/vmalert",
		"-datasource.url="+vm, "-rule="+rules, "-evaluationInterval=2s", "-httpListenAddr="+vmalert,
		"-notifier.url="+central.url, "-notifier.basicAuth.username=pump-21", "-notifier.basicAuth.passwordFile="+central.passwordFile,
		"-notifier.tlsCAFile="+central.caFile)
	waitUntil(t, "pump-21's samples at VictoriaMetrics", 60*time.Second, func() bool {
		v, ok := promQuery(t, vm, `count(up{device="pump-21"})`)
		return ok && v > 0
	})
	time.Sleep(10 * time.Second)
	if centralHook.count("EdgeDeviceStoppedReporting", "firing") != 0 {
		t.Fatal("EdgeDeviceStoppedReporting fired for a device that reports")
	}
	stopProm()
	stopped := time.Now()
	waitUntil(t, "EdgeDeviceStoppedReporting at the central Alertmanager", 90*time.Second, func() bool {
		return centralHook.count("EdgeDeviceStoppedReporting", "firing") > 0
	})
	labels, ann, _ := centralHook.find("EdgeDeviceStoppedReporting", "firing")
	t.Logf("EdgeDeviceStoppedReporting at the centre %s after the device's Prometheus stopped: %v %q", time.Since(stopped).Round(time.Second), labels, ann["summary"])
	if labels["device"] != "pump-21" || labels["site"] != "plant-b" || labels["severity"] != "critical" ||
		!strings.Contains(ann["summary"], "pump-21") {
		t.Errorf("labels %v annotations %v", labels, ann)
	}
}

// startPrometheusStoppable is startPrometheus that can be stopped early.
func (f alertFiles) startPrometheusStoppable(t *testing.T) (string, func()) {
	t.Helper()
	if code, out := f.edgectl(t, "prometheus-config", "--config.out", filepath.Join(f.dir, "prometheus.rendered.yml")); code != 0 {
		t.Fatalf("edgectl prometheus-config: exit %d\n%s", code, out)
	}
	cfg, err := os.ReadFile(filepath.Join(f.dir, "prometheus.rendered.yml"))
	if err != nil {
		t.Fatal(err)
	}
	url, _, stop := startPrometheusStoppable(t, string(cfg))
	return url, stop
}

func httpOK(url string) func() bool {
	c := &http.Client{Timeout: 2 * time.Second}
	return func() bool {
		resp, err := c.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
}

// startVictoriaMetrics runs Debian's VictoriaMetrics, with samples
// queryable 1s after they arrive (30s by default).
func startVictoriaMetrics(t *testing.T, dir string) string {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(freeport.Port(t))
	startProc(t, "victoria-metrics", "http://"+addr, httpOK("http://"+addr+"/health"), "/usr/bin/victoria-metrics",
		"-httpListenAddr="+addr, "-storageDataPath="+filepath.Join(dir, "vm-data"), "-retentionPeriod=1d",
		"-search.latencyOffset=1s", "-search.disableCache")
	return "http://" + addr
}

type centralAM struct {
	url, caFile, passwordFile string
}

// startCentralAlertmanager runs a second Alertmanager, the centre's, behind
// TLS and basic auth (its --web.config.file), sending to hook.
func startCentralAlertmanager(t *testing.T, dir string, hook *webhookSink) centralAM {
	t.Helper()
	// httptest's certificate is valid for 127.0.0.1 and is its own CA.
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	srv.Close()
	key, err := x509.MarshalPKCS8PrivateKey(srv.TLS.Certificates[0].PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("central-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	c := centralAM{caFile: filepath.Join(dir, "central-ca.pem"), passwordFile: filepath.Join(dir, "central.pw")}
	web, _ := yaml.Marshal(map[string]any{
		"tls_server_config": map[string]string{"cert_file": c.caFile, "key_file": filepath.Join(dir, "central.key")},
		"basic_auth_users":  map[string]string{"pump-21": string(hash)},
	})
	cfg := fmt.Sprintf("route:\n  receiver: hook\n  group_by: [alertname, device]\n  group_wait: 1s\n  group_interval: 5s\nreceivers:\n  - name: hook\n    webhook_configs: [{url: %q, send_resolved: true}]\n", hook.url())
	for p, data := range map[string][]byte{
		c.caFile:                              pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}),
		filepath.Join(dir, "central.key"):     pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}),
		c.passwordFile:                        []byte("central-pw\n"),
		filepath.Join(dir, "central-web.yml"): web,
		filepath.Join(dir, "central-am.yml"):  []byte(cfg),
	} {
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	addr := "127.0.0.1:" + strconv.Itoa(freeport.Port(t))
	c.url = "https://" + addr
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	startProc(t, "central alertmanager", c.url, func() bool {
		req, _ := http.NewRequest(http.MethodGet, c.url+"/-/ready", nil)
		req.SetBasicAuth("pump-21", "central-pw")
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, amBin, "--config.file="+filepath.Join(dir, "central-am.yml"), "--storage.path="+filepath.Join(dir, "central-am-data"),
		"--web.listen-address="+addr, "--web.config.file="+filepath.Join(dir, "central-web.yml"), "--cluster.listen-address=")
	// Without the password the centre refuses.
	if resp, err := client.Get(c.url + "/api/v2/status"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("central Alertmanager without basic auth: %v %v", resp, err)
	}
	return c
}

// shortenedCentralRules is the shipped central rules file with the window
// from replaced by to, for a test that cannot wait 10 minutes.
func shortenedCentralRules(t *testing.T, dir, from, to string) string {
	t.Helper()
	b, err := os.ReadFile(repoPath(t, "etc/central/edge-fleet.yml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.Contains(s, "max_over_time(up["+from+"])") {
		t.Fatalf("the central rules no longer use max_over_time(up[%s])", from)
	}
	s = strings.ReplaceAll(s, "max_over_time(up["+from+"])", "max_over_time(up["+to+"])")
	p := filepath.Join(dir, "edge-fleet.yml")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
