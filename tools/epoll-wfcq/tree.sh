#!/bin/sh
# tree.sh SRC [PATCH...]: make SRC a checkout of the base with the given
# patches applied by git am. Reuses SRC when it already holds exactly
# that series, so unchanged files keep their mtimes and nothing rebuilds.
# A patch that does not apply leaves SRC at the base, never half-applied.
set -eu
STAGE=apply
. "$(dirname "$0")/lib.sh"

src=$1; shift
[ -f "$BASE_REPO/epw-base-ok" ] || die "no base repository in $BASE_REPO (run base.sh)"

if [ ! -d "$src/.git" ]; then
	say "checking out the base into $src"
	rm -rf "$src"
	git clone -q -s --no-checkout "$BASE_REPO" "$src"
	git -C "$src" checkout -q -B work base
	git -C "$src" config user.name "$IDENT_NAME"
	git -C "$src" config user.email "$IDENT_EMAIL"
fi

# The series identity: the patch files' content, in order.
want=$(for p in "$@"; do git hash-object "$p"; done | git hash-object --stdin)
stamp=$src/.git/epw-series
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want $(git -C "$src" rev-parse HEAD)" ] &&
   [ -z "$(git -C "$src" status --porcelain --untracked-files=no)" ]; then
	say "series of $# patches already applied in $src"
	exit 0
fi

rm -f "$stamp"
git -C "$src" am --abort >/dev/null 2>&1 || true
git -C "$src" reset -q --hard base
amflags=
[ -f "$CACHE/fallback-version" ] && amflags=-3
for p in "$@"; do
	if ! out=$(git -C "$src" am $amflags --keep-cr "$p" 2>&1); then
		git -C "$src" am --abort >/dev/null 2>&1 || true
		git -C "$src" reset -q --hard base
		printf '%s\n' "$out" >&2
		die "patch $(basename "$p") does not apply; $src reset to the base"
	fi
	say "applied $(basename "$p")"
done
echo "$want $(git -C "$src" rev-parse HEAD)" >"$stamp"
say "series of $# patches applied in $src"
