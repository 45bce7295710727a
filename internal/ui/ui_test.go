package ui

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/edgeobs/edge-observability-stack/internal/testhttp"
)

var assetRef = regexp.MustCompile(`"(static/[^"?]+)\?v=([0-9a-f]{12})"`)

// The page names every asset with its content hash, and each such URL is
// served with a long cache life; the same path without the hash is not.
func TestPageAssetsAreHashedAndCached(t *testing.T) {
	h := Handler()
	page := testhttp.Serve(h, http.MethodGet, "/")
	if page.Code != 200 || !strings.HasPrefix(page.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %q", page.Code, page.Header().Get("Content-Type"))
	}
	if csp := page.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
	refs := assetRef.FindAllStringSubmatch(page.Body.String(), -1)
	if len(refs) < 4 {
		t.Fatalf("page references %d hashed assets, want the 4 scripts and styles and the licence:\n%s", len(refs), page.Body)
	}
	for _, m := range refs {
		path, hash := "/"+m[1], m[2]
		w := testhttp.Serve(h, http.MethodGet, path+"?v="+hash)
		if w.Code != 200 || w.Body.Len() == 0 {
			t.Fatalf("GET %s = %d, %d bytes", path, w.Code, w.Body.Len())
		}
		if cc := w.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s with its hash: Cache-Control %q", path, cc)
		}
		if cc := testhttp.Serve(h, http.MethodGet, path).Header().Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("%s without its hash: Cache-Control %q", path, cc)
		}
		if et := w.Header().Get("ETag"); et != `"`+hash+`"` {
			t.Errorf("%s: ETag %q, want the hash %q", path, et, hash)
		}
		if nm := testhttp.Serve(h, http.MethodGet, path, "If-None-Match", `W/"x", "`+hash+`"`); nm.Code != http.StatusNotModified || nm.Body.Len() != 0 {
			t.Errorf("%s If-None-Match: %d with %d bytes", path, nm.Code, nm.Body.Len())
		}
		if other := testhttp.Serve(h, http.MethodGet, path, "If-None-Match", `"0000"`); other.Code != 200 {
			t.Errorf("%s with another ETag: %d", path, other.Code)
		}
	}
}

func TestGzipOnlyWhenAccepted(t *testing.T) {
	h := Handler()
	const path = "/static/vendor/uplot/uPlot.iife.min.js"
	plain := testhttp.Serve(h, http.MethodGet, path)
	gz := testhttp.Serve(h, http.MethodGet, path, "Accept-Encoding", "br, gzip")
	refused := testhttp.Serve(h, http.MethodGet, path, "Accept-Encoding", "gzip;q=0")
	if plain.Header().Get("Content-Encoding") != "" || refused.Header().Get("Content-Encoding") != "" {
		t.Fatal("gzip without being accepted")
	}
	if gz.Header().Get("Content-Encoding") != "gzip" || gz.Body.Len() >= plain.Body.Len()/2 {
		t.Fatalf("gzip: encoding %q, %d bytes of %d", gz.Header().Get("Content-Encoding"), gz.Body.Len(), plain.Body.Len())
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(b, plain.Body.Bytes()) {
		t.Fatalf("gzip body does not decode to the plain one (err %v)", err)
	}
	if !strings.Contains(gz.Header().Get("Vary"), "Accept-Encoding") {
		t.Error("no Vary: Accept-Encoding")
	}
}

func TestMethodsAndUnknownPaths(t *testing.T) {
	h := Handler()
	if w := testhttp.Serve(h, http.MethodHead, "/static/app.js"); w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD = %d, %d bytes, Content-Length %q", w.Code, w.Body.Len(), w.Header().Get("Content-Length"))
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		if w := testhttp.Serve(h, m, "/"); w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s / = %d, Allow %q", m, w.Code, w.Header().Get("Allow"))
		}
	}
	for _, p := range []string{"/static/", "/static/nope.js", "/static/../ui.go", "/index.html", "/static/vendor/uplot/uPlot.iife.js"} {
		if w := testhttp.Serve(h, http.MethodGet, p); w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, w.Code)
		}
	}
}

// Nothing the page loads may come from elsewhere: every src and href is
// relative to the daemon's own origin.
func TestPageLoadsNothingFromElsewhere(t *testing.T) {
	body := testhttp.Serve(Handler(), http.MethodGet, "/").Body.String()
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		u := m[1]
		if strings.Contains(u, "//") || strings.HasPrefix(u, "/") {
			t.Errorf("page links %q outside its origin-relative paths", u)
		}
	}
	for name, js := range map[string]string{"app.js": appJS, "app.css": appCSS} {
		if strings.Contains(js, "http://") || strings.Contains(js, "https://") || strings.Contains(js, "@import") {
			t.Errorf("%s refers to an absolute URL", name)
		}
	}
}
