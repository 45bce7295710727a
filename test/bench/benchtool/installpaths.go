package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// installPathsReport prints the markdown of test/bench/installpaths.sh from
// DIR: apt's plans (plan-recommends.txt, plan-no-recommends.txt, apt-get -s
// output), the installed sizes (installed-sizes.txt, "PACKAGE KiB"), the
// units apt's default install added (new-units.txt, "UNIT SLICE"), their
// cgsoak (units.kv) and the timers (timers.txt).
//
//	benchtool installpaths-report DIR
func installPathsReport(args []string) error {
	dir, err := oneArg(args, "DIR")
	if err != nil {
		return err
	}
	sizes, err := wordPairs(filepath.Join(dir, "installed-sizes.txt"))
	if err != nil {
		return err
	}
	plans := map[string][]string{}
	for _, p := range []string{"no-recommends", "recommends"} {
		if plans[p], err = aptPlan(filepath.Join(dir, "plan-"+p+".txt")); err != nil {
			return err
		}
	}
	fmt.Println("| install path | packages apt installs | their installed size (MiB) |")
	fmt.Println("|---|---|---|")
	for _, p := range []struct{ key, title string }{
		{"no-recommends", "the README's: `apt install --no-install-recommends ./edge-observability_*.deb`"},
		{"recommends", "apt's default (Recommends on): `apt install ./edge-observability_*.deb`"},
	} {
		kib := 0
		for _, pkg := range plans[p.key] {
			n, err := strconv.Atoi(sizes[pkg])
			if err != nil {
				return fmt.Errorf("installed-sizes.txt: no size of %s", pkg)
			}
			kib += n
		}
		fmt.Printf("| %s | %d | %.1f |\n", p.title, len(plans[p.key]), float64(kib)/1024)
	}
	var extra []string
	for _, pkg := range plans["recommends"] {
		if !slices.Contains(plans["no-recommends"], pkg) {
			extra = append(extra, pkg)
		}
	}
	fmt.Printf("\nOnly with Recommends (%d): %s.\n\n", len(extra), strings.Join(extra, ", "))
	return printNewUnits(dir)
}

// printNewUnits: the services apt's default install started and kept running.
func printNewUnits(dir string) error {
	units, err := wordPairs(filepath.Join(dir, "new-units.txt"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	kv, err := loadKV(filepath.Join(dir, "units.kv"))
	if err != nil {
		return err
	}
	fmt.Println("| running after apt's default install, beyond the stack's units | slice | cgroup memory at the end (MiB) | peak (MiB) | PSS (MiB) | CPU s per minute |")
	fmt.Println("|---|---|---|---|---|---|")
	names := make([]string, 0, len(units))
	for u := range units {
		names = append(names, u)
	}
	slices.Sort(names)
	for _, u := range names {
		g := strings.TrimSuffix(u, ".service")
		fmt.Printf("| %s | %s | %s | %s | %s | %s |\n", u, units[u], mibOf(kv[g+".usage_bytes"]), mibOf(kv[g+".peak_bytes"]),
			kibToMiB(kv[g+".pss_kib"]), twoDec(kv[g+".cpu_s_per_min"]))
	}
	return nil
}

// aptPlan lists the packages of apt-get -s output's "Inst PACKAGE ..." lines.
func aptPlan(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var pkgs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) > 1 && fs[0] == "Inst" {
			pkgs = append(pkgs, fs[1])
		}
	}
	if len(pkgs) == 0 && sc.Err() == nil {
		return nil, fmt.Errorf("%s: no Inst lines", path)
	}
	return pkgs, sc.Err()
}

// wordPairs reads "KEY VALUE" lines.
func wordPairs(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), " "); ok {
			m[k] = v
		}
	}
	return m, nil
}
