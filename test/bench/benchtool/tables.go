package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The pieces of the markdown reports of test/bench/run.sh: its parts measure
// into "key value" files in a directory, and a -report subcommand turns
// them into the part's tables.

// runInfo is what every part's report says about the run: the machine and
// the load average before and after the part.
type runInfo struct{ machine, loadBefore, loadAfter string }

func addRunFlags(fs *flag.FlagSet) *runInfo {
	r := &runInfo{}
	fs.StringVar(&r.machine, "machine", "", "the machine, one line (run.sh's machine_md)")
	fs.StringVar(&r.loadBefore, "load-before", "", "load average before the part")
	fs.StringVar(&r.loadAfter, "load-after", "", "load average after it")
	return r
}

// loads is the report's "Load average before: …; after: …." sentence.
func (r runInfo) loads() string {
	return fmt.Sprintf("Load average before: %s; after: %s.", r.loadBefore, r.loadAfter)
}

// option is a report's own flag beside the run's, a string; no name: none.
type option struct{ name, value, usage string }

// runReport parses a report's command line, the run's flags, its option and
// the one DIR, and writes the report to stdout.
func runReport(name string, args []string, opt option, write func(w io.Writer, dir string, run runInfo, opt string) error) error {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	run := addRunFlags(fs)
	if opt.name != "" {
		fs.StringVar(&opt.value, opt.name, opt.value, opt.usage)
	}
	fs.Parse(args)
	dir, err := oneArg(fs.Args(), "DIR")
	if err != nil {
		return err
	}
	return write(os.Stdout, dir, *run, opt.value)
}

// kvFile is a "key value" file of a measuring subcommand: a key's first
// line wins, a key it lacks reads "".
type kvFile map[string]string

func loadKV(path string) (kvFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := kvFile{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), " "); ok {
			if _, seen := m[k]; !seen {
				m[k] = v
			}
		}
	}
	return m, sc.Err()
}

// values reads every value of key in a "key value" file (a key repeated
// by runs appended to one file).
func values(path, key string) ([]float64, error) {
	return columnWhere(path, func(f []string) (string, bool) {
		if len(f) == 2 && f[0] == key {
			return f[1], true
		}
		return "", false
	})
}

// column reads the i-th whitespace-separated field (from 0) of every line.
func column(path string, i int) ([]float64, error) {
	return columnWhere(path, func(f []string) (string, bool) {
		if i < len(f) {
			return f[i], true
		}
		return "", false
	})
}

func columnWhere(path string, pick func([]string) (string, bool)) ([]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v []float64
	for _, l := range strings.Split(string(b), "\n") {
		s, ok := pick(strings.Fields(l))
		if !ok {
			continue
		}
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", path, l, err)
		}
		v = append(v, x)
	}
	return v, nil
}

// spread is "median (min–max)" as benchtool stats prints them; "–" for no values.
func spread(v []float64) string {
	if len(v) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.6g (%.6g–%.6g)", median(v), slices.Min(v), slices.Max(v))
}

var leadingNumber = regexp.MustCompile(`^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?`)

// cellRatio is the ratio of the numbers two table cells start with (a
// spread's median), "n/a" when either has none or the second is 0.
func cellRatio(a, b string) string {
	x, ok1 := lead(a)
	y, ok2 := lead(b)
	if !ok1 || !ok2 || y == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", x/y)
}

func lead(s string) (float64, bool) {
	m := leadingNumber.FindString(strings.TrimSpace(s))
	if m == "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(m, 64)
	return v, err == nil
}

// perScrape is total divided by the scrapes, to one decimal; "–" when
// either is not a number.
func perScrape(total, scrapes string) string { return quotient(total, scrapes, "%.1f") }

func parseNum(s string) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// quotient is a/b written with format, "–" when either is not a number or b is 0.
func quotient(a, b, format string) string {
	x, ok1 := parseNum(a)
	y, ok2 := parseNum(b)
	if !ok1 || !ok2 || y == 0 {
		return "–"
	}
	return fmt.Sprintf(format, x/y)
}

// mibOf, kibToMiB and twoDec write a figure for a table, "–" when it is not a number.
func mibOf(bytes string) string  { return quotient(bytes, "1048576", "%.1f") }
func kibToMiB(kib string) string { return quotient(kib, "1024", "%.1f") }
func twoDec(s string) string     { return quotient(s, "1", "%.2f") }

// ratioOf is a/b to two decimals, "–" when either is not a number or b is 0.
func ratioOf(a, b string) string { return quotient(a, b, "%.2f") }

// row is a markdown table row; an empty cell is "| |".
func row(cells ...string) string {
	var b strings.Builder
	b.WriteString("|")
	for _, c := range cells {
		if c != "" {
			b.WriteString(" " + c)
		}
		b.WriteString(" |")
	}
	return b.String()
}
