#!/bin/sh
# Guest test: the fast budget of a program running under libhypertier
# follows a grant made by hostctl while it runs.
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
b=${abs_top_builddir:-.}
d=$(mktemp -d "${TMPDIR:-/tmp}/hthostctl.XXXXXX") || exit 1
trap 'rm -rf "$d"' EXIT
export d
"$vm/hostctl-vm.sh" budget 'HYPERTIER_CONF=epoch=100ms,sample=none hostctl_guest & ht-ready; wait' --bin "$b/tests/vm/hostctl_budget"
