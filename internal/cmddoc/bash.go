package cmddoc

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
)

// WriteBashCompletion writes a bash completion script for program: subcommand
// names, then the flags of the subcommand on the line. A command named "a b"
// is completed as subcommand "b" of "a".
func WriteBashCompletion(w io.Writer, program string, commands []Command) error {
	subs := map[string][]string{} // command path, from the program name on -> its subcommands
	var flags strings.Builder
	for _, c := range commands {
		parts := append([]string{program}, strings.Fields(c.Name)...)
		for i := 1; i < len(parts); i++ {
			parent := strings.Join(parts[:i], " ")
			if !slices.Contains(subs[parent], parts[i]) {
				subs[parent] = append(subs[parent], parts[i])
			}
		}
		names := make([]string, len(c.Flags))
		for i, f := range c.Flags {
			names[i] = "--" + f.Name
		}
		fmt.Fprintf(&flags, "\t\t[%q]=%q\n", strings.Join(parts, " "), strings.Join(names, " "))
	}
	var subTable strings.Builder
	for _, p := range slices.Sorted(maps.Keys(subs)) {
		sort.Strings(subs[p])
		fmt.Fprintf(&subTable, "\t\t[%q]=%q\n", p, strings.Join(subs[p], " "))
	}
	fn := "_" + strings.NewReplacer("-", "_", ".", "_").Replace(program)
	_, err := fmt.Fprintf(w, `# bash completion for %[1]s, generated from its flag definitions by %[1]s --completion-script-bash
%[2]s() {
	local -A subs=(
%[3]s	)
	local -A flags=(
%[4]s	)
	local cur=${COMP_WORDS[COMP_CWORD]} path=%[1]s i w
	# The command path: the words before the cursor that name a subcommand of the path so far.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		[[ " ${subs[$path]-} " == *" $w "* ]] && path="$path $w"
	done
	if [[ $cur == -* || -z ${subs[$path]-} ]]; then
		mapfile -t COMPREPLY < <(compgen -W "${flags[$path]-}" -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -W "${subs[$path]}" -- "$cur")
	fi
}
complete -F %[2]s %[1]s
`, program, fn, subTable.String(), flags.String())
	return err
}
