#!/bin/sh
# check-series.sh: the base plus `git am patches/*.patch` reproduces the
# mirror byte for byte, and the mirror holds nothing the series lacks.
set -eu
STAGE=check-series
. "$(dirname "$0")/lib.sh"

src=$BUILD/src-patched
# shellcheck disable=SC2046
"$HARNESS/tree.sh" "$src" $(series) >/dev/null
changed=$(git -C "$src" diff --name-only --diff-filter=AM base HEAD)
bad=0
for f in $changed; do
	cmp -s "$src/$f" "$TOP/$f" || { say "differs from the series: $f"; bad=1; }
done
for f in $("$HARNESS/mirror-files.sh"); do
	printf '%s\n' "$changed" | grep -qxF "$f" || { say "not in the series: $f"; bad=1; }
done
[ $bad = 0 ] && say "$(echo "$changed" | grep -c .) files match the series"
exit $bad
