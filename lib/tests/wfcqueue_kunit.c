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

static void queue_add(struct wfcq_test_queue *q, struct wfcq_test_item *item)
{
	wfcq_enqueue(&q->head, &q->tail, &item->node);
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

	/* Empty source, empty destination: nothing moves. */
	__wfcq_splice(&dst.head, &dst.tail, &src.head, &src.tail);
	KUNIT_ASSERT_TRUE(test, wfcq_empty(&dst.head, &dst.tail));
	KUNIT_ASSERT_TRUE(test, wfcq_empty(&src.head, &src.tail));
	KUNIT_EXPECT_PTR_EQ(test, dst.tail.p, &dst.head.node);
	KUNIT_EXPECT_PTR_EQ(test, src.tail.p, &src.head.node);

	/* Into an empty destination. */
	for (i = 0; i < 8; i++)
		queue_add(&src, &items[i]);
	__wfcq_splice(&dst.head, &dst.tail, &src.head, &src.tail);
	KUNIT_ASSERT_TRUE(test, wfcq_empty(&src.head, &src.tail));
	KUNIT_EXPECT_PTR_EQ(test, src.tail.p, &src.head.node);
	KUNIT_EXPECT_NULL(test, src.head.node.next);
	KUNIT_EXPECT_PTR_EQ(test, dst.head.node.next, &items[0].node);
	KUNIT_EXPECT_PTR_EQ(test, dst.tail.p, &items[7].node);

	/* Empty source, non-empty destination: nothing moves. */
	__wfcq_splice(&dst.head, &dst.tail, &src.head, &src.tail);
	KUNIT_EXPECT_PTR_EQ(test, dst.head.node.next, &items[0].node);
	KUNIT_EXPECT_PTR_EQ(test, dst.tail.p, &items[7].node);
	KUNIT_EXPECT_NULL(test, items[7].node.next);

	/* The emptied source is usable again; into a non-empty queue. */
	for (i = 8; i < NR_ITEMS; i++)
		queue_add(&src, &items[i]);
	KUNIT_EXPECT_PTR_EQ(test, src.head.node.next, &items[8].node);
	__wfcq_splice(&dst.head, &dst.tail, &src.head, &src.tail);
	KUNIT_ASSERT_TRUE(test, wfcq_empty(&src.head, &src.tail));
	KUNIT_EXPECT_PTR_EQ(test, items[7].node.next, &items[8].node);
	KUNIT_EXPECT_PTR_EQ(test, dst.tail.p, &items[NR_ITEMS - 1].node);
	expect_drain(test, &dst, items, 0, NR_ITEMS);

	/* A single node, and splicing back and forth. */
	items_init(items, 2);
	queue_add(&src, &items[0]);
	__wfcq_splice(&dst.head, &dst.tail, &src.head, &src.tail);
	KUNIT_ASSERT_TRUE(test, wfcq_empty(&src.head, &src.tail));
	KUNIT_EXPECT_PTR_EQ(test, dst.tail.p, &items[0].node);
	queue_add(&src, &items[1]);
	__wfcq_splice(&src.head, &src.tail, &dst.head, &dst.tail);
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
	struct wfcq_test_queue q, priv;
	struct wfcq_node *node;
	unsigned int i;

	queue_init(&q);
	items_init(items, NR_ITEMS);

	KUNIT_EXPECT_NULL(test, __wfcq_first(&q.head, &q.tail));
	i = 0;
	node = &items[0].node;
	__wfcq_for_each(&q.head, &q.tail, node)
		i++;
	KUNIT_EXPECT_EQ(test, i, 0);
	KUNIT_EXPECT_NULL(test, node);

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
	KUNIT_EXPECT_NULL(test, node);
	i = 0;
	__wfcq_for_each(&q.head, &q.tail, node)
		i++;
	KUNIT_EXPECT_EQ(test, i, NR_ITEMS);

	/* A loop left with break keeps its cursor, as a predecessor search. */
	__wfcq_for_each(&q.head, &q.tail, node) {
		if (to_item(node)->id == 5)
			break;
	}
	KUNIT_EXPECT_PTR_EQ(test, node, &items[5].node);

	/* After a dequeue, iteration starts at the new first node. */
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_dequeue(&q.head, &q.tail),
			    &items[0].node);
	i = 1;
	__wfcq_for_each(&q.head, &q.tail, node) {
		KUNIT_EXPECT_EQ(test, to_item(node)->id, i);
		i++;
	}
	KUNIT_EXPECT_EQ(test, i, NR_ITEMS);

	/* Iteration of a queue filled by splice, then drain it. */
	queue_init(&priv);
	__wfcq_splice(&priv.head, &priv.tail, &q.head, &q.tail);
	KUNIT_ASSERT_TRUE(test, wfcq_empty(&q.head, &q.tail));
	__wfcq_for_each(&q.head, &q.tail, node)
		KUNIT_FAIL(test, "iterated over an emptied source");
	i = 1;
	__wfcq_for_each(&priv.head, &priv.tail, node) {
		KUNIT_EXPECT_EQ(test, to_item(node)->id, i);
		i++;
	}
	KUNIT_EXPECT_EQ(test, i, NR_ITEMS);
	expect_drain(test, &priv, items, 1, NR_ITEMS);
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

/*
 * Consumer operations that need no link still in progress must not wait
 * for one: each step below would hang if it did.
 */
static void wfcq_test_enqueue_in_progress(struct kunit *test)
{
	struct wfcq_test_item items[4];
	struct wfcq_test_queue q, dst;
	struct wfcq_node *old;

	queue_init(&q);
	queue_init(&dst);
	items_init(items, 4);

	/* An empty queue with its first enqueue in progress is not empty. */
	old = half_enqueue(&q, &items[0]);
	KUNIT_EXPECT_PTR_EQ(test, old, &q.head.node);
	KUNIT_EXPECT_FALSE(test, wfcq_empty(&q.head, &q.tail));
	KUNIT_EXPECT_NULL(test, q.head.node.next);
	WRITE_ONCE(old->next, &items[0].node);
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_first(&q.head, &q.tail),
			    &items[0].node);

	/*
	 * items[0] and items[1] linked, items[2] in progress behind
	 * items[1]: items[0] can be dequeued (its successor is linked).
	 */
	queue_add(&q, &items[1]);
	old = half_enqueue(&q, &items[2]);
	KUNIT_EXPECT_PTR_EQ(test, old, &items[1].node);
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_next(&q.head, &q.tail,
					      &items[0].node),
			    &items[1].node);
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_dequeue(&q.head, &q.tail),
			    &items[0].node);
	KUNIT_EXPECT_PTR_EQ(test, q.head.node.next, &items[1].node);
	KUNIT_EXPECT_PTR_EQ(test, q.tail.p, &items[2].node);

	/*
	 * The first node is linked, so the splice goes through and takes
	 * the pending link with it: the enqueuer completes it inside the
	 * destination queue.
	 */
	__wfcq_splice(&dst.head, &dst.tail, &q.head, &q.tail);
	KUNIT_ASSERT_TRUE(test, wfcq_empty(&q.head, &q.tail));
	KUNIT_EXPECT_PTR_EQ(test, dst.head.node.next, &items[1].node);
	KUNIT_EXPECT_PTR_EQ(test, dst.tail.p, &items[2].node);

	/* A new enqueue into the emptied source is independent. */
	queue_add(&q, &items[3]);
	KUNIT_EXPECT_PTR_EQ(test, q.head.node.next, &items[3].node);
	KUNIT_EXPECT_NULL(test, items[1].node.next);
	WRITE_ONCE(old->next, &items[2].node);

	/* Splice behind the completed chain, then drain in order. */
	__wfcq_splice(&dst.head, &dst.tail, &q.head, &q.tail);
	KUNIT_EXPECT_PTR_EQ(test, __wfcq_dequeue(&dst.head, &dst.tail),
			    &items[1].node);
	expect_drain(test, &dst, items, 2, 4);
	KUNIT_EXPECT_TRUE(test, wfcq_empty(&q.head, &q.tail));
}

/*
 * The dequeue of the last node races with an enqueue behind it: the
 * enqueuer has exchanged the tail but not linked yet. The dequeue must
 * then leave the tail alone and wait for the link, or the new node is
 * lost. The dequeuer and the linker are kthreads on two CPUs; the linker
 * links only once the dequeuer has cleared the dummy's link, that is,
 * once it is past its read of the tail's ->next.
 */
struct wfcq_last_race {
	struct wfcq_test_queue q;
	struct wfcq_test_item items[2];
	struct wfcq_node *old_tail;
	struct wfcq_node *dequeued;
	bool timeout;
	bool done[2];
};

static int wfcq_last_race_dequeue(void *data)
{
	struct wfcq_last_race *r = data;

	r->dequeued = __wfcq_dequeue(&r->q.head, &r->q.tail);
	WRITE_ONCE(r->done[0], true);
	return 0;
}

static int wfcq_last_race_link(void *data)
{
	struct wfcq_last_race *r = data;
	unsigned long deadline = jiffies + 10 * HZ;

	while (READ_ONCE(r->q.head.node.next)) {
		if (time_after(jiffies, deadline)) {
			r->timeout = true;
			break;
		}
		cond_resched();
	}
	WRITE_ONCE(r->old_tail->next, &r->items[1].node);
	WRITE_ONCE(r->done[1], true);
	return 0;
}

static void wfcq_test_dequeue_last_racing_enqueue(struct kunit *test)
{
	struct task_struct *task[2] = { };
	int (*fn[2])(void *) = { wfcq_last_race_dequeue, wfcq_last_race_link };
	struct wfcq_last_race *r;
	unsigned int cpu, nr = 0, i;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two online CPUs");
	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	queue_init(&r->q);
	items_init(r->items, 2);
	queue_add(&r->q, &r->items[0]);
	r->old_tail = half_enqueue(&r->q, &r->items[1]);
	KUNIT_ASSERT_PTR_EQ(test, r->old_tail, &r->items[0].node);

	for_each_online_cpu(cpu) {
		if (nr == 2)
			break;
		task[nr] = kthread_create_on_cpu(fn[nr], r, cpu,
						 "wfcq_last_race/%u");
		if (IS_ERR(task[nr]))
			break;
		get_task_struct(task[nr]);
		nr++;
	}
	/*
	 * Start them only as a pair: the dequeuer alone would wait for the
	 * link forever. kthread_stop() of a thread that has not started
	 * yet skips its function, so wait until both are done; the
	 * linker's deadline bounds the wait.
	 */
	for (i = 0; i < nr && nr == 2; i++)
		wake_up_process(task[i]);
	for (i = 0; i < nr && nr == 2; i++)
		while (!READ_ONCE(r->done[i]))
			cond_resched();
	for (i = 0; i < nr; i++)
		kthread_stop_put(task[i]);
	KUNIT_ASSERT_EQ(test, nr, 2);
	KUNIT_EXPECT_FALSE(test, r->timeout);

	KUNIT_EXPECT_PTR_EQ(test, r->dequeued, &r->items[0].node);
	KUNIT_EXPECT_PTR_EQ(test, r->q.tail.p, &r->items[1].node);
	expect_drain(test, &r->q, r->items, 1, 2);
}

/*
 * Stress: one producer kthread per online CPU, one consumer that mixes
 * every consumer operation.
 */

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

#define STRESS_BATCH	64
#define STRESS_PEEK	8

/*
 * One round of the consumer. Nodes spliced into @priv are older than
 * those still in the shared queue, so while @priv holds any, the consumer
 * dequeues and peeks there, and only splices more of the shared queue
 * behind them.
 */
static void stress_consume(struct kunit *test, struct wfcq_stress *s,
			   struct wfcq_test_queue *priv,
			   struct wfcq_stress_check *c, unsigned int op)
{
	struct wfcq_node *node, *peek[STRESS_PEEK];
	struct wfcq_head *head = &s->head;
	struct wfcq_tail *tail = &s->tail;
	unsigned int i, k;

	if (!wfcq_empty(&priv->head, &priv->tail)) {
		head = &priv->head;
		tail = &priv->tail;
	}

	switch (op) {
	case 0:
		for (i = 0; i < STRESS_BATCH; i++) {
			node = __wfcq_dequeue(head, tail);
			if (!node)
				break;
			stress_check(test, c, node);
		}
		break;
	case 1:
		/* Splice into an empty or a non-empty private queue. */
		__wfcq_splice(&priv->head, &priv->tail, &s->head, &s->tail);
		break;
	case 2:
		/* Iteration must show what the dequeues return next. */
		k = 0;
		__wfcq_for_each(head, tail, node) {
			peek[k++] = node;
			if (k == STRESS_PEEK)
				break;
		}
		for (i = 0; i < k; i++) {
			node = __wfcq_dequeue(head, tail);
			if (node != peek[i]) {
				if (!c->errors++)
					kunit_err(test, "iteration saw %p, dequeue returned %p\n",
						  peek[i], node);
				break;
			}
			stress_check(test, c, node);
		}
		break;
	}
}

static void wfcq_test_stress(struct kunit *test)
{
	struct wfcq_stress_check check = { };
	struct wfcq_stress_producer *producers;
	struct wfcq_test_queue priv;
	unsigned long total, deadline, round = 0;
	struct wfcq_stress *s;
	unsigned int nr = 0, i, cpu, max_nr;

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

	while (check.seen < total && !check.errors) {
		unsigned long before = check.seen;

		stress_consume(test, s, &priv, &check, round++ % 3);
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
	KUNIT_EXPECT_TRUE(test, wfcq_empty(&priv.head, &priv.tail));
	kunit_info(test, "%u producers x %u nodes\n", nr, s->nodes);
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
	KUNIT_CASE(wfcq_test_dequeue_reuse),
	KUNIT_CASE(wfcq_test_splice),
	KUNIT_CASE(wfcq_test_iterate),
	KUNIT_CASE(wfcq_test_enqueue_in_progress),
	KUNIT_CASE(wfcq_test_dequeue_last_racing_enqueue),
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
