package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// The programs edgectl runs, each behind the interface of the package that
// needs it (apply.ServiceManager, alerts.Amtool, alerts.Journal); tests
// hand those packages fakes.

// hostAmtool is Alertmanager's amtool.
type hostAmtool struct{ path string }

func (a hostAmtool) CheckConfig(path string) (string, error) {
	out, err := exec.Command(a.path, "check-config", path).CombinedOutput()
	return string(out), err
}

// hostJournal reads the journal with journalctl.
type hostJournal struct{}

func (hostJournal) Since(unit string, since time.Time) (string, error) {
	var out bytes.Buffer
	c := exec.Command("journalctl", "--no-pager", "-o", "cat", "-u", unit, "--since", "@"+strconv.FormatInt(since.Unix(), 10))
	c.Stdout = &out
	err := c.Run()
	return out.String(), err
}

// hostSystemd is this machine's systemd, the apply.ServiceManager of the
// commands that change settings.
type hostSystemd struct{}

func (hostSystemd) Booted() bool {
	fi, err := os.Stat("/run/systemd/system")
	return err == nil && fi.IsDir()
}

func (hostSystemd) Systemctl(stdout, stderr io.Writer, args ...string) error {
	c := exec.Command("systemctl", args...)
	c.Stdout, c.Stderr = stdout, stderr
	return c.Run()
}
