#!/bin/sh
# servers.sh: the programs of the guest's server smoke (servers/run-*):
# nginx and wrk, redis-server, redis-benchmark and redis-cli, from
# Debian 12. Installing the packages would start nginx and redis on the
# host, so the first run fetches them with apt-get download and unpacks
# them with dpkg-deb -x into $CACHE/servers/root; nothing is installed.
# Prints the programs' paths, one a line, for initramfs.sh's EPW_TOOLS;
# their libraries that the host lacks are in EPW_TOOLS_LIBDIR, which it
# prints last as "libdir DIR".
set -eu
STAGE=servers
. "$(dirname "$0")/lib.sh"

PKGS="nginx wrk libluajit-5.1-2 redis-server redis-tools libjemalloc2 liblzf1"
PROGS="usr/sbin/nginx usr/bin/wrk usr/bin/redis-server usr/bin/redis-benchmark usr/bin/redis-cli"
DL=$CACHE/dl-servers
ROOT=$CACHE/servers/root
LIB=$ROOT/usr/lib/x86_64-linux-gnu

if [ ! -f "$ROOT/.epw-ok" ]; then
	mkdir -p "$DL"
	rm -f "$DL"/*.deb
	say "fetching $PKGS"
	# shellcheck disable=SC2086
	if ! (cd "$DL" && apt-get download $PKGS) >"$DL/download.log" 2>&1; then
		say "apt-get download failed; updating the package lists and retrying"
		run "$DL/update.log" apt-get update
		# shellcheck disable=SC2086
		(cd "$DL" && run "$DL/download.log" apt-get download $PKGS)
	fi
	# shellcheck disable=SC2086
	unpack_debs "$DL" "$ROOT" .epw-ok $PKGS
	say "unpacked $(cd "$DL" && echo ./*.deb | sed 's|\./||g')"
fi

for p in $PROGS; do
	[ -x "$ROOT/$p" ] || die "no $p in $ROOT"
	missing=$(LD_LIBRARY_PATH=$LIB ldd "$ROOT/$p" | sed -n 's/^[[:space:]]*\([^ ]*\) => not found/\1/p')
	[ -z "$missing" ] || die "$p needs libraries that neither the host nor its packages have: $missing"
	echo "$ROOT/$p"
done
echo "libdir $LIB"
