#!/bin/sh
# bench/run.sh: make bench. Build the base and the patched kernel, boot
# each REPS times under the same QEMU settings, alternating (base,
# patched, base, patched...), run epoll-bench and the nginx and redis
# smoke (servers/) in every boot, and write results/bench.md and
# results/bench.png (report.sh).
#
# Environment: REPS (boots per kernel, default 5), SMP (guest vCPUs,
# default the host's core count), MEM, TIMEOUT (seconds per boot),
# EPB_* (epoll-bench parameters, passed on the guest's command line, e.g.
# EPB_ONLY=harvest,tcp_latency for only those benchmarks; the rows and
# the variables are listed in epoll-bench.c), BENCH_KERNEL_BASE /
# BENCH_KERNEL_PATCHED (use this bzImage instead of building that
# variant), EPW_RESULTS (output directory, default results/), ICOUNT=1
# (TCG: time is counted in guest instructions, see boot.sh; for the
# single-threaded rows, e.g. EPB_ONLY=harvest,remove,ctl).
set -eu
TOP=${TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
STAGE=bench
. "$TOP/tools/epoll-wfcq/lib.sh"

BENCH=$HARNESS/bench
out=$BUILD/bench
results=${EPW_RESULTS:-$TOP/results}
reps=${REPS:-5}
SMP=${SMP:-$(nproc)}
EPB_MS=${EPB_MS:-1500}
export SMP EPB_MS
case $reps in '' | *[!0-9]* | 0) die "REPS must be a positive number, not '$reps'" ;; esac
mkdir -p "$out" "$results"

EPW_DEPS_EXTRA="gnuplot:gnuplot-nox" "$HARNESS/deps.sh"

# kernel VARIANT: print the bzImage of VARIANT, building it unless
# BENCH_KERNEL_<VARIANT> names one. Same stages and config as run.sh.
kernel() {
	v=$1 given=
	case $v in
	base) given=${BENCH_KERNEL_BASE:-} ;;
	patched) given=${BENCH_KERNEL_PATCHED:-} ;;
	esac
	if [ -n "$given" ]; then
		[ -f "$given" ] || die "BENCH_KERNEL of $v: no file $given"
		say "$v kernel: $given (given, not built)"
		echo "$given"
		return
	fi
	src=$BUILD/src-$v series=
	if [ "$v" = patched ]; then
		series=$(series)
		[ -n "$series" ] || die "no patches in ${PATCHES:-$TOP/patches}"
	fi
	# shellcheck disable=SC2086
	"$HARNESS/tree.sh" "$src" $series >&2
	# shellcheck disable=SC2046
	"$HARNESS/kconfig.sh" "$src" "$BUILD/$v" $(fragments "$src") >&2
	"$HARNESS/build.sh" "$src" "$BUILD/$v" bzImage >&2
	echo "$BUILD/$v/arch/x86/boot/bzImage"
}

"$HARNESS/base.sh"
k_base=$(kernel base)
k_patched=$(kernel patched)
kernel_of() { if [ "$1" = base ]; then echo "$k_base"; else echo "$k_patched"; fi; }

say "building epoll-bench"
run "$out/cc.log" gcc -O2 -Wall -Wextra -Werror -static -pthread \
	-o "$out/epoll-bench" "$BENCH/epoll-bench.c"
# nginx and redis after epoll-bench in every boot (servers.sh, servers/).
"$HARNESS/servers.sh" >"$out/servers.list"
EPW_TOOLS=$(grep '^/' "$out/servers.list" | tr '\n' ' ') \
EPW_TOOLS_LIBDIR=$(sed -n 's/^libdir //p' "$out/servers.list") \
	"$HARNESS/initramfs.sh" "$out/initramfs.cpio" "$out/epoll-bench" \
	"$HARNESS/servers/run-nginx" "$HARNESS/servers/run-redis"

# The guest's init receives NAME=value words of the command line as its
# environment: that is how EPB_* reach epoll-bench.
append=$(env | grep '^EPB_[A-Z_]*=[^ ]*$' | sort | tr '\n' ' ')
# Generous: the benchmarks take about 33 points of EPB_MS each (contended
# 5, contended_hog 2 of 5 slices, oneshot 1, latency 2, tcp_latency 2,
# ctl 1, lt 3, harvest 8, lt_cycle 1), "remove" a fixed few tens of
# seconds under TCG, and the servers a minute or two.
TIMEOUT=${TIMEOUT:-$((600 + 3 * 33 * EPB_MS / 1000))}
export TIMEOUT

raw=$out/raw.txt
: >"$raw"
n=0 total=$((2 * reps))
t0=$(date +%s)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
# As boot.sh decides: ICOUNT counts instructions only under TCG.
accel=$("$HARNESS/accel.sh" "$k_base")
icount=
[ "$accel" = tcg ] && [ -n "${ICOUNT:-}" ] && icount=yes
awk -v n="$(nproc)" '{ exit !($1 > n / 2) }' /proc/loadavg && [ -z "$icount" ] &&
	say "WARNING: the host is busy (load average ${load0%% *} on $(nproc) cores): expect noisy numbers"
rep=1
while [ "$rep" -le "$reps" ]; do
	for v in base patched; do
		n=$((n + 1))
		log=$out/$v-$rep
		k=$(kernel_of "$v")
		say "run $n/$total: $v kernel, repetition $rep"
		"$HARNESS/boot.sh" "$k" "$out/initramfs.cpio" "$log" "$append" ||
			die "boot $n ($v, repetition $rep) failed; console: $log.console"
		tr -d '\r' <"$log.tap" >"$log.out"
		grep -q '^@@EPW END epoll-bench rc=0' "$log.out" ||
			die "epoll-bench failed in boot $n: $(grep -E '^(@@EPW END|BENCH error|epoll-bench:)' "$log.out" | tr '\n' ' ')"
		for s in run-nginx run-redis; do
			grep -q "^@@EPW END $s rc=0" "$log.out" ||
				die "$s failed in boot $n: $(grep -E "^(not ok|@@EPW END $s)" "$log.out" | tr '\n' ' ')"
		done
		cpus=$(sed -n 's/^@@EPW BEGIN .* nproc=\([0-9]*\).*/\1/p' "$log.out")
		[ "$cpus" = "$SMP" ] || die "the guest saw $cpus CPUs, not $SMP"
		sed -n "s/^BENCH /$v $rep /p" "$log.out" >>"$raw"
		sed -n 's/^# epoll-bench on \([^,]*\),.*/\1/p' "$log.out" | head -n 1 >"$out/$v.uname"
		say "run $n/$total: $v: $(awk '
			$1 == "BENCH" && $2 == "contended" { sub(/.*P=/, "", $3); sub(/.*=/, "", $4); s = s " P" $3 "=" $4 }
			$1 == "BENCH" && $2 == "latency" { sub(/.*=/, "", $3); sub(/.*=/, "", $4); l = l " " $3 " " $4 " us" }
			END { printf "events/ms%s; latency median%s", s, l }' "$log.out")"
	done
	rep=$((rep + 1))
done
secs=$(($(date +%s) - t0))

# The facts the report states about this run.
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
grep -q '^flags.* hypervisor' /proc/cpuinfo && cpu="$cpu (itself a virtual machine)"
commit() {
	[ -d "$BUILD/src-$1/.git" ] && git -C "$BUILD/src-$1" log -1 --format='%h %s'
}
{
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "host_cpu=$cpu, $(nproc) cores"
	echo "accel=$accel"
	[ -z "$icount" ] || echo "icount=yes"
	echo "qemu=$(qemu-system-x86_64 --version | head -n 1)"
	echo "smp=$SMP"
	echo "mem=${MEM:-2G}"
	echo "reps=$reps"
	echo "point_ms=$EPB_MS"
	echo "params=$append"
	echo "secs=$secs"
	cmp -s "$k_base" "$k_patched" && echo "same_kernel=yes"
	echo "host_load=$load0 before the boots, $(cut -d' ' -f1-3 /proc/loadavg) after"
	for v in base patched; do
		k=$(kernel_of "$v")
		echo "${v}_uname=$(cat "$out/$v.uname")"
		echo "${v}_kernel=$k"
		if [ "$k" = "$BUILD/$v/arch/x86/boot/bzImage" ]; then
			echo "${v}_commit=$(commit "$v")"
			if [ "$v" = patched ]; then
				echo "patched_count=$(git -C "$BUILD/src-patched" rev-list --count base..HEAD)"
				git -C "$BUILD/src-patched" diff --quiet base..HEAD -- fs/eventpoll.c &&
					echo "eventpoll_changed=no" || echo "eventpoll_changed=yes"
			fi
		else
			echo "${v}_commit=given by BENCH_KERNEL_$(echo "$v" | tr '[:lower:]' '[:upper:]')"
		fi
	done
} >"$out/meta.txt"

"$BENCH/report.sh" "$raw" "$out/meta.txt" "$results"
say "$total boots in ${secs}s; wrote $results/bench.md and $results/bench.png"
