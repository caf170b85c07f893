#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mutants.sh NAME SRC DST: write to DST a copy of wfcqueue.h (SRC) with one
# known bug, NAME, for showing that the tests catch it. With NAME "list",
# print the mutants and the tests expected to catch each one.
set -eu

if [ "$1" = list ]; then
	cat <<'LIST'
plain-link stress-tsan
no-dummy-reset diff kunit-user
store-not-cmpxchg diff kunit-user
splice-no-src-reset diff kunit-user
splice-no-empty-check kunit-user
for-each-skips-tail diff kunit-user
empty-ignores-tail diff kunit-user
no-self-splice-check warn
no-enqueue-next-check warn
LIST
	exit 0
fi

name=$1 src=$2 dst=$3
tab=$(printf '\t')

case $name in
plain-link)
	# The link store loses its WRITE_ONCE(): a data race with the
	# consumer's READ_ONCE() of ->next.
	sed 's/WRITE_ONCE(old_tail->next, first);/old_tail->next = first;/' \
		"$src" > "$dst" ;;
racy-tail)
	# The tail exchange is a load and a store, not one atomic xchg():
	# two enqueuers can take the same old tail and one node is lost.
	# Not in the list: stress catches it only when the producers really
	# overlap, which a loaded 2-CPU machine does not guarantee.
	sed 's/old_tail = xchg(&tail->p, last);/old_tail = READ_ONCE(tail->p); WRITE_ONCE(tail->p, last);/' \
		"$src" > "$dst" ;;
no-dummy-reset)
	# Dequeuing the last node leaves the dummy pointing at it.
	sed "/^${tab}${tab}wfcq_node_init(&head->node);\$/d" "$src" > "$dst" ;;
store-not-cmpxchg)
	# Dequeuing the last node resets the tail unconditionally, losing a
	# concurrent enqueue.
	sed 's/if (cmpxchg(&tail->p, node, &head->node) == node)/if ((WRITE_ONCE(tail->p, \&head->node), true))/' \
		"$src" > "$dst" ;;
splice-no-src-reset)
	# Splice leaves the source's dummy pointing into the moved chain.
	sed "/^${tab}wfcq_node_init(&src_head->node);\$/d" "$src" > "$dst" ;;
splice-no-empty-check)
	# Splice of an empty source waits forever for a first node.
	sed "/^${tab}if (wfcq_empty(src_head, src_tail))\$/,+1d" "$src" > "$dst" ;;
for-each-skips-tail)
	# Iteration stops before the tail node (unless it is the first).
	sed 's/^\(\t\*it->cur = __wfcq_next(it->head, it->tail, \*it->cur);\)$/\1 if (*it->cur == READ_ONCE(it->tail->p)) *it->cur = NULL;/' \
		"$src" > "$dst" ;;
empty-ignores-tail)
	# A queue whose first enqueue is between its two steps looks empty.
	sed "/^${tab}return !READ_ONCE(head->node.next) &&\$/{N;s/ &&\n.*;/;/}" \
		"$src" > "$dst" ;;
no-self-splice-check)
	# CONFIG_DEBUG_LIST no longer catches a splice of a queue into itself.
	sed "/^${tab}if (WFCQ_WARN_ON_DEBUG(dst_head == src_head/,+1d" "$src" > "$dst" ;;
no-enqueue-next-check)
	# CONFIG_DEBUG_LIST no longer catches the enqueue of a node whose
	# next pointer is set.
	sed '/WFCQ_WARN_ON_DEBUG(READ_ONCE(node->next));/d' "$src" > "$dst" ;;
*)
	echo "mutants.sh: unknown mutant $name" >&2
	exit 1 ;;
esac

if cmp -s "$src" "$dst"; then
	echo "mutants.sh: $name did not change $src (header changed?)" >&2
	rm -f "$dst"
	exit 1
fi
