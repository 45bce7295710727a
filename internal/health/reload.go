package health

import (
	"errors"
	"io/fs"

	"github.com/edgeobs/edge-observability-stack/internal/reload"
)

// checkSensordReload warns while edge-sensord runs an older configuration
// than its file because it refused the last reload, as the daemon itself
// does in its status line and on its page. A warning: the daemon runs on.
// No record (the daemon is not running under systemd) says nothing.
func (r *Report) checkSensordReload(dir string) {
	res, err := reload.Read(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		r.warn("cannot tell whether edge-sensord's last reload succeeded: %v", err)
	case res.Err != "":
		r.warn("edge-sensord refused its last reload and runs the configuration it had: %s; fix it, then `systemctl reload edge-sensord`", res.Err)
	}
}
