// Package packaging holds checks of the package definitions that need no built package.
package packaging

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type content struct {
	Src      string `yaml:"src"`
	Dst      string `yaml:"dst"`
	Type     string `yaml:"type"`
	Packager string `yaml:"packager"`
	FileInfo struct {
		Mode  int    `yaml:"mode"`
		Owner string `yaml:"owner"`
		Group string `yaml:"group"`
	} `yaml:"file_info"`
}

type scripts struct {
	PostInstall string `yaml:"postinstall"`
	PreRemove   string `yaml:"preremove"`
	PostRemove  string `yaml:"postremove"`
}

type nfpmConfig struct {
	Changelog string    `yaml:"changelog"`
	Depends   []string  `yaml:"depends"`
	Suggests  []string  `yaml:"suggests"`
	Contents  []content `yaml:"contents"`
	Scripts   scripts   `yaml:"scripts"`
}

type goreleaserConfig struct {
	Builds []struct {
		ID      string   `yaml:"id"`
		Binary  string   `yaml:"binary"`
		Goarch  []string `yaml:"goarch"`
		Goarm   []string `yaml:"goarm"`
		Ldflags []string `yaml:"ldflags"`
	} `yaml:"builds"`
	Nfpms []struct {
		PackageName  string    `yaml:"package_name"`
		Bindir       string    `yaml:"bindir"`
		Formats      []string  `yaml:"formats"`
		Changelog    string    `yaml:"changelog"`
		Dependencies []string  `yaml:"dependencies"`
		Suggests     []string  `yaml:"suggests"`
		Contents     []content `yaml:"contents"`
		Scripts      scripts   `yaml:"scripts"`
	} `yaml:"nfpms"`
}

func load(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", path))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func byDst(c []content) []content {
	out := append([]content(nil), c...)
	sort.Slice(out, func(i, j int) bool { return out[i].Dst < out[j].Dst })
	return out
}

// The nfpm config (used by scripts/package.sh) and .goreleaser.yaml must produce the same package.
func TestGoreleaserMatchesNfpm(t *testing.T) {
	var n nfpmConfig
	var g goreleaserConfig
	load(t, "packaging/nfpm.yaml", &n)
	load(t, ".goreleaser.yaml", &g)
	if len(g.Nfpms) != 1 {
		t.Fatalf("want one nfpms entry in .goreleaser.yaml, got %d", len(g.Nfpms))
	}
	gn := g.Nfpms[0]

	// goreleaser adds the binaries of its builds to bindir; nfpm.yaml lists them.
	var nonBinaries []content
	binaries := map[string]bool{}
	for _, c := range n.Contents {
		if strings.HasPrefix(c.Src, "${BIN_DIR}/") {
			binaries[strings.TrimPrefix(c.Dst, gn.Bindir+"/")] = true
			if filepath.Dir(c.Dst) != gn.Bindir {
				t.Errorf("binary %s not in goreleaser bindir %s", c.Dst, gn.Bindir)
			}
			continue
		}
		nonBinaries = append(nonBinaries, c)
	}
	if !reflect.DeepEqual(byDst(nonBinaries), byDst(gn.Contents)) {
		t.Errorf("contents differ:\nnfpm.yaml:       %+v\n.goreleaser.yaml: %+v", byDst(nonBinaries), byDst(gn.Contents))
	}
	built := map[string]bool{}
	for _, b := range g.Builds {
		built[b.Binary] = true
		if !reflect.DeepEqual(b.Goarch, []string{"amd64", "arm64", "arm"}) || !reflect.DeepEqual(b.Goarm, []string{"7"}) {
			t.Errorf("build %s: goarch %v goarm %v, want amd64 arm64 arm/7", b.ID, b.Goarch, b.Goarm)
		}
		if len(b.Ldflags) != 1 || !strings.Contains(b.Ldflags[0], "/internal/version.Version=") || !strings.Contains(b.Ldflags[0], "/internal/version.Revision=") {
			t.Errorf("build %s: ldflags %v do not set internal/version", b.ID, b.Ldflags)
		}
	}
	if !reflect.DeepEqual(built, binaries) {
		t.Errorf("goreleaser builds %v, nfpm.yaml packages binaries %v", built, binaries)
	}
	if !reflect.DeepEqual(n.Depends, gn.Dependencies) || !reflect.DeepEqual(n.Suggests, gn.Suggests) {
		t.Errorf("depends/suggests differ: nfpm %v/%v goreleaser %v/%v", n.Depends, n.Suggests, gn.Dependencies, gn.Suggests)
	}
	if n.Changelog == "" || n.Changelog != gn.Changelog {
		t.Errorf("changelog: nfpm %q goreleaser %q, want the same file", n.Changelog, gn.Changelog)
	}
	if n.Scripts != gn.Scripts {
		t.Errorf("scripts differ: nfpm %+v goreleaser %+v", n.Scripts, gn.Scripts)
	}
	if !reflect.DeepEqual(gn.Formats, []string{"deb", "rpm"}) {
		t.Errorf("goreleaser formats %v, want deb rpm", gn.Formats)
	}
}

// Every file the package ships exists in the repository (or is generated into build/pkgdoc by
// scripts/pkgdoc at build), and the conffiles are exactly the files under /etc.
const generated = "build/pkgdoc/"

func TestNfpmSources(t *testing.T) {
	var n nfpmConfig
	load(t, "packaging/nfpm.yaml", &n)
	for _, c := range n.Contents {
		if strings.HasPrefix(c.Src, "${") || strings.HasPrefix(c.Src, generated) {
			continue
		}
		if _, err := os.Stat(filepath.Join("..", "..", c.Src)); err != nil {
			t.Errorf("%s: %v", c.Dst, err)
		}
		isEtc := strings.HasPrefix(c.Dst, "/etc/")
		if isEtc != (c.Type == "config|noreplace") {
			t.Errorf("%s: type %q; files under /etc must be config|noreplace, others not", c.Dst, c.Type)
		}
	}
	for _, s := range []string{n.Scripts.PostInstall, n.Scripts.PreRemove, n.Scripts.PostRemove} {
		if _, err := os.Stat(filepath.Join("..", "..", s)); err != nil {
			t.Errorf("script: %v", err)
		}
	}
}
