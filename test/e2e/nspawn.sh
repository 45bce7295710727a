# shellcheck shell=bash
# The nspawn helpers under their former names, for scripts that do not source
# test/lib yet (test/bench/stack.sh).
_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")/../lib" && pwd)
# shellcheck source=test/lib/harness.sh
. "$_lib/harness.sh"
# shellcheck source=test/lib/rootfs.sh
. "$_lib/rootfs.sh"
# shellcheck source=test/lib/nspawn.sh
. "$_lib/nspawn.sh"
ns_run() { rootfs_run "$@"; }
boot() { guest_boot; }
stop_container() { guest_stop; }
cexec() { gexec_in "$@"; }
cnet() { gnet "$@"; }
