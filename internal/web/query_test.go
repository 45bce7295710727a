package web

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/dashboard"
	"github.com/edgeobs/edge-observability-stack/internal/promargs"
	"github.com/edgeobs/edge-observability-stack/internal/testhttp"
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

// send serves one request from the client at 192.0.2.1 (httptest's
// default); hdr are header name/value pairs.
func send(h http.Handler, method, target string, hdr ...string) *httptest.ResponseRecorder {
	return testhttp.ServeFrom(h, "", method, target, hdr...)
}

// sendFrom is send from the client at remote ("" for httptest's default).
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

// rangeOf is a valid range for a timeseries panel's query.
const rangeOf = "start=1700000000&end=1700003600&step=15"

func TestPanelQueriesComeFromThePanelList(t *testing.T) {
	up := newUpstream(t)
	h := proxyHandler(t, up.URL+"/prefix", DefaultQueryLimits())
	type sent struct {
		path string
		form url.Values
	}
	var want []sent
	for _, p := range dashboard.Panels() {
		for i, q := range p.Queries {
			target := fmt.Sprintf("/api/panels/%s/%d", p.ID, i)
			form := url.Values{"query": {q.Expr}, "timeout": {"11s"}}
			path := "/prefix/api/v1/query"
			if p.Kind == dashboard.KindStat {
				target += "?time=1700000000.5"
				form.Set("time", "1700000000.5")
			} else {
				target += "?" + rangeOf
				form.Set("start", "1700000000")
				form.Set("end", "1700003600")
				form.Set("step", "15")
				path += "_range"
			}
			if w := send(h, "GET", target, "Authorization", "Basic dXNlcjpwYXNz", "Cookie", "a=b"); w.Code != 200 ||
				!strings.Contains(w.Body.String(), `"status":"success"`) || w.Header().Get("Cache-Control") != "no-store" {
				t.Fatalf("%s: %d %q %v", target, w.Code, w.Body, w.Header())
			}
			want = append(want, sent{path, form})
		}
	}
	reqs, forms := up.requests()
	if len(reqs) != len(want) || len(want) < 20 {
		t.Fatalf("%d upstream requests, want %d", len(reqs), len(want))
	}
	for i, r := range reqs {
		if r.Method != "POST" || r.URL.Path != want[i].path || r.URL.RawQuery != "" || forms[i].Encode() != want[i].form.Encode() {
			t.Errorf("request %d: %s %s?%s %s, want %s %s", i, r.Method, r.URL.Path, r.URL.RawQuery, forms[i].Encode(), want[i].path, want[i].form.Encode())
		}
		// Nothing of the client's own request (credentials, cookies) reaches Prometheus.
		if r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "" {
			t.Errorf("request %d leaked client headers: %v", i, r.Header)
		}
	}
}

// The client's times reach Prometheus as numbers the daemon wrote, whatever
// form they came in; a stat panel without a time is evaluated at
// Prometheus's now.
func TestPanelTimesAreRewritten(t *testing.T) {
	up := newUpstream(t)
	h := proxyHandler(t, up.URL, DefaultQueryLimits())
	for _, target := range []string{
		"/api/panels/temperature/0?start=2023-11-14T22:13:20Z&end=2023-11-14T23:13:20.25Z&step=1m",
		"/api/panels/stale/0",
		"/api/panels/stale/0?time=2023-11-14T22:13:20Z",
	} {
		if w := send(h, "GET", target); w.Code != 200 {
			t.Fatalf("%s: %d %s", target, w.Code, w.Body)
		}
	}
	_, forms := up.requests()
	for i, want := range []string{
		"end=1700003600.25&query=edge_sensor_temperature_celsius&start=1700000000&step=60&timeout=11s",
		"query=sum%28edge_sensor_stale%29&timeout=11s",
		"query=sum%28edge_sensor_stale%29&time=1700000000&timeout=11s",
	} {
		if got := forms[i].Encode(); got != want {
			t.Errorf("request %d: %s, want %s", i, got, want)
		}
	}
}

func TestPanelRefusesBadInput(t *testing.T) {
	up := newUpstream(t)
	l := DefaultQueryLimits()
	l.MaxBodyBytes = 512
	h := proxyHandler(t, up.URL, l)
	rng := func(q string) string { return "/api/panels/temperature/0?" + q }
	for _, c := range []struct {
		target string
		hdr    []string
		code   int
		typ    string
		msg    string
	}{
		{"/api/panels/nope/0", nil, 404, "not_found", `unknown panel "nope"`},
		{"/api/panels/temperature/2?" + rangeOf, nil, 404, "not_found", `panel "temperature" has no query "2" (it has 2, from 0)`},
		{"/api/panels/temperature/-1?" + rangeOf, nil, 404, "not_found", `no query "-1"`},
		{"/api/panels/temperature/00?" + rangeOf, nil, 404, "not_found", `no query "00"`},
		{"/api/panels/temperature/x?" + rangeOf, nil, 404, "not_found", `no query "x"`},
		// A client's PromQL is never taken, under any name.
		{rng(rangeOf + "&query=up"), nil, 400, "bad_data", `unknown parameter "query" (this takes start, end, step)`},
		{"/api/panels/stale/0?query=up", nil, 400, "bad_data", `unknown parameter "query" (this takes time)`},
		{"/api/panels/stale/0?time=1&timeout=1h", nil, 400, "bad_data", `unknown parameter "timeout"`},
		{rng(rangeOf + "&start=5"), nil, 400, "bad_data", `parameter "start" given 2 times`},
		{"/api/panels/stale/0?time=yesterday", nil, 400, "bad_data", `invalid parameter "time"`},
		{"/api/panels/stale/0?time=NaN", nil, 400, "bad_data", `invalid parameter "time"`},
		{"/api/panels/stale/0?time=1e300", nil, 400, "bad_data", `invalid parameter "time"`},
		{rng("end=100&step=15"), nil, 400, "bad_data", `missing parameter "start"`},
		{rng("start=100&step=15"), nil, 400, "bad_data", `missing parameter "end"`},
		{rng("start=100&end=200"), nil, 400, "bad_data", `invalid parameter "step"`},
		{rng("start=100&end=200&step=0"), nil, 400, "bad_data", `invalid parameter "step"`},
		{rng("start=100&end=200&step=0.0001"), nil, 400, "bad_data", `invalid parameter "step"`},
		{rng("start=100&end=200&step=-15s"), nil, 400, "bad_data", `invalid parameter "step"`},
		{rng("start=100&end=200&step=1e300"), nil, 400, "bad_data", `invalid parameter "step"`},
		{rng("start=200&end=100&step=15"), nil, 400, "bad_data", "end timestamp must not be before start"},
		// 12h15m is the limit: 13h is refused, whatever the step.
		{rng("start=0&end=46800&step=3600"), nil, 400, "bad_data", "longer than the maximum of 12h15m"},
		// 12h at 15s is 2881 points, over 1000.
		{rng("start=0&end=43200&step=15s"), nil, 400, "bad_data", "exceeded maximum resolution of 1000 points"},
		// A body over the limit is refused unread, announced or chunked.
		{rng(rangeOf), []string{"Content-Length", "600"}, 413, "bad_data", "request body over 512 bytes"},
		{rng(rangeOf), []string{"Transfer-Encoding", "chunked"}, 413, "bad_data", "request body over 512 bytes"},
	} {
		r := httptest.NewRequest("GET", c.target, strings.NewReader(strings.Repeat("x", 600)))
		r.ContentLength = 0
		for i := 0; i+1 < len(c.hdr); i += 2 {
			if c.hdr[i] == "Content-Length" {
				fmt.Sscan(c.hdr[i+1], &r.ContentLength)
			} else {
				r.ContentLength, r.TransferEncoding = -1, []string{"chunked"}
			}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.code {
			t.Errorf("%s %v: %d, want %d (%s)", c.target, c.hdr, w.Code, c.code, w.Body)
			continue
		}
		if typ, msg := promError(t, w); typ != c.typ || !strings.Contains(msg, c.msg) {
			t.Errorf("%s %v: %s %q, want %s containing %q", c.target, c.hdr, typ, msg, c.typ, c.msg)
		}
	}
	// The limits themselves are allowed: 12h at 44s is 983 points; 1000 points exactly; a small
	// body is ignored.
	for _, q := range []string{rng("start=0&end=43200&step=44"), rng("start=0&end=999&step=1")} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", q, strings.NewReader(strings.Repeat("x", 512))))
		if w.Code != 200 {
			t.Errorf("%s: %d %s", q, w.Code, w.Body)
		}
	}
	if reqs, _ := up.requests(); len(reqs) != 2 {
		t.Fatalf("%d requests reached Prometheus, want only the 2 valid ones", len(reqs))
	}
}

// Nothing of Prometheus's own API is reachable: the free-form query paths
// answer 404 with where to go instead, and so does everything else.
func TestFreeFormPromQLIsGone(t *testing.T) {
	up := newUpstream(t)
	h := proxyHandler(t, up.URL, DefaultQueryLimits())
	for _, c := range []struct {
		method, path string
		code         int
	}{
		{"GET", "/api/v1/query?query=up", 404},
		{"POST", "/api/v1/query?query=up", 404},
		{"GET", "/api/v1/query_range?query=up&start=0&end=60&step=15", 404},
		{"POST", "/api/v1/query_range", 404},
		{"GET", `/api/v1/query?query={__name__=~".%2B"}[12h]`, 404},
		{"GET", "/api/v1/alerts", 404},
		{"POST", "/api/v1/admin/tsdb/delete_series?match[]=up", 404},
		{"PUT", "/api/v1/admin/tsdb/delete_series?match[]=up", 404},
		{"POST", "/api/v1/admin/tsdb/snapshot", 404},
		{"POST", "/api/v1/write", 404},
		{"GET", "/api/v1/labels", 404},
		{"GET", "/api/v1/series?match[]=up", 404},
		{"GET", "/api/v1/status/config", 404},
		{"GET", "/api/v1/query_exemplars?query=up", 404},
		{"POST", "/-/reload", 404},
		{"PUT", "/-/quit", 404},
		{"GET", "/federate?match[]=up", 404},
		// redirected to its clean path, itself a 404 above
		{"GET", "/api/panels/../v1/admin/tsdb/snapshot", 301},
		{"GET", "/api/panels/temperature", 404},
		{"GET", "/api/panels/temperature/0/x", 404},
		{"POST", "/api/panels/temperature/0?" + rangeOf, 405},
		{"DELETE", "/api/panels/temperature/0", 405},
		{"PUT", "/api/alerts", 405},
	} {
		w := send(h, c.method, c.path)
		if w.Code != c.code {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, w.Code, c.code)
		}
		if strings.HasPrefix(c.path, "/api/v1/") {
			if typ, msg := promError(t, w); typ != "not_found" || !strings.Contains(msg, "127.0.0.1:9090") {
				t.Errorf("%s %s: %s %q", c.method, c.path, typ, msg)
			}
		}
	}
	if reqs, _ := up.requests(); len(reqs) != 0 {
		t.Fatalf("%d requests reached Prometheus: %s", len(reqs), reqs[0].URL)
	}
}

// holdingUpstream is a Prometheus that holds every query until released.
func holdingUpstream(t *testing.T) (up *upstream, entered chan struct{}, release func()) {
	up = newUpstream(t)
	// Buffered: queries after the release pass without anyone receiving.
	entered, released := make(chan struct{}, 16), make(chan struct{})
	up.answer = func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-released
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[],"alerts":[]}}`)
	}
	return up, entered, sync.OnceFunc(func() { close(released) })
}

func TestQueryConcurrencyLimits(t *testing.T) {
	up, entered, release := holdingUpstream(t)
	defer release()
	l := DefaultQueryLimits()
	l.MaxConcurrent, l.MaxPerClient = 3, 2
	h := proxyHandler(t, up.URL, l)
	const a, b, c = "192.0.2.1:1000", "198.51.100.7:1000", "[2001:db8::1]:1000"
	done := make(chan int, 3)
	hold := func(remote string) {
		go func() { done <- testhttp.ServeFrom(h, remote, "GET", "/api/panels/temperature/0?"+rangeOf).Code }()
		<-entered
	}
	hold(a)
	hold(a)
	// A third from the same client is refused, another client still passes.
	for _, c := range []struct{ remote, target, msg string }{
		{"192.0.2.1:2000", "/api/panels/stale/0", "too many queries in flight from 192.0.2.1 (limit 2 per client)"},
		{"192.0.2.1:2000", "/api/alerts", "too many queries in flight from 192.0.2.1"},
	} {
		w := testhttp.ServeFrom(h, c.remote, "GET", c.target)
		if typ, msg := promError(t, w); w.Code != 503 || w.Header().Get("Retry-After") != "1" || typ != "unavailable" || msg != c.msg && !strings.HasPrefix(msg, c.msg) {
			t.Fatalf("%s from %s: %d %v %s %q", c.target, c.remote, w.Code, w.Header(), typ, msg)
		}
	}
	hold(b)
	// Every slot taken: a fourth client is refused, though it has none.
	w := testhttp.ServeFrom(h, c, "GET", "/api/panels/stale/0")
	if typ, msg := promError(t, w); w.Code != 503 || w.Header().Get("Retry-After") != "1" || typ != "unavailable" || !strings.Contains(msg, "(limit 3)") {
		t.Fatalf("over the total: %d %s %q", w.Code, typ, msg)
	}
	// A bad query is told what is wrong, busy or not; the rest of the API answers.
	if w := send(h, "GET", "/api/panels/nope/0"); w.Code != 404 {
		t.Fatalf("bad query while busy: %d", w.Code)
	}
	if w := send(h, "GET", "/sensor"); w.Code != 200 {
		t.Fatalf("/sensor while queries run: %d", w.Code)
	}
	release()
	for range 3 {
		if c := <-done; c != 200 {
			t.Fatalf("held query: %d", c)
		}
	}
	for _, remote := range []string{a, c} {
		if w := testhttp.ServeFrom(h, remote, "GET", "/api/panels/stale/0"); w.Code != 200 {
			t.Fatalf("slot of %s not released: %d", remote, w.Code)
		}
	}
}

func TestClientKey(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.1:5":             "192.0.2.1",
		"[::ffff:192.0.2.1]:5":    "192.0.2.1",
		"[2001:db8::1]:5":         "2001:db8::/64",
		"[2001:db8::ffff:1:2]:80": "2001:db8::/64",
		"[2001:db8:0:1::1]:5":     "2001:db8:0:1::/64",
		"[fe80::1%eth0]:5":        "fe80::/64",
		"@":                       "local",
		"":                        "local",
	} {
		if got := clientKey(addr); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", addr, got, want)
		}
	}
}

func TestQueryUpstreamFailures(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	short := DefaultQueryLimits()
	short.Timeout = 50 * time.Millisecond
	cancelled := make(chan struct{}, 1)
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
		{name: "down", closed: true, code: 503, typ: "unavailable", msg: "is not answering",
			answer: func(http.ResponseWriter, *http.Request) {}},
		{name: "starting", code: 503, typ: "unavailable", msg: `answered 503 Service Unavailable with "text/plain; charset=utf-8"`,
			answer: func(w http.ResponseWriter, r *http.Request) { http.Error(w, "Service Unavailable", 503) }},
		{name: "not Prometheus", code: 503, typ: "unavailable", msg: "404",
			answer: func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", 404) }},
		// A redirect could lead anywhere: it is not followed.
		{name: "redirect", code: 503, typ: "unavailable", msg: "302",
			answer: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "http://192.0.2.1/", http.StatusFound)
			}},
		{name: "Prometheus error passed on", code: 422, typ: "execution", msg: "too many samples",
			answer: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(422)
				io.WriteString(w, `{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory"}`)
			}},
		{name: "Prometheus failing", code: 503, typ: "unavailable", msg: "Prometheus failed to answer (500 Internal Server Error): chunk not found",
			answer: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(500)
				io.WriteString(w, `{"status":"error","errorType":"internal","error":"chunk not found"}`)
			}},
		{name: "timeout", limits: short, code: 503, typ: "timeout", msg: "did not answer within 50ms (--dashboard.query-timeout); the query was cancelled",
			answer: func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-stop:
				case <-r.Context().Done():
					cancelled <- struct{}{}
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
			w := send(proxyHandler(t, target, c.limits), "GET", "/api/panels/stale/0")
			if typ, msg := promError(t, w); w.Code != c.code || typ != c.typ || !strings.Contains(msg, c.msg) {
				t.Fatalf("%d %s %q, want %d %s containing %q", w.Code, typ, msg, c.code, c.typ, c.msg)
			}
		})
	}
	// The timed-out query was cancelled upstream, at the proxy's timeout.
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the timed-out query was not cancelled upstream")
	}
}

// A client that goes away cancels its query in Prometheus.
func TestQueryCancelledWhenClientLeaves(t *testing.T) {
	up := newUpstream(t)
	entered, cancelled := make(chan struct{}), make(chan struct{})
	up.answer = func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
		close(cancelled)
	}
	one := DefaultQueryLimits()
	one.MaxConcurrent, one.MaxPerClient = 1, 1
	h := proxyHandler(t, up.URL, one)
	ctx, leave := context.WithCancel(context.Background())
	r := httptest.NewRequest("GET", "/api/panels/temperature/0?"+rangeOf, nil).WithContext(ctx)
	w := httptest.NewRecorder()
	served := make(chan struct{})
	go func() { h.ServeHTTP(w, r); close(served) }()
	<-entered
	leave()
	for _, c := range []chan struct{}{cancelled, served} {
		select {
		case <-c:
		case <-time.After(5 * time.Second):
			t.Fatal("query still running after the client left")
		}
	}
	// The slot is free again.
	up.mu.Lock()
	up.answer = nil
	up.mu.Unlock()
	if w := send(h, "GET", "/api/panels/stale/0"); w.Code != 200 {
		t.Fatalf("after the client left: %d %s", w.Code, w.Body)
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
	w := send(h, "GET", "/api/panels/stale/0", "Accept-Encoding", "gzip, deflate")
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
	w = send(h, "GET", "/api/panels/stale/0")
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
		func(l *QueryLimits) { l.MaxPerClient = 0 },
		func(l *QueryLimits) { l.MaxPerClient = l.MaxConcurrent + 1 },
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

// The daemon gives up on a query before Prometheus would, so that the page gets the daemon's
// answer and Prometheus's query is cancelled, not timed out.
func TestQueryTimeoutBelowPrometheus(t *testing.T) {
	if d, p := DefaultQueryLimits().Timeout, promargs.QueryTimeout; d+grace >= p {
		t.Fatalf("--dashboard.query-timeout %s (+%s sent to Prometheus) is not below Prometheus's --query.timeout %s", d, grace, p)
	}
}
