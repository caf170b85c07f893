#!/bin/sh
# Get the base tree: the pinned linux-source package, fetched through a
# private apt configuration (apt-private.sh) and unpacked once into a
# git repository with one commit tagged "base".
set -eu
STAGE=base
. "$(dirname "$0")/lib.sh"
APT=$HARNESS/apt-private.sh

if [ -f "$BASE_REPO/epw-base-ok" ]; then
	say "base $(cat "$BASE_REPO/epw-base-ok") (cached in $BASE_REPO)"
	exit 0
fi

# newest SUITE...: "suite package version" of the newest linux-source-7.*.
newest() {
	for s in "$@"; do
		run "$CACHE/apt-$s.log" "$APT" "$s" update
		for p in $("$APT" "$s" pkgnames linux-source-7.); do
			"$APT" "$s" madison "$p" | awk -v s="$s" '{ print s, $1, $3 }'
		done
	done | sort -k3,3V | tail -n 1
}

mkdir -p "$CACHE/dl"
cd "$CACHE/dl"
suite=$BASE_SUITE pkg=$BASE_PKG ver=$BASE_VER
deb=${pkg}_$(echo "$ver" | sed 's/:/%3a/')_all.deb
if [ ! -f "$deb" ]; then
	say "downloading $pkg=$ver from $suite"
	run "$CACHE/apt-$suite.log" "$APT" "$suite" update
	if ! "$APT" "$suite" download "$pkg=$ver" >"$CACHE/download.log" 2>&1; then
		set -- $(newest trixie-backports forky sid experimental)
		[ $# = 3 ] || die "no linux-source-7.* in trixie-backports, forky, sid or experimental"
		suite=$1 pkg=$2 ver=$3
		say "WARNING: $BASE_PKG=$BASE_VER is not in the archive; falling back to $pkg=$ver from $suite (the series will be applied with git am -3)"
		run "$CACHE/download.log" "$APT" "$suite" download "$pkg=$ver"
		echo "$pkg $ver" >"$CACHE/fallback-version"
		deb=${pkg}_$(echo "$ver" | sed 's/:/%3a/')_all.deb
	fi
fi

rm -rf "$BASE_REPO.tmp"
mkdir -p "$BASE_REPO.tmp"
say "unpacking $deb"
dpkg-deb --fsys-tarfile "$deb" |
	tar -xO "./usr/src/$pkg.tar.xz" |
	tar -xJ -C "$BASE_REPO.tmp" --strip-components=1
say "committing the base tree"
cd "$BASE_REPO.tmp"
git init -q
# Debian's top-level .gitignore ends with "/*": add everything with -f.
git add -f .
kgit commit -q -m "Linux $(make -s kernelversion) from Debian $pkg $ver"
kgit tag base
echo "$pkg $ver" >epw-base-ok
cd "$CACHE"
rm -rf "$BASE_REPO"
mv "$BASE_REPO.tmp" "$BASE_REPO"
say "base $pkg $ver ready in $BASE_REPO"
