#!/bin/sh
# apt-private.sh SUITE update | download PKG[=VER]... | madison PKG... |
# pkgnames PREFIX: apt on one suite of the host's Debian archive through a
# private configuration under $CACHE/apt/SUITE; the host's apt setup is
# not touched. The archive's address is read from the host's sources.
set -eu
STAGE=${STAGE:-apt}
. "$(dirname "$0")/lib.sh"

suite=$1 op=$2; shift 2
dir=$CACHE/apt/$suite
mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"

if [ ! -s "$dir/sources.list" ]; then
	uri=$(awk '/^URIs:/ { u = $2 } /^Suites:/ && / bookworm( |$)/ { print u; exit }' \
		/etc/apt/sources.list.d/*.sources 2>/dev/null || true)
	[ -n "$uri" ] || uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
	[ -n "$uri" ] || die "no Debian archive address in the host's apt sources"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" \
		>"$dir/sources.list"
fi

# The sandbox user _apt cannot read a cache under root's home: fetch as root.
o() {
	_prog=$1; shift
	"$_prog" -o Dir::Etc::sourcelist="$dir/sources.list" -o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" \
		-o APT::Sandbox::User=root "$@"
}
case $op in
update | download) o apt-get "$op" "$@" ;;
madison | pkgnames) o apt-cache "$op" "$@" ;;
*) die "unknown operation $op" ;;
esac
