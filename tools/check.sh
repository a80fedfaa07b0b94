#!/usr/bin/env bash
# The README's test command: install what is missing (tools/packages.txt),
# build out of tree ($BUILD_DIR, default ./build) and run the whole suite:
# unit tests and the two-tier guest tests, then the unit tests under the
# sanitizers (tools/sanitize.sh). Fails if any test fails.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build}
. "$src/tools/deps.sh"
ht_ensure_packages "$src"
ht_build "$src" "$build"
cd "$build"
start=$(date +%s)
if ! make -j"$(nproc)" check; then
	# Show the failures themselves, not only the summary.
	find . -name test-suite.log -exec cat {} +
	echo "tools/check.sh: some tests failed (logs above; build dir $build)" >&2
	exit 1
fi
echo "tools/check.sh: all tests passed in $(( $(date +%s) - start )) s"
# The unit tests again under ASan + UBSan + LSan, in ./build-asan. TSan
# (tools/sanitize.sh thread) passes too but is left out: 5 min of CPU.
"$src/tools/sanitize.sh" address
# The fuzz stage: each libFuzzer harness for FUZZ_SECS (60) s, two at a time.
"$src/tools/fuzz.sh"
