#!/bin/sh
# qemu-plugin-header.sh DIR - puts QEMU's plugin API header (qemu-plugin.h)
# into DIR, taken from the Debian source package of the installed qemu-user:
# no binary package ships it, and the plugin's API version must match the
# QEMU that loads it. Uses a private apt config (deb-src lines of the
# running release, lists under DIR), so the system's apt setup is left alone;
# apt checks the files against the signed Sources index. Cached: DIR/version
# names the source version the header came from; a match fetches nothing.
# Exit 1 (with a reason) when qemu-user is missing or the fetch fails.
set -eu
D=${1:?usage: qemu-plugin-header.sh DIR}
v=$(dpkg-query -W -f='${source:Version}' qemu-user 2>/dev/null) || v=
[ -n "$v" ] || { echo "qemu-plugin-header: qemu-user is not installed" >&2; exit 1; }
[ -s "$D/qemu-plugin.h" ] && [ "$(cat "$D/version" 2>/dev/null)" = "$v" ] && exit 0
. /etc/os-release
mkdir -p "$D/fetch/lists/partial"
W=$(cd "$D/fetch" && pwd) # apt takes relative paths as under /etc/apt
rm -rf "$W/lists/partial" && mkdir -p "$W/lists/partial"
for s in "$VERSION_CODENAME" "$VERSION_CODENAME-updates"; do
	echo "deb-src http://deb.debian.org/debian $s main"
done >"$W/sources.list"
echo "deb-src http://deb.debian.org/debian-security $VERSION_CODENAME-security main" >>"$W/sources.list"
A="-q -o Dir::Etc::sourcelist=$W/sources.list -o Dir::Etc::sourceparts=/dev/null -o Dir::State::Lists=$W/lists
   -o Dir::Cache=$W -o APT::Sandbox::User=root"
# shellcheck disable=SC2086
{ apt-get $A update && (cd "$W" && apt-get $A source --download-only "qemu=$v"); } >"$W/apt.log" 2>&1 ||
	{ echo "qemu-plugin-header: fetching qemu $v sources failed (see $W/apt.log)" >&2; exit 1; }
# The whole package with Debian's patches (stable updates) applied, 3 s.
(cd "$W" && dpkg-source --no-check -x ./*.dsc src) >>"$W/apt.log" 2>&1 &&
	cp "$W/src/include/qemu/qemu-plugin.h" "$D/" ||
	{ echo "qemu-plugin-header: unpacking qemu $v failed (see $W/apt.log)" >&2; exit 1; }
echo "$v" >"$D/version"
rm -rf "$W"
