#!/bin/sh
# Guest test: 256 MiB fast -> slow -> fast, every page and byte checked.
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
exec "$vm/run-guest" --timeout 300 --bin "${abs_top_builddir:-.}/tests/vm/test_migrate" -- test_migrate
