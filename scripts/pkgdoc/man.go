package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// ManPage returns the manual page of a binary in section 8, from the binary
// itself: edge-sensord's kingpin flags (--help-man) and edgectl's flag sets
// (edgectl --help-man). kingpin writes a section 1 page with the version in
// the title line and a bare NAME; both are set here as Debian wants them.
func ManPage(binary string, info pkgInfo, version string) (string, error) {
	page, err := output(binary, "--help-man")
	if err != nil {
		return "", err
	}
	lines := strings.Split(page, "\n")
	if !strings.HasPrefix(lines[0], ".TH ") {
		return "", fmt.Errorf("%s --help-man: no .TH line", binary)
	}
	name := filepath.Base(binary)
	// Left-adjusted and not hyphenated: flags and their defaults are literal
	// text, and a long default has too few spaces to justify.
	lines[0] = fmt.Sprintf(`.TH %s 8 "" "%s %s" "System Administration"`+"\n.ad l\n.nh", strings.ToUpper(name), info.Name, version)
	if i := index(lines, `.SH "NAME"`); i >= 0 && i+1 < len(lines) && lines[i+1] == name {
		// kingpin: the description is the line after .SH "DESCRIPTION".
		d := index(lines, `.SH "DESCRIPTION"`)
		if d < 0 || d+1 >= len(lines) {
			return "", fmt.Errorf("%s --help-man: no DESCRIPTION", binary)
		}
		whatis := strings.TrimSuffix(lines[d+1], ".")
		whatis = strings.ToLower(whatis[:1]) + whatis[1:]
		lines[i+1] = name + ` \- ` + whatis
	}
	for i, l := range lines {
		if strings.HasPrefix(l, `\fB--`) {
			lines[i] = breakable(l)
		}
	}
	page = strings.Join(lines, "\n")
	if extra, ok := manSections[name]; ok {
		page = strings.TrimRight(page, "\n") + "\n" + extra
	}
	return page, nil
}

// breakable lets troff break a flag's tag after each | of a regular
// expression in its default: the filesystem collector's excludes are wider
// than a terminal, and a line troff cannot break is a warning in lintian.
func breakable(tag string) string {
	return strings.ReplaceAll(tag, "|", `|\:`)
}

// manSections completes kingpin's page, which has the flags only.
var manSections = map[string]string{
	"edge-sensord": `.SH "FILES"
.TP
/etc/default/edge\-sensord
ARGS= holds the flags of edge\-sensord.service.
.TP
/etc/edge\-sensord/config.yml
Settings that \fBsystemctl reload edge\-sensord\fR applies without a restart.
.SH "SIGNALS"
.TP
SIGHUP
Re-read \-\-config.file and \-\-web.config.file; a malformed file is refused and the running configuration kept.
.TP
SIGTERM
Graceful shutdown.
.SH "SEE ALSO"
edgectl(8), prometheus(1), systemd.service(5)
`,
}

func output(binary string, args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(binary, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", binary, strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

func index(lines []string, s string) int {
	for i, l := range lines {
		if l == s {
			return i
		}
	}
	return -1
}
