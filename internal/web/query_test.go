package web

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// upstream is a fake Prometheus that records what reaches it.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	got  []*http.Request
	form []url.Values
	// answer, when set, replaces the default success answer.
	answer func(w http.ResponseWriter, r *http.Request)
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		u.mu.Lock()
		u.got = append(u.got, r)
		u.form = append(u.form, r.PostForm)
		answer := u.answer
		u.mu.Unlock()
		if answer != nil {
			answer(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) requests() ([]*http.Request, []url.Values) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*http.Request(nil), u.got...), append([]url.Values(nil), u.form...)
}

func proxyHandler(t *testing.T, target string, l QueryLimits) http.Handler {
	t.Helper()
	q, err := NewQueryProxy(target, l)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := setupWith(t, true, Options{MaxRequests: 16, Queries: q})
	return h
}

func send(h http.Handler, method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	var r *http.Request
	if body != "" {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// promError decodes a Prometheus-style error answer, failing the test when
// the body is not one.
func promError(t *testing.T, w *httptest.ResponseRecorder) (errorType, msg string) {
	t.Helper()
	var e struct{ Status, ErrorType, Error string }
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Status != "error" || e.ErrorType == "" || e.Error == "" {
		t.Fatalf("%d: not a Prometheus error: %q (%v)", w.Code, w.Body, err)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error Content-Type %q", ct)
	}
	return e.ErrorType, e.Error
}

func TestQueryForwardsOnlyQueryParameters(t *testing.T) {
	up := newUpstream(t)
	h := proxyHandler(t, up.URL+"/prefix", DefaultQueryLimits())

	w := send(h, "GET", "/api/v1/query?query=up&time=1700000000&timeout=5s&stats=all&limit=1&dedup=false", "",
		"Authorization", "Basic dXNlcjpwYXNz", "Cookie", "a=b")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"status":"success"`) || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %q %v", w.Code, w.Body, w.Header())
	}
	w = send(h, "POST", "/api/v1/query_range", "query=rate(x[5m])&start=1700000000&end=2023-11-14T23:13:20Z&step=15s&timeout=1h&foo=bar")
	if w.Code != 200 {
		t.Fatalf("POST query_range: %d %s", w.Code, w.Body)
	}
	if w = send(h, "GET", "/api/v1/query?query=1&timeout=0.0001", ""); w.Code != 200 {
		t.Fatalf("sub-millisecond timeout: %d %s", w.Code, w.Body)
	}
	reqs, forms := up.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d upstream requests", len(reqs))
	}
	for i, want := range []struct {
		path string
		form url.Values
	}{
		{"/prefix/api/v1/query", url.Values{"query": {"up"}, "time": {"1700000000"}, "timeout": {"5s"}}},
		// the timeout is capped at the limit (20s)
		{"/prefix/api/v1/query_range", url.Values{"query": {"rate(x[5m])"}, "start": {"1700000000"},
			"end": {"2023-11-14T23:13:20Z"}, "step": {"15s"}, "timeout": {"20s"}}},
		// Prometheus reads milliseconds: a smaller timeout is not sent as 0s
		{"/prefix/api/v1/query", url.Values{"query": {"1"}, "timeout": {"1ms"}}},
	} {
		r := reqs[i]
		if r.Method != "POST" || r.URL.Path != want.path || r.URL.RawQuery != "" {
			t.Errorf("request %d: %s %s?%s", i, r.Method, r.URL.Path, r.URL.RawQuery)
		}
		if got := forms[i].Encode(); got != want.form.Encode() {
			t.Errorf("request %d forwarded %s, want %s", i, got, want.form.Encode())
		}
		// Nothing of the client's own request (credentials, cookies) reaches Prometheus.
		if r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "" {
			t.Errorf("request %d leaked client headers: %v", i, r.Header)
		}
	}
}

func TestQueryRefusesBadInput(t *testing.T) {
	up := newUpstream(t)
	l := DefaultQueryLimits()
	l.MaxBodyBytes = 512
	h := proxyHandler(t, up.URL, l)
	rng := func(q string) string { return "/api/v1/query_range?query=up&" + q }
	for _, c := range []struct {
		method, target, body string
		code                 int
		msg                  string
	}{
		{"GET", "/api/v1/query", "", 400, `missing parameter "query"`},
		{"GET", "/api/v1/query?query=%20", "", 400, `missing parameter "query"`},
		{"GET", "/api/v1/query?query=up&time=yesterday", "", 400, `invalid parameter "time"`},
		{"GET", "/api/v1/query?query=up&time=NaN", "", 400, `invalid parameter "time"`},
		{"GET", "/api/v1/query?query=up&timeout=-1s", "", 400, `invalid parameter "timeout"`},
		{"GET", "/api/v1/query?query=up&timeout=soon", "", 400, `invalid parameter "timeout"`},
		{"GET", rng("end=100&step=15"), "", 400, `missing parameter "start"`},
		{"GET", rng("start=100&step=15"), "", 400, `missing parameter "end"`},
		{"GET", rng("start=100&end=200"), "", 400, `invalid parameter "step"`},
		{"GET", rng("start=100&end=200&step=0"), "", 400, `invalid parameter "step"`},
		{"GET", rng("start=100&end=200&step=-15s"), "", 400, `invalid parameter "step"`},
		{"GET", rng("start=100&end=200&step=1e300"), "", 400, `invalid parameter "step"`},
		{"GET", rng("start=200&end=100&step=15"), "", 400, "end timestamp must not be before start"},
		// 12h15m is the limit: 13h is refused, whatever the step.
		{"GET", rng("start=0&end=46800&step=3600"), "", 400, "longer than the maximum of 12h15m"},
		// 12h at 15s is 2881 points, over 1000.
		{"GET", rng("start=0&end=43200&step=15s"), "", 400, "exceeded maximum resolution of 1000 points"},
		{"POST", "/api/v1/query", "query=" + strings.Repeat("x", 600), 413, "request body over 512 bytes"},
		{"POST", "/api/v1/query", "query=%zz", 400, "invalid form"},
	} {
		w := send(h, c.method, c.target, c.body)
		if w.Code != c.code {
			t.Errorf("%s %s: %d, want %d (%s)", c.method, c.target, w.Code, c.code, w.Body)
			continue
		}
		typ, msg := promError(t, w)
		if typ != "bad_data" || !strings.Contains(msg, c.msg) {
			t.Errorf("%s %s: %s %q, want bad_data containing %q", c.method, c.target, typ, msg, c.msg)
		}
	}
	// The limits themselves are allowed: 12h at 44s is 983 points; 1000 points exactly.
	for _, q := range []string{rng("start=0&end=43200&step=44"), rng("start=0&end=999&step=1")} {
		if w := send(h, "GET", q, ""); w.Code != 200 {
			t.Errorf("%s: %d %s", q, w.Code, w.Body)
		}
	}
	if reqs, _ := up.requests(); len(reqs) != 2 {
		t.Fatalf("%d requests reached Prometheus, want only the 2 valid ones", len(reqs))
	}
}

func TestOnlyQueriesReachPrometheus(t *testing.T) {
	up := newUpstream(t)
	h := proxyHandler(t, up.URL, DefaultQueryLimits())
	for _, c := range []struct {
		method, path string
		code         int
	}{
		{"POST", "/api/v1/admin/tsdb/delete_series?match[]=up", 404},
		{"PUT", "/api/v1/admin/tsdb/delete_series?match[]=up", 404},
		{"POST", "/api/v1/admin/tsdb/snapshot", 404},
		{"POST", "/api/v1/admin/tsdb/clean_tombstones", 404},
		{"POST", "/api/v1/write", 404},
		{"POST", "/api/v1/otlp/v1/metrics", 404},
		{"POST", "/-/reload", 404},
		{"PUT", "/-/quit", 404},
		{"GET", "/api/v1/labels", 404},
		{"GET", "/api/v1/series?match[]=up", 404},
		{"GET", "/api/v1/label/__name__/values", 404},
		{"GET", "/api/v1/status/config", 404},
		{"GET", "/api/v1/targets", 404},
		{"GET", "/api/v1/rules", 404},
		{"GET", "/federate?match[]=up", 404},
		// redirected to its clean path, itself a 404 above
		{"GET", "/api/v1/query/../admin/tsdb/snapshot", 301},
		{"GET", "/api/v1/query/", 404},
		{"GET", "/api/v1/query_exemplars?query=up", 404},
		{"DELETE", "/api/v1/query?query=up", 405},
		{"PUT", "/api/v1/query_range?query=up", 405},
	} {
		if w := send(h, c.method, c.path, ""); w.Code != c.code {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, w.Code, c.code)
		}
	}
	if reqs, _ := up.requests(); len(reqs) != 0 {
		t.Fatalf("%d requests reached Prometheus: %s", len(reqs), reqs[0].URL)
	}
}

func TestQueryConcurrencyLimit(t *testing.T) {
	up := newUpstream(t)
	// Buffered: queries after the release pass without anyone receiving.
	entered, release := make(chan struct{}, 8), make(chan struct{})
	up.answer = func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	}
	l := DefaultQueryLimits()
	l.MaxConcurrent = 2
	h := proxyHandler(t, up.URL, l)
	done := make(chan int, 2)
	for range 2 {
		go func() { done <- send(h, "GET", "/api/v1/query?query=up", "").Code }()
		<-entered
	}
	w := send(h, "GET", "/api/v1/query_range?query=up&start=0&end=60&step=15", "")
	if w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("third query: %d %v", w.Code, w.Header())
	}
	if typ, _ := promError(t, w); typ != "unavailable" {
		t.Fatalf("errorType %q", typ)
	}
	// A bad query is told what is wrong, busy or not.
	if w := send(h, "GET", "/api/v1/query", ""); w.Code != 400 {
		t.Fatalf("bad query while busy: %d", w.Code)
	}
	// The rest of the API still answers while the query slots are taken.
	if w := send(h, "GET", "/sensor", ""); w.Code != 200 {
		t.Fatalf("/sensor while queries run: %d", w.Code)
	}
	close(release)
	for range 2 {
		if c := <-done; c != 200 {
			t.Fatalf("held query: %d", c)
		}
	}
	if w := send(h, "GET", "/api/v1/query?query=up", ""); w.Code != 200 {
		t.Fatalf("slot not released: %d", w.Code)
	}
}

func TestQueryUpstreamFailures(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	short := DefaultQueryLimits()
	short.Timeout = 10 * time.Millisecond
	for _, c := range []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request) // nil: no upstream at all
		closed bool                                         // upstream closed before the query
		limits QueryLimits
		code   int
		typ    string
		msg    string
	}{
		{name: "history off", code: 503, typ: "unavailable", msg: "history is off"},
		{name: "down", closed: true, code: 502, typ: "unavailable", msg: "unreachable",
			answer: func(http.ResponseWriter, *http.Request) {}},
		{name: "not Prometheus", code: 502, typ: "unavailable", msg: "404",
			answer: func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", 404) }},
		// A redirect could lead anywhere: it is not followed.
		{name: "redirect", code: 502, typ: "unavailable", msg: "302",
			answer: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "http://192.0.2.1/", http.StatusFound)
			}},
		{name: "Prometheus error passed on", code: 400, typ: "bad_data", msg: "parse error",
			answer: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(400)
				io.WriteString(w, `{"status":"error","errorType":"bad_data","error":"1:4: parse error: unexpected end of input"}`)
			}},
		{name: "timeout", limits: short, code: 504, typ: "timeout", msg: "did not answer",
			answer: func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-stop:
				case <-r.Context().Done():
				}
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			target := ""
			var up *upstream
			if c.answer != nil {
				up = newUpstream(t)
				up.answer = c.answer
				target = up.URL
				if c.closed {
					up.Close()
				}
			}
			if c.limits == (QueryLimits{}) {
				c.limits = DefaultQueryLimits()
			}
			w := send(proxyHandler(t, target, c.limits), "GET", "/api/v1/query?query=up", "")
			if typ, msg := promError(t, w); w.Code != c.code || typ != c.typ || !strings.Contains(msg, c.msg) {
				t.Fatalf("%d %s %q, want %d %s containing %q", w.Code, typ, msg, c.code, c.typ, c.msg)
			}
			if up != nil && !c.closed {
				// Exactly one request, with the timeout the proxy waits for.
				if reqs, forms := up.requests(); len(reqs) != 1 || forms[0].Get("timeout") != model.Duration(c.limits.Timeout).String() {
					t.Fatalf("%d requests, %v", len(reqs), forms)
				}
			}
		})
	}
}

func TestQueryGzipPassedThrough(t *testing.T) {
	up := newUpstream(t)
	up.answer = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		body := `{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}`
		if r.Header.Get("Accept-Encoding") != "gzip" {
			io.WriteString(w, body)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, body)
		zw.Close()
	}
	h := proxyHandler(t, up.URL, DefaultQueryLimits())
	w := send(h, "GET", "/api/v1/query?query=1", "", "Accept-Encoding", "gzip, deflate")
	if w.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip not passed on: %v", w.Header())
	}
	zr, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(zr); !strings.Contains(string(b), `"scalar"`) {
		t.Fatalf("%q", b)
	}
	w = send(h, "GET", "/api/v1/query?query=1", "")
	if w.Header().Get("Content-Encoding") != "" || !strings.Contains(w.Body.String(), `"scalar"`) {
		t.Fatalf("plain: %v %q", w.Header(), w.Body)
	}
}

func TestNewQueryProxyRefusesBadSettings(t *testing.T) {
	for _, u := range []string{"127.0.0.1:9090", "ftp://h/", "http://", "http://u:p@h/", "http://h/?x=1", "http://h/#f", "http://h:99999999999/x%zz"} {
		if _, err := NewQueryProxy(u, DefaultQueryLimits()); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
	for _, mod := range []func(*QueryLimits){
		func(l *QueryLimits) { l.MaxRange = 0 },
		func(l *QueryLimits) { l.MaxPoints = 1 },
		func(l *QueryLimits) { l.MaxConcurrent = 0 },
		func(l *QueryLimits) { l.Timeout = 0 },
		func(l *QueryLimits) { l.MaxBodyBytes = 0 },
	} {
		l := DefaultQueryLimits()
		mod(&l)
		if _, err := NewQueryProxy("http://127.0.0.1:9090", l); err == nil {
			t.Errorf("%+v accepted", l)
		}
	}
}
