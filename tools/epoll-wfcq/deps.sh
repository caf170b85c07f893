#!/bin/sh
# Check the build dependencies; install the missing ones with apt-get
# when root, else print the apt-get line and stop.
set -eu
STAGE=deps
. "$(dirname "$0")/lib.sh"

# command-or-file:package
DEPS="gcc:gcc make:make flex:flex bison:bison bc:bc perl:perl
/usr/include/libelf.h:libelf-dev /usr/include/openssl/ssl.h:libssl-dev
cpio:cpio qemu-system-x86_64:qemu-system-x86 /bin/busybox:busybox-static
ccache:ccache git:git xz:xz-utils dpkg-deb:dpkg timeout:coreutils
/usr/lib/x86_64-linux-gnu/libc.a:libc6-dev pahole:dwarves
/usr/include/x86_64-linux-gnu/urcu/wfcqueue.h:liburcu-dev spin:spin
${EPW_DEPS_EXTRA:-}"

missing=
for d in $DEPS; do
	what=${d%%:*}
	case $what in
	/*) [ -e "$what" ] && continue ;;
	*) command -v "$what" >/dev/null 2>&1 && continue ;;
	esac
	say "missing: $what (Debian package ${d#*:})"
	missing="$missing ${d#*:}"
done
[ -z "$missing" ] && { say "all build dependencies present"; exit 0; }

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ] || [ -n "${EPW_NO_INSTALL:-}" ]; then
	die "install them as root: apt-get update && $cmd"
fi
say "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
run "$CACHE/apt.log" sh -c "apt-get update && $cmd"
