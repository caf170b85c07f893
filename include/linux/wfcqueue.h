/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Wait-free concurrent queue (wfcqueue)
 *
 * A FIFO queue with any number of concurrent, wait-free enqueuers and a
 * single serialized consumer. The algorithm is the one of the wfcqueue of
 * the Userspace RCU library (liburcu), designed by Mathieu Desnoyers and
 * Lai Jiangshan; this is a separate implementation for the kernel.
 *
 * Layout: the queue is a singly linked list that starts at a dummy node
 * embedded in &struct wfcq_head and ends at the node that &struct
 * wfcq_tail points to. An empty queue has head->node.next == NULL and
 * tail->p == &head->node.
 *
 * Enqueue: exchange tail->p with the new node, then store the new node
 * into the next pointer of the old tail. Both steps are unconditional, so
 * an enqueue completes in a bounded number of its own steps whatever other
 * CPUs do (wait-free). Between the two steps the queue is in a transient
 * state: the new node is the tail, but it is not yet reachable from the
 * head. A consumer that reaches the old tail in that state waits until the
 * link appears. wfcq_enqueue() disables preemption across the two steps
 * so that this wait is a few instructions long (plus, at worst, the
 * length of an interrupt handler on the enqueuing CPU), on PREEMPT_RT too.
 *
 * Concurrency rules:
 *
 * - wfcq_enqueue() and wfcq_empty() need no lock and may be called from
 *   any context, concurrently with each other and with the consumer.
 * - The consumer operations, whose names start with "__wfcq_" (dequeue,
 *   splice, first/next and __wfcq_for_each()), must be serialized by the
 *   caller, typically with the mutex or spinlock that protects the
 *   queue's consumer side. They may run concurrently with any number of
 *   enqueuers. A consumer must not run in a context that can interrupt an
 *   enqueuer of the same queue on the same CPU (for example in hard or
 *   soft interrupt context while enqueuers run in task context): it could
 *   wait forever for the enqueuer it has interrupted.
 * - wfcq_init() needs exclusive access to the queue, wfcq_node_init() to
 *   a node that is in no queue.
 *
 * Removing the last node: when the consumer dequeues the node that
 * tail->p points to, it resets the dummy node and tries to swing tail->p
 * back to the dummy with cmpxchg(). If an enqueuer got there first, the
 * cmpxchg() fails and the consumer instead waits for that enqueuer to
 * link its node behind the one being dequeued.
 *
 * Memory ordering: xchg() and a successful cmpxchg() are fully ordered
 * in the kernel. In wfcq_enqueue() the xchg() on tail->p orders all of
 * the caller's earlier stores (the contents of the containing object and
 * node->next == NULL) before the store that links the node. Consumers read
 * every next pointer with READ_ONCE() and reach the containing object
 * through that pointer, so the address dependency orders their loads of
 * the contents after the load of the link; this pairs with the xchg()
 * of the enqueuer. wfcq_enqueue() therefore has full barrier semantics
 * before the node becomes visible; callers that need ordering against
 * wfcq_empty() on another CPU (e.g. a waiter that adds itself to a wait
 * queue and then re-checks for events) pair their smp_mb() with that
 * xchg().
 *
 * Placement: enqueuers write tail->p and the old tail node, the consumer
 * writes head->node.next. Put &struct wfcq_head and &struct wfcq_tail on
 * separate cache lines of the containing structure (for instance with
 * ____cacheline_aligned_in_smp on the tail) to avoid false sharing between
 * enqueuers and the consumer.
 *
 * Debugging: with CONFIG_DEBUG_LIST, a splice of a queue into itself and
 * the enqueue of the dummy node or of a node whose next pointer is not
 * NULL (a node that was not initialised, or one that is already queued
 * and has a successor) trigger a warning. The following cannot be
 * detected cheaply and is not: a second enqueue of a node that is the
 * current tail of a queue, freeing a node that is still queued, a head
 * passed with the tail of another queue, and consumers that are not
 * serialized.
 */
#ifndef _LINUX_WFCQUEUE_H
#define _LINUX_WFCQUEUE_H

#include <linux/atomic.h>
#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/preempt.h>
#include <linux/processor.h>
#include <linux/stddef.h>
#include <linux/types.h>

/**
 * struct wfcq_node - link of a wait-free concurrent queue
 * @next: next node towards the tail, NULL for the tail
 *
 * Embed it in the object to queue and reach the object with
 * container_of().
 */
struct wfcq_node {
	struct wfcq_node *next;
};

/**
 * struct wfcq_head - consumer end of a wait-free concurrent queue
 * @node: dummy node that precedes the first queued node
 *
 * Written by the consumer only (and by the one enqueuer that links the
 * first node into an empty queue). See the placement notes at the top of
 * this file.
 */
struct wfcq_head {
	struct wfcq_node node;
};

/**
 * struct wfcq_tail - producer end of a wait-free concurrent queue
 * @p: last node of the queue, &wfcq_head.node when the queue is empty
 */
struct wfcq_tail {
	struct wfcq_node *p;
};

/* Debug checks, compiled in with CONFIG_DEBUG_LIST. */
#define WFCQ_WARN_ON_DEBUG(cond)	\
	({ IS_ENABLED(CONFIG_DEBUG_LIST) && WARN_ON_ONCE(cond); })

/**
 * wfcq_node_init - prepare a node for enqueueing
 * @node: node to initialise
 *
 * A node must be initialised before each wfcq_enqueue(), including after
 * it has been dequeued: __wfcq_dequeue() leaves a stale pointer in
 * @node->next. Call it only on a node that is in no queue.
 */
static inline void wfcq_node_init(struct wfcq_node *node)
{
	/*
	 * WRITE_ONCE() because the dummy node is reset by the consumer
	 * while wfcq_empty() may read it locklessly.
	 */
	WRITE_ONCE(node->next, NULL);
}

/**
 * wfcq_init - initialise an empty queue
 * @head: head of the queue
 * @tail: tail of the queue
 *
 * No other operation on the queue may run concurrently.
 */
static inline void wfcq_init(struct wfcq_head *head, struct wfcq_tail *tail)
{
	wfcq_node_init(&head->node);
	WRITE_ONCE(tail->p, &head->node);
}

/**
 * wfcq_empty - test whether a queue is empty
 * @head: head of the queue
 * @tail: tail of the queue
 *
 * May be called from any context, concurrently with enqueuers and with
 * the consumer, without any lock. The answer is a snapshot: a queue with
 * an enqueue between its two steps is reported non-empty, and a
 * concurrent consumer or enqueuer can change it right after. It does not
 * imply any memory barrier.
 *
 * Return: true if the queue has no node.
 */
static inline bool wfcq_empty(struct wfcq_head *head, struct wfcq_tail *tail)
{
	/*
	 * Empty only if the dummy has no successor and is the tail. An
	 * enqueuer moves tail->p away from the dummy before it links
	 * head->node.next, so whatever the order of the two loads, the
	 * answer is the state of the queue at the time of one of them.
	 */
	return !READ_ONCE(head->node.next) &&
	       READ_ONCE(tail->p) == &head->node;
}

/*
 * Link the chain @first..@last after the tail of a queue: exchange the
 * tail, then store the link into the old tail. Preemption stays disabled
 * between the two steps so that a consumer waiting for the link never
 * waits for a preempted task.
 */
static inline void __wfcq_append(struct wfcq_tail *tail,
				 struct wfcq_node *first,
				 struct wfcq_node *last)
{
	struct wfcq_node *old_tail;

	preempt_disable();
	/*
	 * Fully ordered: the caller's stores to the chain's nodes (their
	 * contents and last->next == NULL) are visible before the link
	 * below. Pairs with the READ_ONCE() of ->next in
	 * __wfcq_node_sync_next() and __wfcq_next() (address dependency),
	 * and with the cmpxchg() in __wfcq_dequeue() and the xchg() in
	 * __wfcq_splice() that hand the dummy back to enqueuers.
	 */
	old_tail = xchg(&tail->p, last);
	/*
	 * Ordered after the xchg() above, which publishes @last as the
	 * tail before the chain is reachable from the head. A consumer that
	 * sees old_tail->next == NULL while tail->p != old_tail waits for
	 * this store.
	 */
	WRITE_ONCE(old_tail->next, first);
	preempt_enable();
}

/**
 * wfcq_enqueue - add a node at the tail of a queue
 * @head: head of the queue
 * @tail: tail of the queue
 * @node: node to add, initialised with wfcq_node_init() and in no queue
 *
 * Wait-free: one xchg() on @tail->p and one store of the old tail's next
 * pointer, with preemption disabled in between (so a consumer never waits
 * for a preempted enqueuer). May be called from any context, including
 * hard interrupt context, concurrently with other enqueuers, with the
 * consumer and with wfcq_empty(). Implies a full memory barrier before
 * @node becomes visible in the queue.
 */
static inline void wfcq_enqueue(struct wfcq_head *head,
				struct wfcq_tail *tail,
				struct wfcq_node *node)
{
	WFCQ_WARN_ON_DEBUG(node == &head->node);
	WFCQ_WARN_ON_DEBUG(READ_ONCE(node->next));

	__wfcq_append(tail, node, node);
}

/*
 * Wait for an enqueuer to link the successor of @node and return it. Only
 * called on a node that is known not to be the tail.
 */
static inline struct wfcq_node *__wfcq_node_sync_next(struct wfcq_node *node)
{
	struct wfcq_node *next;

	/*
	 * The enqueuer runs with preemption disabled between its xchg() and
	 * this link, so the wait is short. READ_ONCE() pairs with the
	 * xchg() in __wfcq_append(): the caller reaches the node's contents
	 * through @next.
	 */
	while (!(next = READ_ONCE(node->next)))
		cpu_relax();
	return next;
}

/**
 * __wfcq_first - first node of a queue, for iteration
 * @head: head of the queue
 * @tail: tail of the queue
 *
 * Consumer operation: the caller serializes it against every other
 * consumer operation on this queue. It may run concurrently with
 * enqueuers and then waits for one that is linking the first node. The
 * node stays queued.
 *
 * Return: the first node, NULL if the queue is empty.
 */
static inline struct wfcq_node *__wfcq_first(struct wfcq_head *head,
					     struct wfcq_tail *tail)
{
	if (wfcq_empty(head, tail))
		return NULL;
	return __wfcq_node_sync_next(&head->node);
}

/**
 * __wfcq_next - node that follows a node, for iteration
 * @head: head of the queue
 * @tail: tail of the queue
 * @node: a node of the queue, obtained from __wfcq_first() or __wfcq_next()
 *
 * Consumer operation: the caller serializes it against every other
 * consumer operation on this queue. It may run concurrently with
 * enqueuers and then waits for one that is linking the successor of @node.
 * Nodes that are enqueued during an iteration are visited too.
 *
 * Return: the successor of @node, NULL if @node is the tail.
 */
static inline struct wfcq_node *__wfcq_next(struct wfcq_head *head,
					    struct wfcq_tail *tail,
					    struct wfcq_node *node)
{
	struct wfcq_node *next;

	/* Pairs with the xchg() in __wfcq_append() (address dependency). */
	next = READ_ONCE(node->next);
	if (next)
		return next;
	/*
	 * No barrier between the two loads: ->next goes from NULL to
	 * non-NULL only after tail->p has moved away from @node (the
	 * enqueuer's xchg() comes first), and never back while @node is
	 * queued. Whichever order the loads execute in, tail->p == @node
	 * means ->next was still NULL at that time, so @node was the tail.
	 */
	if (READ_ONCE(tail->p) == node)
		return NULL;
	return __wfcq_node_sync_next(node);
}

/**
 * __wfcq_dequeue - remove the first node of a queue
 * @head: head of the queue
 * @tail: tail of the queue
 *
 * Consumer operation: the caller serializes it against every other
 * consumer operation on this queue. It may run concurrently with
 * enqueuers and then waits for one that is linking the first node or its
 * successor. The dequeued node keeps a stale ->next: wfcq_node_init() it
 * before enqueueing it again.
 *
 * Return: the removed node, NULL if the queue is empty.
 */
static inline struct wfcq_node *__wfcq_dequeue(struct wfcq_head *head,
					       struct wfcq_tail *tail)
{
	struct wfcq_node *node, *next;

	if (wfcq_empty(head, tail))
		return NULL;

	node = __wfcq_node_sync_next(&head->node);

	/* Pairs with the xchg() in __wfcq_append() (address dependency). */
	next = READ_ONCE(node->next);
	if (!next) {
		/*
		 * @node looks like the tail. Detach it by making the dummy
		 * the only node again: clear the dummy's link first, then
		 * move tail->p back to the dummy if it still is @node. The
		 * cmpxchg() is fully ordered when it succeeds, so the
		 * cleared link is visible before an enqueuer can get the
		 * dummy from its xchg() and link a node behind it; pairs
		 * with the xchg() in __wfcq_append().
		 */
		wfcq_node_init(&head->node);
		if (cmpxchg(&tail->p, node, &head->node) == node)
			return node;
		/*
		 * An enqueuer moved tail->p away from @node first: it will
		 * link its node behind @node. A failed cmpxchg() implies no
		 * ordering, none is needed to wait for that link.
		 */
		next = __wfcq_node_sync_next(node);
	}

	/* Make @next the first node. */
	WRITE_ONCE(head->node.next, next);
	return node;
}

/**
 * __wfcq_splice - move all nodes of a queue to the tail of another
 * @dst_head: head of the destination queue
 * @dst_tail: tail of the destination queue
 * @src_head: head of the source queue
 * @src_tail: tail of the source queue
 *
 * Consumer operation on the source: the caller serializes it against
 * every other consumer operation on the source queue. It may run
 * concurrently with enqueuers on both queues; on the source it waits for
 * an enqueuer that is linking the first node. The destination is
 * appended to like with wfcq_enqueue(), wait-free, so the destination's
 * consumer may run concurrently. Source and destination must be two
 * different queues (with CONFIG_DEBUG_LIST, splicing a queue into itself
 * warns and moves nothing). Nodes keep their order, after the nodes
 * already in the destination. Nothing moves if the source is empty.
 */
static inline void __wfcq_splice(struct wfcq_head *dst_head,
				 struct wfcq_tail *dst_tail,
				 struct wfcq_head *src_head,
				 struct wfcq_tail *src_tail)
{
	struct wfcq_node *first, *last;

	if (WFCQ_WARN_ON_DEBUG(dst_head == src_head || dst_tail == src_tail))
		return;

	if (wfcq_empty(src_head, src_tail))
		return;

	/* Wait for the first node if its enqueuer has not linked it yet. */
	first = __wfcq_node_sync_next(&src_head->node);

	/*
	 * Detach the whole chain: clear the dummy's link, then take the
	 * tail back to the dummy. xchg() is fully ordered, so the cleared
	 * link is visible before an enqueuer can get the dummy from its own
	 * xchg() and link a node behind it; pairs with the xchg() in
	 * __wfcq_append(). An enqueuer that got a node of the chain instead
	 * links behind that node, inside the chain, and the consumer of
	 * @dst_head waits for it like for any other enqueuer.
	 */
	wfcq_node_init(&src_head->node);
	last = xchg(&src_tail->p, &src_head->node);

	/* Wait-free append, as an enqueue of the whole chain. */
	__wfcq_append(dst_tail, first, last);
}

/**
 * struct wfcq_iter - cursor of __wfcq_for_each()
 * @head: head of the queue
 * @tail: tail of the queue
 * @cur: the caller's cursor variable
 *
 * Internal to __wfcq_for_each(), so that it evaluates each of its
 * arguments once.
 */
struct wfcq_iter {
	struct wfcq_head *head;
	struct wfcq_tail *tail;
	struct wfcq_node **cur;
};

static inline struct wfcq_iter __wfcq_iter_start(struct wfcq_head *head,
						 struct wfcq_tail *tail,
						 struct wfcq_node **cur)
{
	*cur = __wfcq_first(head, tail);
	return (struct wfcq_iter){ .head = head, .tail = tail, .cur = cur };
}

static inline void __wfcq_iter_next(struct wfcq_iter *it)
{
	*it->cur = __wfcq_next(it->head, it->tail, *it->cur);
}

/**
 * __wfcq_for_each - iterate over the nodes of a queue
 * @head: head of the queue
 * @tail: tail of the queue
 * @node: &struct wfcq_node pointer used as the cursor
 *
 * Consumer operation: a loop over __wfcq_first() and __wfcq_next(), with
 * their rules. The loop body must not dequeue, splice, re-initialise or
 * free @node. After a loop that ran to its end, @node is NULL; after a
 * break, it is the node the body broke at.
 */
#define __wfcq_for_each(head, tail, node)				\
	for (struct wfcq_iter __wfcq_it =				\
		__wfcq_iter_start(head, tail, &(node));			\
	     *__wfcq_it.cur; __wfcq_iter_next(&__wfcq_it))

#undef WFCQ_WARN_ON_DEBUG

#endif /* _LINUX_WFCQUEUE_H */
