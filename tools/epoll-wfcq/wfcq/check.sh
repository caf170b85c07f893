#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run by "make check": build and run every userspace test of wfcqueue.h,
# print "ok NAME" or "not ok NAME" per test (details as "# " lines, full
# output in $O/logs/NAME.log), exit non-zero if any test failed.
#
#   stress           wfcq and spinlock list, P=STRESS_P producers x STRESS_N
#                    nodes, STRESS_REPS runs each: exactly-once, FIFO, rates
#   stress-tsan      the same under ThreadSanitizer, TSAN_N nodes
#   diff             DIFF_OPS random operations per seed in DIFF_SEEDS,
#                    against liburcu cds_wfcq_* and a model
#   warn             CONFIG_DEBUG_LIST checks fire; warn-nodebug: compiled out
#   kunit-user       lib/tests/wfcqueue_kunit.c run in userspace (and under
#                    TSan)
#   mutant-NAME      a known-bad header (mutants.sh) must fail the tests
#                    listed for it; exit status 124 means it hung until
#                    MUTANT_TIMEOUT, which counts as caught
set -u

: "${O:?}" "${MAKE:=make}"
STRESS_N=${STRESS_N:-1000000}
STRESS_P=${STRESS_P:-1,2}
STRESS_REPS=${STRESS_REPS:-3}
TSAN_N=${TSAN_N:-100000}
DIFF_OPS=${DIFF_OPS:-100000}
DIFF_SEEDS=${DIFF_SEEDS:-1 2 3 4 5}
TIMEOUT=${TIMEOUT:-600}
MUTANT_TIMEOUT=${MUTANT_TIMEOUT:-20}
TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}"
export TSAN_OPTIONS

logs=$O/logs
mkdir -p "$logs" || exit 2
failed=0
echo "# wfcqueue.h under test: ${WFCQ_H:-?}"

# run VARIANT TEST LOG TIMEOUT: build and run TEST against the header
# variant (base, m-NAME), output to LOG; return its exit status (124 for
# a timeout, 125 for a build failure).
run() {
	variant=$1 test=$2 log=$3 tmo=$4 dir=$O/$1

	case $test in
	stress)		bin=stress ;;
	stress-tsan)	bin=stress-tsan ;;
	diff)		bin=diff ;;
	warn)		bin=warn ;;
	warn-nodebug)	bin=warn-nodebug ;;
	kunit-user)	bin=kunit-user ;;
	kunit-user-tsan) bin=kunit-user-tsan ;;
	*)		echo "check.sh: unknown test $test" >&2; return 125 ;;
	esac
	if ! $MAKE -s --no-print-directory "$dir/$bin" >"$log" 2>&1; then
		echo "# build of $dir/$bin failed" >>"$log"
		return 125
	fi
	case $test in
	stress)
		timeout "$tmo" "$dir/stress" --baseline -p "$STRESS_P" \
			-n "$STRESS_N" -r "$STRESS_REPS" >>"$log" 2>&1 ;;
	stress-tsan)
		timeout "$tmo" "$dir/stress-tsan" --baseline -p "$STRESS_P" \
			-n "$TSAN_N" -r 1 >>"$log" 2>&1 ;;
	diff)
		for seed in $DIFF_SEEDS; do
			timeout "$tmo" "$dir/diff" "$DIFF_OPS" "$seed" \
				>>"$log" 2>&1 || return $?
		done ;;
	*)
		timeout "$tmo" "$dir/$bin" >>"$log" 2>&1 ;;
	esac
}

for test in stress stress-tsan diff warn warn-nodebug kunit-user \
	    kunit-user-tsan; do
	log=$logs/$test.log
	run base "$test" "$log" "$TIMEOUT"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "ok $test"
		case $test in
		stress|stress-tsan)
			sed -n 's/^/# /; /summary/,$p' "$log" ;;
		diff)
			sed 's/^/# /; s/, all results equal.*, waits/, all equal, waits/' "$log" ;;
		esac
	else
		echo "not ok $test # exit status $rc, log $log"
		tail -n 20 "$log" | sed 's/^/# /'
		failed=$((failed + 1))
	fi
done

sh ./mutants.sh list | while read -r mutant tests; do
	caught=
	for test in $tests; do
		log=$logs/mutant-$mutant-$test.log
		run "m-$mutant" "$test" "$log" "$MUTANT_TIMEOUT"
		rc=$?
		if [ "$rc" -eq 125 ]; then
			caught="build failed"
			break
		fi
		if [ "$rc" -eq 0 ]; then
			caught=
			echo "not ok mutant-$mutant # $test passed on it, log $log"
			break
		fi
		caught="$caught $test($rc)"
	done
	case $caught in
	"build failed")
		echo "not ok mutant-$mutant # build failed, log $log"
		exit 1 ;;
	"")
		exit 1 ;;
	*)
		echo "ok mutant-$mutant # caught by$caught" ;;
	esac
done || failed=$((failed + 1))

if [ "$failed" -ne 0 ]; then
	echo "# $failed test(s) failed"
	exit 1
fi
echo "# all tests passed"
