package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// alertsReport prints the markdown table of test/bench/alerts.sh from the
// "key value" files in DIR: off.kv (cgsoak with alerting off: the other
// units and the slice), idle.kv and flapping.kv (with the Alertmanager
// unit) and counts.kv (alerts, notifications).
//
//	benchtool alerts-report DIR
func alertsReport(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("want DIR")
	}
	return writeAlertsReport(os.Stdout, args[0])
}

func writeAlertsReport(w io.Writer, dir string) error {
	var kv [4]kvFile
	for i, f := range []string{"off.kv", "idle.kv", "flapping.kv", "counts.kv"} {
		m, err := loadKV(filepath.Join(dir, f))
		if err != nil {
			return err
		}
		kv[i] = m
	}
	off, idle, flap, n := kv[0], kv[1], kv[2], kv[3]
	fmt.Fprintf(w, "Alertmanager %s; alerting off %s s, on and idle %s s, then %s s with %s alerts firing and resolving "+
		"every 2 minutes (%s webhook notifications, %s mails during that soak).\n\n", n["alertmanager_version"],
		off["duration_s"], idle["duration_s"], flap["duration_s"], n["flapping_alerts"], n["webhook_notifications"], n["mails"])
	fmt.Fprintln(w, "| | alerting off | on, idle | alerts firing and resolving | firing and resolving / off |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	row := func(label, key string, f func(string) string) {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", label, f(off[key]), f(idle[key]), f(flap[key]), ratioOf(flap[key], off[key]))
	}
	row("alertmanager: cgroup memory at the end (MiB)", "alertmanager.usage_bytes", mibOf)
	row("alertmanager: cgroup peak (MiB)", "alertmanager.peak_bytes", mibOf)
	row("alertmanager: of which anonymous at the end (MiB)", "alertmanager.anon_bytes", mibOf)
	row("alertmanager: of which page cache at the end (MiB)", "alertmanager.file_bytes", mibOf)
	row("alertmanager: PSS at the end (MiB)", "alertmanager.pss_kib", kibToMiB)
	row("alertmanager: CPU seconds per minute (cgroup)", "alertmanager.cgroup_cpu_s_per_min", twoDec)
	row("prometheus: cgroup memory at the end (MiB)", "prometheus.usage_bytes", mibOf)
	row("edge-sensord: cgroup memory at the end (MiB)", "edge-sensord.usage_bytes", mibOf)
	row("whole stack (slice): cgroup memory at the end (MiB)", "slice.usage_bytes", mibOf)
	row("whole stack (slice): cgroup peak (MiB)", "slice.peak_bytes", mibOf)
	row("whole stack (slice): CPU seconds per minute (cgroup)", "slice.cgroup_cpu_s_per_min", twoDec)
	return nil
}
