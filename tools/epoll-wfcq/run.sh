#!/bin/sh
# run.sh VARIANT: the whole run for one kernel: dependencies, base tree,
# series, config, build, selftests, server programs, boot, summary.
# VARIANT: patched (the series), base (no series), debug (the series on a
# lockdep + KASAN kernel), kcsan (the series on a KCSAN kernel), rt (the
# series on a PREEMPT_RT + lockdep kernel).
set -eu
STAGE=run
. "$(dirname "$0")/lib.sh"

variant=$1
patches=${PATCHES:-$TOP/patches}
src=$BUILD/src-patched
extra=
case $variant in
base) src=$BUILD/src-base ;;
patched) ;;
debug) extra=$HARNESS/config/debug.config ;;
kcsan) extra=$HARNESS/config/kcsan.config ;;
rt) extra=$HARNESS/config/rt.config ;;
*) die "unknown variant $variant" ;;
esac
out=$BUILD/$variant
series=$(series "$patches")
# The selftests check behaviour, so the base runs the series' tests too:
# they come from the patched tree, built against the base's headers.
tests_src=$src

times=
stage() {
	name=$1; shift
	s=$(date +%s)
	"$@"
	times="$times $name=$(( $(date +%s) - s ))s"
}

stage deps "$HARNESS/deps.sh"
stage base "$HARNESS/base.sh"
if [ "$variant" = base ]; then
	stage apply "$HARNESS/tree.sh" "$src"
	tests_src=$BUILD/src-patched
	# shellcheck disable=SC2086
	stage apply-tests "$HARNESS/tree.sh" "$tests_src" $series
else
	# shellcheck disable=SC2086
	stage apply "$HARNESS/tree.sh" "$src" $series
fi
# shellcheck disable=SC2046
stage config "$HARNESS/kconfig.sh" "$src" "$out" $(fragments "$src" $extra)
stage build "$HARNESS/build.sh" "$src" "$out"
scale=1
[ "$("$HARNESS/accel.sh" "$out/arch/x86/boot/bzImage")" = kvm ] || scale=${EPW_WATCHDOG_SCALE:-30}
stage selftests sh -c '"$1/selftests.sh" "$2" "$3" "$4" >"$3/tests.list"' - "$HARNESS" "$tests_src" "$out" "$scale"
# The server smoke (servers/run-*) runs on the kernels of make test and of
# make BASE=1 run; EPW_SERVERS=0 leaves it out.
servers=
case $variant in
patched | debug | base) [ "${EPW_SERVERS:-1}" = 0 ] || servers="run-nginx run-redis" ;;
esac
EPW_TOOLS="" EPW_TOOLS_LIBDIR=""
if [ -n "$servers" ]; then
	stage servers sh -c '"$1/servers.sh" >"$2/servers.list"' - "$HARNESS" "$out"
	EPW_TOOLS=$(grep '^/' "$out/servers.list" | tr '\n' ' ')
	EPW_TOOLS_LIBDIR=$(sed -n 's/^libdir //p' "$out/servers.list")
	for s in $servers; do echo "$HARNESS/servers/$s"; done >>"$out/tests.list"
fi
export EPW_TOOLS EPW_TOOLS_LIBDIR
# shellcheck disable=SC2046
stage initramfs "$HARNESS/initramfs.sh" "$out/initramfs.cpio" $(cat "$out/tests.list")
if [ "${EPW_MODE:-}" = shell ]; then
	EPW_INTERACTIVE=1 exec "$HARNESS/boot.sh" "$out/arch/x86/boot/bzImage" \
		"$out/initramfs.cpio" "$out/shell" epw.mode=shell
fi
rc=0
stage boot "$HARNESS/boot.sh" "$out/arch/x86/boot/bzImage" "$out/initramfs.cpio" \
	"$out/guest" "${EPW_TEST_ENV:-}" || rc=1

echo
echo "== $variant kernel $(cat "$out/include/config/kernel.release" 2>/dev/null)," \
	"series: $(git -C "$src" rev-list --count base..HEAD) patches on base"
git -C "$src" log --format='   %h %s' base..HEAD
[ "$tests_src" = "$src" ] || echo "   selftests built from the series: $(git -C "$tests_src" log -1 --format='%h %s')"
[ "$scale" = 1 ] || echo "(TCG: kselftest per-test watchdog stretched x$scale)"
"$HARNESS/results.sh" "$out/guest" $(xargs -n1 basename <"$out/tests.list") || rc=1
echo "stage times:$times"
echo "console log: $out/guest.console"
exit $rc
