package host

import "golang.org/x/sys/unix"

var unameDesc = desc("node_uname_info", "The kernel's uname(2): system, release, version, machine, node and domain names.",
	"sysname", "release", "version", "machine", "nodename", "domainname")

// unameCollector is node_exporter's uname collector. The kernel answers
// uname(2) for the machine the daemon runs on, whatever the --path flags
// say. The host name can change at run time, so it is read every poll.
type unameCollector struct{}

func newUname(*env) collector { return unameCollector{} }

func (unameCollector) update(p *poll) error {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return err
	}
	p.gauge(unameDesc, 1, unix.ByteSliceToString(u.Sysname[:]), unix.ByteSliceToString(u.Release[:]),
		unix.ByteSliceToString(u.Version[:]), unix.ByteSliceToString(u.Machine[:]),
		unix.ByteSliceToString(u.Nodename[:]), unix.ByteSliceToString(u.Domainname[:]))
	return nil
}
