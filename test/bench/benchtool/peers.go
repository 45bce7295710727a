package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// peersReport prints the markdown tables of test/bench/peers.sh from the
// "key value" files in DIR: stack.kv and netdata.kv (cgsoak), and
// stack.browse.kv and netdata.browse.kv (browse).
//
//	benchtool peers-report DIR
func peersReport(args []string) error {
	dir, err := oneArg(args, "DIR")
	if err != nil {
		return err
	}
	var kv [4]kvFile
	for i, f := range []string{"stack.kv", "netdata.kv", "stack.browse.kv", "netdata.browse.kv"} {
		m, err := loadKV(filepath.Join(dir, f))
		if err != nil {
			return err
		}
		kv[i] = m
	}
	st, nd, sb, nb := kv[0], kv[1], kv[2], kv[3]
	const slice, netdata = "edge-observability.slice", "netdata"
	fmt.Printf("Each side ran for %s s (stack) and %s s (Netdata) with its dashboard open.\n\n", st["duration_s"], nd["duration_s"])
	fmt.Println("| | stack (`edge-observability.slice`) | Netdata (`netdata.service`) | stack / Netdata |")
	fmt.Println("|---|---|---|---|")
	row := func(label, key string, f func(string) string) {
		a, b := st[slice+"."+key], nd[netdata+"."+key]
		fmt.Printf("| %s | %s | %s | %s |\n", label, f(a), f(b), ratioOf(a, b))
	}
	row("cgroup memory at the end (MiB)", "usage_bytes", mibOf)
	row("cgroup peak during the soak (MiB)", "peak_bytes", mibOf)
	row("of which anonymous at the end (MiB)", "anon_bytes", mibOf)
	row("of which page cache at the end (MiB)", "file_bytes", mibOf)
	row("PSS of its processes at the end (MiB)", "pss_kib", kibToMiB)
	row("processes", "processes", func(s string) string { return s })
	row("CPU seconds per minute (cgroup)", "cgroup_cpu_s_per_min", twoDec)
	row("CPU seconds per minute (its processes, with reaped children)", "cpu_s_per_min", twoDec)
	fmt.Printf("| dashboard requests while open (failed, 4xx/5xx) | %s (%s, %s) | %s (%s, %s) | %s |\n",
		sb["requests"], sb["requests_failed"], sb["responses_4xx_5xx"], nb["requests"], nb["requests_failed"], nb["responses_4xx_5xx"], ratioOf(sb["requests"], nb["requests"]))
	fmt.Printf("| dashboard bytes on the wire while open (MiB) | %s | %s | %s |\n",
		mibOf(sb["transfer_bytes"]), mibOf(nb["transfer_bytes"]), ratioOf(sb["transfer_bytes"], nb["transfer_bytes"]))
	fmt.Println()
	fmt.Println("| unit or process | cgroup memory at the end (MiB) | cgroup peak (MiB) | PSS at the end (MiB) | CPU s per minute (processes) |")
	fmt.Println("|---|---|---|---|---|")
	for _, u := range []string{"edge-sensord", "prometheus"} {
		fmt.Printf("| %s.service | %s | %s | %s | %s |\n", u, mibOf(st[u+".usage_bytes"]), mibOf(st[u+".peak_bytes"]),
			kibToMiB(st[u+".pss_kib"]), twoDec(st[u+".cpu_s_per_min"]))
	}
	fmt.Printf("| netdata.service | %s | %s | %s | %s |\n", mibOf(nd[netdata+".usage_bytes"]), mibOf(nd[netdata+".peak_bytes"]),
		kibToMiB(nd[netdata+".pss_kib"]), twoDec(nd[netdata+".cpu_s_per_min"]))
	var comms []string
	for k := range nd {
		if c, ok := strings.CutPrefix(k, netdata+".proc."); ok && strings.HasSuffix(c, ".count") {
			comms = append(comms, strings.TrimSuffix(c, ".count"))
		}
	}
	slices.Sort(comms)
	for _, c := range comms {
		p := netdata + ".proc." + c + "."
		fmt.Printf("| netdata: `%s` × %s | | | %s | %s |\n", c, nd[p+"count"], kibToMiB(nd[p+"pss_kib"]), twoDec(nd[p+"cpu_s_per_min"]))
	}
	return nil
}
