#!/bin/sh
# Get the base tree: the pinned linux-source-6.12 package, unpacked
# once into a git repository with one commit tagged "base".
set -eu
STAGE=base
. "$(dirname "$0")/lib.sh"

if [ -f "$BASE_REPO/epw-base-ok" ]; then
	say "base $(cat "$BASE_REPO/epw-base-ok") (cached in $BASE_REPO)"
	exit 0
fi

mkdir -p "$CACHE"
cd "$CACHE"
ver=$BASE_VER
if ! ls "${BASE_PKG}_$(echo "$ver" | sed 's/:/%3a/')_all.deb" >/dev/null 2>&1; then
	say "downloading $BASE_PKG=$ver"
	if ! apt-get download "$BASE_PKG=$ver" >download.log 2>&1; then
		ver=$(apt-cache madison "$BASE_PKG" | awk 'NR == 1 { print $3 }')
		[ -n "$ver" ] || die "apt has no $BASE_PKG (run apt-get update?)"
		say "WARNING: $BASE_PKG=$BASE_VER is not in the archive; falling back to $ver (the series will be applied with git am -3)"
		run "$CACHE/download.log" apt-get download "$BASE_PKG=$ver"
		echo "$ver" >"$CACHE/fallback-version"
	fi
fi
deb=$(ls "${BASE_PKG}"_*_all.deb | grep -F "$(echo "$ver" | sed 's/:/%3a/')" | head -n 1)

rm -rf "$BASE_REPO.tmp"
mkdir -p "$BASE_REPO.tmp"
say "unpacking $deb"
dpkg-deb --fsys-tarfile "$deb" |
	tar -xO "./usr/src/$BASE_PKG.tar.xz" |
	tar -xJ -C "$BASE_REPO.tmp" --strip-components=1
say "committing the base tree"
cd "$BASE_REPO.tmp"
git init -q
# Debian's top-level .gitignore ends with "/*": add everything with -f.
git add -f .
kgit commit -q -m "Linux $(make -s kernelversion) from Debian $BASE_PKG $ver"
kgit tag base
echo "$BASE_PKG $ver" >epw-base-ok
cd "$CACHE"
rm -rf "$BASE_REPO"
mv "$BASE_REPO.tmp" "$BASE_REPO"
say "base $BASE_PKG $ver ready in $BASE_REPO"
