package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
)

// peerSide is one side of test/bench/peers.sh: its cgsoak and browse
// results, and the group that is its whole.
type peerSide struct {
	title, whole  string
	soak, browser kvFile
}

// peersReport prints the markdown tables of test/bench/peers.sh from the
// "key value" files in DIR: NAME.kv (cgsoak) and NAME.browse.kv (browse) of
// the sides stack, stack-alerts (when it ran) and netdata.
//
//	benchtool peers-report DIR
func peersReport(args []string) error {
	dir, err := oneArg(args, "DIR")
	if err != nil {
		return err
	}
	var sides []peerSide
	for _, s := range []struct{ name, title, whole string }{
		{"stack", "stack, alerting off", "edge-observability.slice"},
		{"stack-alerts", "stack, alerting on", "edge-observability.slice"},
		{"netdata", "Netdata", "netdata"},
	} {
		soak, err := loadKV(filepath.Join(dir, s.name+".kv"))
		if errors.Is(err, fs.ErrNotExist) && s.name == "stack-alerts" {
			continue
		}
		if err != nil {
			return err
		}
		browser, err := loadKV(filepath.Join(dir, s.name+".browse.kv"))
		if err != nil {
			return err
		}
		sides = append(sides, peerSide{s.title, s.whole, soak, browser})
	}
	printPeerTotals(sides)
	fmt.Println()
	printPeerUnits(sides)
	return nil
}

// printPeerTotals: one column per side, then each stack side against
// Netdata (the last side).
func printPeerTotals(sides []peerSide) {
	nd := sides[len(sides)-1]
	stacks := sides[:len(sides)-1]
	head, rule := "| each side from a cold page cache, dashboard open", "|---"
	for _, s := range sides {
		head, rule = head+" | "+s.title+" (`"+s.whole+"`)", rule+"|---"
	}
	for _, s := range stacks {
		head, rule = head+" | "+s.title+" / Netdata", rule+"|---"
	}
	fmt.Println(head + " |")
	fmt.Println(rule + "|")
	row := func(label string, get func(peerSide) string, f func(string) string) {
		line := "| " + label
		for _, s := range sides {
			line += " | " + f(get(s))
		}
		for _, s := range stacks {
			line += " | " + ratioOf(get(s), get(nd))
		}
		fmt.Println(line + " |")
	}
	soak := func(key string) func(peerSide) string {
		return func(s peerSide) string { return s.soak[s.whole+"."+key] }
	}
	browse := func(key string) func(peerSide) string {
		return func(s peerSide) string { return s.browser[key] }
	}
	same := func(s string) string { return s }
	row("seconds soaked", func(s peerSide) string { return s.soak["duration_s"] }, same)
	row("cgroup memory at the end (MiB)", soak("usage_bytes"), mibOf)
	row("cgroup peak during the soak (MiB)", soak("peak_bytes"), mibOf)
	row("of which anonymous at the end (MiB)", soak("anon_bytes"), mibOf)
	row("of which page cache at the end (MiB)", soak("file_bytes"), mibOf)
	row("of the page cache, mapped by its processes (MiB)", soak("file_mapped_bytes"), mibOf)
	row("PSS of its processes at the end (MiB)", soak("pss_kib"), kibToMiB)
	row("processes", soak("processes"), same)
	row("CPU seconds per minute (cgroup)", soak("cgroup_cpu_s_per_min"), twoDec)
	row("CPU seconds per minute (its processes, with reaped children)", soak("cpu_s_per_min"), twoDec)
	row("dashboard requests while open", browse("requests"), same)
	row("of which failed, or answered 4xx/5xx", func(s peerSide) string {
		return s.browser["requests_failed"] + ", " + s.browser["responses_4xx_5xx"]
	}, same)
	row("dashboard bytes on the wire while open (MiB)", browse("transfer_bytes"), mibOf)
}

// printPeerUnits: each unit of each side, and Netdata's processes.
func printPeerUnits(sides []peerSide) {
	fmt.Println("| side: unit or process | cgroup memory at the end (MiB) | cgroup peak (MiB) | of which page cache (MiB) | of that, mapped (MiB) | PSS at the end (MiB) | CPU s per minute (processes) |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, s := range sides {
		for _, u := range []string{"edge-sensord", "prometheus", "prometheus-alertmanager", "netdata"} {
			if _, ok := s.soak[u+".usage_bytes"]; !ok {
				continue
			}
			fmt.Printf("| %s: %s.service | %s | %s | %s | %s | %s | %s |\n", s.title, u, mibOf(s.soak[u+".usage_bytes"]), mibOf(s.soak[u+".peak_bytes"]),
				mibOf(s.soak[u+".file_bytes"]), mibOf(s.soak[u+".file_mapped_bytes"]), kibToMiB(s.soak[u+".pss_kib"]), twoDec(s.soak[u+".cpu_s_per_min"]))
		}
	}
	nd := sides[len(sides)-1].soak
	var comms []string
	for k := range nd {
		if c, ok := strings.CutPrefix(k, "netdata.proc."); ok && strings.HasSuffix(c, ".count") {
			comms = append(comms, strings.TrimSuffix(c, ".count"))
		}
	}
	slices.Sort(comms)
	for _, c := range comms {
		p := "netdata.proc." + c + "."
		fmt.Printf("| Netdata: `%s` × %s | | | | | %s | %s |\n", c, nd[p+"count"], kibToMiB(nd[p+"pss_kib"]), twoDec(nd[p+"cpu_s_per_min"]))
	}
}
