package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// A component is a part of the binaries with its own licence: the project, a
// Go module, the Go standard library, or an embedded third-party asset.
type component struct {
	name    string   // whose authors hold the copyright, unless its files say
	files   string   // DEP-5 Files: pattern
	comment string   // what it is and its version
	dir     string   // where its licence files are
	license []string // licence files, relative to dir
	notice  []string // NOTICE files (Apache-2.0 section 4(d)), relative to dir
}

// Licences that Debian ships in /usr/share/common-licenses: copyright names
// them and refers to the file instead of repeating the text.
var commonLicenses = map[string]bool{"Apache-2.0": true, "MPL-2.0": true}

// Copyright returns the DEP-5 copyright file of the package: the project, the
// Go modules and the standard library compiled into ./cmd/... for linux on
// each of goarches, and the embedded third-party assets.
//
// Embedded assets follow this convention: an asset vendored into a package
// (a JavaScript library served by the daemon, say) lives in its own directory
// internal/<package>/vendor/<asset>/ (at any depth below internal/), with its
// licence in a LICENSE* or COPYING* file there and, optionally, its version in
// a VERSION file. Every such directory is listed.
func Copyright(root string, info pkgInfo, goarches []string) (string, error) {
	comps, err := goComponents(root, goarches)
	if err != nil {
		return "", err
	}
	assets, err := assetComponents(root)
	if err != nil {
		return "", err
	}
	comps = append(comps, assets...)
	var b strings.Builder
	fmt.Fprintf(&b, "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"+
		"Upstream-Name: %s\nUpstream-Contact: %s\nSource: %s\n"+
		"Comment: Generated at package build from the Go modules compiled into\n"+
		" %s for linux/%s,\n and the assets embedded from internal/**/vendor/*/.\n",
		info.Name, info.Maintainer, info.Homepage, strings.Join(binaries, " and "), strings.Join(goarches, ", linux/"))
	used := map[string]bool{}
	for _, c := range comps {
		para, ids, err := c.paragraph()
		if err != nil {
			return "", err
		}
		b.WriteString("\n" + para)
		for _, id := range ids {
			used[id] = true
		}
	}
	for _, id := range slices.Sorted(maps.Keys(used)) {
		if commonLicenses[id] {
			fmt.Fprintf(&b, "\nLicense: %s\n On Debian systems, the full text of the %s licence can be found in\n /usr/share/common-licenses/%s.\n", id, id, id)
		}
	}
	return b.String(), nil
}

// goComponents lists the main module, every other module with a package in
// the binaries, and the standard library.
func goComponents(root string, goarches []string) ([]component, error) {
	type mod struct{ path, version, dir string }
	mods := map[string]mod{}
	for _, arch := range goarches {
		cmd := exec.Command("go", "list", "-deps", "-f",
			"{{with .Module}}{{with .Replace}}{{.Path}}\t{{.Version}}\t{{.Dir}}{{else}}{{.Path}}\t{{.Version}}\t{{.Dir}}{{end}}{{end}}", "./cmd/...")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("go list for linux/%s: %w", arch, err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Split(line, "\t")
			if len(f) == 3 {
				mods[f[0]] = mod{f[0], f[1], f[2]}
			}
		}
	}
	goroot, err := exec.Command("go", "env", "GOROOT", "GOVERSION").Output()
	if err != nil {
		return nil, fmt.Errorf("go env: %w", err)
	}
	gorootDir, goVersion, _ := strings.Cut(strings.TrimSpace(string(goroot)), "\n")

	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	main := component{name: "edge-observability", files: "*", dir: abs}
	var deps []component
	for _, m := range mods {
		if m.version == "" { // the main module
			main.comment = "Go module " + m.path
			continue
		}
		deps = append(deps, component{name: m.path, files: m.path + "/*", comment: "Go module " + m.path + " " + m.version, dir: m.dir})
	}
	sort.Slice(deps, func(i, j int) bool { return deps[i].files < deps[j].files })
	std := component{name: "Go", files: "std/*", comment: "Go standard library and runtime, " + goVersion, dir: gorootDir}
	comps := append([]component{main}, deps...)
	comps = append(comps, std)
	for i := range comps {
		if err := comps[i].findLicenses(); err != nil {
			return nil, err
		}
	}
	return comps, nil
}

// assetComponents lists internal/**/vendor/*/ directories (see Copyright).
func assetComponents(root string) ([]component, error) {
	var comps []component
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || filepath.Base(filepath.Dir(path)) != "vendor" {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		c := component{name: d.Name(), files: filepath.ToSlash(rel) + "/*", comment: "Embedded asset " + d.Name(), dir: path}
		if v, err := os.ReadFile(filepath.Join(path, "VERSION")); err == nil {
			c.comment += " " + strings.TrimSpace(string(v))
		}
		if err := c.findLicenses(); err != nil {
			return err
		}
		comps = append(comps, c)
		return fs.SkipDir
	})
	return comps, err
}

var (
	licenseFile = regexp.MustCompile(`(?i)^(licen[cs]e|copying)([.\-_].*)?$`)
	noticeFile  = regexp.MustCompile(`(?i)^notice(\..*)?$`)
)

func (c *component) findLicenses() error {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		switch {
		case e.IsDir():
		case licenseFile.MatchString(e.Name()):
			c.license = append(c.license, e.Name())
		case noticeFile.MatchString(e.Name()):
			c.notice = append(c.notice, e.Name())
		}
	}
	if len(c.license) == 0 {
		return fmt.Errorf("%s (%s): no LICENSE or COPYING file in %s", c.files, c.comment, c.dir)
	}
	return nil
}

// paragraph returns the component's Files paragraph and the licences in it.
// Licences whose text names the holder (MIT, BSD, ...) carry their text.
func (c *component) paragraph() (string, []string, error) {
	var ids, texts, holders []string
	for _, name := range append(append([]string(nil), c.license...), c.notice...) {
		b, err := os.ReadFile(filepath.Join(c.dir, name))
		if err != nil {
			return "", nil, err
		}
		holders = append(holders, copyrightLines(string(b))...)
		if !slices.Contains(c.license, name) {
			continue
		}
		found := identify(string(b))
		if len(found) == 0 {
			return "", nil, fmt.Errorf("%s (%s): licence in %s not recognised; add it to identify()", c.files, c.comment, filepath.Join(c.dir, name))
		}
		for _, id := range found {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		if len(found) > 1 || !commonLicenses[found[0]] {
			texts = append(texts, withoutApacheTerms(string(b)))
		}
	}
	if len(holders) == 0 {
		holders = []string{"the authors of " + c.name}
	}
	var b strings.Builder
	// The licence texts are continuation lines of License:, after the name.
	fmt.Fprintf(&b, "Files: %s\nCopyright: %s\nLicense: %s\n", c.files, field(strings.Join(unique(holders), "\n")),
		field(strings.Join(ids, " and ")+"\n"+strings.Join(texts, "\n")))
	comment := c.comment
	for _, n := range c.notice {
		t, _ := os.ReadFile(filepath.Join(c.dir, n))
		comment += "\n" + n + ":\n" + string(t)
	}
	fmt.Fprintf(&b, "Comment: %s\n", field(comment))
	return b.String(), ids, nil
}

// identify names the licences (SPDX identifiers) whose text is in a licence file.
func identify(text string) []string {
	t := strings.Join(strings.Fields(text), " ")
	has := func(s string) bool { return strings.Contains(t, s) }
	var ids []string
	if has("Permission is hereby granted, free of charge") {
		ids = append(ids, "MIT")
	}
	if has("Redistribution and use in source and binary forms") {
		if has("Neither the name") || has("names of its contributors may be used") {
			ids = append(ids, "BSD-3-Clause")
		} else {
			ids = append(ids, "BSD-2-Clause")
		}
	}
	if has("Permission to use, copy, modify, and/or distribute this software for any purpose") ||
		has("Permission to use, copy, modify, and distribute this software for any purpose") {
		ids = append(ids, "ISC")
	}
	if has("Apache License") && has("Version 2.0") {
		ids = append(ids, "Apache-2.0")
	}
	if has("Mozilla Public License Version 2.0") || has("Mozilla Public License, version 2.0") {
		ids = append(ids, "MPL-2.0")
	}
	return ids
}

// withoutApacheTerms replaces the terms of the Apache License 2.0 in a file
// that holds more licences than that one by a reference to Debian's copy.
func withoutApacheTerms(text string) string {
	const first, last = "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION", "END OF TERMS AND CONDITIONS"
	i, j := strings.Index(text, first), strings.Index(text, last)
	if i < 0 || j < i {
		return text
	}
	return text[:i] + "[The terms and conditions of the Apache License 2.0: /usr/share/common-licenses/Apache-2.0]" + text[j+len(last):]
}

var copyrightLine = regexp.MustCompile(`(?i)^\s*copyright\s+(\(c\)\s*|©\s*)?(\d{4}.*)$`)

// copyrightLines returns the "2015 Someone" of the "Copyright (c) 2015 Someone"
// lines of a text, without the "[yyyy] [name of copyright owner]" template of
// the Apache licence.
func copyrightLines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if m := copyrightLine.FindStringSubmatch(l); m != nil && !strings.ContainsAny(l, "[{") {
			out = append(out, strings.TrimSpace(m[2]))
		}
	}
	return out
}

// field formats a multi-line value of a DEP-5 field: the first line follows
// the field name, the others start with a space, empty ones are " .".
func field(s string) string {
	lines := strings.Split(strings.Trim(strings.ReplaceAll(s, "\r", ""), "\n"), "\n")
	var b bytes.Buffer
	for i, l := range lines {
		l = strings.TrimRight(l, " \t")
		switch {
		case i == 0:
			b.WriteString(l)
		case l == "":
			b.WriteString("\n .")
		default:
			b.WriteString("\n " + l)
		}
	}
	return b.String()
}

func unique(list []string) []string {
	var out []string
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
