#!/bin/sh
# initramfs.sh CPIO LIST BIN...: a busybox initramfs holding the guest init
# and the given static test binaries; LIST names them in run order.
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
for b in "$@"; do
	readelf -l "$b" | grep -q INTERP && die "$b is not static"
	cp "$b" "$root/tests/"
	basename "$b" >>"$root/tests/list"
done
(cd "$root" && find . | cpio -o -H newc --quiet) >"$cpio.tmp"
mv "$cpio.tmp" "$cpio"
say "$(basename "$cpio"): $# test binaries"
