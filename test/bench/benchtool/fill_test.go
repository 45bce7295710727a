package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenFill(t *testing.T) {
	out := filepath.Join(t.TempDir(), "fill.om")
	if err := genFill([]string{"-series", "3", "-every", "10s", "-span", "1m", "-end", "1000", out}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 2+3*6 || lines[0] != "# TYPE bench_fill gauge" || lines[len(lines)-1] != "# EOF" {
		t.Fatalf("%d lines:\n%s", len(lines), b)
	}
	if !strings.HasPrefix(lines[1], `bench_fill{series="0"} `) || !strings.HasSuffix(lines[1], " 940") ||
		!strings.HasPrefix(lines[18], `bench_fill{series="2"} `) || !strings.HasSuffix(lines[18], " 990") {
		t.Errorf("first and last samples: %q, %q", lines[1], lines[18])
	}
	if err := genFill([]string{"-end", "0", out}); err == nil {
		t.Error("no error without -end")
	}
}
