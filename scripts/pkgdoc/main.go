// Command pkgdoc writes the documentation files of the edge-observability
// packages, generated from the build so that they cannot drift from it:
//
//	copyright             DEP-5 machine-readable copyright: the project's licence and that of
//	                      every Go module compiled into the binaries and every embedded asset
//	changelog.yml         changelog from the version and the git history, in chglog's format:
//	                      nfpm turns it into the .deb's changelog.Debian.gz and the .rpm's %changelog
//	edge-sensord.8.gz     manual pages, from the flag definitions of the binaries
//	edgectl.8.gz
//	bash-completion/      bash completion scripts, from the same definitions
//
// Run from the repository root (scripts/package.sh does, at `make package`):
//
//	go run ./scripts/pkgdoc -out DIR -version VERSION -bin HOST_BIN_DIR
//
// HOST_BIN_DIR holds edge-sensord and edgectl built for the machine running
// pkgdoc; the manual pages and completions come from running them.
package main

import (
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Binaries shipped in /usr/bin; ./cmd/<name> builds each.
var binaries = []string{"edge-sensord", "edgectl"}

func main() {
	out := flag.String("out", "", "output directory")
	version := flag.String("version", "", "upstream version of the package, e.g. 1.2.3 or 0.1.0~git20261125150000.1a2b3c4")
	bin := flag.String("bin", "", "directory with edge-sensord and edgectl built for this machine")
	goarch := flag.String("goarch", "amd64,arm64,arm", "architectures the packages are built for (their dependencies are listed)")
	nfpmConfig := flag.String("nfpm", "packaging/nfpm.yaml", "nfpm configuration (name, maintainer, release, homepage)")
	flag.Parse()
	if *out == "" || *version == "" || *bin == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: go run ./scripts/pkgdoc -out DIR -version VERSION -bin HOST_BIN_DIR [-goarch LIST] [-nfpm FILE]")
		os.Exit(2)
	}
	if err := run(*out, *version, *bin, strings.Split(*goarch, ","), *nfpmConfig); err != nil {
		slog.Error("pkgdoc", "err", err)
		os.Exit(1)
	}
}

// pkgInfo is what pkgdoc takes from the nfpm configuration.
type pkgInfo struct {
	Name       string `yaml:"name"`
	Maintainer string `yaml:"maintainer"`
	Release    string `yaml:"release"`
	Homepage   string `yaml:"homepage"`
	License    string `yaml:"license"`
}

func run(out, version, bin string, goarches []string, nfpmConfig string) error {
	b, err := os.ReadFile(nfpmConfig)
	if err != nil {
		return err
	}
	var info pkgInfo
	if err := yaml.Unmarshal(b, &info); err != nil {
		return fmt.Errorf("%s: %w", nfpmConfig, err)
	}
	if err := os.MkdirAll(filepath.Join(out, "bash-completion"), 0o755); err != nil {
		return err
	}
	copyright, err := Copyright(".", info, goarches)
	if err != nil {
		return fmt.Errorf("copyright: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, "copyright"), []byte(copyright), 0o644); err != nil {
		return err
	}
	changelog, err := Changelog(".", info, version)
	if err != nil {
		return fmt.Errorf("changelog: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, "changelog.yml"), []byte(changelog), 0o644); err != nil {
		return err
	}
	for _, name := range binaries {
		page, err := ManPage(filepath.Join(bin, name), info, version)
		if err != nil {
			return fmt.Errorf("%s manual page: %w", name, err)
		}
		if err := writeGzip(filepath.Join(out, name+".8.gz"), page); err != nil {
			return err
		}
		script, err := output(filepath.Join(bin, name), "--completion-script-bash")
		if err != nil {
			return fmt.Errorf("%s bash completion: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(out, "bash-completion", name), []byte(script), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeGzip compresses as gzip -9n does: no file name or time in the header,
// so that the same input gives the same package.
func writeGzip(path, content string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err == nil {
		_, err = io.WriteString(zw, content)
	}
	if err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
