// Package testhttp serves single requests to a handler in tests, without a
// listener: the handler's answer is recorded.
package testhttp

import (
	"net/http"
	"net/http/httptest"
)

// Serve sends a request without a body to h; header holds name, value pairs.
func Serve(h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	return ServeFrom(h, "", method, target, header...)
}

// ServeFrom is Serve from the client address remote, or from httptest's
// default address when remote is empty.
func ServeFrom(h http.Handler, remote, method, target string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	if remote != "" {
		r.RemoteAddr = remote
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
