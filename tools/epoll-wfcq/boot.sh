#!/bin/sh
# boot.sh KERNEL INITRAMFS LOG [APPEND]: boot the guest under QEMU (KVM when
# /dev/kvm is usable, else TCG) and let its init run the tests. The
# console goes to LOG.console, the tests' output to LOG.tap. A guest that
# does not finish within TIMEOUT seconds is killed and reported failed.
# ICOUNT=1 (TCG only) runs the guest on instruction-counted virtual time.
set -eu
STAGE=boot
. "$(dirname "$0")/lib.sh"

kernel=$1 initrd=$2 log=$3 append=${4:-}
smp=${SMP:-2} mem=${MEM:-2G} timeout=${TIMEOUT:-3600}
mkdir -p "$(dirname "$log")" "$CACHE"

accel=$("$HARNESS/accel.sh" "$kernel")
# No 5-level paging: identify_cpu() clears boot_cpu_data's feature bits
# with interrupts on, and a KASAN check in an interrupt in that window
# takes the 4-level bounds and calls the 5-level direct map a wild access.
cpu=max,la57=off
[ "$accel" = kvm ] && cpu=host
rm -f "$log.console" "$log.tap"
icount=
if [ "$accel" = tcg ] && [ -n "${ICOUNT:-}" ]; then
	# One nanosecond of guest time per guest instruction: a guest's
	# timings become instruction counts, whatever else the host runs.
	# icount needs the single-threaded translator.
	accel=tcg,thread=single icount="-icount shift=0,sleep=off"
elif [ "$accel" = tcg ]; then
	accel=tcg,thread=multi
elif [ -n "${ICOUNT:-}" ]; then
	say "ICOUNT ignored: the guest runs under $accel"
fi
say "booting $(basename "$kernel") (smp=$smp mem=$mem accel=$accel${icount:+ $icount} timeout=${timeout}s)"
t0=$(date +%s)
rc=0
# shellcheck disable=SC2086
set -- -accel "$accel" $icount -cpu "$cpu" -smp "$smp" -m "$mem" \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 $append" \
	-display none -nodefaults -no-reboot
if [ "${EPW_INTERACTIVE:-}" ]; then
	exec qemu-system-x86_64 "$@" -serial mon:stdio -serial null
fi
set -- "$@" -serial "file:$log.console" -serial "file:$log.tap"
timeout -k 10 "$timeout" qemu-system-x86_64 "$@" </dev/null >"$log.qemu" 2>&1 || rc=$?
secs=$(( $(date +%s) - t0 ))
if [ $rc = 124 ] || [ $rc = 137 ]; then
	say "guest did not finish within ${timeout}s: killed"
elif ! grep -q '^@@EPW DONE' "$log.tap" 2>/dev/null; then
	say "guest stopped before its tests finished (qemu exit $rc)"
	rc=1
fi
if [ $rc != 0 ]; then
	printf -- '--- last console lines (%s.console)\n' "$log" >&2
	tail -n 30 "$log.console" >&2 2>/dev/null || true
	tail -n 5 "$log.qemu" >&2
	exit 1
fi
say "guest finished in ${secs}s"
