# deps.sh - sourced by check.sh and demo.sh: make sure the Debian packages of
# tools/packages.txt are installed (apt-get, --no-install-recommends), so that
# on a fresh Debian 12 machine one command does all set-up. Installs only
# what is missing; as non-root it uses sudo, or says what to run.
ht_ensure_packages() {
	local src=$1 pkgs missing p
	pkgs=$(sed -n 's/^PACKAGES=//p' "$src/tools/packages.txt")
	missing=
	for p in $pkgs; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "Installing missing Debian packages:$missing"
	local sudo=
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null 2>&1 || {
			echo "Missing packages:$missing. Run as root: apt-get install -y --no-install-recommends$missing" >&2
			return 1
		}
		sudo=sudo
	fi
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $pkgs
}

# Configure (once) and build out of tree in $2.
ht_build() {
	local src=$1 build=$2
	if [ ! -x "$src/configure" ] || [ "$src/configure.ac" -nt "$src/configure" ]; then
		(cd "$src" && autoreconf -fi >/dev/null 2>&1 || autoreconf -fi)
	fi
	mkdir -p "$build"
	(cd "$build" && { [ -f Makefile ] || "$src/configure" -q; } && make -j"$(nproc)" -s)
}
