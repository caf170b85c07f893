#!/bin/sh
# herd7 on every litmus test of the barrier pairings, under the base
# tree's Linux-kernel memory model ($BASE_REPO/tools/memory-model).
#
# *.litmus here are the tests of the series as it is; variants/*.litmus
# the same tests with a barrier removed or weakened, or with a mutant's
# change. Each file states the answer it expects in its header, in the
# LKMM's own convention (" * Result: Never", "Sometimes" or "Always").
# One line per file, "ok N - FILE: GOT (expected WANT)" or "not ok ...",
# then a summary line with the time taken. Exit 0 only if every file gave
# its expected answer, and every test has a variant that herd7 reports
# reachable (Sometimes or Always), and mutants a, b and c each have one.
#
# Usage: run.sh [FILE...]   (default: every file; FILE relative to here)
#
# Environment: EPW_BUILD (default <top>/build): herd7's output goes to
# $EPW_BUILD/lkmm. EPW_LKMM: the model directory. EPW_LKMM_TIMEOUT:
# seconds per herd7 run (600).
set -eu
STAGE=lkmm
TOP=${TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$(dirname "$0")/../lib.sh"

HERE=$HARNESS/lkmm
OUT=$BUILD/lkmm
LKMM=${EPW_LKMM:-$BASE_REPO/tools/memory-model}
TMO=${EPW_LKMM_TIMEOUT:-600}
export EPW_LKMM="$LKMM"

[ -f "$LKMM/linux-kernel.cfg" ] ||
	die "no LKMM in $LKMM: get the base tree first (tools/epoll-wfcq/base.sh)"
mkdir -p "$OUT"
ver=$("$HARNESS/herd.sh" --fetch 2>"$OUT/fetch.log") ||
	die "cannot run herd7 (see $OUT/fetch.log)"

cd "$HERE"
if [ $# -eq 0 ]; then
	set -- *.litmus variants/*.litmus
fi

# expected FILE: the Result of FILE's header comment.
expected() {
	sed -n 's/^ \* Result: *\([A-Za-z]*\).*/\1/p' "$1" | head -n 1
}

T0=$(date +%s)
echo "# herd7 $ver; model $LKMM"
echo "1..$#"
n=0 nok=0 nbad=0
for f in "$@"; do
	n=$((n + 1))
	want=$(expected "$f")
	name=$(basename "$f" .litmus)
	log=$OUT/${f%.litmus}.out
	mkdir -p "$(dirname "$log")"
	got='' why=''
	if [ -z "$want" ]; then
		why="no \" * Result:\" line in the header"
	elif [ "$(sed -n '1s/^C  *//p' "$f")" != "$name" ]; then
		why="first line is not \"C $name\""
	elif ! timeout "$TMO" "$HARNESS/herd.sh" "$f" >"$log" 2>&1; then
		why="herd7 failed or timed out after ${TMO}s (see $log)"
	else
		got=$(awk -v t="$name" '$1 == "Observation" && $2 == t { print $3 }' "$log")
		[ -n "$got" ] || why="no Observation line from herd7 (see $log)"
	fi
	if [ -z "$why" ] && [ "$got" = "$want" ]; then
		nok=$((nok + 1))
		echo "ok $n - $f: $got (expected $want)"
	else
		nbad=$((nbad + 1))
		echo "not ok $n - $f: ${got:-error} (expected ${want:-?})"
		if [ -n "$why" ]; then
			echo "#   $why"
			[ -f "$log" ] && tail -n 5 "$log" | sed 's/^/#   /'
		fi
	fi
done

# Coverage, when all files ran: every test has a variant that fails, and
# every mutant with a litmus model has its variant.
if [ "$*" = "$(echo *.litmus variants/*.litmus)" ]; then
	for f in *.litmus; do
		ok=
		for v in "variants/${f%.litmus}+"*.litmus; do
			[ -f "$v" ] || continue
			case $(expected "$v") in Sometimes | Always) ok=1 ;; esac
		done
		if [ -z "$ok" ]; then
			nbad=$((nbad + 1))
			echo "# FAILED: $f has no variant expected to reach its exists clause"
		fi
	done
	for m in a b c; do
		set -- variants/*+mutant-"$m".litmus
		if [ ! -f "$1" ]; then
			nbad=$((nbad + 1))
			echo "# FAILED: no variant for mutant $m (variants/*+mutant-$m.litmus)"
		fi
	done
fi

echo "lkmm: $n files, $nok ok, $nbad not ok; $(($(date +%s) - T0)) s"
[ "$nbad" -eq 0 ]
