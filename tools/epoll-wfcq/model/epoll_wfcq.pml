/*
 * epoll_wfcq.pml - Spin model of the ready-list protocol of the
 * epoll-wfcq series: fs/eventpoll.c (ep_poll_callback(), ep_ready_*(),
 * ep_send_events(), ep_poll(), ep_modify(), ep_remove(),
 * __ep_eventpoll_poll()) and the wait-free concurrent queue of
 * include/linux/wfcqueue.h. Run by run.sh (make model).
 *
 * Every statement that touches shared memory is one Spin step and names,
 * in its comment, the kernel function (and the C expression) it stands
 * for. Steps that touch only memory private to one thread are folded
 * into the neighbouring step (atomic blocks). Ghost variables exist only
 * to state the properties.
 *
 * Spin explores sequentially consistent interleavings. The comment on
 * each ordered pair of steps names the barrier that keeps that order on
 * weaker hardware (table below); the variants NO_B1, NO_B3 and NO_B4
 * drop a barrier by running the loads before the store they would have
 * waited for (the store-buffering reordering that the barrier forbids),
 * and Spin must find a counterexample.
 *
 * The transfer list ep->txl is a plain doubly linked list under ep->mtx;
 * the model keeps it as an array of item numbers, head first (txl[],
 * txn), with insertion at either end and removal from anywhere, each
 * list operation one step. Only list_empty() is read by other threads
 * (ep_events_available()). An item's rdllink (wfcq node) and txlink
 * (list_head) share their memory: while an item is on txl, its
 * lnk[] (rdllink.next) holds TXLNK (txlink.next, never NULL).
 *
 * Processes
 *   Producer x NPROD  a watched file's write path (eventfd_write():
 *                     count += n; wake_up_locked_poll()) and the
 *                     ep_poll_callback() it runs, NEV times each, on an
 *                     item chosen nondeterministically. Callbacks for the
 *                     same item may run concurrently (a file with several
 *                     wait queues, such as a pipe's rd_wait and wr_wait).
 *   Waiter x NWAIT    threads looping on epoll_wait(maxevents = MAXEV, no
 *                     timeout), then reading (to EAGAIN) every fd they got
 *   Ctl               another thread: NMOD x EPOLL_CTL_MOD re-arming the
 *                     ONESHOT item 1, NDEL x EPOLL_CTL_DEL of item 0, NPOLL
 *                     x poll(2) of the epoll fd, in any order, at any time
 *   Final             the end-of-run assertions (not with -DNOFINAL)
 *
 * Items: item 0 is EPOLLIN | EPOLLET (level-triggered with -DLT0);
 * item 1 is EPOLLIN | EPOLLET | EPOLLONESHOT; with -DNITEMS=3, item 2 is
 * EPOLLIN | EPOLLET. All are registered (ep_insert() done) and idle at
 * the start. NFAULT copy_to_user() faults may hit any delivery. With
 * -DFIXED, producer p writes items p, p + 1, ... instead of any item.
 *
 * Properties
 *   no item queued twice     assert in rdq_enqueue() and
 *                            ep_ready_push_front(): only the claim winner
 *                            links the node, once, with ->next == NULL
 *   queue not corrupted      deq_ghost(): every node taken off txl is an
 *                            item that was enqueued and not yet dequeued;
 *                            rdq_enqueue(): the old tail's link is still
 *                            NULL (so not an item on txl, whose
 *                            txlink.next the link store would overwrite);
 *                            ep_ready_unlink(): a QUEUED item is on txl
 *                            after the splice; Final: every enqueued
 *                            node was dequeued, rdq and txl empty; IDLE
 *                            only once the node is off every queue; no
 *                            write into a freed (deleted) item
 *   no lost event            Final: no registered, enabled item has
 *                            unread data; ltl noloss (weak fairness)
 *   no lost wakeup           Final: nobody sleeps with a queued item;
 *                            ltl wake (weak fairness)
 *   ONESHOT                  assert at delivery: re-armed since the last
 *                            delivery; nothing delivered after
 *                            EPOLL_CTL_DEL
 *   the wait on a half-      ltl waitends (weak fairness), and no invalid
 *   linked node ends         end state (deadlock): __wfcq_next() in the
 *                            splice's walk, and ep_ready_wait_linked()
 *                            after a lost claim
 *
 * Not modelled: EPOLLWAKEUP (ep_pm_*), EPOLLEXCLUSIVE, timeouts, busy
 * poll, nested epoll and ep->poll_wait with (B7), ep_insert() (its poll
 * and ep_ready_add() are those of ep_modify()), close() of the epoll fd
 * (ep_ready_drain()), POLLFREE, FIFO order, PREEMPT_RT: an EPOLLWAKEUP
 * item's window, which is preemptible there and not waited for.
 * ep->harvest_seq ((S1), (S2), (S3)): ep_events_available() here looks
 * at rdq and txl only, without "(seq & 1) ||" and the re-check of the
 * sequence, so it reports "nothing" in more states than the kernel's
 * (items in transit); it matters for timeouts, which are not modelled.
 * ep_poll()'s look at the queues before it joins ep->wq: the Waiter
 * always joins, then re-checks (the kernel skips joining when the first
 * look finds events; joining anyway only adds behaviours).
 *
 * Variants (-D):
 *   RFC3     the reset to IDLE moved after the re-poll (Eric Wong's RFC v3,
 *            2013): must lose an event
 *   NO_B1    ep_poll_callback() without its smp_mb() (B1)
 *   NO_B3    ep_modify() without its smp_mb() (B3)
 *   NO_B4    ep_poll() re-checks the queues without the barrier (B4) of
 *            set_current_state() after adding itself to ep->wq
 *   NOCLAIM  the IDLE -> QUEUED transition by a plain load and store
 *            instead of try_cmpxchg() (C1)
 *   NO_KICK  ep_ready_unlink() without its final ep_ready_kick() (B6)
 *   NOSYNC   __wfcq_node_sync_next() does not wait for a half-linked node
 *   NO_ONESHOT  ep_deliver_event() does not disable a ONESHOT item
 *   LT_NOREPOLL ep_deliver_lt() releases a level-triggered item that its
 *            poll found not ready, without the second poll after the
 *            release: must lose an event
 *
 * Memory ordering: which barrier keeps each ordered pair of steps on
 * weaker hardware (Spin itself is sequentially consistent).
 *   callback: condition store -> loads of mask and state        (B1) smp_mb()
 *   ep_ready_release(): node init -> IDLE store                 (B2) release
 *   ep_ready_release(): IDLE store -> re-poll's load of condition (B2) smp_mb()
 *   ep_modify(): mask store -> poll's load of condition         (B3) smp_mb()
 *   ep_poll(): wait entry store -> re-check loads               (B4) set_current_state()
 *   enqueue: tail xchg -> waitqueue_active() load               (B5) xchg() fully ordered
 *   consumer: queue stores -> wq_has_sleeper() load             (B6) smp_mb() in it
 *     (the only order for a level-triggered item linked back on txl)
 *   IDLE store -> next claimant's node/ws accesses              (B2) release / (C1) cmpxchg
 *   enqueue: tail xchg -> link store; consumer: link load ->
 *     node contents                 xchg() + address dependency (READ_ONCE of ->next)
 *   splice: head link cleared -> tail xchg                      xchg() fully ordered
 *   splice walk: load of rdllink.next -> list_add_tail()'s store of
 *     txlink.next (the same word)   program order, same location
 *   callback's claim and enqueue -> ep_unregister_pollwait()'s
 *     return                        the watched head's lock (POLLFREE: release/acquire of whead)
 * Each of (B1), (B2) (as RFC3: the IDLE store after the re-poll's load
 * is what a missing smp_mb() there allows), (B3) and (B4) has a variant
 * above that drops it, and Spin finds the lost event or lost wakeup.
 */

#ifndef NPROD
#define NPROD	2	/* producer processes */
#endif
#ifndef NEV
#define NEV	1	/* events (writes) per producer */
#endif
#ifndef MAXEV
#define MAXEV	1	/* maxevents of epoll_wait() */
#endif
#ifndef NMOD
#define NMOD	1	/* EPOLL_CTL_MOD re-arms of item 1 */
#endif
#ifndef NDEL
#define NDEL	1	/* EPOLL_CTL_DEL of item 0 (0 or 1) */
#endif
#ifndef NFAULT
#define NFAULT	1	/* copy_to_user() faults in epoll_wait() */
#endif
#ifndef NPOLL
#define NPOLL	0	/* poll(2)s of the epoll fd (__ep_eventpoll_poll()) by Ctl */
#endif
#ifndef NWAIT
#define NWAIT	1	/* epoll_wait() threads, 1 or 2 */
#endif

#ifndef NITEMS
#define NITEMS	2	/* items (watched fds), 2 or 3 */
#endif
#define NONE	NITEMS		/* no item (a NULL struct epitem *) */

/* struct wfcq_node addresses */
#define NIL	0		/* NULL */
#define RDQ	1		/* &ep->rdq_head.node, dummy of rdq */
#define NODE(i)	(2 + (i))	/* &epi->rdllink of item i */
#define ITEM(n)	((n) - 2)
#define NNODES	(2 + NITEMS)
#define TXLNK	NNODES		/* rdllink.next of an item on txl: its txlink.next
				 * (&ep->txl or the next item's txlink), never NULL */

#define ONESHOT(i)	((i) == 1)
#ifdef LT0
#define LT(i)		((i) == 0)
#else
#define LT(i)		0
#endif

#define IDLE	0		/* EP_STATE_IDLE */
#define QUEUED	1		/* EP_STATE_QUEUED */

/* rdq: ep->rdq_head/rdq_tail, head.node.next is lnk[RDQ]. The on-stack
 * queue of ep_ready_splice() is private: its first node and tail are
 * the consumer's locals (n, last). */
byte lnk[NNODES];		/* wfcq_node.next (of an item on txl: txlink.next) */
byte rdq_tail = RDQ;		/* ep->rdq_tail.p */
/* txl: struct list_head ep->txl of epi->txlink, under ep->mtx */
byte txl[NITEMS];		/* the items on txl, head first; 0 past txn */
byte txn;			/* how many; list_empty(&ep->txl) is txn == 0 */

bit state[NITEMS];		/* epi->state */
bit mask[NITEMS];		/* epi->event.events & ~EP_PRIVATE_BITS != 0 */
bit cond[NITEMS];		/* the watched file is ready (eventfd count > 0) */
bit registered[NITEMS];		/* our wait entry is on the file's wqh */
byte in_cb[NITEMS];		/* ep_poll_callback()s running for the item */

bit mtx;			/* ep->mtx */
bit wq_entry[NWAIT];		/* waiter w's entry is on ep->wq */
bit w_running[NWAIT] = 1;	/* waiter w: TASK_RUNNING (1) or TASK_INTERRUPTIBLE */

/* ghosts */
bit inq[NITEMS];		/* node linked on a queue (enqueued, not dequeued) */
bit armed[NITEMS];		/* ONESHOT item re-armed since its last delivery */
bit deleted[NITEMS];		/* EPOLL_CTL_DEL done, item freed */
bit asleep[NWAIT];		/* waiter w inside schedule() */
bit cwait;			/* a consumer spins on a half-linked node or a lost claim's link */
byte nfault;			/* copy_to_user() faults injected so far */
byte ndone;			/* producers and Ctl that have finished */

#if NWAIT == 1
#define WQACTIVE	(wq_entry[0])
#define ALLSLEEP	(asleep[0] && !w_running[0])
#else
#define WQACTIVE	(wq_entry[0] || wq_entry[1])
#define ALLSLEEP	(asleep[0] && !w_running[0] && asleep[1] && !w_running[1])
#endif
#if NITEMS == 2
#define ANYQ	(inq[0] || inq[1])
#else
#define ANYQ	(inq[0] || inq[1] || inq[2])
#endif
#define QEMPTY	(lnk[RDQ] == NIL && rdq_tail == RDQ && txn == 0)
#define PENDING(i)	(registered[i] && mask[i] && cond[i])

/* Liveness, checked one at a time with weak fairness (pan -a -f -N). */
/* Waiters do not all sleep for good while an item is queued: one is
 * woken, or a consumer takes the items off (ANYQ counts enqueued and
 * not yet dequeued nodes, so a splice in progress does not hide them). */
ltl wake { [] ((ALLSLEEP && ANYQ) -> <> (!ALLSLEEP || !ANYQ)) }
/* An event on an enabled, registered item is eventually read by the user
 * after a delivery (or the item is disabled by ONESHOT, or deleted). */
#if NITEMS == 2
ltl noloss { [] (PENDING(0) -> <> !PENDING(0)) && [] (PENDING(1) -> <> !PENDING(1)) }
#else
ltl noloss { [] (PENDING(0) -> <> !PENDING(0)) && [] (PENDING(1) -> <> !PENDING(1)) &&
	     [] (PENDING(2) -> <> !PENDING(2)) }
#endif
/* A consumer waiting for a link (a half-linked node in the splice's walk,
 * a callback's link after a lost claim) stops waiting. */
ltl waitends { [] (cwait -> <> !cwait) }

/* ------------------------------------------------------------------ */
/* Locks and wait queue                                                 */

inline mutex_lock()
{
	atomic { mtx == 0 -> mtx = 1 }		/* mutex_lock(&ep->mtx) */
}

inline mutex_unlock()
{
	mtx = 0					/* mutex_unlock(&ep->mtx) */
}

/*
 * wake_up(&ep->wq) (nr_exclusive = 1): under ep->wq.lock,
 * __wake_up_common() calls ep_autoremove_wake_function() on the
 * entries, all exclusive, until one wakes a sleeping task:
 * default_wake_function() returns 0 for a task already running, and
 * list_del_init_careful() removes the entry in both cases. The kernel
 * walks the list in order (LIFO, __add_wait_queue_exclusive() adds at
 * the head); the model takes the entries in any order.
 */
inline wake_up_wq()
{
	atomic {
		do
		:: wq_entry[0] ->
			wq_entry[0] = 0;
			if
			:: !w_running[0] -> w_running[0] = 1; break
			:: else -> skip
			fi
#if NWAIT > 1
		:: wq_entry[1] ->
			wq_entry[1] = 0;
			if
			:: !w_running[1] -> w_running[1] = 1; break
			:: else -> skip
			fi
#endif
		:: else -> break
		od
	}
}

/* ------------------------------------------------------------------ */
/* include/linux/wfcqueue.h                                             */

/* ghost: node n leaves the queues (it is taken off txl) */
inline deq_ghost(n)
{
	assert(n >= NODE(0) && n < TXLNK && inq[ITEM(n)]);	/* dequeued exactly once */
	inq[ITEM(n)] = 0
}

/* wfcq_empty(head, tail): two loads, in either order */
inline wfcq_empty(h, t, res)
{
	if
	:: lnk[h] != NIL -> res = 0		/* !READ_ONCE(head->node.next) */
	:: else ->
		if
		:: t == h -> res = 1		/* READ_ONCE(tail->p) == &head->node */
		:: else -> res = 0
		fi
	fi
}

/* __wfcq_node_sync_next(node) */
inline sync_next(node, res)
{
#ifndef NOSYNC
	atomic {
		res = lnk[node];		/* READ_ONCE(node->next) */
		cwait = (res == NIL)
	}
	do
	:: res != NIL -> break
	:: else ->
		atomic {			/* cpu_relax(); READ_ONCE(node->next) */
			res = lnk[node];
			cwait = (res == NIL)
		}
	od
#else
	res = lnk[node]			/* mutant: no wait for the link */
#endif
}

/*
 * __wfcq_next(head, tail, node) on the on-stack queue of
 * ep_ready_splice(): its tail t is a private local, enqueuers may still
 * be linking nodes of the chain.
 */
inline wfcq_next(t, node, res)
{
	res = lnk[node];			/* next = READ_ONCE(node->next) */
	if
	:: res != NIL -> skip
	:: else ->
		if
		:: t == node -> skip		/* READ_ONCE(tail->p) == node: return NULL */
		:: else -> sync_next(node, res)	/* return __wfcq_node_sync_next(node) */
		fi
	fi
}

/* ------------------------------------------------------------------ */
/* include/linux/list.h on ep->txl (inside a step, x a scratch local)   */

/* list_add_tail(&epi->txlink, &ep->txl) */
inline txl_add_tail(i)
{
	txl[txn] = i;
	txn++;
	lnk[NODE(i)] = TXLNK			/* txlink.next overwrites rdllink.next */
}

/* list_add(&epi->txlink, &ep->txl) */
inline txl_add_head(i)
{
	x = txn;
	do
	:: x > 0 -> txl[x] = txl[x - 1]; x--
	:: else -> break
	od;
	txl[0] = i;
	txn++;
	lnk[NODE(i)] = TXLNK
}

/* list_del(&epi->txlink): i must be on txl; leaves LIST_POISON1 (not NULL) */
inline txl_del(i)
{
	x = 0;
	do
	:: x < txn && txl[x] != i -> x++
	:: else -> break
	od;
	assert(x < txn && lnk[NODE(i)] == TXLNK);	/* i is on txl */
	do
	:: x + 1 < txn -> txl[x] = txl[x + 1]; x++
	:: else -> break
	od;
	txn--;
	txl[txn] = 0;
	x = 0;
	deq_ghost(NODE(i))
}

/* ------------------------------------------------------------------ */
/* fs/eventpoll.c                                                        */

/* ep_claim(): try_cmpxchg(&epi->state, IDLE, QUEUED); (C1) */
inline ep_claim(i, won)
{
#ifndef NOCLAIM
	atomic {
		if
		:: state[i] == IDLE -> state[i] = QUEUED; won = 1
		:: else -> won = 0
		fi
	}
#else
	won = (state[i] == IDLE);		/* mutant: plain load ... */
	if
	:: won -> state[i] = QUEUED		/* ... and plain store, no cmpxchg */
	:: else -> skip
	fi
#endif
}

/*
 * ep_enqueue() -> wfcq_enqueue(&ep->rdq_head, &ep->rdq_tail, &epi->rdllink)
 * -> __wfcq_append(), with preemption disabled between the two steps.
 */
inline rdq_enqueue(i)
{
	atomic {				/* old_tail = xchg(&tail->p, node): (B5), fully ordered */
		assert(lnk[NODE(i)] == NIL);	/* WFCQ_WARN_ON_DEBUG(READ_ONCE(node->next)) */
		assert(state[i] == QUEUED && !inq[i]);	/* only the claim winner, once */
		assert(!deleted[i]);
		inq[i] = 1;
		old = rdq_tail;
		rdq_tail = NODE(i)
	}
	atomic {				/* WRITE_ONCE(old_tail->next, first) */
		assert(old < NODE(0) || !deleted[ITEM(old)]);	/* no write to a freed item */
		/* nobody linked behind old, and old is not on txl (its
		 * txlink.next is this word): the splice's walk waited */
		assert(lnk[old] == NIL);
		lnk[old] = NODE(i);
		old = NIL
	}
}

/*
 * ep_events_available(): lockless look at both queues. The kernel's
 * "(seq & 1) ||" and its re-check of ep->harvest_seq are not modelled
 * (see the head of the file): they only turn a "no" into a "yes".
 */
inline ep_events_available(res)
{
	wfcq_empty(RDQ, rdq_tail, e1);		/* !wfcq_empty(&ep->rdq_head, &ep->rdq_tail) */
	if
	:: !e1 -> res = 1
	:: else -> res = (txn != 0)		/* || !list_empty(&ep->txl) */
	fi;
	e1 = 0
}

/*
 * ep_ready_kick(): wake a sleeper if anything is queued. (B6) is the
 * smp_mb() at the start of wq_has_sleeper(): it orders this consumer's
 * stores to rdq/txl before the load of ep->wq; pairs with (B4).
 */
inline ep_ready_kick()
{
	ep_events_available(av);		/* ep_events_available(ep) */
	if
	:: av ->
		if
		:: WQACTIVE -> wake_up_wq()	/* wq_has_sleeper(&ep->wq): (B6); wake_up(&ep->wq) */
		:: else -> skip
		fi
	:: else -> skip
	fi;
	av = 0
}

/*
 * ep_ready_splice(): __wfcq_splice() of rdq into an on-stack queue,
 * then a walk that moves each of its nodes to the tail of txl, in
 * order. The on-stack queue is private: its wfcq_init(), the
 * __wfcq_append() of the chain and __wfcq_first() fold into the xchg()
 * of rdq's tail; first node and tail are the locals n and last. An
 * enqueuer may still be linking a node of the chain: __wfcq_next()
 * waits for that link before list_add_tail() overwrites the node's
 * link (rdllink.next is txlink.next). The caller's ep_harvest_begin()
 * is not modelled.
 */
inline ep_ready_splice()
{
	wfcq_empty(RDQ, rdq_tail, e1);		/* __wfcq_splice(): wfcq_empty(&ep->rdq_head, &ep->rdq_tail) */
	if
	:: e1 -> e1 = 0				/* return: nothing to move */
	:: else ->
		sync_next(RDQ, n);		/* first = __wfcq_node_sync_next(&src_head->node) */
		lnk[RDQ] = NIL;			/* wfcq_node_init(&src_head->node) */
		/*
		 * xchg() is fully ordered: the cleared head link above is
		 * visible before an enqueuer can get the dummy as old tail.
		 */
		atomic { last = rdq_tail; rdq_tail = RDQ }	/* last = xchg(&src_tail->p, &src_head->node); __wfcq_append(&tail, first, last); node = __wfcq_first(&head, &tail) */
		do
		:: n == NIL -> break		/* for (...; node; ...) */
		:: else ->
			wfcq_next(last, n, nx);	/* next = __wfcq_next(&head, &tail, node) */
			atomic {		/* list_add_tail(&ep_item_from_node(node)->txlink, &ep->txl) */
				assert(n >= NODE(0) && n < TXLNK && inq[ITEM(n)]);
				txl_add_tail(ITEM(n));
				n = nx; nx = NIL	/* node = next */
			}
		od;
		last = NIL
	fi
}

/*
 * ep_ready_pop(): first item off txl; it stays QUEUED, held by the
 * caller. Only the mtx holder writes txl: the load of its first entry
 * and the stores of list_del() are one step.
 */
inline ep_ready_pop(it)
{
	d_step {				/* epi = list_first_entry_or_null(&ep->txl, ...); list_del(&epi->txlink) */
		if
		:: txn == 0 -> it = NONE	/* if (!epi) return NULL */
		:: else ->
			it = txl[0];
			txl_del(it)
		fi
	}
}

/*
 * ep_ready_release(): a popped item goes IDLE before the caller re-polls
 * it. The release store of IDLE orders the node's re-initialisation
 * before the next claim (C1); the smp_mb() after it orders the IDLE
 * store before the re-poll's loads, pairing with (B1).
 */
inline ep_ready_release(it)
{
#ifndef RFC3
	atomic {				/* wfcq_node_init(&epi->rdllink); (B2) smp_store_release(&epi->state, IDLE); smp_mb() */
		lnk[NODE(it)] = NIL;		/* private, ordered by the release */
		assert(!inq[it]);		/* IDLE only once off every queue */
		state[it] = IDLE
	}
#else
	lnk[NODE(it)] = NIL			/* wfcq_node_init(&epi->rdllink) */
#endif
}

/* ep_ready_take(): ep_ready_pop(), then ep_ready_release() */
inline ep_ready_take(it)
{
	ep_ready_pop(it);
	if
	:: it == NONE -> skip
	:: else -> ep_ready_release(it)
	fi
}

/*
 * list_add(&epi->txlink, &ep->txl) or list_add_tail() of an item that
 * the caller popped and still holds: QUEUED, on no queue.
 */
inline txl_add_held(i, tail)
{
	d_step {
		assert(state[i] == QUEUED && !inq[i] && !deleted[i]);
		inq[i] = 1;
		if
		:: tail -> txl_add_tail(i)
		:: else -> txl_add_head(i)
		fi
	}
}

/*
 * ep_ready_push_front(): list_add() of the item, which the caller has
 * just claimed, at the head of txl, one step (other threads read txl
 * only through list_empty()).
 */
inline ep_ready_push_front(i)
{
	d_step {				/* list_add(&epi->txlink, &ep->txl) */
		assert(lnk[NODE(i)] == NIL && !inq[i]);	/* claimed: on no queue */
		inq[i] = 1;
		txl_add_head(i)
	}
}

/*
 * ep_ready_wait_linked(): the consumer lost the claim of item i (it is
 * QUEUED): wait until its node is linked, that is has a successor (on
 * txl, txlink.next, never NULL) or is rdq's tail. The two loads are one
 * step here: an exit at either load's time shows a linked node, and
 * the other interleavings only add turns of the loop. The callback runs
 * its window with preemption disabled (ep_ready_queue()), which weak
 * fairness stands for; (S3) is not modelled (harvest_seq).
 */
inline ep_ready_wait_linked(i)
{
	do
	:: atomic {				/* while (!READ_ONCE(node->next) && READ_ONCE(ep->rdq_tail.p) != node) */
		lnk[NODE(i)] != NIL || rdq_tail == NODE(i) -> cwait = 0
	   };
	   break
	:: atomic {				/* cpu_relax() */
		lnk[NODE(i)] == NIL && rdq_tail != NODE(i) -> cwait = 1
	   }
	od
}

/*
 * ep_send_events() with ep_deliver_lt() and ep_deliver_event() inlined;
 * the Waiter's locals res (events delivered), fault (-EFAULT), got[]
 * (what the user got) and rq (the level-triggered item 0 is on the
 * call's list of re-queued items; only item 0 can be level-triggered).
 */
inline ep_send_events()
{
	mutex_lock();				/* mutex_lock(&ep->mtx) */
	ep_ready_splice();			/* ep_harvest_begin(ep); ep_ready_splice(ep) */
	res = 0;
	do
	:: res < MAXEV ->
		ep_ready_pop(it);		/* epi = ep_ready_pop(ep) */
		if
		:: it == NONE -> break
		:: else -> skip
		fi;
		held = 0;
		if
		:: LT(it) && !ONESHOT(it) ->	/* ep_deliver_lt(): the item is still QUEUED */
			r = (cond[it] && mask[it]);	/* revents = ep_item_poll() */
			if
			:: !r ->		/* return 0: released and polled again below */
#ifdef LT_NOREPOLL
				ep_ready_release(it);	/* mutant: released without the second poll */
				held = 1
#else
				skip
#endif
			:: r && nfault < NFAULT ->	/* epoll_put_uevent() faults */
				nfault++;
				txl_add_held(it, 0);	/* ep_ready_push_front(ep, epi) */
				r = 0; it = NONE;
				fault = (res == 0);	/* return -EFAULT; if (!res) res = delivered */
				break
			:: r ->			/* delivered, still QUEUED */
				atomic {
					assert(!deleted[it] && state[it] == QUEUED);
					got[it] = 1;
					res++
				}
				rq = 1;		/* list_add_tail(&epi->txlink, requeued) */
				held = 1
			fi;
			r = 0
		:: else -> skip
		fi;
		if
		:: held -> skip
		:: else ->
		ep_ready_release(it);		/* ep_ready_release(ep, epi) */
		r = (cond[it] && mask[it]);	/* ep_deliver_event(): revents = ep_item_poll() */
#ifdef RFC3
		atomic {			/* RFC v3: epi->state = EP_STATE_IDLE after the poll */
			assert(!inq[it]);
			state[it] = IDLE
		}
#endif
		if
		:: !r -> skip			/* !revents: return 0, item stays IDLE */
		:: r && nfault < NFAULT ->	/* epoll_put_uevent() faults */
			nfault++;
			ep_claim(it, won);	/* ep_ready_putback(): ep_claim(epi) */
			if
			:: won -> ep_ready_push_front(it)	/* ep_ready_push_front(ep, epi) */
			:: else -> ep_ready_wait_linked(it)	/* ep_ready_wait_linked(ep, epi) */
			fi;
			won = 0; r = 0; it = NONE;
			fault = (res == 0);	/* return -EFAULT; if (!res) res = delivered */
			break
		:: r ->				/* epoll_put_uevent() done: delivered */
			atomic {
				assert(!deleted[it]);	/* nothing after EPOLL_CTL_DEL */
				if
				:: ONESHOT(it) -> assert(armed[it]); armed[it] = 0
				:: else -> skip
				fi;
				got[it] = 1;
				res++
			}
			if
			:: ONESHOT(it) ->	/* WRITE_ONCE(epi->event.events, events & EP_PRIVATE_BITS) */
#ifndef NO_ONESHOT
				mask[it] = 0
#else
				skip		/* mutant: ONESHOT not disabled */
#endif
			:: !ONESHOT(it) && LT(it) ->
				ep_claim(it, won);	/* ep_ready_requeue(): ep_claim(epi) */
				if
				:: won -> rdq_enqueue(it)	/* ep_enqueue(ep, epi) */
				:: else -> ep_ready_wait_linked(it)	/* ep_ready_wait_linked(ep, epi) */
				fi;
				won = 0
			:: else -> skip
			fi
		fi
		fi;
		r = 0; it = NONE; held = 0
	:: else -> break
	od;
	if
	:: rq -> txl_add_held(0, 1); rq = 0	/* list_splice_tail(&requeued, &ep->txl) */
	:: else -> skip
	fi;
	ep_ready_kick();			/* ep_ready_done(): ep_harvest_end(); ep_ready_kick() */
	mutex_unlock()				/* mutex_unlock(&ep->mtx) */
}

/*
 * __ep_eventpoll_poll() for a poll(2) of the epoll fd (the poll_wait()
 * registration on ep->poll_wait and (B7) are not modelled): take items,
 * drop those that are not ready, put the first ready one back in front.
 */
inline ep_eventpoll_poll()
{
	mutex_lock();				/* mutex_lock_nested(&ep->mtx, depth) */
	ep_ready_splice();			/* ep_harvest_begin(ep); ep_ready_splice(ep) */
	do
	:: true ->
		ep_ready_take(it);		/* epi = ep_ready_take(ep) */
		if
		:: it == NONE -> break
		:: else -> skip
		fi;
		r = (cond[it] && mask[it]);	/* ep_item_poll(epi, &pt, depth + 1) */
		if
		:: r ->
			ep_claim(it, won);	/* ep_ready_putback(): ep_claim(epi) */
			if
			:: won -> ep_ready_push_front(it)	/* ep_ready_push_front(ep, epi) */
			:: else -> ep_ready_wait_linked(it)	/* ep_ready_wait_linked(ep, epi) */
			fi;
			won = 0; r = 0; it = NONE;
			break
		:: else -> it = NONE		/* not ready: stays IDLE */
		fi
	od;
	ep_ready_kick();			/* ep_ready_done(): ep_harvest_end(); ep_ready_kick() */
	mutex_unlock()				/* mutex_unlock(&ep->mtx) */
}

/*
 * ep_ready_unlink(): called by ep_remove_epi() after
 * ep_unregister_pollwait(), so no callback for item i is running and a
 * QUEUED item is fully linked on rdq or txl: after the splice, it is on
 * txl, from where list_del() takes it, wherever it is.
 */
inline ep_ready_unlink(i)
{
	if
	:: state[i] != QUEUED -> skip		/* READ_ONCE(epi->state) != EP_STATE_QUEUED: return */
	:: else ->
		ep_ready_splice();		/* ep_harvest_begin(ep); ep_ready_splice(ep) */
		d_step {			/* list_del(&epi->txlink) */
			txl_del(i)
		}
		atomic {			/* wfcq_node_init(&epi->rdllink); smp_store_release(&epi->state, IDLE) */
			lnk[NODE(i)] = NIL;
			assert(!inq[i]);
			state[i] = IDLE
		}
#ifndef NO_KICK
		ep_ready_kick()			/* ep_harvest_end(ep); ep_ready_kick(ep) */
#endif
	fi
}

/* ------------------------------------------------------------------ */
/* Processes                                                           */

proctype Producer(byte id)
{
	byte k, i, old;
	bit cb, ev, st, won, queued;

	for (k : 1 .. NEV) {
#ifndef FIXED
		select (i : 0 .. NITEMS - 1);
#else
		i = (id + k - 1) % NITEMS;	/* producer id writes items id, id + 1, ... */
#endif
		/*
		 * eventfd_write(): spin_lock_irq(&wqh->lock); count += n;
		 * wake_up_locked_poll(), which calls ep_poll_callback() if
		 * our entry is on wqh (remove_wait_queue() takes the same lock).
		 */
		atomic {
#ifndef NO_B1
			cond[i] = 1;		/* ctx->count += n */
#endif
			cb = registered[i];
			if
			:: cb -> in_cb[i]++
			:: else -> skip
			fi
		}
#ifdef NO_B1
		if
		:: !cb -> cond[i] = 1		/* ctx->count += n */
		:: else -> skip
		fi;
#endif
		if
		:: cb ->			/* ep_poll_callback() */
			/*
			 * (B1) smp_mb(): orders the store of the condition
			 * above before the loads of the mask and of the state
			 * below; pairs with (B2) in ep_ready_take() and (B3)
			 * in ep_modify().
			 */
			ev = mask[i];	/* events = READ_ONCE(epi->event.events) */
			if
			:: ev ->		/* events & ~EP_PRIVATE_BITS */
				st = state[i];	/* READ_ONCE(epi->state) == EP_STATE_IDLE */
#ifdef NO_B1
				cond[i] = 1;	/* the buffered store of the condition drains */
#endif
				if
				:: st == IDLE -> ep_claim(i, won)	/* && ep_claim(epi) */
				:: else -> won = 0
				fi;
				if
				:: won ->
					rdq_enqueue(i);	/* ep_enqueue(ep, epi) */
					queued = 1
				:: else -> skip
				fi;
#ifdef WAKE_ONLY_IF_QUEUED
				if
				:: queued ->
					/* ordered after the xchg() of the enqueue: (B5), pairs with (B4) */
					if
					:: WQACTIVE -> wake_up_wq()	/* waitqueue_active(&ep->wq); wake_up(&ep->wq) */
					:: else -> skip
					fi
				:: else -> skip
				fi
#else
				/*
				 * Every event wakes a sleeper, also for an item that
				 * was queued already; when this callback queued it,
				 * the wakeup is ordered after the xchg() of the
				 * enqueue: (B5), pairs with (B4).
				 */
				if
				:: WQACTIVE -> wake_up_wq()	/* waitqueue_active(&ep->wq); wake_up(&ep->wq) */
				:: else -> skip
				fi
#endif
			:: else ->		/* goto out */
#ifdef NO_B1
				cond[i] = 1;	/* the buffered store of the condition drains */
#endif
				skip
			fi;
			atomic {		/* return; spin_unlock_irq(&wqh->lock) */
				in_cb[i]--;
				ev = 0; st = 0; won = 0; queued = 0
			}
		:: else -> skip
		fi;
		cb = 0
	}
	ndone++
}

proctype Waiter(byte w)
{
	byte n, nx, last, old, it, res, i, x;
	bit e1, av, eavail, r, won, fault, held, rq;
	bit got[NITEMS];

restart:					/* epoll_wait() -> ep_poll(ep, events, MAXEV, NULL) */
	ep_events_available(eavail);		/* eavail = ep_events_available(ep) */
	do
	:: true ->
		if
		:: eavail ->
			ep_send_events();	/* res = ep_send_events(ep, events, maxevents) */
			if
			:: res > 0 || fault ->	/* if (res) return res */
				fault = 0;
				goto user
			:: else -> skip
			fi
		:: else -> skip
		fi;
		/* timed_out == 0 (no timeout); no busy poll; no signal */
#ifndef NO_B4
		/*
		 * spin_lock_irq(&ep->wq.lock); __add_wait_queue_exclusive();
		 * set_current_state(TASK_INTERRUPTIBLE), whose smp_mb() is
		 * (B4): the entry is visible before the loads of the
		 * re-check; pairs with (B5) and (B6).
		 */
		atomic { wq_entry[w] = 1; w_running[w] = 0 }
		ep_events_available(eavail);	/* eavail = ep_events_available(ep) */
#else
		/* mutant: the re-check's loads pass the buffered entry store */
		ep_events_available(eavail);	/* eavail = ep_events_available(ep) */
		atomic { wq_entry[w] = 1; w_running[w] = 0 }
#endif
		if
		:: !eavail ->
			asleep[w] = 1;		/* schedule_hrtimeout_range(NULL, ...) */
end_sleep:		atomic { w_running[w] == 1 -> asleep[w] = 0 }
		:: else -> skip
		fi;
		atomic {
			w_running[w] = 1;	/* __set_current_state(TASK_RUNNING) */
			eavail = 1
		}
		atomic { wq_entry[w] = 0 }	/* list_empty_careful(); __remove_wait_queue() under ep->wq.lock */
	od;
user:
	for (i : 0 .. NITEMS - 1) {
		atomic {			/* the user reads the fd until EAGAIN */
			if
			:: got[i] -> cond[i] = 0; got[i] = 0
			:: else -> skip
			fi
		}
	}
	i = 0; res = 0;
	goto restart
}

proctype Ctl()
{
	byte n, nx, last, old, m, d, pl, it, x;
	bit e1, av, r, won;

	do
	:: m < NMOD ->				/* epoll_ctl(EPOLL_CTL_MOD, fd1, IN|ET|ONESHOT): ep_modify() */
		m++;
		mutex_lock();			/* mutex_lock(&ep->mtx) in do_epoll_ctl() */
#ifndef NO_B3
		/*
		 * (B3) smp_mb(): the new mask is visible before the poll's
		 * loads; pairs with (B1) in ep_poll_callback().
		 */
		atomic {			/* WRITE_ONCE(epi->event.events, event->events) */
			mask[1] = 1;
			armed[1] = 1
		}
		r = (cond[1] && mask[1]);	/* ep_item_poll(epi, &pt, 1) */
#else
		/* mutant: the poll's load passes the buffered mask store */
		r = cond[1];			/* ep_item_poll(epi, &pt, 1) */
		atomic {			/* WRITE_ONCE(epi->event.events, event->events) */
			mask[1] = 1;
			armed[1] = 1
		}
#endif
		if
		:: r ->
			ep_claim(1, won);	/* ep_ready_add(): ep_claim(epi) */
			if
			:: won ->
				rdq_enqueue(1);	/* ep_enqueue(ep, epi): (B5) */
				if
				:: WQACTIVE -> wake_up_wq()	/* waitqueue_active(&ep->wq); wake_up(&ep->wq) */
				:: else -> skip
				fi
			:: else -> ep_ready_wait_linked(1)	/* ep_ready_wait_linked(ep, epi) */
			fi;
			won = 0
		:: else -> skip
		fi;
		r = 0;
		mutex_unlock()			/* mutex_unlock(&ep->mtx) */
	:: d < NDEL ->				/* epoll_ctl(EPOLL_CTL_DEL, fd0): ep_remove() */
		d++;
		mutex_lock();			/* mutex_lock(&ep->mtx) in do_epoll_ctl() */
		atomic {			/* ep_unregister_pollwait(): remove_wait_queue() under wqh->lock */
			in_cb[0] == 0 -> registered[0] = 0
		}
		ep_ready_unlink(0);		/* ep_remove_epi(): ep_ready_unlink(ep, epi) */
		atomic {			/* ep_remove_epi(): kfree_rcu(epi, rcu) */
			assert(!inq[0] && state[0] == IDLE);
			deleted[0] = 1
		}
		mutex_unlock()			/* mutex_unlock(&ep->mtx) */
	:: pl < NPOLL ->			/* poll(2) on the epoll fd: ep_eventpoll_poll() */
		pl++;
		ep_eventpoll_poll()
	:: else -> break
	od;
	ndone++
}

/*
 * End of the run: producers and Ctl finished, the waiters asleep and not
 * woken, so nothing can move any more. Left out with -DNOFINAL (the LTL
 * runs), so that a liveness counterexample comes from the claim.
 */
#ifndef NOFINAL
active proctype Final()
{
	byte i;

	atomic {
		(ndone == NPROD + 1 && ALLSLEEP) ->
		/* no lost wakeup: nobody sleeps on a non-empty queue */
		assert(QEMPTY);
		for (i : 0 .. NITEMS - 1) {
			/* queue not corrupted: every enqueued node dequeued */
			assert(!inq[i] && state[i] == IDLE);
			/* no lost event: an enabled item has nothing unread */
			assert(!PENDING(i))
		}
	}
}
#endif

init
{
	byte p;

	atomic {
		registered[0] = 1; mask[0] = 1;	/* ep_insert(fd0, EPOLLIN | EPOLLET) */
		registered[1] = 1; mask[1] = 1;	/* ep_insert(fd1, EPOLLIN | EPOLLET | EPOLLONESHOT) */
		armed[1] = 1;
#if NITEMS > 2
		registered[2] = 1; mask[2] = 1;	/* ep_insert(fd2, EPOLLIN | EPOLLET) */
#endif
		for (p : 0 .. NPROD - 1) {
			run Producer(p)
		}
		for (p : 0 .. NWAIT - 1) {
			run Waiter(p)
		}
		run Ctl()
	}
}
