#!/bin/sh
# check.sh: static gates on the series. checkpatch --strict on every
# patch; sparse, coccicheck and W=1 on the files the series touches,
# compared with the base; a kernel build after each prefix of the series.
# Prints "ok"/"not ok" per gate and exits non-zero if any fails.
set -u
STAGE=check
. "$(dirname "$0")/lib.sh"

EPW_DEPS_EXTRA="sparse:sparse spatch:coccinelle ocamlopt:ocaml-nox /usr/lib/python3/dist-packages/ply:python3-ply /usr/lib/python3/dist-packages/git:python3-git" \
	"$HARNESS/deps.sh" || exit 1
"$HARNESS/base.sh" || exit 1

dir=$BUILD/check
mkdir -p "$dir"
series=$(series)
# Trees of its own: make run and make test use build/src-*, and a check
# running beside them must not re-apply a tree that they are building.
src=$dir/src-patched
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

# Findings a reviewer accepted, one per line: "patch-file: text # why",
# the file named without its "vN-" prefix so that it outlives the version.
allowed() {
	grep -v '^#' "$HARNESS/config/checkpatch-allow" 2>/dev/null |
		sed -n "s|^$1: \(.*\) # .*|\1|p"
}
checkpatch() {
	bad=0
	for p in $series; do
		# Debian's python3 has python3-ply for the SPDX check; another
		# python3 first on PATH (pyenv) may not.
		out=$(cd "$src" && PATH=/usr/bin:/bin:$PATH \
			scripts/checkpatch.pl --strict --terse --show-types "$p" 2>&1)
		printf '%s\n' "$out" | tail -n 1
		if printf '%s\n' "$out" | grep -q '^Traceback'; then
			printf '%s\n' "$out" | grep -A3 '^Traceback'; bad=1
		fi
		left=$(printf '%s\n' "$out" | grep -E ': (ERROR|WARNING|CHECK):' || true)
		ok=$(allowed "$(basename "$p" | sed 's/^v[0-9]*-//')")
		[ -z "$ok" ] || left=$(printf '%s\n' "$left" | grep -v -F "$ok" || true)
		[ -z "$left" ] || { printf '%s\n' "$left"; bad=1; }
	done
	return $bad
}

# findings NAME SRC MAKE-ARGS...: the compiler's or checker's lines about
# the touched files, without the tree's path and line numbers so that base
# and patched compare. (gate() owns $name: use other names here.)
findings() {
	_o=$1 _s=$2; shift 2
	# New files have no base object: the base is built without them.
	_objs=$(for f in $files; do [ -f "$_s/$f" ] && echo "${f%.c}.o"; done)
	# Compile them afresh: an up-to-date object prints no warning.
	for f in $_objs; do rm -f "$dir/$_o/$f"; done
	# shellcheck disable=SC2086
	make -C "$_s" O="$dir/$_o" -j"$(nproc)" CC="ccache gcc" W=1 "$@" $_objs \
		>"$dir/$_o.make.log" 2>&1 || {
		echo "make $* failed in $_s; see $dir/$_o.make.log:" >&2
		tail -n 20 "$dir/$_o.make.log" >&2
		return 1
	}
	# Kbuild drops C= with a warning when the checker fails its test.
	if grep -q 'specified, but .* is not available or not up to date' "$dir/$_o.make.log"; then
		grep 'not up to date' "$dir/$_o.make.log" >&2
		return 1
	fi
	normalize "$_s" <"$dir/$_o.make.log"
}
# coccicheck, report mode, on copies of the touched files in a directory
# of their own: M= takes a directory, not a file, since 7.x.
cocci() {
	_o=$1 _s=$2
	rm -rf "$dir/cocci-$_o"
	for f in $files; do
		[ -f "$_s/$f" ] || continue
		mkdir -p "$dir/cocci-$_o/$(dirname "$f")"
		cp "$_s/$f" "$dir/cocci-$_o/$f"
	done
	make -C "$_s" coccicheck MODE=report M="$dir/cocci-$_o" \
		>"$dir/$_o.cocci.log" 2>&1 || {
		echo "coccicheck failed in $_s; see $dir/$_o.cocci.log:" >&2
		tail -n 20 "$dir/$_o.cocci.log" >&2
		return 1
	}
	grep -q '^/usr/bin/spatch ' "$dir/$_o.cocci.log" ||
		{ echo "coccicheck ran no semantic patch; see $dir/$_o.cocci.log" >&2; return 1; }
	normalize "$dir/cocci-$_o" <"$dir/$_o.cocci.log"
}
normalize() {
	sed -E "s#^$1/##; s#^\./##; s#^([^ :]*/)?($(echo $files | tr ' ' '|'))#\2#" | grep -E '^[^ ]*\.[ch]:[0-9]+:[-0-9]*:? ' |
		sed -E 's/:[0-9]+:[-0-9]*:? / /; s/ line [0-9]+/ line N/g' | sort -u
}
compare() { # compare WHAT FINDER [MAKE-ARGS...]: the series adds no finding
	what=$1 finder=$2; shift 2
	"$finder" base "$dir/src-base" "$@" >"$dir/$what.base" || return 1
	"$finder" patched "$src" "$@" >"$dir/$what.patched" || return 1
	new=$(comm -13 "$dir/$what.base" "$dir/$what.patched")
	echo "$what: $(wc -l <"$dir/$what.base") findings on the base, $(wc -l <"$dir/$what.patched") with the series"
	[ -z "$new" ] || { echo "new with the series:"; printf '%s\n' "$new"; return 1; }
}
prepare() {
	"$HARNESS/tree.sh" "$dir/src-base" >/dev/null &&
	# shellcheck disable=SC2086
	"$HARNESS/tree.sh" "$src" $series >/dev/null &&
	"$HARNESS/kconfig.sh" "$dir/src-base" "$dir/base" $(fragments "$dir/src-base") &&
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
gate W=1 compare w1 findings
gate sparse compare sparse findings C=2 CHECK="$HARNESS/sparse.sh"
gate coccicheck compare cocci cocci
gate bisect bisect
echo "$((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
