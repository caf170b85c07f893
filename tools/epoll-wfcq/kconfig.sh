#!/bin/sh
# kconfig.sh SRC OUT FRAGMENT...: tinyconfig plus the fragments, then check
# that every option of the fragments came out as asked (Kconfig drops an
# option silently when a dependency is missing).
set -eu
STAGE=config
. "$(dirname "$0")/lib.sh"

src=$1 out=$2; shift 2
mkdir -p "$out"
want=$(cat "$@" | git hash-object --stdin)
want="$want $(git -C "$src" rev-parse HEAD)"
if [ -f "$out/.config" ] && [ "$(cat "$out/.epw-config" 2>/dev/null)" = "$want" ]; then
	say "config unchanged in $out"
	exit 0
fi

say "tinyconfig + $(for f in "$@"; do basename "$f"; done | tr '\n' ' ')"
run "$out/config.log" make -C "$src" O="$out" tinyconfig
run "$out/config.log" "$src/scripts/kconfig/merge_config.sh" -m -O "$out" \
	"$out/.config" "$@"
run "$out/config.log" make -C "$src" O="$out" olddefconfig

bad=
for line in $(cat "$@" | sed -n 's/^\(CONFIG_[A-Za-z0-9_]*=.*\)/\1/p; s/^# \(CONFIG_[A-Za-z0-9_]*\) is not set/\1=n/p'); do
	opt=${line%%=*} val=${line#*=}
	got=$(sed -n "s/^$opt=//p" "$out/.config")
	[ -n "$got" ] || got=n
	[ "$got" = "$val" ] || bad="$bad $opt (asked $val, got $got)"
done
[ -z "$bad" ] || die "Kconfig did not keep:$bad"
echo "$want" >"$out/.epw-config"
say "config ready: $out/.config"
