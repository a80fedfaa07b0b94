#!/bin/sh
# Guest test: lying guest agents and a real migration cannot make hostctl
# punch anything or hang.
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
d=$(mktemp -d "${TMPDIR:-/tmp}/hthostctl.XXXXXX") || exit 1
trap 'rm -rf "$d"' EXIT
export d
"$vm/hostctl-vm.sh" hostile 'hostctl_guest & ht-ready; wait'
