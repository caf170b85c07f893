// SPDX-License-Identifier: GPL-2.0
/*
 * The CONFIG_DEBUG_LIST checks of include/linux/wfcqueue.h. Built twice:
 * with CONFIG_DEBUG_LIST=1 each misuse below must warn (and a splice of a
 * queue into itself must leave it intact), without it none may warn, so
 * the checks cost nothing when disabled.
 */
#include <stdio.h>

#include <linux/wfcqueue.h>

struct item {
	struct wfcq_node node;
	int id;
};

static int failures;

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "warn: %s:%d: %s\n", __FILE__,	\
				__LINE__, #cond);			\
			failures++;					\
		}							\
	} while (0)

int main(void)
{
	const unsigned long expect = IS_ENABLED(CONFIG_DEBUG_LIST) ? 1 : 0;
	struct wfcq_head h1, h2, h3;
	struct wfcq_tail t1, t2, t3;
	struct item a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 };
	unsigned long before;

	wfcq_init(&h1, &t1);
	wfcq_init(&h2, &t2);
	wfcq_init(&h3, &t3);
	wfcq_node_init(&a.node);
	wfcq_node_init(&b.node);
	wfcq_node_init(&c.node);

	/* Correct use does not warn. */
	wfcq_enqueue(&h1, &t1, &a.node);
	wfcq_enqueue(&h1, &t1, &b.node);
	__wfcq_splice(&h2, &t2, &h1, &t1);
	CHECK(wfcq_empty(&h1, &t1) && t2.p == &b.node);
	__wfcq_splice(&h1, &t1, &h2, &t2);
	CHECK(wfcq_empty(&h2, &t2) && t1.p == &b.node);
	CHECK(wfcq_shim_warnings == 0);

	/* Splice of a queue into itself: warns, moves nothing. */
	if (IS_ENABLED(CONFIG_DEBUG_LIST)) {
		before = wfcq_shim_warnings;
		__wfcq_splice(&h1, &t1, &h1, &t1);
		CHECK(wfcq_shim_warnings == before + 1);
		CHECK(h1.node.next == &a.node && t1.p == &b.node);
		CHECK(__wfcq_dequeue(&h1, &t1) == &a.node);
		CHECK(__wfcq_dequeue(&h1, &t1) == &b.node);
		CHECK(wfcq_empty(&h1, &t1));
	}

	/*
	 * Enqueue of a node that was dequeued but not re-initialised, and
	 * still points to its old successor.
	 */
	wfcq_init(&h1, &t1);
	wfcq_node_init(&a.node);
	wfcq_node_init(&b.node);
	wfcq_enqueue(&h1, &t1, &a.node);
	wfcq_enqueue(&h1, &t1, &b.node);
	CHECK(__wfcq_dequeue(&h1, &t1) == &a.node);
	before = wfcq_shim_warnings;
	wfcq_enqueue(&h3, &t3, &a.node);
	CHECK(wfcq_shim_warnings == before + expect);

	/* Enqueue of a queue's own dummy node. */
	before = wfcq_shim_warnings;
	wfcq_enqueue(&h2, &t2, &h2.node);
	CHECK(wfcq_shim_warnings == before + expect);

	if (failures)
		return 1;
	printf("warn: CONFIG_DEBUG_LIST=%lu, %lu warning(s) as expected\n",
	       expect, wfcq_shim_warnings);
	return 0;
}
