package main

import (
	"fmt"
	"gopkg.in/yaml.v3"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Changelog returns the changelog of the package in chglog's YAML format,
// from which nfpm writes the .deb's changelog.Debian.gz and the .rpm's
// %changelog: one entry for each release tag (v1.2.3) with the subjects of the
// commits since the tag before it, newest first, headed by an entry for
// version with the commits since the last tag. Dates are commit dates, so
// that a rebuild gives the same file.
func Changelog(root string, info pkgInfo, version string) (string, error) {
	tags, err := git(root, "for-each-ref", "--format=%(refname:short)\t%(objectname)\t%(*objectname)", "refs/tags/v[0-9]*")
	if err != nil {
		return "", err
	}
	tagAt := map[string]string{} // commit -> version
	for _, line := range nonEmpty(tags) {
		f := strings.Split(line, "\t")
		commit := f[1]
		if len(f) == 3 && f[2] != "" { // annotated tag: the commit it points to
			commit = f[2]
		}
		tagAt[commit] = strings.TrimPrefix(f[0], "v")
	}
	log, err := git(root, "log", "--first-parent", "--format=%H%x09%ct%x09%s")
	if err != nil {
		return "", err
	}
	var entries []*changelogEntry
	for i, line := range nonEmpty(log) {
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 {
			return "", fmt.Errorf("git log: unexpected line %q", line)
		}
		if i == 0 || tagAt[f[0]] != "" {
			v := version
			if i > 0 {
				v = tagAt[f[0]]
			}
			sec, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return "", fmt.Errorf("git log: commit time %q: %w", f[1], err)
			}
			entries = append(entries, &changelogEntry{
				Version:  v + "-" + info.Release,
				Date:     time.Unix(sec, 0).UTC(),
				Packager: info.Maintainer,
				Deb:      debFields{Urgency: "medium", Distributions: []string{"unstable"}},
			})
		}
		e := entries[len(entries)-1]
		e.Changes = append(e.Changes, change{Commit: f[0], Note: f[2]})
	}
	if len(entries) == 0 {
		return "", fmt.Errorf("no commits in %s", root)
	}
	b, err := yaml.Marshal(entries)
	return string(b), err
}

// changelogEntry is an entry of github.com/goreleaser/chglog's changelog.yml.
type changelogEntry struct {
	Version  string    `yaml:"semver"`
	Date     time.Time `yaml:"date"`
	Packager string    `yaml:"packager"`
	Deb      debFields `yaml:"deb"`
	Changes  []change  `yaml:"changes"`
}

type debFields struct {
	Urgency       string   `yaml:"urgency"`
	Distributions []string `yaml:"distributions"`
}

type change struct {
	Commit string `yaml:"commit"`
	Note   string `yaml:"note"`
}

func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, ee.Stderr)
		}
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}

func nonEmpty(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
