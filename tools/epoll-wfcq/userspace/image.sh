#!/bin/sh
# userspace/image.sh: print the path of the guest's root image, building
# it when missing or stale. Two layers, both cached under
# $CACHE/userspace: a Debian 12 minbase tarball from mmdebstrap (systemd,
# udev, dbus, logind, weston; rebuilt only when PKGS or the archive
# change) and the ext4 image made from it plus this folder's guest files
# (units, the boot script, the detector), which takes a minute to remake.
# Nothing is installed on the host but mmdebstrap's own build tools.
set -eu
STAGE=image
TOP=${TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$(dirname "$0")/../lib.sh"

US=$HARNESS/userspace
DIR=$CACHE/userspace
PKGS=systemd,systemd-sysv,udev,dbus,dbus-user-session,libpam-systemd,weston,procps
mkdir -p "$DIR" "$BUILD/userspace"

# The archive the host's apt uses, as apt-private.sh finds it.
uri=$(awk '/^URIs:/ { u = $2 } /^Suites:/ && / bookworm( |$)/ { print u; exit }' \
	/etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$uri" ] || uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' \
	/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
[ -n "$uri" ] || die "no Debian archive address in the host's apt sources"

key=$(printf '%s\n%s\n' "$PKGS" "$uri" | git hash-object --stdin | cut -c1-12)
tar=$DIR/base-$key.tar
if [ ! -f "$tar" ]; then
	command -v mmdebstrap >/dev/null && command -v mke2fs >/dev/null || {
		[ "$(id -u)" = 0 ] || die "install as root: apt-get install mmdebstrap e2fsprogs"
		say "installing mmdebstrap"
		DEBIAN_FRONTEND=noninteractive run "$DIR/apt.log" \
			apt-get install -y --no-install-recommends mmdebstrap e2fsprogs
	}
	say "mmdebstrap bookworm minbase + $PKGS (a few minutes)"
	rm -f "$DIR"/base-*.tar
	run "$BUILD/userspace/mmdebstrap.log" nice -n 10 mmdebstrap --variant=minbase \
		--aptopt='APT::Install-Recommends "false"' \
		--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
		--include="$PKGS" \
		bookworm "$tar.tmp" "$uri"
	mv "$tar.tmp" "$tar"
	say "base tarball $(du -m "$tar" | cut -f1) MiB"
fi

# Layer 2: the guest files, then setup.sh in the root.
files="$US/epw-stuck.c $US/epw-userspace $US/image.sh $US/setup.sh $(ls "$US"/*.service "$US"/*.socket "$US"/*.conf)"
# shellcheck disable=SC2086
key2=$(cat $files | git hash-object --stdin | cut -c1-12)
img=$DIR/root-$key-$key2.img
if [ ! -f "$img" ]; then
	root=$BUILD/userspace/rootfs
	say "image: base $key + guest files $key2"
	rm -rf "$root"
	mkdir -p "$root"
	tar -C "$root" -xf "$tar"
	run "$BUILD/userspace/image.log" gcc -O2 -Wall -static -o "$root/usr/local/sbin/epw-stuck" "$US/epw-stuck.c"
	install -m 755 "$US/epw-userspace" "$root/usr/local/sbin/"
	s=$root/etc/systemd/system
	install -m 644 "$US"/*.service "$US"/*.socket "$s/"
	mkdir -p "$s/serial-getty@ttyS0.service.d"
	install -m 644 "$US/autologin.conf" "$s/serial-getty@ttyS0.service.d/"
	install -m 644 "$US/sysctl.conf" "$root/etc/sysctl.d/epw.conf"
	install -m 644 "$US/dbus-local.conf" "$root/etc/dbus-1/system-local.conf"
	run "$BUILD/userspace/image.log" chroot "$root" sh -s <"$US/setup.sh"
	mb=$(( $(du -sm "$root" | cut -f1) * 3 / 2 + 512 ))
	rm -f "$DIR"/root-*.img
	run "$BUILD/userspace/image.log" mke2fs -q -t ext4 -L epw-root -d "$root" "$img.tmp" "${mb}M"
	mv "$img.tmp" "$img"
	rm -rf "$root"
	say "image $img (${mb} MiB)"
fi
echo "$img"
