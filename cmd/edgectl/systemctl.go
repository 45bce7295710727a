package main

import (
	"io"
	"os"
	"os/exec"
)

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
