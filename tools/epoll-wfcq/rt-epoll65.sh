#!/bin/sh
# rt-epoll65.sh: make rt-epoll65. Upstream's epoll65 (64 threads, 100000
# zero-timeout epoll_wait() each on one always-ready level-triggered
# eventfd) alone in a guest, on the two PREEMPT_RT kernels without
# lockdep that make rt-noise builds (base and series). Each kernel is
# booted RTE_BOOTS times (default 2), alternating, once under
# multi-threaded TCG (wall-clock time) and once with ICOUNT=1 (guest time
# is a count of guest instructions). Writes results/rt-epoll65.md.
#
# Environment: RTE_BOOTS, SMP (default 2), TIMEOUT (seconds per boot,
# default 7200), EPW_RESULTS (default results/).
set -eu
STAGE=rt-epoll65
. "$(dirname "$0")/lib.sh"

results=${EPW_RESULTS:-$TOP/results}
boots=${RTE_BOOTS:-2}
SMP=${SMP:-2}
TIMEOUT=${TIMEOUT:-7200}
export SMP TIMEOUT
case $boots in '' | *[!0-9]* | 0) die "RTE_BOOTS must be a positive number, not '$boots'" ;; esac
mkdir -p "$results"

RTN_KERNELS_ONLY=1 "$HARNESS/rt-noise.sh"
# One test binary for both kernels: upstream's epoll65, from the tree as
# rt-noise.sh leaves it (at the series, which adds tests but no UAPI).
out=$BUILD/rtn-patched
"$HARNESS/build.sh" "$BUILD/src-rtn" "$out" headers
tests=$(EPW_SELFTESTS=epoll_wakeup_test "$HARNESS/selftests.sh" "$BUILD/src-rtn" "$out")
run "$out/timed.log" gcc -O2 -Wall -Wextra -Werror -static -o "$out/timed" "$HARNESS/rt/timed.c"
printf '#!/bin/sh\nexec ./timed ./epoll_wakeup_test -t epoll65\n' >"$out/epoll65"
chmod +x "$out/epoll65"
EPW_FILES="$out/timed $tests" "$HARNESS/initramfs.sh" "$out/epoll65.cpio" "$out/epoll65"

accel=$("$HARNESS/accel.sh" "$BUILD/rtn-base/arch/x86/boot/bzImage")
load0=$(cut -d' ' -f1-3 /proc/loadavg)
raw=$BUILD/rtn-patched/epoll65.raw
: >"$raw"
t0=$(date +%s)
b=1
while [ "$b" -le "$boots" ]; do
	for mode in time icount; do
		for v in base patched; do
			log=$BUILD/rtn-$v/epoll65-$mode-$b
			say "boot $b/$boots of the $v kernel ($mode)"
			ic=
			[ "$mode" = time ] || ic=1
			if ICOUNT=$ic "$HARNESS/boot.sh" "$BUILD/rtn-$v/arch/x86/boot/bzImage" \
				"$out/epoll65.cpio" "$log" "EPW_TEST_TIMEOUT=$((TIMEOUT - 60))"; then
				line=$(tr -d '\r' <"$log.tap" | sed -n 's/^TIMED //p')
				ok=$(tr -d '\r' <"$log.tap" | grep -c '^ok [0-9]* .*epoll65$' || true)
			else
				line= ok=0
			fi
			echo "$v $mode $b ok=$ok ${line:-ns=- rc=-}" >>"$raw"
		done
	done
	b=$((b + 1))
done
secs=$(($(date +%s) - t0))

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
grep -q '^flags.* hypervisor' /proc/cpuinfo && cpu="$cpu (itself a virtual machine)"
commit() { cut -d' ' -f2- "$BUILD/rtn-$1/epw-source" 2>/dev/null || echo unknown; }
md=$results/rt-epoll65.md
{
	echo "# epoll65 on PREEMPT_RT without lockdep: base against series"
	echo
	echo "- command: \`make rt-epoll65\` (tools/epoll-wfcq/rt-epoll65.sh), RTE_BOOTS=$boots"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- machine: $(uname -m), $cpu, $(nproc) host cores; host load $load0 before, $(cut -d' ' -f1-3 /proc/loadavg) after"
	echo "- guest: $SMP vCPUs; accelerator $accel (time: multi-threaded; instructions: -icount shift=0, single-threaded); $secs s in all"
	echo "- kernels: config/rt-perf.config; base at $(commit base); series top $(commit patched)"
	echo "- harness and series from epoll-wfcq commit $(git -C "$TOP" log -1 --format='%h %s')"
	echo
	echo "upstream's tools/testing/selftests/filesystems/epoll/epoll_wakeup_test.c, \`-t epoll65\`, run under rt/timed.c. Time is host-load dependent; the instruction count is not."
	echo
	awk '
	{ split($5, a, "="); split($6, r, "="); v = $1; m = $2
	  if (a[2] == "-" || r[2] != "0" || $4 != "ok=1") { bad[v, m]++; next }
	  n[v, m]++; s[v, m] += a[2]; if (!(v SUBSEP m in lo) || a[2] < lo[v, m]) lo[v, m] = a[2]; if (a[2] > hi[v, m]) hi[v, m] = a[2] }
	function cell(v, m, d) { return n[v, m] ? sprintf("%.2f [%.2f, %.2f]", s[v, m] / n[v, m] / d, lo[v, m] / d, hi[v, m] / d) : "-" }
	END {
		print "| measure | base | series | series/base | runs (base, series) | failed (base, series) |"
		print "| --- | --- | --- | --- | --- | --- |"
		split("time icount", ms, " ")
		for (i = 1; i <= 2; i++) {
			m = ms[i]; d = 1e9
			r = n["base", m] && n["patched", m] ? sprintf("%.2f", (s["patched", m] / n["patched", m]) / (s["base", m] / n["base", m])) : "-"
			printf "| %s | %s | %s | %sx | %d, %d | %d, %d |\n", m == "time" ? "wall-clock s (mean [min, max])" : "guest instructions, 10^9", cell("base", m, d), cell("patched", m, d), r, n["base", m], n["patched", m], bad["base", m], bad["patched", m]
		}
	}' "$raw"
} >"$md"
say "wrote $md"
cat "$md"
! grep -q -v ' ok=1 .* rc=0 ' "$raw" || die "an epoll65 run failed or did not finish (see $raw)"
