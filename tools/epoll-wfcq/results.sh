#!/bin/sh
# results.sh LOG [NAME...]: read LOG.tap (test output framed by the guest init) and
# LOG.console (kernel log); print a table per test binary, the KUnit
# results and any kernel report; write "passed failed skipped" to
# LOG.counts. A NAME (expected test binary) that never ran counts as a
# failure. Exits non-zero on any failure or skip.
set -eu
STAGE=results
. "$(dirname "$0")/lib.sh"

log=$1; shift
# Kernel reports that fail a run, wherever they come from.
REPORTS='BUG:|WARNING:|KASAN:|KCSAN:|UBSAN:|Oops|Kernel panic|general protection fault|possible .*deadlock|INFO: task .* blocked|list_(add|del) corruption|refcount_t:'

[ -f "$log.tap" ] || : >"$log.tap"
awk -v counts="$log.counts" -v expected="$*" '
{ sub(/\r$/, "") }
# A failure is printed when the run of its binary ends, unless a rerun of
# that test passed (@@EPW FLAKY, see config/flaky-tests).
function fails(   i, n) {
	for (i = 1; i <= nf; i++) {
		n = fl[i]; sub(/^not ok [0-9]+ (global\.)?/, "", n); sub(/ .*/, "", n)
		if (!(n in flaky)) print "  FAIL " t ": " fl[i] > "/dev/stderr"
	}
	nf = 0; split("", flaky)
}
/^@@EPW RUN / { t = $3; ran[t] = 1; p = f = s = 0; plan = -1; next }
/^@@EPW FLAKY / { flaky[$3] = 1; f--; p++; note = note (note == "" ? "" : ", ") $3 " failed, passed on rerun " $NF; next }
/^@@EPW END / {
	fails()
	rc = $4; sub(/rc=/, "", rc); secs = $5; sub(/secs=/, "", secs)
	n = p + f + s
	if (plan > n) { f += plan - n; note = sprintf("%d missing", plan - n) }
	if (rc != 0 && rc != 4) {
		note = note (note == "" ? "" : ", ") (rc == 124 ? "timed out" : "exit " rc)
		if (f == 0) f = 1
	}
	printf "%-28s %6d %6d %7d %6s  %s\n", t, p, f, s, secs, note
	P += p; F += f; S += s; t = ""; note = ""; next
}
t == "" { next }
/^1\.\.[0-9]+/ && plan < 0 { plan = substr($0, 4) + 0; next }
/^ok [0-9]+ .*# SKIP/ { s++; next }
/^ok [0-9]+/ { p++; next }
/^not ok [0-9]+/ { f++; fl[++nf] = $0; next }
BEGIN { printf "%-28s %6s %6s %7s %6s\n", "binary", "passed", "failed", "skipped", "secs" }
END { if (t != "") { fails(); printf "%-28s %6d %6d %7d %6s  %s\n", t, p, f + 1, s, "-", "did not finish"; P += p; F += f + 1 }
      n = split(expected, e, " ")
      for (i = 1; i <= n; i++) if (!(e[i] in ran)) { printf "%-28s %6d %6d %7d %6s  %s\n", e[i], 0, 1, 0, "-", "did not run"; F++ }
      print P + 0, F + 0, S + 0 > counts }
' "$log.tap"

# KUnit cases print as indented TAP lines in the kernel log.
sed 's/^\[ *[0-9.]*\] //' "$log.console" | awk -v counts="$log.counts" '
/^    ok [0-9]+ / { p++ }
/^    not ok [0-9]+ / { f++; print "  FAIL kunit: " $0 > "/dev/stderr" }
/^ *# Subtest: / { suites = suites " " $NF }
END {
	if (p + f == 0) exit
	printf "%-28s %6d %6d %7d %6s  %s\n", "kunit", p, f, 0, "-", suites
	getline line < counts; split(line, c, " ")
	print c[1] + p, c[2] + f, c[3] > counts
}'

# A guest that sees fewer CPUs than it was given makes the race tests moot.
cpus=$(sed -n 's/^@@EPW BEGIN .* nproc=\([0-9]*\).*/\1/p' "$log.tap" | head -n 1)
if [ -n "$cpus" ] && [ "$cpus" != "${SMP:-2}" ]; then
	printf '%-28s %6d %6d %7d %6s  %s\n' "guest CPUs" 0 1 0 - "saw $cpus of ${SMP:-2}"
	echo "$(($(cut -d' ' -f1 "$log.counts"))) $(($(cut -d' ' -f2 "$log.counts") + 1)) $(cut -d' ' -f3 "$log.counts")" >"$log.counts"
fi

# On a KCSAN kernel (the .config beside LOG says so), a data-race report
# fails the run only when a frame of it is in fs/eventpoll.c or the
# wfcqueue code; the others (the base has them too) go to LOG.kcsan-other.
# An access stack is read down to an interrupt or exception entry frame
# (asm_sysvec_*, asm_common_interrupt, asm_exc_*): below it lie the frames
# of whatever the interrupt happened to land in, not the racing access's.
console=$(sed 's/\r$//; s/^\[ *[0-9.]*\] //' "$log.console")
kdir=$(dirname "$log")
if grep -q '^CONFIG_KCSAN=y' "$kdir/.config" 2>/dev/null; then
	# Our functions: every text symbol of the objects, and any wfcq_*.
	ours=$(for o in "$kdir/fs/eventpoll.o" "$kdir"/lib/wfcqueue*.o; do
		[ -f "$o" ] && nm "$o" | awk '$2 ~ /^[tTwW]$/ { print $3 }'
	done | sed 's/\..*//' | sort -u | tr '\n' ' ')
	[ -n "$ours" ] || die "KCSAN filter: no symbols from $kdir/fs/eventpoll.o"
	console=$(printf '%s\n' "$console" | awk -v ours="$ours" \
		-v mine="$log.kcsan-ours" -v other="$log.kcsan-other" '
	BEGIN { n = split(ours, o, " "); for (i = 1; i <= n; i++) our[o[i]] = 1
		printf "" > mine; printf "" > other }
	function frames(line,   w, k, f, i) {
		if (line ~ /fs\/eventpoll\.c|wfcqueue/) return 1
		k = split(line, w, /[ \t\/]+/)
		for (i = 1; i <= k; i++) {
			f = w[i]; sub(/\+0x.*/, "", f); sub(/\..*/, "", f)
			if ((f in our) || f ~ /^_*wfcq/) return 1
		}
		return 0
	}
	# A report runs from its "BUG: KCSAN:" line to the next "=====" line.
	# Only the BUG: line of a report outside our code leaves the scanned
	# text: every other line stays in, so nothing else can hide there.
	function flush() {
		print head body > (hit ? mine : other)
		if (hit) print head; else nother++
		if (body != "") print substr(body, 2)
		inblk = 0
	}
	inblk && /^=+[ \t]*$/ { body = body "\n" $0; flush(); next }
	inblk && /BUG: KCSAN: / { flush() }
	/BUG: KCSAN: / { inblk = 1; head = $0; body = ""; hit = frames($0); cut = 0; next }
	inblk {
		body = body "\n" $0
		if ($0 ~ /^[ \t]*$/ || $0 ~ / (to|origin)/) cut = 0	# next stack
		else if ($0 ~ /^[ \t]*asm_(sysvec_|common_interrupt|exc_)/) cut = 1
		else if (!cut) hit = hit || frames($0)
		next
	}
	{ print }
	END { if (inblk) flush()
	      print nother + 0 > (other ".count") }')
	nother=$(cat "$log.kcsan-other.count")
	kcsan_note=", no KCSAN report in epoll/wfcqueue"
	nours=$(grep -c 'BUG: KCSAN: ' "$log.kcsan-ours" || true)
	if [ "$nother" -gt 0 ]; then
		printf '%-28s %6d %6d %7d %6s  %s\n' "kcsan, other code" 0 0 0 - \
			"$nother report(s) outside epoll/wfcqueue: $log.kcsan-other"
	fi
	if [ "$nours" -gt 0 ]; then
		printf -- '--- KCSAN report(s) in epoll/wfcqueue code (%s)\n' "$log.kcsan-ours" >&2
		head -n 60 "$log.kcsan-ours" >&2
	fi
fi
reports=$(printf '%s\n' "$console" | grep -E "$REPORTS" || true)
read -r passed failed skipped <"$log.counts"
if [ -n "$reports" ]; then
	printf '%-28s %6d %6d %7d %6s  %s\n' "kernel log" 0 1 0 - "reports below"
	printf '%s\n' "$reports" | head -n 20 | sed 's/^/  KERNEL: /' >&2
	failed=$((failed + 1))
else
	printf '%-28s %6d %6d %7d %6s  %s\n' "kernel log" 1 0 0 - "no BUG/WARNING/KASAN/lockdep report${kcsan_note:-}"
	passed=$((passed + 1))
fi
echo "$passed $failed $skipped" >"$log.counts"
[ "$failed" = 0 ] && [ "$skipped" = 0 ]
