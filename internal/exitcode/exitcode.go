// Package exitcode holds the exit statuses every edgectl subcommand shares;
// `edgectl status --json` reports them too.
package exitcode

const (
	OK      = 0 // done; for status: healthy and within budget
	Failure = 1 // failed; for status: over budget, a unit not active, a target down or scrapes failing
	Usage   = 2 // bad command line; nothing was done
	Unknown = 3 // the outcome could not be determined (Prometheus or systemd unreachable)
)
