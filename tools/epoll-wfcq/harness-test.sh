#!/bin/sh
# harness-test.sh KERNEL: the harness's own failure behaviour, each shown on
# the real tree and the real kernel KERNEL (a bzImage built by run.sh).
# Prints "ok"/"not ok" per check and "passed failed" to $BUILD/harness.counts.
set -u
STAGE=harness-test
. "$(dirname "$0")/lib.sh"

kernel=$1
dir=$BUILD/harness-test
src=$dir/src
mkdir -p "$dir"
n=0 passed=0 failed=0
check() {
	n=$((n + 1))
	if "$@" >"$dir/$1.log" 2>&1; then
		echo "ok $n $1"; passed=$((passed + 1))
	else
		echo "not ok $n $1"; failed=$((failed + 1)); sed 's/^/# /' "$dir/$1.log" | tail -n 30
	fi
}
expect() { # expect WHAT FILE: FILE must match the extended regex WHAT
	grep -q -E "$1" "$2" || { echo "expected /$1/ in $2:"; tail -n 20 "$2"; return 1; }
}

# Two patches made on the real base: one good, one whose context is wrong.
make_patches() {
	"$HARNESS/tree.sh" "$src" || return 1
	rm -rf "$dir/bad-series" "$dir/bad-build"; mkdir -p "$dir/bad-series" "$dir/bad-build"
	(cd "$src" &&
	 echo '/* harness test */' >>fs/eventpoll.c && kgit commit -q -a -m 'good: comment' &&
	 sed -i 's/^static DEFINE_MUTEX(epnested_mutex);$/static DEFINE_MUTEX(epnested_mutex)/' fs/eventpoll.c &&
	 kgit commit -q -a -m 'bad: drop a semicolon' &&
	 kgit format-patch -q -o "$dir/bad-build" base &&
	 git reset -q --hard base) || return 1
	cp "$dir/bad-build/0001-good-comment.patch" "$dir/bad-series/"
	sed 's/^ static u64 loop_check_gen = 0;$/ static u64 loop_check_gen = 1;/' \
		"$dir/bad-build/0002-bad-drop-a-semicolon.patch" >"$dir/bad-series/0002-stale-context.patch"
}

t_series_does_not_apply() {
	"$HARNESS/tree.sh" "$src" "$dir"/bad-series/*.patch >"$dir/apply.out" 2>&1 && return 1
	cat "$dir/apply.out"
	expect '0002-stale-context.patch does not apply' "$dir/apply.out" &&
	expect 'patch does not apply|error:' "$dir/apply.out" &&
	[ "$(git -C "$src" rev-parse HEAD)" = "$(git -C "$src" rev-parse base)" ] &&
	[ -z "$(git -C "$src" status --porcelain)" ] &&
	[ ! -d "$src/.git/rebase-apply" ] && echo "tree left at the base, clean"
}

t_build_error_shows_compiler() {
	"$HARNESS/tree.sh" "$src" "$dir"/bad-build/*.patch &&
	"$HARNESS/kconfig.sh" "$src" "$dir/out" "$HARNESS/config/kernel.config" &&
	{ "$HARNESS/build.sh" "$src" "$dir/out" fs/eventpoll.o >"$dir/build.out" 2>&1 && return 1; }
	cat "$dir/build.out"
	expect 'fs/eventpoll.c:[0-9]+:[0-9]+: error:' "$dir/build.out"
}

t_missing_dependency() {
	EPW_DEPS_EXTRA=no-such-tool:no-such-package EPW_NO_INSTALL=1 \
		"$HARNESS/deps.sh" >"$dir/deps.out" 2>&1 && return 1
	cat "$dir/deps.out"
	expect 'missing: no-such-tool \(Debian package no-such-package\)' "$dir/deps.out" &&
	expect 'apt-get install .*no-such-package' "$dir/deps.out"
}

# A guest whose init cannot be found panics; panic=-1 ends QEMU at once.
t_guest_panic() {
	s=$(date +%s)
	TIMEOUT=300 "$HARNESS/boot.sh" "$kernel" "$dir/crash.cpio" "$dir/panic" \
		rdinit=/no-such-init >"$dir/panic.out" 2>&1 && return 1
	cat "$dir/panic.out"
	expect 'stopped before its tests finished' "$dir/panic.out" &&
	expect 'Kernel panic' "$dir/panic.out" &&
	[ $(( $(date +%s) - s )) -lt 300 ]
}

t_guest_hang() {
	TIMEOUT=60 "$HARNESS/boot.sh" "$kernel" "$dir/crash.cpio" "$dir/hang" \
		epw.mode=hang >"$dir/hang.out" 2>&1 && return 1
	cat "$dir/hang.out"
	expect 'did not finish within 60s: killed' "$dir/hang.out" &&
	expect 'last console lines' "$dir/hang.out"
}

# guest_fails NAME: boot the guest NAME.cpio; its results must fail.
guest_fails() {
	"$HARNESS/boot.sh" "$kernel" "$dir/$1.cpio" "$dir/$1" >"$dir/$1.out" 2>&1 || return 1
	"$HARNESS/results.sh" "$dir/$1" >"$dir/$1.table" 2>&1 && return 1
	cat "$dir/$1.table"
}

t_crashing_test_fails() {
	guest_fails crash &&
	expect '^segv-test +0 +1 +0 .*exit 139' "$dir/crash.table" &&
	expect '^pass-test +1 +0 +0 ' "$dir/crash.table" &&
	[ "$(cut -d" " -f2 "$dir/crash.counts")" = 1 ]
}

# epoll58 is listed in config/flaky-tests for epoll_wakeup_test only: there
# it fails once and passes on its first rerun; in other-test it is not rerun.
t_flaky_rerun() {
	guest_fails flaky &&
	expect '^epoll_wakeup_test +2 +0 +0 .*epoll58 failed, passed on rerun 1' "$dir/flaky.table" &&
	expect '^other-test +0 +1 +0 .*exit 1' "$dir/flaky.table" &&
	expect 'FAIL other-test: not ok 1 global.epoll58' "$dir/flaky.table" &&
	[ "$(grep -c '^# rerun: ok 1 global.epoll58' "$dir/flaky.tap")" = 1 ]
}

say "preparing a scratch tree and a guest with a crashing test"
printf '#include <stdio.h>\nint main(void){puts("TAP version 13\\n1..1");fflush(stdout);*(volatile int *)0 = 1;return 0;}\n' >"$dir/segv-test.c"
printf '#include <stdio.h>\nint main(void){puts("TAP version 13\\n1..1\\nok 1 pass");return 0;}\n' >"$dir/pass-test.c"
gcc -static -O2 -o "$dir/segv-test" "$dir/segv-test.c" &&
gcc -static -O2 -o "$dir/pass-test" "$dir/pass-test.c" &&
"$HARNESS/initramfs.sh" "$dir/crash.cpio" "$dir/segv-test" "$dir/pass-test" ||
	die "cannot build the test guest"
mkdir -p "$dir/flaky-bin"
cat >"$dir/flaky-bin/epoll_wakeup_test" <<'EOF'
#!/bin/sh
echo 'TAP version 13'
[ "$1" = -t ] && { echo '1..1'; echo "ok 1 global.$2"; exit 0; }
printf '1..2\nok 1 global.epoll1\nnot ok 2 global.epoll58\n'
exit 1
EOF
cat >"$dir/flaky-bin/other-test" <<'EOF'
#!/bin/sh
printf 'TAP version 13\n1..1\nnot ok 1 global.epoll58\n'
exit 1
EOF
chmod +x "$dir"/flaky-bin/*
"$HARNESS/initramfs.sh" "$dir/flaky.cpio" "$dir/flaky-bin/epoll_wakeup_test" "$dir/flaky-bin/other-test" ||
	die "cannot build the flaky-test guest"
make_patches >"$dir/prepare.log" 2>&1 || { cat "$dir/prepare.log"; die "cannot prepare the scratch tree"; }

check t_series_does_not_apply
check t_build_error_shows_compiler
check t_missing_dependency
check t_guest_panic
check t_guest_hang
check t_crashing_test_fails
check t_flaky_rerun
echo "$passed $failed" >"$BUILD/harness.counts"
[ "$failed" = 0 ]
