// Package ui serves the device's dashboard: one page and its assets, all
// embedded in the binary, so the dashboard works without any network beyond
// the device itself.
package ui

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/edgeobs/edge-observability-stack/internal/httpgzip"
)

// Strings, not an embed.FS: a string stays in the binary's read-only data,
// where ReadFile would copy every asset onto the heap.
var (
	//go:embed index.html
	indexHTML string
	//go:embed static/app.js
	appJS string
	//go:embed static/app.css
	appCSS string
	//go:embed static/vendor/uplot/uPlot.iife.min.js
	uplotJS string
	//go:embed static/vendor/uplot/uPlot.min.css
	uplotCSS string
	//go:embed static/vendor/uplot/LICENSE
	uplotLicense string
)

// pageCSP allows the page's own scripts, styles and requests only: nothing
// is fetched from or sent to another origin. Styles set from script (uPlot
// sizes its canvases that way) are not covered by style-src.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the page at / and its assets under /static/. Asset URLs in
// the page carry a hash of their content (?v=...), so browsers keep them for
// a year and still fetch a new version after an upgrade.
func Handler() http.Handler {
	assets := map[string]*asset{}
	for _, a := range []struct{ path, typ, body string }{
		{"/static/app.js", "text/javascript; charset=utf-8", appJS},
		{"/static/app.css", "text/css; charset=utf-8", appCSS},
		{"/static/vendor/uplot/uPlot.iife.min.js", "text/javascript; charset=utf-8", uplotJS},
		{"/static/vendor/uplot/uPlot.min.css", "text/css; charset=utf-8", uplotCSS},
		{"/static/vendor/uplot/LICENSE", "text/plain; charset=utf-8", uplotLicense},
	} {
		assets[a.path] = newAsset(a.typ, a.body)
	}
	page := indexHTML
	for path, a := range assets {
		page = strings.ReplaceAll(page, `"`+path[1:]+`"`, `"`+path[1:]+"?v="+a.hash+`"`)
	}
	index := newAsset("text/html; charset=utf-8", page)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == "/" {
			h := w.Header()
			h.Set("Content-Security-Policy", pageCSP)
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Cache-Control", "no-cache")
			index.serve(w, r)
			return
		}
		a, ok := assets[r.URL.Path]
		if !ok {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if r.URL.Query().Get("v") == a.hash {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		a.serve(w, r)
	})
}

// asset is one response body, gzipped on first demand and kept.
type asset struct {
	typ, body, hash string
	gzOnce          sync.Once
	gz              string // empty when compression failed
}

func newAsset(typ, body string) *asset {
	sum := sha256.Sum256([]byte(body))
	return &asset{typ: typ, body: body, hash: hex.EncodeToString(sum[:6])}
}

func (a *asset) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.typ)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Vary", "Accept-Encoding")
	h.Set("ETag", `"`+a.hash+`"`)
	if etagMatch(r.Header.Get("If-None-Match"), a.hash) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if httpgzip.Accepts(r.Header.Get("Accept-Encoding")) {
		a.gzOnce.Do(func() {
			if b, err := httpgzip.Compress([]byte(a.body)); err == nil {
				a.gz = string(b)
			}
		})
		if a.gz != "" {
			h.Set("Content-Encoding", "gzip")
			body = a.gz
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		io.WriteString(w, body)
	}
}

// etagMatch reports whether an If-None-Match header lists the hash (weak
// or strong) or is "*".
func etagMatch(header, hash string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == `"`+hash+`"` {
			return true
		}
	}
	return false
}
