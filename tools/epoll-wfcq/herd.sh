#!/bin/sh
# herd.sh [HERD7-ARGS...]: run herd7 under the base tree's Linux-kernel
# memory model (LKMM), $BASE_REPO/tools/memory-model.
#
# Debian 12 has no herdtools7, and forky's package needs forky's libc: the
# first run fetches herdtools7, libc6 and libgmp10 from forky through the
# private apt configuration (apt-private.sh; the host's apt setup is not
# touched), unpacks them with dpkg-deb -x into $CACHE/herd/root, and from
# then on herd7 runs through that libc's own loader.
#
#   herd.sh FILE.litmus...     herd7 -conf linux-kernel.cfg FILE...
#   herd.sh --fetch            only fetch and unpack, print herd7's version
#   herd.sh --sparse ARGS...   forky's sparse, which 7.3's checker-valid.sh
#                              accepts (Debian 12's 0.6.4 lacks
#                              __typeof_unqual__); see sparse.sh
#
# Environment: EPW_LKMM overrides the model directory.
set -eu
STAGE=${STAGE:-herd}
. "$(dirname "$0")/lib.sh"

SUITE=forky
PKGS="herdtools7 libc6 libgmp10 sparse"
DL=$CACHE/dl-$SUITE
ROOT=$CACHE/herd/root
LKMM=${EPW_LKMM:-$BASE_REPO/tools/memory-model}

unpack() {
	[ -f "$ROOT/.epw-forky-ok" ] && return 0
	mkdir -p "$DL"
	for p in $PKGS; do
		set -- "$DL/${p}"_*.deb
		[ -f "$1" ] && continue
		say "fetching $PKGS from $SUITE"
		run "$CACHE/apt-$SUITE.log" "$HARNESS/apt-private.sh" "$SUITE" update
		# shellcheck disable=SC2086
		(cd "$DL" && run "$CACHE/dl-$SUITE.log" \
			"$HARNESS/apt-private.sh" "$SUITE" download $PKGS)
		break
	done
	say "unpacking $PKGS"
	# shellcheck disable=SC2086
	unpack_debs "$DL" "$ROOT" .epw-forky-ok $PKGS
}

unpack

# The loader: in the multiarch directory (forky) or in usr/lib64 (its
# PT_INTERP path, a relative symlink in forky). Never one outside $ROOT: an
# absolute symlink would lead back to the host's older loader.
LIB=$ROOT/usr/lib/x86_64-linux-gnu
LD=
for f in "$LIB/ld-linux-x86-64.so.2" "$ROOT/usr/lib64/ld-linux-x86-64.so.2"; do
	[ -e "$f" ] || continue
	case $(readlink -f "$f") in
	"$ROOT"/*) LD=$f; break ;;
	esac
done
[ -n "$LD" ] || die "no ld-linux-x86-64.so.2 inside $ROOT"
HERD=$ROOT/usr/bin/herd7
[ -x "$HERD" ] || die "no herd7 in $ROOT/usr/bin"
LIBDIR=$ROOT/usr/share/herdtools7/herd
[ -d "$LIBDIR" ] || die "no $LIBDIR"

if [ "${1:-}" = --sparse ]; then
	shift
	exec "$LD" --library-path "$LIB" "$ROOT/usr/bin/sparse" "$@"
fi
if [ "${1:-}" = --fetch ]; then
	exec "$LD" --library-path "$LIB" "$HERD" -version
fi
[ -f "$LKMM/linux-kernel.cfg" ] ||
	die "no LKMM in $LKMM (run tools/epoll-wfcq/base.sh first)"
exec "$LD" --library-path "$LIB" "$HERD" -set-libdir "$LIBDIR" \
	-I "$LKMM" -conf "$LKMM/linux-kernel.cfg" "$@"
