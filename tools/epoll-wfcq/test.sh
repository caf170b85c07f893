#!/bin/sh
# test.sh: every test of the project. Ends with "N passed, N failed" and
# exits non-zero on any failure or skip.
set -u
STAGE=test
. "$(dirname "$0")/lib.sh"

P=0 F=0 table=
# tally NAME PASSED FAILED: add a stage's counts to the totals.
tally() {
	P=$((P + $2)) F=$((F + $3))
	table="$table$(printf '%-34s %6d %6d' "$1" "$2" "$3")
"
}
# counts FILE NAME: tally a "passed failed [skipped]" file; a skip fails.
counts() {
	if [ -s "$1" ]; then
		read -r p f s <"$1"
		tally "$2" "$p" $((f + ${s:-0}))
	else
		tally "$2" 0 1
	fi
}
banner() { printf '\n==== %s\n' "$*"; }

mkdir -p "$BUILD"
"$HARNESS/deps.sh" || exit 1
banner "wfcqueue in userspace: stress, TSan, differential against liburcu"
make -s -C "$HARNESS/wfcq" check 2>&1 | tee "$BUILD/wfcq-user.log"
tally "wfcqueue userspace tests" "$(grep -c '^ok ' "$BUILD/wfcq-user.log")" \
	"$(grep -c '^not ok ' "$BUILD/wfcq-user.log")"
grep -q '^ok ' "$BUILD/wfcq-user.log" || tally "wfcqueue userspace tests ran" 0 1

banner "Spin model of the ready-list protocol"
"$HARNESS/model/run.sh" 2>&1 | tee "$BUILD/model.log"
tally "Spin model checks" "$(grep -c '^ok ' "$BUILD/model.log")" \
	"$(grep -c '^not ok ' "$BUILD/model.log")"
grep -q '^ok ' "$BUILD/model.log" || tally "Spin model ran" 0 1

banner "LKMM litmus tests of the barrier pairings (herd7)"
t0=$(date +%s)
{ "$HARNESS/base.sh" && "$HARNESS/lkmm/run.sh"; } 2>&1 | tee "$BUILD/lkmm.log"
tally "LKMM litmus tests, $(($(date +%s) - t0)) s" \
	"$(grep -c '^ok ' "$BUILD/lkmm.log")" "$(grep -c '^not ok ' "$BUILD/lkmm.log")"
grep -q '^lkmm: .*, 0 not ok;' "$BUILD/lkmm.log" || tally "LKMM run complete" 0 1

banner "patched kernel: build, boot, epoll selftests and KUnit"
rm -f "$BUILD/patched/guest.counts"
"$HARNESS/run.sh" patched
counts "$BUILD/patched/guest.counts" "selftests+kunit, patched kernel"

banner "series reproduces the mirror"
if "$HARNESS/check-series.sh"; then tally "series = mirror" 1 0; else tally "series = mirror" 0 1; fi

banner "properties of fs/eventpoll.c"
"$HARNESS/properties.sh" | tee "$BUILD/properties.log"
tally "eventpoll.c properties" "$(grep -c '^ok ' "$BUILD/properties.log")" \
	"$(grep -c '^not ok ' "$BUILD/properties.log")"

banner "harness failure behaviour"
rm -f "$BUILD/harness.counts"
"$HARNESS/harness-test.sh" "$BUILD/patched/arch/x86/boot/bzImage"
counts "$BUILD/harness.counts" "harness self-tests"

banner "debug kernel (lockdep + KASAN + DEBUG_LIST): selftests and KUnit"
rm -f "$BUILD/debug/guest.counts"
"$HARNESS/run.sh" debug
counts "$BUILD/debug/guest.counts" "selftests+kunit, debug kernel"

banner "summary"
printf '%-34s %6s %6s\n%s' stage passed failed "$table"
echo "$P passed, $F failed"
[ "$F" = 0 ]
