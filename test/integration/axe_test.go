//go:build integration && browser

package integration

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// axe-core, the accessibility engine of browsers' developer tools, as the
// npm registry publishes it: pinned, and checked against the registry's
// integrity hash (`npm view axe-core@4.14.1 dist.integrity`).
const (
	axeVersion   = "4.14.1"
	axeIntegrity = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
)

// axeTags are the rules of WCAG 2.0 and 2.1, levels A and AA.
const axeTags = `['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']`

// axeSource returns axe.min.js of the pinned axe-core. The package comes
// from the npm registry through `npm pack`, kept in the user's cache
// directory between runs and verified every time.
func axeSource(t *testing.T) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cache, "edge-observability", "npm")
	tgz := filepath.Join(dir, "axe-core-"+axeVersion+".tgz")
	b, err := os.ReadFile(tgz)
	if err != nil || npmIntegrity(b) != axeIntegrity {
		if _, err := exec.LookPath("npm"); err != nil {
			t.Fatalf("npm is required to fetch axe-core (scripts/deps.sh test): %v", err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("npm", "pack", "--silent", "axe-core@"+axeVersion, "--pack-destination", dir)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm pack axe-core@%s: %v\n%s", axeVersion, err, out)
		}
		if b, err = os.ReadFile(tgz); err != nil {
			t.Fatal(err)
		}
		if got := npmIntegrity(b); got != axeIntegrity {
			t.Fatalf("%s: integrity %s, want %s", tgz, got, axeIntegrity)
		}
	}
	src, err := tgzFile(b, "package/axe.min.js")
	if err != nil {
		t.Fatalf("%s: %v", tgz, err)
	}
	return string(src)
}

// npmIntegrity is the Subresource Integrity string npm records for a tarball.
func npmIntegrity(b []byte) string {
	sum := sha512.Sum512(b)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

func tgzFile(tgz []byte, name string) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("no %s in the package", name)
		}
		if err != nil {
			return nil, err
		}
		if h.Name == name {
			return io.ReadAll(tr)
		}
	}
}

type axeViolation struct {
	ID, Impact, Help string
	Nodes            []struct{ Target, Summary string }
}

// checkAccessibility runs axe-core's WCAG 2.1 A and AA rules on the page as
// it is now and fails the test for every violation, naming the rule, its
// impact, the element and what is wrong with it.
func (b *browser) checkAccessibility(where string) {
	b.t.Helper()
	b.settled() // which boxes scroll depends on the layout
	if !eval[bool](b, `typeof axe === 'object'`) {
		if b.axe == "" {
			b.axe = axeSource(b.t)
		}
		eval[bool](b, b.axe+";\ntypeof axe === 'object'")
	}
	vs, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, {
			runOnly: {type: 'tag', values: `+axeTags+`}, resultTypes: ['violations']})
		.then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))})))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("axe-core: %v", err)
	}
	for _, v := range vs {
		var nodes []string
		for _, n := range v.Nodes {
			nodes = append(nodes, fmt.Sprintf("  %s: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " ")))
		}
		b.t.Errorf("axe-core %s, %s: %s (%s): %s, on %d elements:\n%s", axeVersion, where, v.ID, v.Impact, v.Help,
			len(v.Nodes), strings.Join(nodes, "\n"))
	}
}
