// Command benchtool is the measuring side of test/bench/run.sh: it starts
// daemons and times their readiness, drives scrapes while sampling
// /proc/PID, generates scaling fixtures, plays abusive HTTP clients and
// faulty sensors. The measuring subcommands print "key value" lines (one
// figure per line) that the shell collects in files without parsing them;
// the -report subcommands turn those files into a bench's markdown tables.
//
//	benchtool gen-hwmon DIR N
//	benchtool gen-fill [-series N] [-every DUR] [-span DUR] -end EPOCH FILE
//	benchtool ready [-notify] [-url URL] [-runs N] -- BINARY ARGS...
//	benchtool footprint -pid PID -url URL [-scrapes N] [-idle DUR]
//	benchtool procstat -pid PID
//	benchtool iosample [-every DUR] [-for DUR] NAME=PID...
//	benchtool hold -addr HOST:PORT -pid PID [-n N] [-hold DUR]
//	benchtool burst -addr HOST:PORT -pid PID [-n N]
//	benchtool abuse -addr HOST:PORT -pid PID
//	benchtool dashboard -url URL -pid PID [-clients N] [-duration DUR]
//	benchtool stats KEY < numbers
//	benchtool life-report DIR
//	benchtool cuts-report DIR
//	benchtool browse -url URL [-duration DUR]
//	benchtool cgsoak -duration DUR -interval DUR -out DIR NAME=CGROUP...
//	benchtool peers-report DIR
//	benchtool alerts-report DIR
//	benchtool installpaths-report DIR
//	benchtool samples [-sum] [-series] NAME-REGEXP... < exposition
//	benchtool faults -url URL -pid PID -sysfs DIR -chip DIR -sensor PREFIX -out DIR
//	benchtool footprint-report|shipped-report|faults-report [-machine LINE] -load-before L -load-after L ... DIR
//	benchtool timex-sync
//	benchtool wrk FILE | gobench FILE | fuzz-table FILE | sdwrites-report DIR
package main

import (
	"bufio"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/edgeobs/edge-observability-stack/internal/sensors/sensorstest"
)

// commands are the subcommands; each prints "key value" lines.
var commands = map[string]func(args []string) error{
	"gen-hwmon":           genHwmon,
	"gen-fill":            genFill,
	"ready":               ready,
	"footprint":           footprint,
	"procstat":            procstat,
	"hold":                hold,
	"burst":               burst,
	"abuse":               abuse,
	"dashboard":           dashboard,
	"iosample":            ioSample,
	"stats":               stats,
	"life-report":         lifeReport,
	"cuts-report":         cutsReport,
	"browse":              browse,
	"cgsoak":              cgsoak,
	"peers-report":        peersReport,
	"faults":              faults,
	"samples":             samplesCmd,
	"footprint-report":    footprintReport,
	"shipped-report":      shippedReport,
	"faults-report":       faultsReport,
	"wrk":                 wrkLine,
	"gobench":             gobenchTable,
	"fuzz-table":          fuzzTable,
	"sdwrites-report":     sdwritesReport,
	"timex-sync":          timexSync,
	"alerts-report":       alertsReport,
	"installpaths-report": installPathsReport,
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		usage()
	}
	if err := cmd(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "benchtool %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	names := slices.Sorted(maps.Keys(commands))
	fmt.Fprintf(os.Stderr, "usage: benchtool %s ...\n", strings.Join(names, "|"))
	os.Exit(2)
}

func genHwmon(args []string) error {
	fs := flag.NewFlagSet("gen-hwmon", flag.ExitOnError)
	fs.Parse(args)
	if fs.NArg() != 2 {
		return fmt.Errorf("want DIR N")
	}
	n, err := strconv.Atoi(fs.Arg(1))
	if err != nil {
		return err
	}
	return sensorstest.WriteHwmonTree(fs.Arg(0), n)
}

// out prints one figure.
func out(key string, v any) {
	switch x := v.(type) {
	case float64:
		fmt.Printf("%s %.6g\n", key, x)
	default:
		fmt.Printf("%s %v\n", key, x)
	}
}

// oneArg is the one argument a command takes, what it is called in errors.
func oneArg(args []string, what string) (string, error) {
	if len(args) != 1 {
		return "", fmt.Errorf("want %s", what)
	}
	return args[0], nil
}

// stats reads one number per line and prints KEY_median, _min and _max.
func stats(args []string) error {
	key, err := oneArg(args, "KEY")
	if err != nil {
		return err
	}
	var v []float64
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		t := strings.TrimSpace(sc.Text())
		if t == "" {
			continue
		}
		f, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return err
		}
		v = append(v, f)
	}
	if len(v) == 0 {
		return fmt.Errorf("no numbers")
	}
	slices.Sort(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	out(key+"_median", med)
	out(key+"_min", v[0])
	out(key+"_max", v[len(v)-1])
	out(key+"_n", len(v))
	return nil
}
