package cmddoc

import (
	"fmt"
	"io"
	"strings"
)

// Page is a manual page in section 8 of a program with subcommands.
type Page struct {
	Program     string // e.g. "edgectl"
	Summary     string // the whatis line, after "NAME \-"
	Source      string // footer, e.g. "edge-observability 1.2.3"
	Description string // paragraphs separated by blank lines
	Commands    []Command
	Sections    []Section // after COMMANDS, e.g. EXIT STATUS, SEE ALSO
}

// Section is a further section of a manual page: plain paragraphs.
type Section struct {
	Title string
	Text  string
}

// WriteMan writes p in man(7) format.
func WriteMan(w io.Writer, p Page) error {
	var b strings.Builder
	fmt.Fprintf(&b, ".TH %s 8 \"\" %q \"System Administration\"\n", strings.ToUpper(p.Program), p.Source)
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", roff(p.Program), roff(p.Summary))
	b.WriteString(".SH SYNOPSIS\n")
	for _, c := range p.Commands {
		fmt.Fprintf(&b, ".B %s %s\n%s\n.br\n", roff(p.Program), roff(c.Name), synopsisArgs(c))
	}
	writeParagraphs(&b, "DESCRIPTION", p.Description)
	b.WriteString(".SH COMMANDS\n")
	for _, c := range p.Commands {
		fmt.Fprintf(&b, ".SS \"%s %s\"\n%s\n", roff(p.Program), roff(c.Name), roff(c.Summary))
		for _, f := range c.Flags {
			b.WriteString(".TP\n\\fB\\-\\-" + roff(f.Name) + "\\fR")
			if f.Value != "" {
				b.WriteString(" \\fI" + roff(f.Value) + "\\fR")
			}
			b.WriteString("\n" + roff(f.Usage))
			if f.Default != "" {
				b.WriteString(" (default: " + roff(f.Default) + ")")
			}
			b.WriteString("\n")
		}
	}
	for _, s := range p.Sections {
		writeParagraphs(&b, s.Title, s.Text)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func synopsisArgs(c Command) string {
	var parts []string
	if len(c.Flags) > 0 {
		parts = append(parts, "[\\fIflags\\fR]")
	}
	if c.Args != "" {
		parts = append(parts, "\\fI"+roff(c.Args)+"\\fR")
	}
	return strings.Join(parts, " ")
}

func writeParagraphs(b *strings.Builder, title, text string) {
	fmt.Fprintf(b, ".SH %q\n", title)
	for i, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if i > 0 {
			b.WriteString(".PP\n")
		}
		b.WriteString(roff(para) + "\n")
	}
}

// roff escapes text for man(7): backslashes, minus signs, and a leading
// period or quote that would start a request.
func roff(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}
