// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the wait-free concurrent queue (include/linux/wfcqueue.h)
 */
#include <kunit/test.h>
#include <linux/cache.h>
#include <linux/cpumask.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/wfcqueue.h>

static unsigned int stress_nodes = 50000;
module_param(stress_nodes, uint, 0444);
MODULE_PARM_DESC(stress_nodes,
		 "Nodes enqueued by each producer of the stress test (default 50000)");

#define NR_ITEMS	16

struct wfcq_test_item {
	struct wfcq_node node;
	unsigned int id;
};

struct wfcq_test_queue {
	struct wfcq_head head;
	struct wfcq_tail tail;
};

static struct wfcq_test_item *to_item(struct wfcq_node *node)
{
	return container_of(node, struct wfcq_test_item, node);
}

static void items_init(struct wfcq_test_item *items, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		items[i].id = i;
		wfcq_node_init(&items[i].node);
	}
}

static void queue_init(struct wfcq_test_queue *q)
{
	wfcq_init(&q->head, &q->tail);
}

static bool queue_add(struct wfcq_test_queue *q, struct wfcq_test_item *item)
{
	return wfcq_enqueue(&q->head, &q->tail, &item->node);
}

/* Check that @q holds exactly items[from..to) in order, and empty it. */
static void expect_drain(struct kunit *test, struct wfcq_test_queue *q,
			 struct wfcq_test_item *items,
			 unsigned int from, unsigned int to)
{
	struct wfcq_node *node;
	unsigned int i;

	for (i = from; i < to; i++) {
		KUNIT_ASSERT_FALSE(test, wfcq_empty(&q->head, &q->tail));
		node = __wfcq_dequeue(&q->head, &q->tail);
		KUNIT_ASSERT_PTR_EQ(test, node, &items[i].node);
		KUNIT_EXPECT_EQ(test, to_item(node)->id, i);
	}
	/* The dummy is back in place: the queue is as after wfcq_init(). */
	KUNIT_ASSERT_PTR_EQ(test, q->tail.p, &q->head.node);
	KUNIT_ASSERT_NULL(test, q->head.node.next);
	KUNIT_EXPECT_TRUE(test, wfcq_empty(&q->head, &q->tail));
	KUNIT_EXPECT_NULL(test, __wfcq_dequeue(&q->head, &q->tail));
}

static void wfcq_test_init_empty(struct kunit *test)
{
	struct wfcq_test_queue q;

	queue_init(&q);
	KUNIT_ASSERT_TRUE(test, wfcq_empty(&q.head, &q.tail));
	KUNIT_EXPECT_PTR_EQ(test, q.tail.p, &q.head.node);
	KUNIT_EXPECT_NULL(test, __wfcq_first(&q.head, &q.tail));
	KUNIT_EXPECT_NULL(test, __wfcq_dequeue(&q.head, &q.tail));
	KUNIT_ASSERT_TRUE(test, wfcq_empty(&q.head, &q.tail));
}

static void wfcq_test_fifo(struct kunit *test)
{
	struct wfcq_test_item items[NR_ITEMS];
	struct wfcq_test_queue q;
	unsigned int i;

	queue_init(&q);
	items_init(items, NR_ITEMS);
	for (i = 0; i < NR_ITEMS; i++)
		queue_add(&q, &items[i]);
	expect_drain(test, &q, items, 0, NR_ITEMS);
}

static void wfcq_test_enqueue_ret(struct kunit *test)
{
	struct wfcq_test_item items[NR_ITEMS];
	struct wfcq_test_queue q;
	unsigned int i;

	queue_init(&q);
	items_init(items, NR_ITEMS);

	KUNIT_EXPECT_FALSE(test, queue_add(&q, &items[0]));
	for (i = 1; i < NR_ITEMS; i++)
		KUNIT_EXPECT_TRUE(test, queue_add(&q, &items[i]));

	/* Partly drained: still not empty. */
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_dequeue(&q.head, &q.tail),
			    &items[0].node);
	wfcq_node_init(&items[0].node);
	KUNIT_EXPECT_TRUE(test, queue_add(&q, &items[0]));

	/* Down to the last node: still not empty. */
	for (i = 1; i < NR_ITEMS; i++)
		KUNIT_EXPECT_PTR_EQ(test, __wfcq_dequeue(&q.head, &q.tail),
				    &items[i].node);
	wfcq_node_init(&items[1].node);
	KUNIT_EXPECT_TRUE(test, queue_add(&q, &items[1]));

	/* Fully drained: empty again. */
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_dequeue(&q.head, &q.tail),
			    &items[0].node);
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_dequeue(&q.head, &q.tail),
			    &items[1].node);
	KUNIT_ASSERT_TRUE(test, wfcq_empty(&q.head, &q.tail));
	items_init(items, 1);
	KUNIT_EXPECT_FALSE(test, queue_add(&q, &items[0]));
}

static void wfcq_test_dequeue_reuse(struct kunit *test)
{
	struct wfcq_test_item items[NR_ITEMS];
	struct wfcq_test_queue q;
	unsigned int round, i;

	queue_init(&q);
	/* Drain to empty, through the last-node path, several times. */
	for (round = 1; round <= 4; round++) {
		items_init(items, NR_ITEMS);
		for (i = 0; i < round; i++)
			queue_add(&q, &items[i]);
		expect_drain(test, &q, items, 0, round);
	}

	/* Interleave: the queue is never empty between the steps. */
	items_init(items, 3);
	queue_add(&q, &items[0]);
	queue_add(&q, &items[1]);
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_dequeue(&q.head, &q.tail),
			    &items[0].node);
	queue_add(&q, &items[2]);
	wfcq_node_init(&items[0].node);
	queue_add(&q, &items[0]);
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_dequeue(&q.head, &q.tail),
			    &items[1].node);
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_dequeue(&q.head, &q.tail),
			    &items[2].node);
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_dequeue(&q.head, &q.tail),
			    &items[0].node);
	KUNIT_EXPECT_NULL(test, __wfcq_dequeue(&q.head, &q.tail));
	KUNIT_ASSERT_TRUE(test, wfcq_empty(&q.head, &q.tail));
}

static void wfcq_test_splice(struct kunit *test)
{
	struct wfcq_test_item items[NR_ITEMS];
	struct wfcq_test_queue dst, src;
	unsigned int i;

	queue_init(&dst);
	queue_init(&src);
	items_init(items, NR_ITEMS);

	/* Empty source, empty destination. */
	KUNIT_EXPECT_EQ(test, __wfcq_splice(&dst.head, &dst.tail,
					    &src.head, &src.tail),
			WFCQ_RET_SRC_EMPTY);
	KUNIT_ASSERT_TRUE(test, wfcq_empty(&dst.head, &dst.tail));

	/* Into an empty destination. */
	for (i = 0; i < 8; i++)
		queue_add(&src, &items[i]);
	KUNIT_EXPECT_EQ(test, __wfcq_splice(&dst.head, &dst.tail,
					    &src.head, &src.tail),
			WFCQ_RET_DEST_EMPTY);
	KUNIT_ASSERT_TRUE(test, wfcq_empty(&src.head, &src.tail));
	KUNIT_EXPECT_PTR_EQ(test, src.tail.p, &src.head.node);
	KUNIT_EXPECT_PTR_EQ(test, dst.tail.p, &items[7].node);

	/* Empty source, non-empty destination: nothing moves. */
	KUNIT_EXPECT_EQ(test, __wfcq_splice(&dst.head, &dst.tail,
					    &src.head, &src.tail),
			WFCQ_RET_SRC_EMPTY);
	KUNIT_EXPECT_PTR_EQ(test, dst.tail.p, &items[7].node);

	/* The emptied source is usable again; into a non-empty queue. */
	KUNIT_EXPECT_FALSE(test, queue_add(&src, &items[8]));
	for (i = 9; i < NR_ITEMS; i++)
		queue_add(&src, &items[i]);
	KUNIT_EXPECT_EQ(test, __wfcq_splice(&dst.head, &dst.tail,
					    &src.head, &src.tail),
			WFCQ_RET_DEST_NON_EMPTY);
	KUNIT_ASSERT_TRUE(test, wfcq_empty(&src.head, &src.tail));
	expect_drain(test, &dst, items, 0, NR_ITEMS);

	/* A single node, and splicing back and forth. */
	items_init(items, 2);
	queue_add(&src, &items[0]);
	KUNIT_EXPECT_EQ(test, __wfcq_splice(&dst.head, &dst.tail,
					    &src.head, &src.tail),
			WFCQ_RET_DEST_EMPTY);
	queue_add(&src, &items[1]);
	KUNIT_EXPECT_EQ(test, __wfcq_splice(&src.head, &src.tail,
					    &dst.head, &dst.tail),
			WFCQ_RET_DEST_NON_EMPTY);
	KUNIT_ASSERT_TRUE(test, wfcq_empty(&dst.head, &dst.tail));
	/* src now holds items[1] then items[0]. */
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_dequeue(&src.head, &src.tail),
			    &items[1].node);
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_dequeue(&src.head, &src.tail),
			    &items[0].node);
	KUNIT_ASSERT_TRUE(test, wfcq_empty(&src.head, &src.tail));
}

static void wfcq_test_iterate(struct kunit *test)
{
	struct wfcq_test_item items[NR_ITEMS];
	struct wfcq_test_queue q, priv, out;
	struct wfcq_node *node, *n;
	unsigned int i;

	queue_init(&q);
	items_init(items, NR_ITEMS);

	KUNIT_EXPECT_NULL(test, __wfcq_first(&q.head, &q.tail));
	i = 0;
	__wfcq_for_each(&q.head, &q.tail, node)
		i++;
	KUNIT_EXPECT_EQ(test, i, 0);
	__wfcq_for_each_safe(&q.head, &q.tail, node, n)
		i++;
	KUNIT_EXPECT_EQ(test, i, 0);

	for (i = 0; i < NR_ITEMS; i++)
		queue_add(&q, &items[i]);

	/* first/next by hand. */
	node = __wfcq_first(&q.head, &q.tail);
	for (i = 0; i < NR_ITEMS; i++) {
		KUNIT_ASSERT_NOT_NULL(test, node);
		KUNIT_EXPECT_EQ(test, to_item(node)->id, i);
		node = __wfcq_next(&q.head, &q.tail, node);
	}
	KUNIT_EXPECT_NULL(test, node);

	/* for_each, twice: iteration does not consume. */
	i = 0;
	__wfcq_for_each(&q.head, &q.tail, node) {
		KUNIT_EXPECT_EQ(test, to_item(node)->id, i);
		i++;
	}
	KUNIT_EXPECT_EQ(test, i, NR_ITEMS);
	i = 0;
	__wfcq_for_each(&q.head, &q.tail, node)
		i++;
	KUNIT_EXPECT_EQ(test, i, NR_ITEMS);

	/*
	 * for_each_safe over a private queue, re-initialising and moving
	 * every node to another queue from the loop body.
	 */
	queue_init(&priv);
	queue_init(&out);
	KUNIT_EXPECT_EQ(test, __wfcq_splice(&priv.head, &priv.tail,
					    &q.head, &q.tail),
			WFCQ_RET_DEST_EMPTY);
	i = 0;
	__wfcq_for_each_safe(&priv.head, &priv.tail, node, n) {
		KUNIT_EXPECT_EQ(test, to_item(node)->id, i);
		wfcq_node_init(node);
		KUNIT_EXPECT_EQ(test, queue_add(&out, to_item(node)), i != 0);
		i++;
	}
	KUNIT_EXPECT_EQ(test, i, NR_ITEMS);
	queue_init(&priv);
	KUNIT_ASSERT_TRUE(test, wfcq_empty(&q.head, &q.tail));
	expect_drain(test, &out, items, 0, NR_ITEMS);
}

static void wfcq_test_nonblocking_quiescent(struct kunit *test)
{
	struct wfcq_test_item items[NR_ITEMS];
	struct wfcq_test_queue q, dst;
	struct wfcq_node *node;
	unsigned int i;

	queue_init(&q);
	queue_init(&dst);
	items_init(items, NR_ITEMS);

	KUNIT_EXPECT_NULL(test, __wfcq_first_nonblocking(&q.head, &q.tail));
	KUNIT_EXPECT_NULL(test, __wfcq_dequeue_nonblocking(&q.head, &q.tail));
	KUNIT_EXPECT_EQ(test, __wfcq_splice_nonblocking(&dst.head, &dst.tail,
							&q.head, &q.tail),
			WFCQ_RET_SRC_EMPTY);

	for (i = 0; i < NR_ITEMS; i++)
		queue_add(&q, &items[i]);

	node = __wfcq_first_nonblocking(&q.head, &q.tail);
	for (i = 0; i < NR_ITEMS; i++) {
		KUNIT_ASSERT_NOT_NULL(test, node);
		KUNIT_ASSERT_PTR_NE(test, node, WFCQ_WOULDBLOCK);
		KUNIT_EXPECT_PTR_EQ(test, node, &items[i].node);
		node = __wfcq_next_nonblocking(&q.head, &q.tail, node);
	}
	KUNIT_EXPECT_NULL(test, node);

	/* Dequeue half, splice the rest, dequeue it from the destination. */
	for (i = 0; i < NR_ITEMS / 2; i++)
		KUNIT_EXPECT_PTR_EQ(test,
				    __wfcq_dequeue_nonblocking(&q.head, &q.tail),
				    &items[i].node);
	KUNIT_EXPECT_EQ(test, __wfcq_splice_nonblocking(&dst.head, &dst.tail,
							&q.head, &q.tail),
			WFCQ_RET_DEST_EMPTY);
	KUNIT_ASSERT_TRUE(test, wfcq_empty(&q.head, &q.tail));
	for (i = NR_ITEMS / 2; i < NR_ITEMS; i++)
		KUNIT_EXPECT_PTR_EQ(test,
				    __wfcq_dequeue_nonblocking(&dst.head,
							       &dst.tail),
				    &items[i].node);
	KUNIT_EXPECT_NULL(test, __wfcq_dequeue_nonblocking(&dst.head,
							   &dst.tail));
	KUNIT_ASSERT_TRUE(test, wfcq_empty(&dst.head, &dst.tail));
	KUNIT_EXPECT_PTR_EQ(test, dst.tail.p, &dst.head.node);
}

/*
 * First half of wfcq_enqueue(), as done by an enqueuer that is stopped
 * between its exchange of the tail and its link: returns the old tail,
 * which the test links later with WRITE_ONCE(old->next, node).
 */
static struct wfcq_node *half_enqueue(struct wfcq_test_queue *q,
				      struct wfcq_test_item *item)
{
	return xchg(&q->tail.p, &item->node);
}

static void wfcq_test_nonblocking_wouldblock(struct kunit *test)
{
	struct wfcq_test_item items[4];
	struct wfcq_test_queue q, dst;
	struct wfcq_node *old;

	queue_init(&q);
	queue_init(&dst);
	items_init(items, 4);

	/* An empty queue with its first enqueue in progress. */
	old = half_enqueue(&q, &items[0]);
	KUNIT_EXPECT_PTR_EQ(test, old, &q.head.node);
	KUNIT_ASSERT_FALSE(test, wfcq_empty(&q.head, &q.tail));
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_first_nonblocking(&q.head, &q.tail),
			    WFCQ_WOULDBLOCK);
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_dequeue_nonblocking(&q.head, &q.tail),
			    WFCQ_WOULDBLOCK);
	KUNIT_EXPECT_EQ(test, __wfcq_splice_nonblocking(&dst.head, &dst.tail,
							&q.head, &q.tail),
			WFCQ_RET_WOULDBLOCK);
	KUNIT_ASSERT_TRUE(test, wfcq_empty(&dst.head, &dst.tail));
	KUNIT_EXPECT_PTR_EQ(test, q.tail.p, &items[0].node);
	KUNIT_EXPECT_NULL(test, q.head.node.next);
	WRITE_ONCE(old->next, &items[0].node);
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_first_nonblocking(&q.head, &q.tail),
			    &items[0].node);

	/*
	 * items[0] linked, items[1] in progress behind it: items[0] can be
	 * seen but not dequeued (its successor is unknown), and a failed
	 * nonblocking dequeue leaves the queue unchanged.
	 */
	old = half_enqueue(&q, &items[1]);
	KUNIT_EXPECT_PTR_EQ(test, old, &items[0].node);
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_next_nonblocking(&q.head, &q.tail,
							  &items[0].node),
			    WFCQ_WOULDBLOCK);
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_dequeue_nonblocking(&q.head, &q.tail),
			    WFCQ_WOULDBLOCK);
	KUNIT_EXPECT_PTR_EQ(test, q.head.node.next, &items[0].node);
	KUNIT_EXPECT_PTR_EQ(test, q.tail.p, &items[1].node);
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_first_nonblocking(&q.head, &q.tail),
			    &items[0].node);

	/*
	 * The first node is linked, so the splice goes through and takes
	 * the pending link with it: the enqueuer completes it inside the
	 * destination queue.
	 */
	KUNIT_EXPECT_EQ(test, __wfcq_splice_nonblocking(&dst.head, &dst.tail,
							&q.head, &q.tail),
			WFCQ_RET_DEST_EMPTY);
	KUNIT_ASSERT_TRUE(test, wfcq_empty(&q.head, &q.tail));
	KUNIT_EXPECT_PTR_EQ(test, dst.tail.p, &items[1].node);
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_next_nonblocking(&dst.head, &dst.tail,
							  &items[0].node),
			    WFCQ_WOULDBLOCK);
	WRITE_ONCE(old->next, &items[1].node);

	/* A new enqueue into the emptied source is independent. */
	KUNIT_EXPECT_FALSE(test, queue_add(&q, &items[2]));
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_dequeue_nonblocking(&dst.head,
							     &dst.tail),
			    &items[0].node);
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_dequeue_nonblocking(&dst.head,
							     &dst.tail),
			    &items[1].node);
	KUNIT_EXPECT_NULL(test, __wfcq_dequeue_nonblocking(&dst.head,
							   &dst.tail));
	expect_drain(test, &q, items, 2, 3);
}

/* Stress: one producer kthread per online CPU, one consumer. */

struct wfcq_stress_item {
	struct wfcq_node node;
	unsigned int producer;
	unsigned int seq;
};

struct wfcq_stress {
	struct wfcq_head head ____cacheline_aligned_in_smp;
	struct wfcq_tail tail ____cacheline_aligned_in_smp;
	unsigned int nodes;
};

struct wfcq_stress_producer {
	struct wfcq_stress *stress;
	struct wfcq_stress_item *items;
	struct task_struct *task;
	unsigned int id;
	unsigned int expect;
};

static int wfcq_stress_produce(void *data)
{
	struct wfcq_stress_producer *p = data;
	struct wfcq_stress *s = p->stress;
	unsigned int i;

	for (i = 0; i < s->nodes; i++) {
		struct wfcq_stress_item *item = &p->items[i];

		item->producer = p->id;
		item->seq = i;
		wfcq_node_init(&item->node);
		wfcq_enqueue(&s->head, &s->tail, &item->node);
		if (!(i % 128))
			cond_resched();
	}
	return 0;
}

struct wfcq_stress_check {
	struct wfcq_stress_producer *producers;
	unsigned int nr_producers;
	unsigned int nodes;
	unsigned long seen;
	unsigned long errors;
};

/* Each producer's nodes must come exactly once and in order. */
static void stress_check(struct kunit *test, struct wfcq_stress_check *c,
			 struct wfcq_node *node)
{
	struct wfcq_stress_item *item;
	struct wfcq_stress_producer *p;

	item = container_of(node, struct wfcq_stress_item, node);
	c->seen++;
	if (item->producer >= c->nr_producers) {
		if (!c->errors++)
			kunit_err(test, "bad producer %u\n", item->producer);
		return;
	}
	p = &c->producers[item->producer];
	if (item->seq >= c->nodes || item != &p->items[item->seq] ||
	    item->seq != p->expect) {
		if (!c->errors++)
			kunit_err(test, "producer %u: got seq %u, expected %u\n",
				  item->producer, item->seq, p->expect);
	}
	p->expect = item->seq + 1;
}

static void wfcq_test_stress(struct kunit *test)
{
	struct wfcq_stress_check check = { };
	struct wfcq_stress_producer *producers;
	struct wfcq_test_queue priv;
	struct wfcq_node *node, *n;
	unsigned long total, deadline, round = 0, wouldblock = 0;
	struct wfcq_stress *s;
	unsigned int nr = 0, i, cpu, max_nr;
	enum wfcq_ret ret;

	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	wfcq_init(&s->head, &s->tail);
	queue_init(&priv);
	s->nodes = stress_nodes;

	max_nr = num_online_cpus();
	producers = kunit_kcalloc(test, max_nr, sizeof(*producers), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, producers);

	for_each_online_cpu(cpu) {
		struct wfcq_stress_producer *p = &producers[nr];

		if (nr == max_nr)
			break;
		p->stress = s;
		p->id = nr;
		p->items = kvmalloc_array(max(s->nodes, 1U), sizeof(*p->items),
					  GFP_KERNEL);
		if (!p->items)
			break;
		p->task = kthread_create_on_cpu(wfcq_stress_produce, p, cpu,
						"wfcq_stress/%u");
		if (IS_ERR(p->task)) {
			kvfree(p->items);
			break;
		}
		get_task_struct(p->task);
		nr++;
	}
	KUNIT_EXPECT_EQ(test, nr, max_nr);
	if (nr != max_nr)
		goto out;

	check.producers = producers;
	check.nr_producers = nr;
	check.nodes = s->nodes;
	total = (unsigned long)nr * s->nodes;
	deadline = jiffies + 60 * HZ;

	for (i = 0; i < nr; i++)
		wake_up_process(producers[i].task);

	/* Mix every consumer operation, blocking and nonblocking. */
	while (check.seen < total && !check.errors) {
		unsigned long before = check.seen;

		switch (round++ % 4) {
		case 0:
			for (i = 0; i < 64; i++) {
				node = __wfcq_dequeue(&s->head, &s->tail);
				if (!node)
					break;
				stress_check(test, &check, node);
			}
			break;
		case 1:
			for (i = 0; i < 64; i++) {
				node = __wfcq_dequeue_nonblocking(&s->head,
								  &s->tail);
				if (node == WFCQ_WOULDBLOCK) {
					wouldblock++;
					break;
				}
				if (!node)
					break;
				stress_check(test, &check, node);
			}
			break;
		case 2:
			ret = __wfcq_splice(&priv.head, &priv.tail,
					    &s->head, &s->tail);
			if (ret == WFCQ_RET_SRC_EMPTY)
				break;
			KUNIT_EXPECT_EQ(test, ret, WFCQ_RET_DEST_EMPTY);
			__wfcq_for_each_safe(&priv.head, &priv.tail, node, n)
				stress_check(test, &check, node);
			queue_init(&priv);
			break;
		case 3:
			ret = __wfcq_splice_nonblocking(&priv.head, &priv.tail,
							&s->head, &s->tail);
			if (ret == WFCQ_RET_WOULDBLOCK)
				wouldblock++;
			if (ret != WFCQ_RET_DEST_EMPTY)
				break;
			while ((node = __wfcq_dequeue(&priv.head, &priv.tail)))
				stress_check(test, &check, node);
			break;
		}

		if (check.seen == before) {
			if (time_after(jiffies, deadline)) {
				kunit_err(test, "timeout: %lu of %lu nodes\n",
					  check.seen, total);
				break;
			}
			cond_resched();
		}
	}

	KUNIT_EXPECT_EQ(test, check.errors, 0);
	KUNIT_EXPECT_EQ(test, check.seen, total);
	for (i = 0; i < nr; i++)
		KUNIT_EXPECT_EQ(test, producers[i].expect, s->nodes);
	kunit_info(test, "%u producers x %u nodes, %lu wouldblock\n",
		   nr, s->nodes, wouldblock);
out:
	/* Waits for each producer to finish its loop. */
	for (i = 0; i < nr; i++)
		kthread_stop_put(producers[i].task);
	KUNIT_EXPECT_TRUE(test, wfcq_empty(&s->head, &s->tail));
	for (i = 0; i < nr; i++)
		kvfree(producers[i].items);
}

static struct kunit_case wfcq_test_cases[] = {
	KUNIT_CASE(wfcq_test_init_empty),
	KUNIT_CASE(wfcq_test_fifo),
	KUNIT_CASE(wfcq_test_enqueue_ret),
	KUNIT_CASE(wfcq_test_dequeue_reuse),
	KUNIT_CASE(wfcq_test_splice),
	KUNIT_CASE(wfcq_test_iterate),
	KUNIT_CASE(wfcq_test_nonblocking_quiescent),
	KUNIT_CASE(wfcq_test_nonblocking_wouldblock),
	KUNIT_CASE(wfcq_test_stress),
	{}
};

static struct kunit_suite wfcq_test_suite = {
	.name = "wfcqueue",
	.test_cases = wfcq_test_cases,
};

kunit_test_suite(wfcq_test_suite);

MODULE_DESCRIPTION("KUnit tests for the wait-free concurrent queue");
MODULE_LICENSE("GPL");
