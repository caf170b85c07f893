#!/bin/sh
# export.sh DEV: write the series of the kernel work tree DEV (commits
# base..HEAD, cover letter from the branch description) to patches/, and
# the files it adds or changes, as they stand in DEV, to the mirror.
set -eu
STAGE=export
. "$(dirname "$0")/lib.sh"

dev=${1:-}
[ -n "$dev" ] && git -C "$dev" rev-parse -q --verify base >/dev/null ||
	die "usage: make export DEV=<kernel work tree with a 'base' tag>"
[ -z "$(git -C "$dev" status --porcelain --untracked-files=no)" ] ||
	die "$dev has uncommitted changes"
branch=$(git -C "$dev" symbolic-ref --short HEAD)
git -C "$dev" config "branch.$branch.description" >/dev/null ||
	die "no cover letter: git -C $dev branch --edit-description"

rm -f "$TOP"/patches/*.patch
git -C "$dev" format-patch -q -v"$SERIES_VERSION" --cover-letter \
	--cover-from-description=subject -o "$TOP/patches" base..HEAD
! grep -q '\*\*\*.*HERE' "$TOP"/patches/*cover-letter.patch ||
	die "cover letter still has placeholders"

changed=$(git -C "$dev" diff --name-only --diff-filter=AM base HEAD)
for f in $("$HARNESS/mirror-files.sh"); do
	printf '%s\n' "$changed" | grep -qxF "$f" || { rm -f "$TOP/$f"; say "dropped $f"; }
done
for f in $changed; do
	mkdir -p "$TOP/$(dirname "$f")"
	cp "$dev/$f" "$TOP/$f"
done
say "$(ls "$TOP"/patches/*.patch | wc -l) patch files, $(echo "$changed" | grep -c .) files in the mirror"
