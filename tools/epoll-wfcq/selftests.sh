#!/bin/sh
# selftests.sh SRC OUT [SCALE]: build the epoll kselftests statically
# against the kernel's UAPI headers in OUT/usr/include, with the kselftest
# watchdog stretched SCALE times (watchdog.h); print the binaries, in order.
set -eu
STAGE=selftests
. "$(dirname "$0")/lib.sh"

src=$1 out=$2 scale=${3:-1}
dir=$src/tools/testing/selftests/filesystems/epoll
# The watchdog is no dependency of the tests' Makefile: name the build
# directory after it, so that a changed watchdog.h rebuilds the tests.
bin=$out/selftests-x$scale-$(git hash-object "$HARNESS/watchdog.h" | cut -c1-12)
cc="ccache gcc"
[ "$scale" = 1 ] || cc="$cc -include $HARNESS/watchdog.h -DEPW_WATCHDOG_SCALE=$scale"
mkdir -p "$bin"
set -- -C "$dir" OUTPUT="$bin" KHDR_INCLUDES="-isystem $out/usr/include" \
	CC="$cc" LDFLAGS=-static
run "$out/selftests.log" make "$@"
tests=$(make -s "$@" COLLECTION=epoll emit_tests | sed -n 's/^epoll://p')
[ -n "$tests" ] || die "no test programs in $dir"
# EPW_SELFTESTS="NAME...": only these programs, for a kernel too slow
# to run them all.
if [ -n "${EPW_SELFTESTS:-}" ]; then
	for t in $EPW_SELFTESTS; do
		printf '%s\n' $tests | grep -qxF "$t" || die "EPW_SELFTESTS: no test program $t"
	done
	tests=$EPW_SELFTESTS
fi
for t in $tests; do
	[ -x "$bin/$t" ] || die "$t was not built"
	echo "$bin/$t"
done
