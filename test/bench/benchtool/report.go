package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The parsers of the tools' own output that the benches summarise: wrk, go test -bench and
// scripts/fuzz.sh.

// wrkLine prints "p50_ms p99_ms requests_per_s non_2xx" of a `wrk --latency` output FILE,
// one row of the bench's .tsv.
func wrkLine(args []string) error {
	return withFile(args, func(r io.Reader) error {
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		p50, p99, rps, non2xx, err := parseWrk(string(b))
		if err != nil {
			return err
		}
		fmt.Printf("%.3f %.3f %.1f %d\n", p50, p99, rps, non2xx)
		return nil
	})
}

// withFile runs fn on the file named by the one argument.
func withFile(args []string, fn func(io.Reader) error) error {
	path, err := oneArg(args, "FILE")
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := fn(f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func parseWrk(s string) (p50, p99, rps float64, non2xx int, err error) {
	seen := 0
	for _, l := range strings.Split(s, "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 2 && f[0] == "50%":
			p50, err = wrkMillis(f[1])
			seen++
		case len(f) == 2 && f[0] == "99%":
			p99, err = wrkMillis(f[1])
			seen++
		case len(f) == 2 && f[0] == "Requests/sec:":
			rps, err = strconv.ParseFloat(f[1], 64)
			seen++
		case len(f) > 0 && strings.Contains(l, "Non-2xx"):
			non2xx, err = strconv.Atoi(f[len(f)-1])
		}
		if err != nil {
			return 0, 0, 0, 0, fmt.Errorf("%q: %w", l, err)
		}
	}
	if seen != 3 {
		return 0, 0, 0, 0, fmt.Errorf("no 50%%, 99%% and Requests/sec lines (not wrk --latency output?)")
	}
	return p50, p99, rps, non2xx, nil
}

// wrkMillis converts wrk's "812.00us", "1.23ms", "2.01s", "1.02m" to milliseconds.
func wrkMillis(v string) (float64, error) {
	for _, u := range []struct {
		suffix string
		ms     float64
	}{{"us", 0.001}, {"ms", 1}, {"s", 1000}, {"m", 60000}} {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			f, err := strconv.ParseFloat(n, 64)
			return f * u.ms, err
		}
	}
	return strconv.ParseFloat(v, 64)
}

// gobenchTable prints a markdown row per benchmark of a `go test -bench -count N` output
// FILE: the medians of ns/op, B/op and allocs/op, in the order the benchmarks first appear.
func gobenchTable(args []string) error {
	return withFile(args, func(r io.Reader) error { return writeGobench(os.Stdout, r) })
}

var benchSuffix = regexp.MustCompile(`-\d+$`)

// writeGobench prints a row per benchmark of `go test -bench` output: the
// medians of ns/op, B/op and allocs/op, and of cpu-ns/op after them for a
// benchmark that reports it.
func writeGobench(w io.Writer, r io.Reader) error {
	units := []string{"ns/op", "B/op", "allocs/op", "cpu-ns/op"}
	vals := map[string]map[string][]float64{}
	var order []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := benchSuffix.ReplaceAllString(f[0], "")
		if vals[name] == nil {
			vals[name] = map[string][]float64{}
			order = append(order, name)
		}
		for i := 2; i+1 < len(f); i++ {
			if slices.Contains(units, f[i+1]) {
				v, err := strconv.ParseFloat(f[i], 64)
				if err != nil {
					return fmt.Errorf("%s: %q: %w", name, f[i], err)
				}
				vals[name][f[i+1]] = append(vals[name][f[i+1]], v)
			}
		}
	}
	for _, n := range order {
		fmt.Fprintf(w, "| %s | %.0f | %.0f | %.0f |", n, median(vals[n]["ns/op"]), median(vals[n]["B/op"]), median(vals[n]["allocs/op"]))
		if cpu := vals[n]["cpu-ns/op"]; len(cpu) > 0 {
			fmt.Fprintf(w, " %.0f |", median(cpu))
		}
		fmt.Fprintln(w)
	}
	return sc.Err()
}

// fuzzTable prints a markdown row per fuzz target of a scripts/fuzz.sh log FILE: package,
// target, executions, interesting inputs (total corpus) and PASS or FAIL.
func fuzzTable(args []string) error {
	return withFile(args, func(r io.Reader) error { return writeFuzz(os.Stdout, r) })
}

const modulePath = "github.com/edgeobs/edge-observability-stack/"

func writeFuzz(w io.Writer, r io.Reader) error {
	type row struct{ pkg, target, execs, corpus, result string }
	var cur *row
	flush := func() {
		if cur != nil {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", strings.TrimPrefix(cur.pkg, modulePath), cur.target, cur.execs, cur.corpus, cur.result)
		}
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		l := sc.Text()
		f := strings.Fields(l)
		switch {
		case strings.HasPrefix(l, "=== fuzz ") && len(f) >= 4:
			target := strings.TrimSuffix(f[3], ":")
			if cur != nil && cur.pkg == f[2] && cur.target == target {
				cur.result = "?" // run again (see scripts/fuzz.sh): its result counts
				continue
			}
			flush()
			cur = &row{pkg: f[2], target: target, execs: "?", corpus: "?", result: "?"}
		case cur == nil:
		case strings.HasPrefix(l, "fuzz: elapsed:"):
			for i := 0; i+1 < len(f); i++ {
				switch f[i] {
				case "execs:":
					cur.execs = f[i+1]
				case "(total:":
					cur.corpus = strings.TrimSuffix(f[i+1], ")")
				}
			}
		case strings.HasPrefix(l, "ok "):
			cur.result = "PASS"
		case strings.HasPrefix(l, "--- FAIL") || strings.HasPrefix(l, "FAIL"):
			cur.result = "FAIL"
		}
	}
	flush()
	return sc.Err()
}
