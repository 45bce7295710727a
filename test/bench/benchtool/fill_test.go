package main

import (
	"strings"
	"testing"
)

func TestWriteFill(t *testing.T) {
	var b strings.Builder
	writeFill(&b, 3, 10, 940, 1000)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2+3*6 || lines[0] != "# TYPE bench_fill gauge" || lines[len(lines)-1] != "# EOF" {
		t.Fatalf("%d lines:\n%s", len(lines), b.String())
	}
	if !strings.HasPrefix(lines[1], `bench_fill{series="0"} `) || !strings.HasSuffix(lines[1], " 940") ||
		!strings.HasPrefix(lines[18], `bench_fill{series="2"} `) || !strings.HasSuffix(lines[18], " 990") {
		t.Errorf("first and last samples: %q, %q", lines[1], lines[18])
	}
	if err := genFill([]string{"-end", "0", "/nonexistent/fill.om"}); err == nil {
		t.Error("no error without -end")
	}
}
