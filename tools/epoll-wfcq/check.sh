#!/bin/sh
# check.sh: static gates on the series. checkpatch --strict on every
# patch; sparse, coccicheck and W=1 on the files the series touches,
# compared with the base; a kernel build after each prefix of the series.
# Prints "ok"/"not ok" per gate and exits non-zero if any fails.
set -u
STAGE=check
. "$(dirname "$0")/lib.sh"

EPW_DEPS_EXTRA="sparse:sparse spatch:coccinelle /usr/lib/python3/dist-packages/ply:python3-ply" \
	"$HARNESS/deps.sh" || exit 1
"$HARNESS/base.sh" || exit 1

dir=$BUILD/check
mkdir -p "$dir"
series=$(ls "${PATCHES:-$TOP/patches}"/[0-9]*.patch | grep -v 0000-cover-letter)
src=$BUILD/src-patched
n=0 failed=0
gate() {
	n=$((n + 1)); name=$1; shift
	if "$@" >"$dir/$name.log" 2>&1; then
		echo "ok $n $name"
	else
		echo "not ok $n $name"; failed=$((failed + 1))
		sed 's/^/# /' "$dir/$name.log" | tail -n 40
	fi
}

# Findings a reviewer accepted, one per line: "patch-file: text # why".
allowed() {
	grep -v '^#' "$HARNESS/config/checkpatch-allow" 2>/dev/null |
		sed -n "s|^$1: \(.*\) # .*|\1|p"
}
checkpatch() {
	bad=0
	for p in $series; do
		out=$(cd "$src" && scripts/checkpatch.pl --strict --terse --show-types "$p" 2>&1)
		printf '%s\n' "$out" | tail -n 1
		left=$(printf '%s\n' "$out" | grep -E ': (ERROR|WARNING|CHECK):' || true)
		ok=$(allowed "$(basename "$p")")
		[ -z "$ok" ] || left=$(printf '%s\n' "$left" | grep -v -F "$ok" || true)
		[ -z "$left" ] || { printf '%s\n' "$left"; bad=1; }
	done
	return $bad
}

# findings NAME SRC MAKE-ARGS...: the compiler's or checker's lines about
# the touched files, without line numbers so that base and patched compare.
findings() {
	name=$1 s=$2; shift 2
	# New files have no base object: the base is built without them.
	o=$(for f in $files; do [ -f "$s/$f" ] && echo "${f%.c}.o"; done)
	# shellcheck disable=SC2086
	make -C "$s" O="$dir/$name" -j"$(nproc)" CC="ccache gcc" W=1 "$@" $o \
		>"$dir/$name.make.log" 2>&1 || {
		echo "make $* failed in $s; see $dir/$name.make.log:" >&2
		tail -n 20 "$dir/$name.make.log" >&2
		return 1
	}
	grep -E '^[^ ]*\.[ch]:[0-9]+:[-0-9]*:? ' "$dir/$name.make.log" |
		sed -E 's/:[0-9]+:[-0-9]*:? / /' | sort -u
}
compare() { # compare WHAT MAKE-ARGS...: the series must add no finding
	what=$1; shift
	findings base "$BUILD/src-base" "$@" >"$dir/$what.base" || return 1
	findings patched "$src" "$@" >"$dir/$what.patched" || return 1
	new=$(comm -13 "$dir/$what.base" "$dir/$what.patched")
	echo "$what: $(wc -l <"$dir/$what.base") findings on the base, $(wc -l <"$dir/$what.patched") with the series"
	[ -z "$new" ] || { echo "new with the series:"; printf '%s\n' "$new"; return 1; }
}
prepare() {
	"$HARNESS/tree.sh" "$BUILD/src-base" >/dev/null &&
	# shellcheck disable=SC2086
	"$HARNESS/tree.sh" "$src" $series >/dev/null &&
	"$HARNESS/kconfig.sh" "$BUILD/src-base" "$dir/base" $(fragments "$BUILD/src-base") &&
	"$HARNESS/kconfig.sh" "$src" "$dir/patched" $(fragments "$src")
}
bisect() {
	k=0
	for p in $series; do
		k=$((k + 1))
		# shellcheck disable=SC2046
		"$HARNESS/tree.sh" "$dir/bisect-src" $(echo "$series" | head -n $k) &&
		"$HARNESS/kconfig.sh" "$dir/bisect-src" "$dir/bisect" $(fragments "$dir/bisect-src") &&
		"$HARNESS/build.sh" "$dir/bisect-src" "$dir/bisect" bzImage || return 1
		echo "builds after $(basename "$p")"
	done
}

say "preparing base and patched trees"
prepare >"$dir/prepare.log" 2>&1 || { cat "$dir/prepare.log"; die "cannot prepare the trees"; }
# Kernel objects only: the selftests are built and run by make test.
files=$(git -C "$src" diff --name-only base HEAD -- '*.c' ':!tools/')
[ -n "$files" ] || die "the series touches no kernel C file"
say "touched C files: $files"
gate checkpatch checkpatch
# W=1 first: the later runs find the objects built and only run the checker.
gate W=1 compare w1
gate sparse compare sparse C=2
gate coccicheck compare cocci C=2 CHECK="$src/scripts/coccicheck" MODE=report
gate bisect bisect
echo "$((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
