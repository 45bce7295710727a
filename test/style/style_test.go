// Package style checks the rules of the developers' guide that a machine
// can: a function reads top to bottom in one screen (no Go function over 60
// lines outside tests, no shell function over 60 lines), and shell does not
// parse the Prometheus text format (benchtool's Go parser does).
package style

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"mvdan.cc/sh/v3/syntax"
)

const (
	root     = "../.."
	maxLines = 60
)

// longGo are functions over maxLines lines left as they are for now, by
// FILE:FUNCTION. Each must still be over the limit: a function split since
// is taken off the list.
var longGo = map[string]bool{}

// files lists the repository's files below dirs whose names pass keep,
// skipping test data and bench results.
func files(t *testing.T, keep func(path string) bool, dirs ...string) []string {
	t.Helper()
	var out []string
	for _, d := range dirs {
		top := filepath.Join(root, d)
		err := filepath.WalkDir(top, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() && p != top && (e.Name() == "testdata" || e.Name() == "results" || strings.HasPrefix(e.Name(), ".")) {
				return filepath.SkipDir
			}
			if !e.IsDir() && keep(p) {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func rel(p string) string { r, _ := filepath.Rel(root, p); return filepath.ToSlash(r) }

func TestGoFunctionsFitOnAScreen(t *testing.T) {
	isSource := func(p string) bool { return strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") }
	seen := map[string]bool{}
	for _, p := range files(t, isSource, ".") {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1
			key := rel(p) + ":" + fn.Name.Name
			switch {
			case n > maxLines && longGo[key]:
				seen[key] = true
			case n > maxLines:
				t.Errorf("%s:%d: %s is %d lines long; split it (at most %d)", rel(p), fset.Position(fn.Pos()).Line, fn.Name.Name, n, maxLines)
			}
		}
	}
	for k := range longGo {
		if !seen[k] {
			t.Errorf("%s is no longer over %d lines: take it off longGo", k, maxLines)
		}
	}
}

// TestArchitectureNamesEveryPackage: docs/ARCHITECTURE.md names every
// directory that holds Go code, so a newcomer finds each package's job there.
func TestArchitectureNamesEveryPackage(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(root, "docs/ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	dirs := map[string]bool{}
	for _, p := range files(t, func(p string) bool { return strings.HasSuffix(p, ".go") }, ".") {
		dirs[rel(filepath.Dir(p))] = true
	}
	if len(dirs) < 20 {
		t.Fatalf("found %d packages; is the repository root %s?", len(dirs), root)
	}
	for d := range dirs {
		if !strings.Contains(string(doc), d) {
			t.Errorf("docs/ARCHITECTURE.md does not name %s", d)
		}
	}
}

// shellFiles parses every shell script under test/ and scripts/.
func shellFiles(t *testing.T) map[string]*syntax.File {
	t.Helper()
	out := map[string]*syntax.File{}
	for _, p := range files(t, func(p string) bool { return strings.HasSuffix(p, ".sh") }, "test", "scripts") {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(string(b)), rel(p))
		if err != nil {
			t.Fatalf("%v", err)
		}
		out[rel(p)] = f
	}
	if len(out) < 10 {
		t.Fatalf("found %d shell scripts; is the repository root %s?", len(out), root)
	}
	return out
}

func TestShellFunctionsFitOnAScreen(t *testing.T) { checkShell(t, longShellFunctions) }

// checkShell reports what find finds in each shell script.
func checkShell(t *testing.T, find func(*syntax.File) []string) {
	for name, f := range shellFiles(t) {
		for _, v := range find(f) {
			t.Errorf("%s:%s", name, v)
		}
	}
}

// longShellFunctions finds the functions of f over maxLines lines, nested
// ones too.
func longShellFunctions(f *syntax.File) []string {
	var out []string
	syntax.Walk(f, func(n syntax.Node) bool {
		if fn, ok := n.(*syntax.FuncDecl); ok {
			if lines := int(fn.End().Line()-fn.Pos().Line()) + 1; lines > maxLines {
				out = append(out, fmt.Sprintf("%d: %s() is %d lines long; split it (at most %d)", fn.Pos().Line(), fn.Name.Value, lines, maxLines))
			}
		}
		return true
	})
	return out
}

// The checks find what they are for, in a script written to break both
// rules (and a heredoc that looks like a function's end).
func TestShellChecksFindViolations(t *testing.T) {
	script := "outer() {\n\tinner() {\n" + strings.Repeat("\techo x\n", maxLines) + "\t}\n\tcat <<EOF\n}\nEOF\n}\n" +
		"short() { curl -s \"$U/metrics\" | grep -v '^#' | awk '{ print $2 }'; }\n" +
		"fine() { v=$(curl -s \"$U/metrics\" | benchtool samples x); echo \"$v\" | sed s/a/b/; }\n"
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(script), "x.sh")
	if err != nil {
		t.Fatal(err)
	}
	if got := longShellFunctions(f); len(got) != 2 || !strings.Contains(got[0], "outer() is 67 lines") || !strings.Contains(got[1], "inner() is 62 lines") {
		t.Errorf("long functions: %q", got)
	}
	if got := expositionParsing(f); len(got) != 1 || got[0] != "68: /metrics piped into awk" {
		t.Errorf("exposition parsing: %q", got)
	}
}

// TestShellDoesNotParseExposition: no pipeline takes /metrics into awk, sed or
// jq; `benchtool metric` reads the text format with Prometheus's parser.
func TestShellDoesNotParseExposition(t *testing.T) { checkShell(t, expositionParsing) }

// expositionParsing finds the pipelines of f in which a command fetches a
// /metrics URL and a later one is awk, sed or jq.
func expositionParsing(f *syntax.File) []string {
	var out []string
	inner := map[*syntax.BinaryCmd]bool{} // the rest of a pipeline already looked at
	syntax.Walk(f, func(n syntax.Node) bool {
		b, ok := n.(*syntax.BinaryCmd)
		if !ok || (b.Op != syntax.Pipe && b.Op != syntax.PipeAll) || inner[b] {
			return true
		}
		stages := pipeline(b, inner)
		for i, s := range stages {
			if !mentions(s, "/metrics") {
				continue
			}
			for _, later := range stages[i+1:] {
				if c := command(later); slices.Contains([]string{"awk", "sed", "jq"}, c) {
					out = append(out, fmt.Sprintf("%d: /metrics piped into %s", b.Pos().Line(), c))
				}
			}
		}
		return true // pipelines within the stages, in $(...)
	})
	return out
}

// pipeline lists the stages of a | b | c, marking the pipelines it is made
// of as inner.
func pipeline(n *syntax.BinaryCmd, inner map[*syntax.BinaryCmd]bool) []*syntax.Stmt {
	var out []*syntax.Stmt
	for _, s := range []*syntax.Stmt{n.X, n.Y} {
		if b, ok := s.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.Pipe || b.Op == syntax.PipeAll) {
			inner[b] = true
			out = append(out, pipeline(b, inner)...)
		} else {
			out = append(out, s)
		}
	}
	return out
}

// command is a stage's program, "" when it is not a simple command.
func command(s *syntax.Stmt) string {
	c, ok := s.Cmd.(*syntax.CallExpr)
	if !ok || len(c.Args) == 0 {
		return ""
	}
	return c.Args[0].Lit()
}

// mentions reports whether text is in any literal part of the stage.
func mentions(s *syntax.Stmt, text string) bool {
	found := false
	syntax.Walk(s, func(n syntax.Node) bool {
		if l, ok := n.(*syntax.Lit); ok && strings.Contains(l.Value, text) {
			found = true
		}
		return !found
	})
	return found
}
