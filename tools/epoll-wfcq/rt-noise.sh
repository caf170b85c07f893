#!/bin/sh
# rt-noise.sh: the RT measurement (make rt-noise). Build two PREEMPT_RT
# kernels without lockdep (config/rt-perf.config): the base and the base
# with the series. Boot each RTN_BOOTS times, alternating (base, series,
# base, ...), with SMP vCPUs of which 1..SMP-1 are isolated, and run
# rt/rt-noise.c in every boot: producers on the isolated vCPUs, one
# consumer on vCPU 0, reschedule IPIs and context switches per phase,
# osnoise, and epoll_ctl(ADD) times. Writes results/rt-noise.md.
#
# Environment: RTN_BOOTS (boots per kernel, default 3), SMP (default 4),
# MEM, TIMEOUT (seconds per boot, default 3000; a guest that does not
# finish is killed and the boot counts as a failure), ICOUNT=1 (TCG:
# guest time is instruction counts, see boot.sh), RTN_* (rt-noise's own
# parameters, passed on the guest's command line, e.g. RTN_WRITES=50000
# or RTN_PHASES=et_sleep,perf; see rt/rt-noise.c), EPW_RESULTS (output
# directory, default results/), RTN_REPORT_ONLY=1 (build and boot
# nothing: write the report from the .tap files of the last run),
# RTN_KERNELS_ONLY=1 (build the two kernels and stop; rt-stall.sh and
# rt-epoll65.sh use them too; the source tree build/src-rtn is left at the
# series).
set -eu
STAGE=rt-noise
. "$(dirname "$0")/lib.sh"

results=${EPW_RESULTS:-$TOP/results}
boots=${RTN_BOOTS:-3}
SMP=${SMP:-4}
TIMEOUT=${TIMEOUT:-3000}
export SMP TIMEOUT
case $boots in '' | *[!0-9]* | 0) die "RTN_BOOTS must be a positive number, not '$boots'" ;; esac
[ "$SMP" -ge 2 ] || die "SMP=$SMP: the measurement needs a housekeeping vCPU and isolated ones"
iso=1-$((SMP - 1))
[ "$SMP" != 2 ] || iso=1
# The isolation of the regression report, with housekeeping on vCPU 0.
cmdline="isolcpus=nohz,domain,managed_irq,$iso nohz_full=$iso rcu_nocbs=$iso irqaffinity=0"
# rt-noise's parameters reach the guest's init as its environment.
params=$(env | grep '^RTN_[A-Z_]*=[^ ]*$' | grep -v -E '^RTN_(BOOTS|REPORT_ONLY|KERNELS_ONLY)=' | sort | tr '\n' ' ' | sed 's/ $//')
append="$cmdline RTN_GUEST=1 EPW_TEST_TIMEOUT=$((TIMEOUT - 60)) $params"
mkdir -p "$results"

kdir() { echo "$BUILD/rtn-$1"; }
bzimage() { echo "$(kdir "$1")/arch/x86/boot/bzImage"; }

if [ -z "${RTN_REPORT_ONLY:-}" ]; then
	"$HARNESS/deps.sh"
	"$HARNESS/base.sh"
	series=$(series)
	[ -n "$series" ] || die "no patches in ${PATCHES:-$TOP/patches}"
	# One source tree for both kernels, the base first: the series
	# changes a few files, and ccache serves the rest of the second build
	# (a second tree would differ in every object's source path).
	src=$BUILD/src-rtn
	# mutants.sh builds RT mutants in the same tree: one user at a time.
	exec 9>"$BUILD/src-rtn.lock"
	flock 9
	for v in base patched; do
		if [ "$v" = base ]; then
			"$HARNESS/tree.sh" "$src"
		else
			# shellcheck disable=SC2086
			"$HARNESS/tree.sh" "$src" $series
		fi
		# shellcheck disable=SC2046
		"$HARNESS/kconfig.sh" "$src" "$(kdir $v)" \
			$(fragments "$src" "$HARNESS/config/rt-perf.config")
		"$HARNESS/build.sh" "$src" "$(kdir $v)" bzImage
		echo "$(git -C "$src" rev-list --count base..HEAD) $(git -C "$src" log -1 --format='%h %s')" >"$(kdir $v)/epw-source"
		grep -q '^CONFIG_PREEMPT_RT=y' "$(kdir $v)/.config" || die "$v: not a PREEMPT_RT kernel"
		! grep -q '^CONFIG_LOCKDEP=y' "$(kdir $v)/.config" || die "$v: lockdep is on"
		[ -z "${RTN_KERNELS_ONLY:-}" ] || continue
		say "building rt-noise for the $v guest"
		run "$(kdir $v)/rt-noise.log" gcc -O2 -Wall -Wextra -Werror -static -pthread \
			-o "$(kdir $v)/rt-noise" "$HARNESS/rt/rt-noise.c"
		"$HARNESS/initramfs.sh" "$(kdir $v)/rt-noise.cpio" "$(kdir $v)/rt-noise"
	done
	[ -z "${RTN_KERNELS_ONLY:-}" ] || exit 0

	accel=$("$HARNESS/accel.sh" "$(bzimage base)")
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	awk -v n="$(nproc)" '{ exit !($1 > n / 2) }' /proc/loadavg &&
		say "WARNING: the host is busy (load average ${load0%% *} on $(nproc) cores): times will be noisy; counts less so"
	t0=$(date +%s)
	b=1
	while [ "$b" -le "$boots" ]; do
		for v in base patched; do
			log=$(kdir $v)/guest-$b
			say "boot $b/$boots of the $v kernel"
			rm -f "$log.failed"
			if ! "$HARNESS/boot.sh" "$(bzimage $v)" "$(kdir $v)/rt-noise.cpio" "$log" "$append"; then
				echo "the guest did not finish (see $log.console)" >"$log.failed"
				say "boot $b of $v FAILED; going on with the others"
			fi
		done
		b=$((b + 1))
	done
	secs=$(($(date +%s) - t0))
	{
		echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
		echo "accel=$accel${ICOUNT:+ (icount)}"
		echo "secs=$secs"
		echo "host_load=$load0 before the boots, $(cut -d' ' -f1-3 /proc/loadavg) after"
	} >"$BUILD/rtn-patched/run.meta"
fi

# The report, from the .tap files of boots 1..RTN_BOOTS of each kernel.
# A kernel report in a guest's console fails that boot (as in results.sh).
REPORTS='BUG:|WARNING:|Oops|Kernel panic|general protection fault|INFO: task .* blocked|rcu: INFO: .* stall|refcount_t:'

raw=$BUILD/rtn-patched/raw.txt
: >"$raw"
fails=
for v in base patched; do
	b=1
	while [ "$b" -le "$boots" ]; do
		log=$(kdir $v)/guest-$b
		tap=$log.tap
		if [ ! -f "$tap" ]; then
			fails="$fails $v-$b:no-output"
		else
			tr -d '\r' <"$tap" | sed -n "s/^RTN /$v $b /p" >>"$raw"
			rc=$(tr -d '\r' <"$tap" | sed -n 's/^@@EPW END rt-noise rc=\([0-9]*\).*/\1/p')
			if [ -f "$log.failed" ] || [ -z "$rc" ]; then
				fails="$fails $v-$b:did-not-finish"
			elif [ "$rc" != 0 ]; then
				fails="$fails $v-$b:exit-$rc"
			fi
			grep -q '^RTN LOST' "$tap" && fails="$fails $v-$b:lost-event"
			if grep -q -E "$REPORTS" "$log.console" 2>/dev/null; then
				fails="$fails $v-$b:kernel-report"
				grep -E "$REPORTS" "$log.console" | head -n 5 | sed "s/^/  $v-$b KERNEL: /" >&2
			fi
			# init runs on the housekeeping vCPU only, so its nproc
			# says 1: rt-noise's own line counts the online vCPUs.
			cpus=$(tr -d '\r' <"$tap" | sed -n 's/^RTN cpus online=\([0-9]*\).*/\1/p')
			[ -z "$cpus" ] || [ "$cpus" = "$SMP" ] || fails="$fails $v-$b:saw-$cpus-vcpus"
			isolated=$(tr -d '\r' <"$tap" | sed -n 's/^RTN cpus .* isolated=\([^ ]*\).*/\1/p')
			[ -z "$isolated" ] || [ "$isolated" = "$iso" ] || fails="$fails $v-$b:isolated-$isolated"
		fi
		b=$((b + 1))
	done
done
[ -s "$raw" ] || die "no RTN lines in any boot's .tap under $(kdir base) and $(kdir patched)"

fails=${fails# }
meta() {
	_m=$(sed -n "s/^$1=//p" "$BUILD/rtn-patched/run.meta" 2>/dev/null | head -n 1)
	echo "${_m:-unknown}"
}
commit() { cut -d' ' -f2- "$(kdir "$1")/epw-source" 2>/dev/null || echo unknown; }
release() { cat "$(kdir "$1")/include/config/kernel.release" 2>/dev/null || echo unknown; }
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
grep -q '^flags.* hypervisor' /proc/cpuinfo && cpu="$cpu (itself a virtual machine)"
md=$results/rt-noise.md
{
	echo "# RT measurement: base against series on PREEMPT_RT"
	echo
	echo "- command: \`make rt-noise\` (tools/epoll-wfcq/rt-noise.sh), RTN_BOOTS=$boots${params:+, $params}"
	echo "- date: $(meta date)"
	echo "- machine: $(uname -m), $cpu, $(nproc) host cores; host load $(meta host_load)"
	echo "- guest: $SMP vCPUs, isolated $iso (\`$cmdline\`), ${MEM:-2G}; accelerator $(meta accel); $boots boots per kernel, alternated, $(meta secs) s in all"
	echo "- kernels: PREEMPT_RT without lockdep (config/rt-perf.config); base $(release base) at $(commit base); series $(release patched), $(cut -d' ' -f1 "$(kdir patched)/epw-source" 2>/dev/null || echo '?') patches, top $(commit patched)"
	echo "- harness and series from epoll-wfcq commit $(git -C "$TOP" log -1 --format='%h %s')$(git -C "$TOP" diff --quiet HEAD -- patches tools/epoll-wfcq/rt 2>/dev/null || echo ' (with uncommitted changes to patches/ or rt/)')"
	echo "- boots that failed: ${fails:-none}"
	echo
} >"$md"

# RES and context switches per 100,000 writes (samples, for perf) per
# isolated vCPU: the median over boots x vCPUs, [min, max].
awk -v boots="$boots" '
function med(v, p, pct,   c, i, j, t, a) {
	c = n[v, p]
	if (!c) return "-"
	for (i = 1; i <= c; i++) a[i] = x[v, p, i]
	for (i = 2; i <= c; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return sprintf("%s [%s, %s]", fmt(c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2, pct), fmt(a[1], pct), fmt(a[c], pct))
}
function mid(v, p,   c, i, j, t, a) {
	c = n[v, p]
	if (!c) return ""
	for (i = 1; i <= c; i++) a[i] = x[v, p, i]
	for (i = 2; i <= c; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
}
function fmt(f, pct) { return pct ? sprintf("%.3f", f) : f >= 100 || f == int(f) ? sprintf("%.0f", f) : sprintf("%.2g", f) }
function add(v, p, val) { n[v, p]++; x[v, p, n[v, p]] = val }
function kv(   i, s) { split("", f); for (i = 3; i <= NF; i++) if (split($i, s, "=") == 2) f[s[1]] = s[2] }
{ kv() }
$3 ~ /^phase=/ && $4 != "consumer" && ("cpu" in f) && ("res" in f) {
	v = $1; p = f["phase"]
	w = (("writes" in f) ? f["writes"] : f["samples"]) + 0
	if (w <= 0) next
	if (!(p in seen)) { seen[p] = 1; order[++np] = p }
	add(v, p "|res", 100000 * f["res"] / w)
	if ("nvcsw" in f) add(v, p "|csw", 100000 * (f["nvcsw"] + f["nivcsw"]) / w)
	if ("nvcsw" in f) add(v, p "|niv", 100000 * f["nivcsw"] / w)
	if ("policy" in f) pol[p] = f["policy"]
	nw[v, p] = w
}
$3 == "ctl" { add($1, "ctl|med", f["median_us"]); add($1, "ctl|max", f["max_us"]); ctln[$1] = f["n"] }
$3 == "osnoise" { p = f["phase"]; if (!(p in oseen)) { oseen[p] = 1; oorder[++no] = p }
	add($1, "os" p "|max", f["max_us"]); add($1, "os" p "|avail", f["avail"]) }
END {
	print "## Reschedule IPIs and producer context switches on the isolated vCPUs"
	print ""
	print "Per 100,000 writes (the perf row: per 100,000 perf samples) per isolated vCPU; median over boots x vCPUs, [min, max]. Context switches are the producer thread'\''s voluntary + involuntary ones (involuntary alone in the last columns). Counts do not depend on the speed of the guest."
	print ""
	print "| phase | writes per producer | RES base | RES series | series/base | ctxsw base | ctxsw series | involuntary base | involuntary series |"
	print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for (i = 1; i <= np; i++) {
		p = order[i]
		b = mid("base", p "|res"); s = mid("patched", p "|res")
		r = (b != "" && s != "" && b > 0) ? sprintf("%.1f%%", 100 * s / b) : "-"
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", p, (nw["base", p] ? nw["base", p] : nw["patched", p]),
			med("base", p "|res"), med("patched", p "|res"), r,
			med("base", p "|csw"), med("patched", p "|csw"), med("base", p "|niv"), med("patched", p "|niv")
	}
	print ""
	print "Phases: et_sleep (edge-triggered, SCHED_FIFO producers, consumer asleep in epoll_wait), et_poll (the consumer polls with timeout 0), paced (a busy pause every few writes), paced_lt (paced, level-triggered), paced_other and et_other (SCHED_OTHER producers), ctl (et_sleep while epoll_ctl(ADD) runs on vCPU 0), perf (a cpu-clock perf event sampling on each isolated vCPU, the regression report'\''s workload, no producer threads)."
	print ""
	print "## osnoise on the isolated vCPUs"
	print ""
	if (!no) print "No osnoise lines (the tracer was unavailable or the phases did not run)."
	else {
		print "MAX single noise in us (the largest over boots x vCPUs; median in brackets) and CPU availability in % (median over boots x vCPUs, [min, max]). Under TCG the host'\''s own noise counts as hardware noise."
		print ""
		print "| phase | MAX base | MAX series | availability base | availability series |"
		print "| --- | ---: | ---: | ---: | ---: |"
		for (i = 1; i <= no; i++) {
			p = oorder[i]
			printf "| %s | %s (%s) | %s (%s) | %s | %s |\n", p,
				big("base", "os" p "|max"), mid("base", "os" p "|max"),
				big("patched", "os" p "|max"), mid("patched", "os" p "|max"),
				med("base", "os" p "|avail", 1), med("patched", "os" p "|avail", 1)
		}
	}
	print ""
	print "## epoll_ctl(EPOLL_CTL_ADD) while the producers run"
	print ""
	print "Each boot adds " (ctln["base"] ? ctln["base"] : ctln["patched"]) " eventfds (rounds of RTN_CTL_FDS) to the epoll the consumer harvests, from vCPU 0. Median over boots of the per-boot median, and the largest single call; in us, inflated under TCG."
	print ""
	print "| kernel | median us | max us |"
	print "| --- | ---: | ---: |"
	printf "| base | %s | %s |\n", med("base", "ctl|med"), big("base", "ctl|max")
	printf "| series | %s | %s |\n", med("patched", "ctl|med"), big("patched", "ctl|max")
}
function big(v, p,   c, i, m) {
	c = n[v, p]
	if (!c) return "-"
	m = x[v, p, 1]
	for (i = 2; i <= c; i++) if (x[v, p, i] > m) m = x[v, p, i]
	return fmt(m)
}' "$raw" >>"$md"

# Which locks were contended, and from where (lock:contention_begin,
# first two frames outside the locking code): summed over boots and CPUs.
awk '$3 == "lockstat" && $5 ~ /^site=/ {
	split($4, p, "="); split($5, s, "="); split($6, c, "=")
	k = p[2] "|" s[2]; if (!(k in n)) ord[++m] = k; n[k] += c[2]; v[k, $1] += c[2]
}
$3 == "lockstat" && $5 ~ /^contentions=/ { split($4, p, "="); split($5, c, "="); tot[p[2], $1] += c[2]; if (!(p[2] in ph)) { ph[p[2]] = 1; pord[++np] = p[2] } }
END {
	print ""
	print "## Lock contention"
	print ""
	if (!np) { print "No lockstat lines (no hist trigger on lock:contention_begin in these kernels)."; exit }
	print "Contended acquisitions (lock:contention_begin) in each phase, summed over boots and CPUs; the site is the first two stack frames outside the locking code, as FUNCTION<CALLER. The busiest sites of either kernel:"
	print ""
	print "| phase | contentions base | contentions series |"
	print "| --- | ---: | ---: |"
	for (i = 1; i <= np; i++) printf "| %s | %d | %d |\n", pord[i], tot[pord[i], "base"], tot[pord[i], "patched"]
	print ""
	print "| phase | site | base | series |"
	print "| --- | --- | ---: | ---: |"
	for (i = 1; i <= m; i++) { k = ord[i]; split(k, a, "|"); if (n[k] * 50 >= tot[a[1], "base"] + tot[a[1], "patched"]) printf "| %s | %s | %d | %d |\n", a[1], a[2], v[k, "base"], v[k, "patched"] }
}' "$raw" >>"$md"
say "wrote $md"
cat "$md"
[ -z "$fails" ] || die "failed boots: $fails (console logs: $(kdir base)/guest-N.console, $(kdir patched)/guest-N.console)"
