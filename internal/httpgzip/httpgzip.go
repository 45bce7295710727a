// Package httpgzip negotiates and produces gzip response bodies.
package httpgzip

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// Compress gzips plain statelessly: no compressor state to allocate or keep
// (the standard library's holds about 1.5 MB), at a ratio close to level 1
// for one write of a whole body.
func Compress(plain []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(plain) / 4)
	zw, _ := gzip.NewWriterLevel(&buf, gzip.StatelessCompression)
	zw.Write(plain)
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Accepts reports whether an Accept-Encoding header allows gzip: listed
// (or covered by "*") with a q-value above zero.
func Accepts(header string) bool {
	star, gzip := false, -1
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		ok := true
		for _, p := range strings.Split(params, ";") {
			k, v, found := strings.Cut(strings.TrimSpace(p), "=")
			if found && strings.EqualFold(strings.TrimSpace(k), "q") {
				q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				ok = err == nil && q > 0
			}
		}
		switch coding {
		case "gzip", "x-gzip":
			if ok {
				gzip = 1
			} else {
				gzip = 0
			}
		case "*":
			star = ok
		}
	}
	if gzip >= 0 {
		return gzip == 1
	}
	return star
}
