#!/bin/sh
# accel.sh KERNEL: print the QEMU accelerator to use, kvm or tcg. /dev/kvm
# can exist and still not run a guest (nested virtualisation), so boot
# KERNEL once under KVM and keep the answer for this boot of the host.
set -eu
STAGE=accel
. "$(dirname "$0")/lib.sh"

kernel=$1
probe=$CACHE/kvm-$(cat /proc/sys/kernel/random/boot_id)
if [ ! -f "$probe" ]; then
	mkdir -p "$CACHE"
	echo tcg >"$probe.tmp"
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		timeout 20 qemu-system-x86_64 -accel kvm -cpu host -m 256 -kernel "$kernel" \
			-append "console=ttyS0 panic=-1 rdinit=/no-init" -display none \
			-nodefaults -no-reboot -serial "file:$probe.console" \
			</dev/null >/dev/null 2>&1 || true
		if grep -q 'Kernel panic' "$probe.console" 2>/dev/null; then
			echo kvm >"$probe.tmp"
		else
			say "/dev/kvm exists but does not run a guest here: using TCG"
		fi
	fi
	mv "$probe.tmp" "$probe"
fi
cat "$probe"
