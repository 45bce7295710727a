package main

import (
	"os/exec"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestChangelog(t *testing.T) {
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(cmd.Environ(), "GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z",
			"GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@example.invalid", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@example.invalid")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	git("init", "-q")
	git("commit", "-q", "--allow-empty", "-m", "first")
	git("commit", "-q", "--allow-empty", "-m", "second")
	git("tag", "-a", "-m", "release", "v1.0.0")
	git("commit", "-q", "--allow-empty", "-m", "third")
	out, err := Changelog(dir, testInfo, "1.0.0+git20260102030405.abc")
	if err != nil {
		t.Fatal(err)
	}
	var entries []changelogEntry
	if err := yaml.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("want 2 entries, got:\n%s", out)
	}
	check := func(e changelogEntry, version string, notes ...string) {
		t.Helper()
		if e.Version != version || e.Packager != testInfo.Maintainer || e.Date.Unix() != 1767323045 || len(e.Changes) != len(notes) {
			t.Fatalf("entry %+v, want %s with %v", e, version, notes)
		}
		for i, n := range notes {
			if e.Changes[i].Note != n || len(e.Changes[i].Commit) != 40 {
				t.Errorf("%s change %d: %+v, want %q", version, i, e.Changes[i], n)
			}
		}
	}
	check(entries[0], "1.0.0+git20260102030405.abc-1", "third")
	check(entries[1], "1.0.0-1", "second", "first")
}
