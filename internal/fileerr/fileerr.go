// Package fileerr is the error of a configuration file that says where the
// problem is: "FILE:LINE: MSG", or "FILE:LINE: SETTING: MSG" when one
// setting is at fault. The daemon's YAML file and the fleet settings file
// both report their problems with it.
package fileerr

import "fmt"

// Error locates a problem in a file.
type Error struct {
	File string
	Line int
	// Setting names what is at fault as the file's readers know it
	// (`field "poll_interval"` in YAML, EDGE_SITE in a KEY=value file);
	// "" when it is the line as a whole.
	Setting string
	Msg     string
}

func (e *Error) Error() string {
	if e.Setting == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Setting, e.Msg)
}
