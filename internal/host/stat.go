package host

var bootTimeDesc = desc("node_boot_time_seconds", "Time the machine booted, in seconds since the epoch (btime of /proc/stat); a change means a reboot.")

// statCollector exports node_boot_time_seconds, the one family of
// node_exporter's stat collector that tells whether the device rebooted.
type statCollector struct{ env *env }

func newStat(e *env) collector { return &statCollector{env: e} }

func (c *statCollector) update(p *poll) error {
	st, err := p.procStat(c.env)
	if err != nil {
		return err
	}
	p.gauge(bootTimeDesc, float64(st.BootTime))
	return nil
}
