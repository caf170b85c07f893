#!/bin/sh
# debug-test.sh: the series on sanitizer kernels (make debug-test).
#  1. lockdep + KASAN + DEBUG_LIST + DEBUG_ATOMIC_SLEEP (run.sh debug):
#     every epoll selftest, the race tests and KUnit;
#  2. KCSAN (run.sh kcsan): the same tests; a data race reported with a
#     frame in epoll or wfcqueue code fails, others are filed (results.sh);
#  3. a bounded fuzz on the debug kernel: trinity on the epoll calls as an
#     unprivileged user for FUZZ_SECS seconds (default 600), then
#     stress-ng's epoll stressor and fuzz/fuzz-epoll.c, FUZZ_SECS/4 each;
#  4. stress-ng and fuzz-epoll again on the KCSAN kernel (same filter);
#  5. PREEMPT_RT + lockdep (run.sh rt): every epoll selftest, the race
#     tests and KUnit. Its watchdog stretch is EPW_RT_WATCHDOG_SCALE
#     (default 120): under TCG upstream's epoll65 (64 threads, 100000
#     epoll_wait() each) needs more than 900 s on that kernel;
#  6. the RT stall reproducer on that kernel: rt/rt-stall.c for RTS_SECS
#     seconds (default 120), producers in a cpu.max-throttled cgroup and
#     a SCHED_FIFO epoll waiter (make rt-stall runs it for an hour on
#     the kernels without lockdep).
# Any kernel report fails the stage that saw it. DEBUG_STAGES=1,2,...
# runs only those stages (a fuzz stage and stage 6 need their kernel's
# stage). Ends with a table and "N passed, N failed"; exits non-zero on
# any failure.
set -u
STAGE=debug-test
. "$(dirname "$0")/lib.sh"

FUZZ_SECS=${FUZZ_SECS:-600}
case $FUZZ_SECS in '' | *[!0-9]*) die "FUZZ_SECS must be a number of seconds" ;; esac
[ "$FUZZ_SECS" -ge 4 ] || die "FUZZ_SECS must be at least 4"
RTS_SECS=${RTS_SECS:-120}
case $RTS_SECS in '' | *[!0-9]* | 0) die "RTS_SECS must be a positive number of seconds" ;; esac
STAGES=${DEBUG_STAGES:-1,2,3,4,5,6}
case ,$STAGES, in *,[1-6],*) ;; *) die "DEBUG_STAGES: stage numbers 1 to 6, separated by commas" ;; esac
case ,$STAGES, in *[!,1-6]* | *,[1-6][!,]*) die "DEBUG_STAGES: stage numbers 1 to 6, separated by commas" ;; esac
export FUZZ_SECS EPW_DEPS_EXTRA="${EPW_DEPS_EXTRA:-} trinity:trinity stress-ng:stress-ng"

P=0 F=0 table=
# tally NAME SECS COUNTS-FILE: add a stage's "passed failed [skipped]"
# counts; a skip fails, and so does a stage that left no counts.
tally() {
	p=0 f=1 s=0
	[ -s "$3" ] && read -r p f s <"$3"
	f=$((f + ${s:-0}))
	P=$((P + p)) F=$((F + f))
	table="$table$(printf '%-44s %6d %6d %6ss' "$1" "$p" "$f" "$2")
"
}
# stage N TITLE: print the banner; false when DEBUG_STAGES leaves N out.
stage() {
	case ,$STAGES, in
	*,"$1",*) printf '\n==== %s/6 %s\n' "$1" "$2" ;;
	*) printf '\n==== %s/6 not run (DEBUG_STAGES=%s)\n' "$1" "$STAGES"; return 1 ;;
	esac
}

# run_variant VARIANT NAME: build, boot and test one sanitizer kernel.
run_variant() {
	rm -f "$BUILD/$1/guest.counts"
	s=$(date +%s)
	"$HARNESS/run.sh" "$1"
	tally "$2" $(($(date +%s) - s)) "$BUILD/$1/guest.counts"
}

# fuzz VARIANT WRAPPER...: one boot of that kernel running the fuzz
# wrappers (fuzz/run-*); the log sits beside the kernel's .config, which
# tells results.sh whether to apply the KCSAN filter.
fuzz() {
	out=$BUILD/$1; shift
	dir=$out/fuzz
	kernel=$out/arch/x86/boot/bzImage
	tests=
	for t in "$@"; do tests="$tests $HARNESS/fuzz/run-$t"; done
	# Only a kernel that its stage built and booted in this run.
	if [ ! -f "$kernel" ] || [ ! -f "$out/guest.counts" ]; then
		say "the $(basename "$out") kernel was not built in this run: fuzz not run"
		return 1
	fi
	(
		STAGE=fuzz
		mkdir -p "$dir"
		say "building fuzz-epoll"
		run "$dir/fuzz-epoll.log" gcc -O2 -Wall -Wextra -static -pthread \
			-o "$dir/fuzz-epoll" "$HARNESS/fuzz/fuzz-epoll.c"
		# shellcheck disable=SC2086
		EPW_TOOLS="trinity stress-ng $dir/fuzz-epoll" \
			"$HARNESS/initramfs.sh" "$dir/initramfs.cpio" $tests
	) || return 1
	say "fuzzing on the $(basename "$out") kernel:$(printf ' %s' "$@")"
	TIMEOUT=$((2 * FUZZ_SECS + 900)) "$HARNESS/boot.sh" "$kernel" \
		"$dir/initramfs.cpio" "$out/fuzz-guest" \
		"FUZZ_SECS=$FUZZ_SECS EPW_TEST_TIMEOUT=$((FUZZ_SECS + 600))" || return 1
	# shellcheck disable=SC2046
	"$HARNESS/results.sh" "$out/fuzz-guest" $(for t in $tests; do basename "$t"; done)
}

# fuzz_stage NAME VARIANT WRAPPER...
fuzz_stage() {
	name=$1; shift
	rm -f "$BUILD/$1/fuzz-guest.counts"
	s=$(date +%s)
	fuzz "$@"
	tally "$name" $(($(date +%s) - s)) "$BUILD/$1/fuzz-guest.counts"
}

# rt_stall: one boot of the RT + lockdep kernel that stage 5 built and
# booted in this run, running rt/rt-stall.c for RTS_SECS seconds.
rt_stall() {
	out=$BUILD/rt
	dir=$out/rt-stall
	log=$out/rt-stall-guest
	kernel=$out/arch/x86/boot/bzImage
	rm -f "$log.counts"
	if [ ! -f "$kernel" ] || [ ! -f "$out/guest.counts" ]; then
		say "the rt kernel was not built in this run: rt-stall not run"
		return 1
	fi
	(
		STAGE=rt-stall
		mkdir -p "$dir"
		say "building rt-stall"
		run "$dir/rt-stall.log" gcc -O2 -Wall -Wextra -Werror -static -pthread \
			-o "$dir/rt-stall" "$HARNESS/rt/rt-stall.c"
		EPW_TOOLS= "$HARNESS/initramfs.sh" "$dir/initramfs.cpio" "$dir/rt-stall"
	) || return 1
	say "rt-stall for ${RTS_SECS}s on the rt kernel"
	# Past RTS_SECS, rt-stall may wait up to three stall bounds (300 s
	# each under TCG) for the producers and the waiter to finish.
	if ! TIMEOUT=$((RTS_SECS + 1500)) "$HARNESS/boot.sh" "$kernel" \
		"$dir/initramfs.cpio" "$log" \
		"RTS_GUEST=1 RTS_SECS=$RTS_SECS EPW_TEST_TIMEOUT=$((RTS_SECS + 1200))"; then
		"$HARNESS/results.sh" "$log" rt-stall || true
		rm -f "$log.counts"
		return 1
	fi
	"$HARNESS/results.sh" "$log" rt-stall
}

mkdir -p "$BUILD"
stage 1 "lockdep + KASAN kernel: epoll selftests, race tests, KUnit" &&
	run_variant debug "lockdep+KASAN: selftests, races, KUnit"

stage 2 "KCSAN kernel: epoll selftests and race tests" &&
	run_variant kcsan "KCSAN: selftests, races, KUnit"

stage 3 "fuzz on the lockdep + KASAN kernel (FUZZ_SECS=$FUZZ_SECS)" &&
	fuzz_stage "lockdep+KASAN: trinity, stress-ng, fuzz-epoll" debug trinity stress-ng fuzz-epoll

stage 4 "fuzz on the KCSAN kernel (FUZZ_SECS/4 each)" &&
	fuzz_stage "KCSAN: stress-ng, fuzz-epoll" kcsan stress-ng fuzz-epoll

if stage 5 "PREEMPT_RT + lockdep kernel: epoll selftests, race tests, KUnit"; then
	# Only the selftests read these; stage 6 sets its own guest timeout.
	EPW_WATCHDOG_SCALE=${EPW_RT_WATCHDOG_SCALE:-120} TIMEOUT=${TIMEOUT:-7200}
	export EPW_WATCHDOG_SCALE TIMEOUT
	run_variant rt "PREEMPT_RT+lockdep: selftests, races, KUnit"
fi

if stage 6 "PREEMPT_RT + lockdep kernel: rt-stall (RTS_SECS=$RTS_SECS)"; then
	s=$(date +%s)
	rt_stall
	tally "PREEMPT_RT+lockdep: rt-stall" $(($(date +%s) - s)) "$BUILD/rt/rt-stall-guest.counts"
fi

printf '\n==== summary\n'
for v in debug kcsan; do
	[ -f "$BUILD/$v/fuzz-guest.tap" ] || continue
	echo "fuzz iterations, $v kernel:"
	sed -n 's/^ok 1 /  /p; s/^not ok 1 /  FAILED: /p' "$BUILD/$v/fuzz-guest.tap"
done
for log in "$BUILD/kcsan/guest" "$BUILD/kcsan/fuzz-guest"; do
	[ -f "$log.tap" ] && echo "KCSAN counters, $(basename "$log"):" \
		"$(sed -n 's/^@@EPW KCSAN //p' "$log.tap" | grep -E '^(setup_watchpoints|data_races|report_races)' | tr '\n' ' ')"
	[ -s "$log.kcsan-other" ] || continue
	echo "KCSAN reports outside epoll/wfcqueue (not failures):" \
		"$(cat "$log.kcsan-other.count") in $log.kcsan-other"
done
printf '%-44s %6s %6s %7s\n%s' stage passed failed time "$table"
[ "$STAGES" = 1,2,3,4,5,6 ] || echo "stages run: $STAGES (DEBUG_STAGES)"
echo "$P passed, $F failed"
[ "$F" = 0 ]
