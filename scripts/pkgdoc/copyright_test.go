package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const mitText = `MIT License

Copyright (c) 2021 Leon Sorokin

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction.
`

func write(t *testing.T, root, name, content string) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A module tree like ours: its own licence, a command, and an embedded asset.
func fakeProject(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	apache, err := os.ReadFile("../../LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	write(t, root, "go.mod", "module example.com/fake\n\ngo 1.22\n")
	write(t, root, "cmd/fake/main.go", "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println() }\n")
	write(t, root, "LICENSE", string(apache))
	write(t, root, "internal/web/vendor/uplot/LICENSE", mitText)
	write(t, root, "internal/web/vendor/uplot/VERSION", "1.6.30\n")
	write(t, root, "internal/web/vendor/uplot/uPlot.min.js", "/* asset */\n")
	return root
}

var testInfo = pkgInfo{Name: "fake", Maintainer: "M <m@example.invalid>", Release: "1", Homepage: "https://example.invalid"}

func TestCopyright(t *testing.T) {
	got, err := Copyright(fakeProject(t), testInfo, []string{"amd64", "arm"})
	if err != nil {
		t.Fatal(err)
	}
	paras := strings.Split(got, "\n\n")
	find := func(files string) string {
		for _, p := range paras {
			if strings.HasPrefix(p, "Files: "+files+"\n") {
				return p
			}
		}
		t.Fatalf("no paragraph for %s in:\n%s", files, got)
		return ""
	}
	if p := find("*"); !strings.Contains(p, "\nLicense: Apache-2.0\n") || strings.Contains(p, "TERMS AND CONDITIONS") {
		t.Errorf("project paragraph: want Apache-2.0 by reference:\n%s", p)
	}
	p := find("internal/web/vendor/uplot/*")
	for _, want := range []string{"\nCopyright: 2021 Leon Sorokin\n", "\nLicense: MIT\n MIT License\n .\n", "Comment: Embedded asset uplot 1.6.30"} {
		if !strings.Contains(p, want) {
			t.Errorf("uplot paragraph lacks %q:\n%s", want, p)
		}
	}
	if p := find("std/*"); !strings.Contains(p, "\nLicense: BSD-3-Clause\n") {
		t.Errorf("standard library paragraph:\n%s", p)
	}
	if !strings.Contains(got, "\nLicense: Apache-2.0\n On Debian systems") {
		t.Errorf("no stand-alone Apache-2.0 paragraph:\n%s", got)
	}
	if strings.Count(got, "Files: ") != 3 {
		t.Errorf("want 3 Files paragraphs (project, asset, std), got:\n%s", got)
	}
}

// An asset without a licence, or with one not recognised, stops the build.
func TestCopyrightRefuses(t *testing.T) {
	root := fakeProject(t)
	write(t, root, "internal/web/vendor/other/other.js", "/* asset */\n")
	if _, err := Copyright(root, testInfo, []string{"amd64"}); err == nil || !strings.Contains(err.Error(), "no LICENSE") {
		t.Errorf("asset without licence: err %v", err)
	}
	write(t, root, "internal/web/vendor/other/LICENSE", "All rights reserved. Do not copy.\n")
	if _, err := Copyright(root, testInfo, []string{"amd64"}); err == nil || !strings.Contains(err.Error(), "not recognised") {
		t.Errorf("unknown licence: err %v", err)
	}
}

func TestIdentify(t *testing.T) {
	bsd := "Redistribution and use in source and binary forms, with or without modification, are permitted"
	for text, want := range map[string]string{
		mitText:                      "MIT",
		bsd:                          "BSD-2-Clause",
		bsd + " Neither the name of": "BSD-3-Clause",
		"Apache License\n  Version 2.0, January 2004":                                      "Apache-2.0",
		"Mozilla Public License Version 2.0":                                               "MPL-2.0",
		"Permission to use, copy, modify, and/or distribute this software for any purpose": "ISC",
		mitText + "\nApache License Version 2.0":                                           "MIT Apache-2.0",
		"Proprietary":                                                                      "",
	} {
		if got := strings.Join(identify(text), " "); got != want {
			t.Errorf("identify(%.40q) = %q, want %q", text, got, want)
		}
	}
}
