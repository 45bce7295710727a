package health

import (
	"fmt"
	"strings"
)

// restartLoop is how many automatic restarts make a restart loop: systemd's
// default StartLimitBurst. NRestarts counts the automatic restarts since the
// unit was last started by hand, so a unit that reached it keeps dying.
const restartLoop = 5

// checkLoop names a unit that the OOM killer stopped or that systemd keeps
// restarting, and says how to raise its memory limit.
func (r *Report) checkLoop(u Unit) {
	switch {
	case u.Result == "oom-kill":
		r.problem("%s was killed for lack of memory (Result=oom-kill); %s", u.Unit, raiseLimit(u))
	case u.NRestarts != nil && *u.NRestarts >= restartLoop:
		r.problem("%s is in a restart loop (%d automatic restarts); see journalctl -u %s, and if it runs out of memory, %s",
			u.Unit, *u.NRestarts, u.Unit, raiseLimit(u))
	case u.OOMKills != nil && *u.OOMKills > 0 && strings.HasSuffix(u.Unit, ".service"):
		// A service's cgroup is made anew at each start: these kills hit
		// processes of the running instance, which survived them.
		r.warn("%s: the OOM killer killed %d of its processes since it started; %s", u.Unit, *u.OOMKills, raiseLimit(u))
	}
}

// raiseLimit says how to give a unit more memory: half as much again as
// its MemoryMax, within the slice's own limit.
func raiseLimit(u Unit) string {
	size, now := "<size>", ""
	if u.MemoryMaxBytes != nil {
		mib := (*u.MemoryMaxBytes*3/2 + 1<<20 - 1) >> 20
		size, now = fmt.Sprintf("%dM", mib), " (now "+FormatBytes(*u.MemoryMaxBytes)+")"
	}
	return fmt.Sprintf("raise its limit%s with `systemctl edit %s`, adding the lines [Service] and MemoryMax=%s (the slice's MemoryMax caps all units together), then `systemctl restart %s`",
		now, u.Unit, size, u.Unit)
}
