#!/bin/sh
# build.sh SRC OUT [TARGET...]: build the kernel (default: bzImage and the
# UAPI headers) with ccache; a build error shows the compiler's message.
set -eu
STAGE=build
. "$(dirname "$0")/lib.sh"

src=$1 out=$2; shift 2
[ $# -gt 0 ] || set -- bzImage headers
jobs=${JOBS:-$(nproc)}
mkdir -p "$CCACHE_DIR"
ccache -M "${EPW_CCACHE_SIZE:-8G}" >/dev/null
say "make -j$jobs $* in $out"
t0=$(date +%s)
run "$out/build.log" make -C "$src" O="$out" -j"$jobs" CC="ccache gcc" "$@"
say "built $* in $(( $(date +%s) - t0 ))s ($(grep -c -E '^  (CC|AR|LD)' "$out/build.log" || true) compile/link steps)"
