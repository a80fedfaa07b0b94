#!/bin/sh
# Guest test: hostctl grants move guest node free memory and host backing by
# the granted amount, per tier, both ways; rebalance; agent restart.
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
d=$(mktemp -d "${TMPDIR:-/tmp}/hthostctl.XXXXXX") || exit 1
trap 'rm -rf "$d"' EXIT
export d
"$vm/hostctl-vm.sh" grant 'hostctl_guest & ht-ready; wait'
