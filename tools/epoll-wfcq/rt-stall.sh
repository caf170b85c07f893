#!/bin/sh
# rt-stall.sh: the RT stall reproducer (make rt-stall). Boot the two
# PREEMPT_RT kernels without lockdep that rt-noise.sh builds (base and
# series, build/rtn-base and build/rtn-patched) RTS_BOOTS times each,
# alternating (base, series, base, ...), and run rt/rt-stall.c in every
# boot for RTS_SECS seconds: eventfd and pipe producers in a cgroup
# throttled by cpu.max, timerfds on every vCPU, one SCHED_FIFO waiter
# outside the cgroup harvesting them all from one epoll. A boot fails on
# a waiter that stops harvesting, a task stuck in D state, a lost write,
# or an RCU stall, hung task or other kernel report. Writes
# results/rt-stall.md.
#
# Environment: RTS_SECS (seconds per boot, default 3600), RTS_BOOTS (boots
# per kernel, default 1), SMP (default 2), MEM, TIMEOUT (seconds per
# boot, default RTS_SECS + 900; a guest that does not finish is killed
# and the boot fails), RTS_* (rt-stall's own parameters, passed on the
# guest's command line, e.g. RTS_CPU_MAX=2000,20000; see rt/rt-stall.c),
# RTS_KERNELS (default "base patched"), RTS_PREBUILT=1 (build no kernel:
# boot those in build/rtn-* as they are), RTS_REPORT_ONLY=1 (build and
# boot nothing: write the report from the .tap files of the last run),
# EPW_RESULTS (output directory, default results/).
set -eu
STAGE=rt-stall
. "$(dirname "$0")/lib.sh"

results=${EPW_RESULTS:-$TOP/results}
secs=${RTS_SECS:-3600}
boots=${RTS_BOOTS:-1}
kernels=${RTS_KERNELS:-base patched}
SMP=${SMP:-2}
TIMEOUT=${TIMEOUT:-$((secs + 900))}
export SMP TIMEOUT
case $secs in '' | *[!0-9]* | 0) die "RTS_SECS must be a positive number, not '$secs'" ;; esac
case $boots in '' | *[!0-9]* | 0) die "RTS_BOOTS must be a positive number, not '$boots'" ;; esac
for v in $kernels; do
	case $v in base | patched) ;; *) die "RTS_KERNELS: base and/or patched, not '$v'" ;; esac
done
[ "$TIMEOUT" -gt "$((secs + 120))" ] || die "TIMEOUT=$TIMEOUT leaves no time beyond RTS_SECS=$secs"
# rt-stall's parameters reach the guest's init as its environment.
params=$(env | grep '^RTS_[A-Z_]*=[^ ]*$' |
	grep -v -E '^RTS_(SECS|BOOTS|KERNELS|PREBUILT|REPORT_ONLY|GUEST)=' | sort | tr '\n' ' ' | sed 's/ $//')
append="RTS_GUEST=1 RTS_SECS=$secs EPW_TEST_TIMEOUT=$((TIMEOUT - 60)) $params"
out=$BUILD/rt-stall
mkdir -p "$results" "$out"

kdir() { echo "$BUILD/rtn-$1"; }
bzimage() { echo "$(kdir "$1")/arch/x86/boot/bzImage"; }

if [ -z "${RTS_REPORT_ONLY:-}" ]; then
	if [ -z "${RTS_PREBUILT:-}" ]; then
		RTN_KERNELS_ONLY=1 "$HARNESS/rt-noise.sh"
	fi
	for v in $kernels; do
		[ -f "$(bzimage $v)" ] || die "no $(bzimage $v) (make rt-stall without RTS_PREBUILT builds it)"
		grep -q '^CONFIG_CFS_BANDWIDTH=y' "$(kdir $v)/.config" ||
			die "$v: no CONFIG_CFS_BANDWIDTH in $(kdir $v)/.config (config/rt-perf.config has it; rebuild)"
	done
	say "building rt-stall"
	run "$out/rt-stall.log" gcc -O2 -Wall -Wextra -Werror -static -pthread \
		-o "$out/rt-stall" "$HARNESS/rt/rt-stall.c"
	"$HARNESS/initramfs.sh" "$out/rt-stall.cpio" "$out/rt-stall"

	first=${kernels%% *}
	accel=$("$HARNESS/accel.sh" "$(bzimage "$first")")
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	t0=$(date +%s)
	b=1
	while [ "$b" -le "$boots" ]; do
		for v in $kernels; do
			log=$out/$v-$b
			say "boot $b/$boots of the $v kernel, rt-stall for ${secs}s"
			rm -f "$log.failed"
			if ! "$HARNESS/boot.sh" "$(bzimage $v)" "$out/rt-stall.cpio" "$log" "$append"; then
				echo "the guest did not finish (see $log.console)" >"$log.failed"
				say "boot $b of $v FAILED; going on with the others"
			fi
		done
		b=$((b + 1))
	done
	{
		echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
		echo "accel=$accel${ICOUNT:+ (icount)}"
		echo "secs=$(($(date +%s) - t0))"
		echo "host_load=$load0 before the boots, $(cut -d' ' -f1-3 /proc/loadavg) after"
		echo "prebuilt=${RTS_PREBUILT:+yes}"
	} >"$out/run.meta"
fi

meta() {
	_m=$(sed -n "s/^$1=//p" "$out/run.meta" 2>/dev/null | head -n 1)
	echo "${_m:-unknown}"
}
commit() { cut -d' ' -f2- "$(kdir "$1")/epw-source" 2>/dev/null || echo unknown; }
release() { cat "$(kdir "$1")/include/config/kernel.release" 2>/dev/null || echo unknown; }
# kv KEY LINE: the value of KEY=value in LINE.
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }

# A kernel report in a guest's console fails that boot (as in results.sh).
REPORTS='BUG:|WARNING:|Oops|Kernel panic|general protection fault|INFO: task .* blocked|rcu: INFO: .* stall|self-detected stall|soft lockup'

rows= fails= verdicts=
for v in $kernels; do
	b=1
	while [ "$b" -le "$boots" ]; do
		log=$out/$v-$b
		tap=$(tr -d '\r' <"$log.tap" 2>/dev/null || true)
		verdict=$(printf '%s\n' "$tap" | grep -E '^(not )?ok 1 rt-stall' | head -n 1)
		end=$(printf '%s\n' "$tap" | grep '^# RTS end ' | head -n 1)
		rc=$(printf '%s\n' "$tap" | sed -n 's/^@@EPW END rt-stall rc=\([0-9]*\).*/\1/p')
		why=
		[ -n "$tap" ] || why="no output"
		[ ! -f "$log.failed" ] || why="${why:+$why, }did not finish"
		[ -n "$rc" ] || [ -n "$why" ] || why="did not finish"
		[ -z "$rc" ] || [ "$rc" = 0 ] || why="${why:+$why, }exit $rc"
		case $verdict in ok*) ;; *) why="${why:+$why, }${verdict:-no verdict}" ;; esac
		nrep=$(grep -c -E "$REPORTS" "$log.console" 2>/dev/null || true)
		if [ "${nrep:-0}" -gt 0 ]; then
			why="${why:+$why, }$nrep kernel report lines"
			grep -E "$REPORTS" "$log.console" | head -n 5 | sed "s/^/  $v-$b KERNEL: /" >&2
		fi
		[ -z "$why" ] || fails="$fails $v-$b"
		gap=$(kv gap_max_ms "$end")
		thr=$(kv throttled_ms "$end")
		rows="$rows| $v | $b | ${why:+FAILED }${why:-ok} | $(kv secs "$end") | $(kv writes "$end") | $(kv harvested "$end") | $(kv ticks "$end") | ${gap:+$(awk -v g="$gap" 'BEGIN { printf "%.2f", g / 1000 }')} | $(kv throttled "$end") / $(kv periods "$end") | ${thr:+$((thr / 1000))} | $(kv dstate_max_s "$end") | $(kv kernel_reports "$end") / ${nrep:-0} |
"
		verdicts="$verdicts- $v, boot $b: \`${verdict:-(none)}\`
"
		b=$((b + 1))
	done
done
setup=$(tr -d '\r' <"$out/$(echo "$kernels" | cut -d' ' -f1)-1.tap" 2>/dev/null | grep '^# RTS setup ' | head -n 1 | sed 's/^# RTS setup //')
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
grep -q '^flags.* hypervisor' /proc/cpuinfo && cpu="$cpu (itself a virtual machine)"
fails=${fails# }
md=$results/rt-stall.md
{
	echo "# RT stall reproducer: base against series on PREEMPT_RT"
	echo
	echo "- command: \`make rt-stall\` (tools/epoll-wfcq/rt-stall.sh), RTS_SECS=$secs, RTS_BOOTS=$boots${params:+, $params}$([ "$(meta prebuilt)" != yes ] || echo ', RTS_PREBUILT=1')"
	echo "- date: $(meta date)"
	echo "- machine: $(uname -m), $cpu, $(nproc) host cores; host load $(meta host_load)"
	echo "- guest: $SMP vCPUs, ${MEM:-2G}; accelerator $(meta accel); $boots boot(s) per kernel, alternated, $(meta secs) s in all"
	echo "- series: $(cut -d' ' -f1 "$(kdir patched)/epw-source" 2>/dev/null || echo '?') patches, top $(commit patched); harness and series from epoll-wfcq commit $(git -C "$TOP" log -1 --format='%h %s')$(git -C "$TOP" diff --quiet HEAD -- patches tools/epoll-wfcq/rt 2>/dev/null || echo ' (with uncommitted changes to patches/ or rt/)')"
	echo "- kernels: PREEMPT_RT without lockdep (config/rt-perf.config); base $(release base) at $(commit base); series $(release patched)"
	echo "- rt-stall: ${setup:-no setup line}"
	echo "- boots that failed: ${fails:-none}"
	echo
	echo "Producers write eventfds (level-triggered) and pipes (edge-triggered) in a tight loop inside a cgroup capped by cpu.max; timerfds fire on every vCPU; one SCHED_FIFO waiter outside the cgroup harvests all of them from one epoll. \"Longest wait\" is the longest time the waiter harvested nothing while writes were pending (measured, not failed; a boot fails past RTS_STALL_SECS). Kernel reports: seen by rt-stall in /dev/kmsg / lines of the console log."
	echo
	echo "| kernel | boot | verdict | guest s | writes | harvested | timer expiries | longest wait s | throttled / periods | throttled s, all vCPUs | longest D state s | kernel reports |"
	echo "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	printf '%s' "$rows"
	echo
	echo "Verdict lines:"
	echo
	printf '%s' "$verdicts"
} >"$md"
say "wrote $md"
cat "$md"
[ -z "$fails" ] || die "failed boots: $fails (logs: $out/KERNEL-N.console, .tap)"
