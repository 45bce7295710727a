//go:build integration

package integration

import (
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// results are a benchmark's figures: logged, and written as "key value" lines to a file when
// path is set (test/bench/run.sh reads them).
type results struct {
	t    *testing.T
	path string
}

func newResults(t *testing.T, path string) *results {
	if path != "" {
		os.WriteFile(path, nil, 0o644)
	}
	return &results{t, path}
}

func (r *results) add(key string, v float64) {
	line := fmt.Sprintf("%s %.1f\n", key, v)
	if v == math.Trunc(v) {
		line = fmt.Sprintf("%s %.0f\n", key, v)
	}
	r.t.Log(strings.TrimSpace(line))
	if r.path == "" {
		return
	}
	f, err := os.OpenFile(r.path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(line)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func envDuration(t *testing.T, key string, def time.Duration) time.Duration {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return d
}
