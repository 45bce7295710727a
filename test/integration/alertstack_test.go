//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/freeport"
)

// Debian's Alertmanager and its amtool: the tests run the real ones.
const (
	amBin     = "/usr/bin/prometheus-alertmanager"
	amtoolBin = "/usr/bin/amtool"
)

func requireAlertmanager(t *testing.T) {
	t.Helper()
	for _, b := range []string{amBin, amtoolBin, "/usr/bin/python3"} {
		if _, err := os.Stat(b); err != nil {
			t.Fatalf("%s is required (apt-get install prometheus-alertmanager python3-aiosmtpd, or `make deps`): %v", b, err)
		}
	}
}

// notification is one webhook notification of Alertmanager.
type notification struct {
	Receiver string            `json:"receiver"`
	Status   string            `json:"status"`
	Group    map[string]string `json:"groupLabels"`
	Alerts   []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`
}

// webhookSink is a webhook receiver on a fixed address, which can go away
// (its port closed: connections refused) and come back on the same address.
type webhookSink struct {
	t    *testing.T
	addr string
	mu   sync.Mutex
	got  []notification
	srv  *http.Server
}

func newWebhookSink(t *testing.T) *webhookSink {
	w := &webhookSink{t: t, addr: "127.0.0.1:" + strconv.Itoa(freeport.Port(t))}
	w.start()
	t.Cleanup(w.stop)
	return w
}

func (w *webhookSink) url() string { return "http://" + w.addr + "/hook" }

func (w *webhookSink) start() {
	w.t.Helper()
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ { // the old listener's port may linger a moment
		if l, err = net.Listen("tcp", w.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		w.t.Fatalf("webhook receiver: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hook", func(rw http.ResponseWriter, r *http.Request) {
		var n notification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		w.got = append(w.got, n)
		w.mu.Unlock()
	})
	w.mu.Lock()
	w.srv = &http.Server{Handler: mux}
	w.mu.Unlock()
	go w.srv.Serve(l)
}

func (w *webhookSink) stop() {
	w.mu.Lock()
	srv := w.srv
	w.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// count is the number of notifications with an alert named name in the
// status given ("firing" or "resolved").
func (w *webhookSink) count(name, status string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, x := range w.got {
		for _, a := range x.Alerts {
			if a.Labels["alertname"] == name && a.Status == status {
				n++
				break
			}
		}
	}
	return n
}

// find returns the first notified alert named name in status.
func (w *webhookSink) find(name, status string) (labels, annotations map[string]string, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, x := range w.got {
		for _, a := range x.Alerts {
			if a.Labels["alertname"] == name && a.Status == status {
				return a.Labels, a.Annotations, true
			}
		}
	}
	return nil, nil, false
}

// smtpSink is test/lib/smtp-sink.py: a real SMTP server (aiosmtpd) that
// requires AUTH with user and password, and keeps each message in a file.
type smtpSink struct {
	addr, dir, user, passwordFile string
}

func startSMTPSink(t *testing.T) *smtpSink {
	t.Helper()
	dir := t.TempDir()
	s := &smtpSink{addr: "127.0.0.1:" + strconv.Itoa(freeport.Port(t)), dir: filepath.Join(dir, "mail"),
		user: "pump-17", passwordFile: filepath.Join(dir, "smtp.pw")}
	if err := os.Mkdir(s.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.passwordFile, []byte("s3cret-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	startProc(t, "smtp-sink", "smtp://"+s.addr, func() bool {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, "/usr/bin/python3", repoPath(t, "test/lib/smtp-sink.py"), "--listen", s.addr, "--dir", s.dir,
		"--user", s.user, "--password-file", s.passwordFile)
	return s
}

// message is one received mail: its subject and its text (every text part,
// transfer encodings undone).
type message struct{ subject, text string }

func (s *smtpSink) messages(t *testing.T) []message {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(s.dir, "[0-9]*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	var out []message
	for _, n := range names {
		raw, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		m, err := decodeMail(raw)
		if err != nil {
			t.Fatalf("%s: %v\n%s", n, err, raw)
		}
		out = append(out, m)
	}
	return out
}

// count is the number of messages whose subject contains every word.
func (s *smtpSink) count(t *testing.T, words ...string) int {
	n := 0
	for _, m := range s.messages(t) {
		all := true
		for _, w := range words {
			all = all && strings.Contains(m.subject, w)
		}
		if all {
			n++
		}
	}
	return n
}

func decodeMail(raw []byte) (message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return message{}, err
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return message{}, err
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		body, err := io.ReadAll(msg.Body)
		return message{subject: subject, text: string(body)}, err
	}
	var text strings.Builder
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // undoes quoted-printable
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return message{}, err
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return message{}, err
		}
		text.Write(b)
	}
	return message{subject: subject, text: text.String()}, nil
}

// alertFiles are the files of one device's alerting: settings, the user's
// alertmanager.yml (the shipped one), prometheus.yml, machine id.
type alertFiles struct {
	dir, bin, defaults, amCfg, promCfg, machineID, amListen, amData string
}

func newAlertFiles(t *testing.T, settingsText, promCfg string) alertFiles {
	t.Helper()
	dir := t.TempDir()
	f := alertFiles{dir: dir, bin: edgectlBuild(t), defaults: filepath.Join(dir, "edge-observability"),
		amCfg: filepath.Join(dir, "alertmanager.yml"), promCfg: filepath.Join(dir, "prometheus.yml"),
		machineID: filepath.Join(dir, "machine-id"), amListen: "127.0.0.1:" + strconv.Itoa(freeport.Port(t)),
		amData: filepath.Join(dir, "alertmanager-data")}
	shipped, err := os.ReadFile(repoPath(t, "etc/alertmanager/alertmanager.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for p, c := range map[string]string{f.amCfg: string(shipped), f.promCfg: promCfg, f.machineID: "0123456789abcdef0123456789abcdef\n",
		f.defaults: "EDGE_ALERTS_LISTEN=" + f.amListen + "\n" + settingsText} {
		if err := os.WriteFile(p, []byte(c), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// edgectl runs the built edgectl with the files' flags for its subcommand
// and returns its exit code and output.
func (f alertFiles) edgectl(t *testing.T, args ...string) (int, string) {
	t.Helper()
	common := []string{"--defaults", f.defaults}
	switch {
	case args[0] == "alerts":
		common = append(common, "--config.in", f.promCfg, "--machine-id", f.machineID, "--alertmanager.config.in", f.amCfg)
		if args[1] == "enable" || args[1] == "disable" {
			common = append(common, "--dropin-dir", filepath.Join(f.dir, "dropins"), "--alertmanager", amBin, "--amtool", amtoolBin)
		}
	case args[0] == "fleet":
		common = append(common, "--config.in", f.promCfg, "--machine-id", f.machineID, "--dropin-dir", filepath.Join(f.dir, "slice.d"))
	case args[0] == "prometheus-config":
		common = append(common, "--config.in", f.promCfg, "--machine-id", f.machineID)
	}
	cmd := exec.Command(f.bin, append(args, common...)...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	}
	t.Fatalf("edgectl %v: %v", args, err)
	return 0, ""
}

// startAlertmanager runs the real Alertmanager through `edgectl
// alertmanager-exec`, as its unit does, with its data in f.amData.
func (f alertFiles) startAlertmanager(t *testing.T) *fleetProc {
	t.Helper()
	return fleetStart(t, "alertmanager", f.amListen, f.bin, "alertmanager-exec", "--config.in", f.amCfg, "--defaults", f.defaults,
		"--config.out", filepath.Join(f.dir, "alertmanager.rendered.yml"), "--", "--storage.path="+f.amData, "--cluster.listen-address=")
}

// startPrometheus renders prometheus.yml with `edgectl prometheus-config`
// and runs Debian's Prometheus with it.
func (f alertFiles) startPrometheus(t *testing.T) string {
	t.Helper()
	url, _ := f.startPrometheusStoppable(t)
	return url
}

// amActive reports whether Alertmanager holds an active alert named name.
func amActive(base, name string) bool {
	resp, err := http.Get(base + "/api/v2/alerts?filter=" + url.QueryEscape(`alertname="`+name+`"`))
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var alerts []struct {
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	if json.NewDecoder(resp.Body).Decode(&alerts) != nil {
		return false
	}
	for _, a := range alerts {
		if a.Status.State == "active" {
			return true
		}
	}
	return false
}

// amCounter sums Alertmanager's counter name for integration.
func amCounter(t *testing.T, base, name, integration string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	sum := 0.0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, name+"{") && strings.Contains(l, `integration="`+integration+`"`) {
			v, err := strconv.ParseFloat(l[strings.LastIndex(l, " ")+1:], 64)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			sum += v
		}
	}
	return sum
}

// postAlert sends Alertmanager an alert as Prometheus would, firing until end.
func postAlert(t *testing.T, base string, labels map[string]string, end time.Time) {
	t.Helper()
	body, _ := json.Marshal([]map[string]any{{"labels": labels, "annotations": map[string]string{"summary": "test " + labels["alertname"]},
		"startsAt": time.Now().Add(-time.Minute).Format(time.RFC3339), "endsAt": end.Format(time.RFC3339)}})
	resp, err := http.Post(base+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s/api/v2/alerts: HTTP %d", base, resp.StatusCode)
	}
}

// waitUntil polls cond every half second until it holds, or fails the test
// after timeout saying what it waited for.
func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// stopGracefully ends a process with SIGTERM and waits, as systemd does.
func (p *fleetProc) stopGracefully(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not stop within 30s of SIGTERM", p.name)
	}
}
