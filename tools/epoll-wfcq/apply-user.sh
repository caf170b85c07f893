#!/bin/sh
# apply-user.sh DIR: git am the series onto the user's own kernel tree.
set -eu
STAGE=apply
. "$(dirname "$0")/lib.sh"

dir=${1:-}
[ -n "$dir" ] || die "usage: make apply KERNEL_SRC=<your kernel git tree>"
git -C "$dir" rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
	die "$dir is not a git work tree"
[ -z "$(git -C "$dir" status --porcelain --untracked-files=no)" ] ||
	die "$dir has uncommitted changes; commit or stash them first"
[ ! -d "$(git -C "$dir" rev-parse --git-path rebase-apply)" ] ||
	die "$dir has a git am or rebase in progress"
series=$(series)
[ -n "$series" ] || die "no patches in ${PATCHES:-$TOP/patches}"
how="git am"
# shellcheck disable=SC2086
if ! git -C "$dir" am $series; then
	git -C "$dir" am --abort
	say "plain git am failed; retrying with git am -3 (3-way merge on the blobs named in the patches)"
	how="git am -3"
	# shellcheck disable=SC2086
	if ! git -C "$dir" am -3 $series; then
		git -C "$dir" am --abort
		die "the series does not apply to $dir; the tree is unchanged"
	fi
fi
say "applied $(echo "$series" | wc -l) patches onto $dir with $how"
