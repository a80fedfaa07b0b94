#!/usr/bin/env bash
# The README's demo command: install what is missing, build, boot the
# two-tier test guest (node 0: CPUs + fast memory, node 1: CPU-less slow
# memory) and show hypertier-info inside it, then on this host.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build}
. "$src/tools/deps.sh"
ht_ensure_packages "$src"
ht_build "$src" "$build"
export abs_top_builddir=$build abs_top_srcdir=$src

echo "== hypertier-info on this machine"
"$build/tools/hypertier-info"
echo
echo "== Booting the two-tier guest (QEMU, first run downloads the Debian kernel) ..."
"$src/tests/vm/run-guest" --timeout 300 --bin "$build/tools/hypertier-info" -- hypertier-info 2>/dev/null
