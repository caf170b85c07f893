#!/bin/sh
# properties.sh: what the series promises about fs/eventpoll.c that a grep
# can show. Prints "ok"/"not ok" per property; exits non-zero on a failure.
set -u
. "$(dirname "$0")/lib.sh"
f=$TOP/fs/eventpoll.c
n=0 bad=0
prop() {
	n=$((n + 1))
	if eval "$2"; then echo "ok $n $1"; else echo "not ok $n $1"; bad=1; fi
}
# body NAME: the definition of the static function NAME, read from stdin.
body() {
	awk -v re="^static [a-z ]+ $1[(]" '$0 ~ re { p = 1 } p { print } p && /^}/ { exit }'
}
callback=$(body ep_poll_callback <"$f")
prop "ep_poll_callback() exists" '[ -n "$callback" ]'
# Its only lock is the one wake_up() takes: ep->wq.lock, with a waiter on
# ep->wq, so that the EPOLLEXCLUSIVE answer is decided under it.
prop "ep_poll_callback() takes no lock but ep->wq.lock, and that only with a waiter" \
	'! printf "%s\n" "$callback" | grep -E "(spin|read|write|raw_spin)_(try)?lock|mutex_lock" |
	 grep -qvxF "$(printf "\t\tspin_lock_irqsave(&ep->wq.lock, flags);")" &&
	 printf "%s\n" "$callback" | grep -B3 -F "spin_lock_irqsave(&ep->wq.lock" |
	 grep -qxF "$(printf "\tif (waitqueue_active(&ep->wq)) {")"'
queue=$(body ep_ready_queue <"$f")
# The claim and link: no lock of any kind on either configuration, and
# preemption off from before the claim (PREEMPT_RT: no consumer spins on
# a preempted producer).
prop "ep_ready_queue() takes no lock and claims with preemption disabled" \
	'[ -n "$queue" ] && ! printf "%s\n" "$queue" | grep -qE "_lock(_[a-z]+)?\(&|mutex_lock" &&
	 printf "%s\n" "$queue" | grep -A1 -xF "$(printf "\tpreempt_disable();")" |
	 grep -qxF "$(printf "\tif (ep_claim(epi)) {")"'
prop "ep_poll_callback() claims the item with one cmpxchg" \
	'printf "%s\n" "$callback" | grep -q "ep_ready_queue(ep, epi)" &&
	 printf "%s\n" "$queue" | grep -q "ep_claim(epi)" && grep -q "try_cmpxchg_acquire(&epi->state" "$f"'
prop "no ep->lock, ovflist or seqcount left (outside comments)" \
	'! grep -nE "ep->lock|ovflist|seqcount" "$f" | grep -vE "^[0-9]+:[[:space:]]*(\*|/\*)"'
# The kernel build enforces this; the grep shows the assertion is there.
prop "struct epitem stays within 120 bytes (build-time assertion)" \
	'grep -q "BUILD_BUG_ON(sizeof(void \*) == 8 && sizeof(struct epitem) > 120)" "$f"'
# No new user-visible interface: fdinfo as in the base, no uapi header.
base_fdinfo=$(git -C "$BASE_REPO" show base:fs/eventpoll.c 2>/dev/null | body ep_show_fdinfo)
prop "ep_show_fdinfo() is the base's, line for line" \
	'[ -n "$base_fdinfo" ] && [ "$(body ep_show_fdinfo <"$f")" = "$base_fdinfo" ]'
prop "the series changes no include/uapi header" \
	'! grep -q "^diff --git a/include/uapi/" "$TOP"/patches/v$SERIES_VERSION-*.patch'
exit $bad
