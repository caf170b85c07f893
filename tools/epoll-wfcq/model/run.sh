#!/bin/sh
# Exhaustive Spin checks of the ready-list protocol model, epoll_wfcq.pml.
#
# One line per check, "ok NAME" or "not ok NAME", with the state-vector
# size, the states explored and the time; then a summary line. Exit 0
# only if every check came out as expected: the model of the series
# without any counterexample (assertions, invalid end states, and each
# LTL claim under weak fairness), and every known-bad variant (-D RFC3,
# NO_B1, ...) with one. An unexpected counterexample prints its trail.
#
# Usage: run.sh [NAME...]   (default: every check; NAME as printed)
#
# Environment: EPW_BUILD (default <top>/build): work files go to
# $EPW_BUILD/model/NAME (logs, trails). EPW_MODEL_MEM: pan's memory
# limit in MB (3500). EPW_MODEL_TIMEOUT: seconds per pan run (900).
# EPW_MODEL_DEFS: extra -D options for every check (for instance
# EPW_MODEL_DEFS=-DRFC3 run.sh main-safety shows a failing check and
# its trail). A trail replays the claim recorded in it.
# $defs, $popts and $copts are lists of options, split on purpose.
# shellcheck disable=SC2086
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../../.." && pwd)
OUT=${EPW_BUILD:-$TOP/build}/model
MODEL=epoll_wfcq.pml
MEM=${EPW_MODEL_MEM:-3500}
TMO=${EPW_MODEL_TIMEOUT:-900}
XDEFS=${EPW_MODEL_DEFS:-}
ONLY=" $* "

for tool in spin gcc; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "model: FAILED: $tool not found (Debian: apt-get install spin gcc)" >&2
		exit 1
	fi
done
mkdir -p "$OUT" || exit 1

T0=$(date +%s)
NOK=0
NBAD=0
STATES=0
VMIN=
VMAX=

TRAIL_LINES=${EPW_MODEL_TRAIL:-120}

# condense TRAIL MODEL: one line per step of a process at a line of the
# model, with the model's comment for that line (the kernel code it
# stands for).
condense() {
	awk -v model="$2" '
	BEGIN {
		n = 0
		while ((getline l < model) > 0) {
			n++
			c = ""
			if (match(l, /\/\*.*\*\//))
				c = substr(l, RSTART, RLENGTH)
			cm[n] = c
		}
	}
	/START OF CYCLE/ { print "<<<<< start of cycle >>>>>"; next }
	/assertion violated|trail ends|acceptance cycle/ { print; next }
	/^ *[0-9]+:[ \t]+proc / {
		if ($0 ~ /:init:/ || $0 !~ /\[/)
			next
		step = $1; sub(/:$/, "", step)
		who = $0; sub(/^[^(]*\(/, "", who); sub(/[:)].*/, "", who)
		who = who $3
		ln = $0; sub(/^.*\.pml:/, "", ln); sub(/ .*/, "", ln)
		st = $0; sub(/^[^[]*\[/, "", st); sub(/\][^]]*$/, "", st)
		key = who ":" ln
		if (key == last) {
			line = line "; " st
		} else {
			if (line != "")
				print line
			line = sprintf("%5s %-11s L%-4s %s   %s", step, who, ln, st, cm[ln + 0])
			last = key
		}
	}
	END { if (line != "") print line }
	' "$1"
}

# check NAME EXPECT KIND "DEFINES" [CLAIM]   (pan built with gcc $OPT)
#   EXPECT  pass: no counterexample and a complete search; fail: Spin
#           must find a counterexample
#   KIND    safety (assertions, invalid end states) or ltl (CLAIM with
#           acceptance cycles under weak fairness)
check() {
	name=$1 expect=$2 kind=$3 defs="$4 $XDEFS" claim=${5:-}
	case $ONLY in
	"  ") ;;
	*" $name "*) ;;
	*) return 0 ;;
	esac
	# LTL runs leave out the end-of-run assertions (-DNOFINAL): their
	# counterexamples come from the claim.
	[ "$kind" = ltl ] && defs="$defs -DNOFINAL"
	dir=$OUT/$name
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$HERE/$MODEL" "$dir/" || exit 1
	t1=$(date +%s)
	why=
	# One pan per model variant and kind of run, shared by the checks
	# that differ only in the LTL claim.
	bin=$OUT/bin-$(printf '%s %s %s' "$kind" "$OPT" "$defs" | cksum | cut -d ' ' -f 1)
	if [ ! -x "$bin/pan" ]; then
		rm -rf "$bin"
		mkdir -p "$bin"
		cp "$HERE/$MODEL" "$bin/" || exit 1
		if [ "$kind" = safety ]; then
			copts="-DSAFETY -DNOCLAIM"
		else
			copts="-DNFAIR=3"
		fi
		if ! (cd "$bin" && spin -a $defs "$MODEL") >"$dir/spin.log" 2>&1; then
			why="spin -a failed (see $dir/spin.log)"
		elif ! (cd "$bin" && gcc "$OPT" -w -DNOBOUNDCHECK -DMEMLIM="$MEM" \
				$copts -o pan pan.c) >"$dir/gcc.log" 2>&1; then
			why="gcc pan.c failed (see $dir/gcc.log)"
			rm -f "$bin/pan"
		fi
	fi
	if [ -z "$why" ]; then
		popts=
		[ "$kind" = ltl ] && popts="-a -f -N $claim"
		(cd "$dir" && timeout "$TMO" "$bin/pan" -m100000 -w25 -n $popts) \
			>"$dir/pan.log" 2>&1
		[ $? -eq 124 ] && why="timed out after ${TMO}s"
	fi
	t2=$(date +%s)

	log=$dir/pan.log
	vec=$(sed -n 's/^State-vector \([0-9]*\) byte.*/\1/p' "$log" 2>/dev/null | head -n 1)
	errs=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$log" 2>/dev/null | head -n 1)
	nst=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$log" 2>/dev/null | head -n 1)
	secs=$(sed -n 's/^pan: elapsed time \([0-9.e+]*\) seconds.*/\1/p' "$log" 2>/dev/null | head -n 1)
	nst=$(printf '%.0f' "${nst:-0}")
	if [ -z "$why" ] && [ -z "$errs" ]; then
		why="no result from pan (see $log)"
	fi
	incomplete=
	if grep -q -e 'Search not completed' -e 'reached -DMEMLIM' \
			-e 'max search depth too small' "$log" 2>/dev/null; then
		incomplete="search incomplete (memory or depth bound)"
	fi
	found=$(grep -m 1 -e 'assertion violated' -e 'acceptance cycle' \
		-e 'invalid end state' "$log" 2>/dev/null | sed 's/^pan:[0-9]*: *//')

	good=
	if [ -z "$why" ]; then
		if [ "$expect" = pass ]; then
			if [ "$errs" -ne 0 ]; then
				why="counterexample: $found"
			elif [ -n "$incomplete" ]; then
				why=$incomplete
			else
				good=1
			fi
		else
			if [ "$errs" -gt 0 ]; then
				good=1
			elif [ -n "$incomplete" ]; then
				why="no counterexample, and $incomplete"
			else
				why="no counterexample found (expected one)"
			fi
		fi
	fi

	info="${vec:-?}-byte state vector, $nst states, ${secs:-?} s pan, $((t2 - t1)) s total"
	[ -n "$claim" ] && info="ltl $claim, $info"
	if [ -n "$good" ]; then
		NOK=$((NOK + 1))
		echo "ok $name  # $info"
		[ "$expect" = fail ] && echo "#   expected counterexample: $found"
	else
		NBAD=$((NBAD + 1))
		echo "not ok $name  # $info"
		echo "#   $why"
		echo "#   defines: ${defs:-(none)}; logs in $dir"
		if [ "${errs:-0}" -gt 0 ] && [ "$expect" = pass ]; then
				(cd "$dir" && spin -t -p -g $defs "$MODEL") \
				>"$dir/trail.txt" 2>&1
			echo "#   trail, last $TRAIL_LINES steps (step process line: statement /* what it stands for */);"
			echo "#   full trail with the globals: $dir/trail.txt"
			condense "$dir/trail.txt" "$HERE/$MODEL" | tail -n "$TRAIL_LINES" |
				sed 's/^/#   /'
		fi
	fi
	STATES=$((STATES + nst))
	if [ -n "$vec" ]; then
		if [ -z "$VMIN" ] || [ "$vec" -lt "$VMIN" ]; then VMIN=$vec; fi
		if [ -z "$VMAX" ] || [ "$vec" -gt "$VMAX" ]; then VMAX=$vec; fi
	fi
}

rm -rf "$OUT"/bin-*

# Configurations (see the head of epoll_wfcq.pml for the macros).
# main: 2 producers x 1 event, 1 waiter (maxevents 1, one copy fault),
# EPOLL_CTL_MOD re-arm of the ONESHOT item and EPOLL_CTL_DEL of the ET
# item, in any order, at any time (the defaults of the model).
MAIN=""
# burst: 2 producers x 2 events, no epoll_ctl.
BURST="-DNEV=2 -DNMOD=0 -DNDEL=0"
# waiters: 2 epoll_wait() threads, 1 producer x 2 events, one poll(2)
# of the epoll fd.
WAITERS="-DNWAIT=2 -DNPROD=1 -DNEV=2 -DNMOD=0 -DNDEL=0 -DNPOLL=1 -DNFAULT=0"
# lt: item 0 level-triggered, maxevents 2, MOD re-arm.
LT="-DLT0 -DMAXEV=2 -DNDEL=0"
# poll: a poll(2) of the epoll fd racing with EPOLL_CTL_DEL.
POLL="-DNPOLL=1 -DNMOD=0 -DNFAULT=0"
# del3: three ET/ONESHOT items, producer p writes item p, EPOLL_CTL_DEL of
# item 0: the only configuration where ep_ready_unlink() can take the
# item from the middle of txl, after a splice whose walk may have waited
# for an enqueuer still linking behind it.
DEL3="-DNITEMS=3 -DNPROD=3 -DFIXED -DNMOD=0 -DNFAULT=0"
# Smaller configurations where the variants fail fast.
SMALL="-DNMOD=0 -DNDEL=0 -DNFAULT=0"
MODONLY="-DNDEL=0 -DNFAULT=0"

echo "# Spin $(spin -V 2>/dev/null | sed -n 's/^Spin Version \([^ ]*\).*/\1/p'), model $HERE/$MODEL"
# The model of the series: no counterexample, complete searches.
OPT=-O2
check main-safety        pass safety "$MAIN"
check main-wake          pass ltl    "$MAIN" wake
check main-noloss        pass ltl    "$MAIN" noloss
check main-waitends      pass ltl    "$MAIN" waitends
check burst-safety       pass safety "$BURST"
check waiters-safety     pass safety "$WAITERS"
check waiters-wake       pass ltl    "$WAITERS" wake
check lt-safety          pass safety "$LT"
check lt-noloss          pass ltl    "$LT" noloss
check poll-safety        pass safety "$POLL"
check del3-safety        pass safety "$DEL3"
check del3-waitends      pass ltl    "$DEL3" waitends
# Known-bad variants: each must produce a counterexample. They stop at
# the first one, so a quick, unoptimised pan is enough.
OPT=-O0
check rfc3-variant       fail safety "-DRFC3"
check rfc3-noloss        fail ltl    "-DRFC3 -DNEV=2 $SMALL" noloss
check no-b1-variant      fail safety "-DNO_B1 -DNEV=2 $SMALL"
check no-b3-variant      fail safety "-DNO_B3 $MODONLY"
check no-b4-variant      fail safety "-DNO_B4"
check noclaim-variant    fail safety "-DNOCLAIM"
check no-kick-variant    fail safety "-DNO_KICK"
check nosync-variant     fail safety "-DNOSYNC"
check no-oneshot-variant fail safety "-DNO_ONESHOT $SMALL"
check lt-norepoll-variant fail safety "-DLT_NOREPOLL -DLT0 -DNEV=2 $SMALL"

T1=$(date +%s)
if [ "$ONLY" != "  " ] && [ $((NOK + NBAD)) -eq 0 ]; then
	echo "model: FAILED: no check named$ONLY" >&2
	exit 1
fi
echo "model: $((NOK + NBAD)) checks, $NOK ok, $NBAD not ok;" \
	"state vector ${VMIN:-?}..${VMAX:-?} bytes; $STATES states explored;" \
	"$((T1 - T0)) s"
[ "$NBAD" -eq 0 ]
