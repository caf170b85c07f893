#!/bin/sh
# userspace.sh: a whole Debian 12 userspace (systemd, journald, udevd,
# dbus, logind, a user session, weston --backend=headless with clients)
# booted USERSPACE_BOOTS times (default 2) on each kernel of
# USERSPACE_KERNELS (default "base patched"), alternated, with a burst
# like a login (userspace/epw-userspace). Writes a per-boot table to
# USERSPACE_RESULTS (default results/userspace.md); exits non-zero on any
# failed boot. Kernels: base, patched (the series), mutant-X (the series
# plus mutants/X-*.patch, or userspace/X-*.patch: j, the 6.16 suspect). USERSPACE_BURST scales the burst (default 20
# rounds); USERSPACE_TIMEOUT (default 2400 s) bounds one boot, whatever
# else happens. Guest logs: build/userspace/NN-KERNEL.{console,out}.
set -eu
STAGE=userspace
. "$(dirname "$0")/lib.sh"

boots=${USERSPACE_BOOTS:-2}
kernels=${USERSPACE_KERNELS:-base patched}
burst=${USERSPACE_BURST:-20}
limit=${USERSPACE_TIMEOUT:-2400}
table=${USERSPACE_RESULTS:-$TOP/results/userspace.md}
smp=${SMP:-2} mem=${MEM:-2G}
REPORTS='BUG:|WARNING:|KASAN:|Oops|Kernel panic|general protection fault|possible .*deadlock|INFO: task .* blocked|list_(add|del) corruption|refcount_t:'
out=$BUILD/userspace
mkdir -p "$out" "$(dirname "$table")"

"$HARNESS/deps.sh"
"$HARNESS/base.sh"
img=$("$HARNESS/userspace/image.sh")

# kernel NAME: build the kernel NAME in a tree of its own (never the trees
# of make run / make test), print a copy of its bzImage. A mutant is
# built in the series' tree and output, so that only what it changes
# recompiles; the next build of the series puts them back.
kernel() {
	name=$1 src=$BUILD/src-us-$1 kout=$BUILD/us-$1
	case $name in
	base) set -- ;;
	patched) set -- $(series) ;;
	mutant-*)
		src=$BUILD/src-us-patched kout=$BUILD/us-patched
		m=$(ls "$HARNESS"/mutants/"${name#mutant-}"-*.patch \
			"$HARNESS"/userspace/"${name#mutant-}"-*.patch 2>/dev/null | head -n 1)
		[ -n "$m" ] || die "no mutant ${name#mutant-} in $HARNESS/mutants"
		set -- $(series) "$m" ;;
	*) die "unknown kernel $name" ;;
	esac
	"$HARNESS/tree.sh" "$src" "$@" >&2
	# shellcheck disable=SC2046
	"$HARNESS/kconfig.sh" "$src" "$kout" $(fragments "$src" "$HARNESS/config/userspace.config") >&2
	nice -n 10 "$HARNESS/build.sh" "$src" "$kout" bzImage >&2
	cp "$kout/arch/x86/boot/bzImage" "$out/bzImage-$name"
	git -C "$src" log -1 --format="$(cat "$kout/include/config/kernel.release"), %h %s" >"$out/release-$name"
	echo "$out/bzImage-$name"
}

for k in $kernels; do
	say "kernel $k"
	eval "bz_$(echo "$k" | tr -c 'a-z0-9\n' _)=\$(kernel \$k)"
done
bz() { eval "echo \$bz_$(echo "$1" | tr -c 'a-z0-9\n' _)"; }

accel=$("$HARNESS/accel.sh" "$(bz "${kernels%% *}")")
cpu=max,la57=off qaccel=tcg,thread=multi
[ "$accel" = kvm ] && cpu=host qaccel=kvm

# boot N KERNEL: one boot; appends its row to $rows.
rows=$out/rows
: >"$rows"
boot() {
	n=$1 k=$2 log=$out/$(printf %02d "$1")-$2
	rm -f "$log".*
	say "boot $n/$total: $k (smp=$smp mem=$mem accel=$qaccel burst=$burst)"
	nice -n 10 qemu-system-x86_64 -accel "$qaccel" -cpu "$cpu" -smp "$smp" -m "$mem" \
		-kernel "$(bz "$k")" -append "console=ttyS0 root=/dev/vda rw panic=-1 epw.burst=$burst" \
		-drive "file=$img,format=raw,if=virtio,snapshot=on" \
		-display none -nodefaults -no-reboot \
		-serial "file:$log.console" -serial "file:$log.out" </dev/null >"$log.qemu" 2>&1 &
	qpid=$!
	t0=$(date +%s) tpo= why= last=0
	while kill -0 "$qpid" 2>/dev/null; do
		sleep 1
		now=$(date +%s)
		if [ -z "$tpo" ] && grep -q '^@@EPW POWEROFF' "$log.out" 2>/dev/null; then
			tpo=$now
		fi
		if [ $((now - t0)) -ge "$limit" ]; then
			why="timeout: killed after ${limit}s"
		elif [ -n "$tpo" ] && [ $((now - tpo)) -ge 900 ]; then
			why="power-off not done after 900s: killed"
		fi
		if [ -n "$why" ]; then
			kill -9 "$qpid" 2>/dev/null || true
			break
		fi
		if [ $((now - last)) -ge 60 ]; then
			last=$now
			say "  $k $((now - t0))s: $(grep '^@@EPW' "$log.out" 2>/dev/null | tail -n 1 | cut -c7-90)"
		fi
	done
	wait "$qpid" 2>/dev/null || true
	end=$(date +%s)
	o=$log.out
	val() { sed -n "s/^@@EPW $1 \([0-9.]*\).*/\1/p" "$o" | head -n 1; }
	target=$(val target_s) bt=$(val burst_s) po=-
	[ -n "$tpo" ] && [ -z "$why" ] && po=$((end - tpo))
	notes=$(
		[ -z "$why" ] || echo "$why"
		grep '^@@EPW FAIL' "$o" 2>/dev/null | cut -c 12- | sort -u
		grep -E "$REPORTS" "$log.console" 2>/dev/null | sed 's/^\[[ 0-9.]*\] //' | sort -u | sed 's/^/kernel: /'
		grep -q '^@@EPW RESULT sessions' "$o" 2>/dev/null || echo "no result line"
	)
	result=pass
	[ -z "$notes" ] || result=FAIL
	stalls=$(grep -c 'RCU.*stall' "$log.console" 2>/dev/null || true)
	[ "$stalls" = 0 ] || notes="$notes${notes:+; }$stalls RCU stall report(s) (slow, not failed)"
	notes=$(echo "$notes" | head -n 4 | tr '\n' ';' | sed 's/;$//; s/|/\//g')
	printf '| %d | %s | %s | %s | %s | %s | %s | %s |\n' "$n" "$k" "${target:--}" \
		"${bt:--}" "$po" "$((end - t0))" "$result" "${notes:-}" >>"$rows"
	say "boot $n $k: $result, default target ${target:--}s, burst ${bt:--}s, power-off ${po}s, whole $((end - t0))s${notes:+: $notes}"
	[ $result = pass ]
}

total=$(($(echo $kernels | wc -w) * boots))
n=0 failed=0
i=0
while [ $i -lt "$boots" ]; do
	i=$((i + 1))
	for k in $kernels; do
		n=$((n + 1))
		boot $n "$k" || failed=$((failed + 1))
	done
done

# median KERNEL COLUMN
median() {
	awk -F' *\\| *' -v k="$1" -v c="$2" '$3 == k && $c ~ /^[0-9.]+$/ { print $c }' "$rows" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) printf "%s (%s-%s)", v[int((NR + 1) / 2)], v[1], v[NR]; else printf "-" }'
}
{
	echo "# A whole Debian 12 userspace booted on base and series"
	echo
	echo "- command: \`USERSPACE_BOOTS=$boots USERSPACE_KERNELS=\"$kernels\" USERSPACE_BURST=$burst $HARNESS/userspace.sh\` (\`make userspace\`)"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), $(free -g | awk '/^Mem:/ { print $2 }') GiB"
	echo "- guest: $smp vCPUs, $mem, accelerator $qaccel; Debian 12 image $(basename "$img")"
	echo "- series: $(git -C "$TOP" log -1 --format='%h %s'), patches/ $(git -C "$TOP" status --porcelain -- patches | grep -q . && echo 'with uncommitted changes' || echo clean), $(series | wc -l) patches"
	for k in $kernels; do
		echo "- $k kernel: $(cat "$out/release-$k")"
	done
	echo
	echo "Times in seconds of guest wall time under $qaccel. Default target: systemd's"
	echo "ActiveEnterTimestamp of the default target (kernel start to target);"
	echo "burst: the login-like burst (userspace/epw-userspace); power-off: from the"
	echo "guest's \`systemctl poweroff\` to QEMU's exit, as the host sees it; whole:"
	echo "QEMU start to exit. A boot fails on an outcome only (see userspace/epw-userspace)."
	echo
	echo "| # | kernel | default target | burst | power-off | whole | result | notes |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
	cat "$rows"
	echo
	echo "| kernel | boots | failed | default target, median (min-max) | burst | power-off |"
	echo "| --- | --- | --- | --- | --- | --- |"
	for k in $kernels; do
		echo "| $k | $(awk -F' *\\| *' -v k="$k" '$3 == k' "$rows" | wc -l) |" \
			"$(awk -F' *\\| *' -v k="$k" '$3 == k && $8 != "pass"' "$rows" | wc -l) |" \
			"$(median "$k" 4) | $(median "$k" 5) | $(median "$k" 6) |"
	done
} >"$table"
cat "$table"
say "$n boots, $failed failed; table in $table"
[ "$failed" = 0 ]
