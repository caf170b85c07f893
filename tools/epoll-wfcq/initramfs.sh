#!/bin/sh
# initramfs.sh CPIO BIN...: a busybox initramfs holding the guest init
# and the given test programs (static binaries or busybox sh scripts);
# /tests/list names them in run order. EPW_TOOLS="PROG..." adds host
# programs under /bin, a dynamic one with the shared libraries that ldd
# names, at their host paths; EPW_TOOLS_LIBDIR is searched for libraries
# first, and what it holds goes to the guest's /usr/lib/x86_64-linux-gnu.
# EPW_FILES="FILE..." adds files to /tests without listing them.
set -eu
STAGE=initramfs
. "$(dirname "$0")/lib.sh"

cpio=$1; shift
root=$cpio.d
rm -rf "$root"
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/tests"
cp /bin/busybox "$root/bin/busybox"
cp "$HARNESS/guest-init" "$root/init"
chmod +x "$root/init"
: >"$root/tests/list"
sed 's/ *#.*//; /^$/d' "$HARNESS/config/flaky-tests" >"$root/tests/flaky"
for b in "$@"; do
	# Test programs are static ELF binaries or scripts for busybox sh.
	if [ "$(head -c 4 "$b")" = "$(printf '\177ELF')" ]; then
		readelf -l "$b" | grep -q INTERP && die "$b is not static"
	fi
	cp "$b" "$root/tests/"
	basename "$b" >>"$root/tests/list"
done
for f in ${EPW_FILES:-}; do
	cp "$f" "$root/tests/"
done
for t in ${EPW_TOOLS:-}; do
	p=$(command -v "$t") || die "tool $t not found on the host"
	cp "$p" "$root/bin/"
	for lib in $(LD_LIBRARY_PATH=${EPW_TOOLS_LIBDIR:-} ldd "$p" 2>/dev/null |
		sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
		to=$lib
		case $lib in "${EPW_TOOLS_LIBDIR:-//}"/*) to=/usr/lib/x86_64-linux-gnu/${lib##*/} ;; esac
		mkdir -p "$root$(dirname "$to")"
		cp -L "$lib" "$root$to"
	done
done
(cd "$root" && find . | cpio -o -H newc --quiet) >"$cpio.tmp"
mv "$cpio.tmp" "$cpio"
say "$(basename "$cpio"): $# test binaries${EPW_TOOLS:+, tools: $EPW_TOOLS}"
