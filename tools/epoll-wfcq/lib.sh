# Common definitions for the harness stages; sourced, not run.
# shellcheck shell=sh

TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
HARNESS=$TOP/tools/epoll-wfcq
CACHE=${EPW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/epoll-wfcq}
BUILD=${EPW_BUILD:-$TOP/build}
BASE_PKG=linux-source-7.3
BASE_SUITE=trixie-backports
BASE_VER=${EPW_BASE_VER:-7.3.4-1~bpo13+1}
BASE_REPO=$CACHE/$BASE_PKG.git
SERIES_VERSION=8
IDENT_NAME=epoll-wfcq
IDENT_EMAIL=epoll-wfcq@example.org

export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
# Hash paths relative to the clone, so that another clone hits the cache.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$TOP} CCACHE_NOHASHDIR=1

STAGE_T0=$(date +%s)

say() { printf '[%s %4ss] %s\n' "${STAGE:-epw}" $(( $(date +%s) - STAGE_T0 )) "$*" >&2; }
die() { printf '[%s] FAILED: %s\n' "${STAGE:-epw}" "$*" >&2; exit 1; }

# run LOG CMD...: run CMD with output to LOG; on failure print the stage,
# the command, the compiler's error lines and the tail of the log.
run() {
	_log=$1; shift
	mkdir -p "$(dirname "$_log")"
	"$@" >"$_log" 2>&1 && return 0
	_rc=$?
	printf '[%s] FAILED (exit %s): %s\n' "${STAGE:-epw}" "$_rc" "$*" >&2
	if grep -q -E '(error|Error):' "$_log"; then
		printf -- '--- error lines from %s\n' "$_log" >&2
		grep -E -B2 -A3 '(error|Error):' "$_log" | head -n 40 >&2
	fi
	printf -- '--- last lines of %s\n' "$_log" >&2
	tail -n 25 "$_log" >&2
	exit "$_rc"
}

# git in the project identity, so From: and Signed-off-by: match.
kgit() {
	git -c user.name="$IDENT_NAME" -c user.email="$IDENT_EMAIL" \
		-c advice.detachedHead=false "$@"
}

# fragments SRC [FRAGMENT...]: the config fragments for tree SRC: ours,
# the given ones, and the series' own options once the tree has them.
fragments() {
	_src=$1; shift
	echo "$HARNESS/config/kernel.config" "$@"
	git -C "$_src" grep -q '^config WFCQUEUE_KUNIT_TEST' -- lib &&
		echo "$HARNESS/config/series.config"
	return 0
}

# series [DIR]: the patches of the series in DIR (default PATCHES or
# patches/), in name order, without the cover letter; any name works.
series() {
	for _p in "${1:-${PATCHES:-$TOP/patches}}"/*.patch; do
		[ -f "$_p" ] || continue
		grep -q '^Subject: \[PATCH[^]]* 0*0/[0-9]*\]' "$_p" && continue
		echo "$_p"
	done
	return 0
}

# unpack_debs DL ROOT STAMP PKG...: unpack the one PKG_*.deb in DL of each
# PKG into a new ROOT, which replaces the old one whole, and mark it done
# with the file ROOT/STAMP.
unpack_debs() {
	_dl=$1 _root=$2 _stamp=$3; shift 3
	rm -rf "$_root.tmp"
	mkdir -p "$_root.tmp"
	for _p in "$@"; do
		_debs=$(ls "$_dl/${_p}"_*.deb 2>/dev/null || true)
		if [ -z "$_debs" ] || [ "$(echo "$_debs" | wc -l)" != 1 ]; then
			die "want one ${_p} .deb in $_dl, found: ${_debs:-none}"
		fi
		dpkg-deb -x "$_debs" "$_root.tmp"
	done
	rm -rf "$_root"
	mv "$_root.tmp" "$_root"
	: >"$_root/$_stamp"
}
