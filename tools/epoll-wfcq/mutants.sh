#!/bin/sh
# mutants.sh: build the series plus each known-bad patch of mutants/,
# run the epoll selftests on it and show that at least one test fails;
# then run the litmus tests and Spin checks that mutants/models names for
# it. Prints a table mutant -> kernel tests that failed -> model checks
# that caught it; fails if a mutant survives both. MUTANTS=a,d,... runs
# only those. A mutant listed in mutants/rt is a bug of PREEMPT_RT only:
# it is built with config/rt-perf.config into build/mutant-rt, in the
# source tree of make rt-noise's kernels (so ccache has the rest), and
# runs the test programs that the list names.
set -u
STAGE=mutants
. "$(dirname "$0")/lib.sh"

series=$(series)
rtsrc=
survived=0 table=
for m in "$HARNESS"/mutants/*.patch; do
	name=$(basename "$m" .patch)
	# MUTANTS=a,d,...: only these (by letter or full name).
	case ",${MUTANTS:-${name%%-*}}," in
	*",${name%%-*},"* | *",$name,"*) ;;
	*) continue ;;
	esac
	say "mutant $name: $(sed -n 's/^Subject: \[PATCH\] MUTANT [^:]*: //p' "$m")"
	src=$BUILD/src-mutant out=$BUILD/mutant frag= progs=${EPW_SELFTESTS:-}
	rt=$(sed -n "s/^$name //p" "$HARNESS/mutants/rt")
	if [ -n "$rt" ]; then
		src=$BUILD/src-rtn out=$BUILD/mutant-rt rtsrc=$src
		# make rt-noise builds in this tree too: one user at a time.
		exec 9>"$BUILD/src-rtn.lock"
		flock 9
		frag=$HARNESS/config/rt-perf.config progs=${EPW_SELFTESTS:-$rt}
	fi
	# shellcheck disable=SC2086
	"$HARNESS/tree.sh" "$src" $series "$m" &&
	"$HARNESS/kconfig.sh" "$src" "$out" $(fragments "$src" $frag) &&
	"$HARNESS/build.sh" "$src" "$out" bzImage headers || die "mutant $name does not build"
	scale=1
	[ "$("$HARNESS/accel.sh" "$out/arch/x86/boot/bzImage")" = kvm ] || scale=${EPW_WATCHDOG_SCALE:-30}
	tests=$(EPW_SELFTESTS=$progs "$HARNESS/selftests.sh" "$src" "$out" "$scale") || exit 1
	# shellcheck disable=SC2086
	"$HARNESS/initramfs.sh" "$out/initramfs.cpio" $tests || exit 1
	# Longer busy phases than make run's: some windows (a missing
	# barrier) open once in thousands of rounds under TCG.
	TIMEOUT=${TIMEOUT:-600} "$HARNESS/boot.sh" "$out/arch/x86/boot/bzImage" \
		"$out/initramfs.cpio" "$out/$name" "${EPW_TEST_ENV:-EPOLL_RACE_SECS=20}" \
		>"$out/$name.boot" 2>&1
	# shellcheck disable=SC2046
	"$HARNESS/results.sh" "$out/$name" $(for t in $tests; do basename "$t"; done) \
		>"$out/$name.table" 2>"$out/$name.fails"
	# A test that the kselftest watchdog stopped was slow, not wrong:
	# it is listed apart and does not count as a catch.
	slow=$(grep -h 'Test terminated by timeout' "$out/$name.tap" 2>/dev/null |
		sed 's/^# \([^:]*\):.*/\1/' | sort -u | paste -sd ',' -)
	caught=$( { sed -n 's/^  FAIL [^:]*: not ok [0-9]* //p; s/^  FAIL kunit: .*/kunit/p' "$out/$name.fails" |
		grep -v -x -F "$(printf 'global.%s\n' $(echo "$slow" | tr ',' ' '))"
		grep -q 'did not finish within' "$out/$name.boot" && echo "guest hung (killed)"
		grep -q 'stopped before its tests finished' "$out/$name.boot" && echo "guest crashed"
		grep -q '^  KERNEL: ' "$out/$name.fails" && echo "kernel report: $(sed -n 's/^  KERNEL: //p' "$out/$name.fails" | head -n 1)"
	} | sort -u | head -n 8 | paste -sd ';' -)
	[ -z "$slow" ] || say "$name: stopped by the kselftest watchdog, not counted: $slow"
	models=
	while read -r mname kind check; do
		[ "$mname" = "$name" ] || continue
		case $kind in
		lkmm) "$HARNESS/lkmm/run.sh" "$check" >"$out/$name.$kind.log" 2>&1 ;;
		spin) "$HARNESS/model/run.sh" "$check" >"$out/$name.$kind.log" 2>&1 ;;
		*) die "mutants/models: unknown check kind $kind" ;;
		esac && models="$models${models:+; }$kind $check"
	done <<-EOF
	$(grep -v '^#' "$HARNESS/mutants/models")
	EOF
	if [ -z "$caught$models" ]; then
		survived=$((survived + 1)); caught="SURVIVED"
	fi
	table="$table$(printf '%-28s | %-48s | %s' "$name" "${caught:-none (TCG)}" "${models:--}")
"
	say "$name: kernel tests: ${caught:-none}; models: ${models:-none}"
done
printf '\n%-28s | %-48s | %s\n%s' mutant "caught by kernel tests" "caught by model checks" "$table"
# Leave the trees at the series, not at the last mutant.
for src in "$BUILD/src-mutant" $rtsrc; do
	# shellcheck disable=SC2086
	"$HARNESS/tree.sh" "$src" $series >/dev/null
done
[ "$survived" = 0 ] || die "$survived mutant(s) survived"
say "every mutant was caught"
