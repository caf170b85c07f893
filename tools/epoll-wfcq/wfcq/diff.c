// SPDX-License-Identifier: GPL-2.0
/*
 * Differential test of include/linux/wfcqueue.h against liburcu's
 * cds_wfcq_* (the reference implementation of the same algorithm) and
 * against a plain array model.
 *
 * A seeded random sequence of single-threaded operations is applied to
 * three queues of each implementation, and every result is compared:
 * dequeued nodes, emptiness, the queues' contents after a splice, and
 * iteration with first/next and with __wfcq_for_each(). liburcu's
 * cds_wfcq_enqueue() and splice return a value that wfcq_enqueue() and
 * __wfcq_splice() do not; those are not compared.
 *
 * An operation can stop an enqueue half-way, in both implementations
 * alike: the tail is exchanged but the old tail's next pointer is not
 * linked yet, as with an enqueuer that a consumer overtakes. A later
 * operation completes the link. Consumer operations are applied only
 * where the model says they will not wait for such a link (a splice whose
 * first node is linked takes the pending link along; an iteration stops
 * before the node whose link is pending), except for the "wait"
 * operation: it runs a dequeue, splice or iteration that must wait for a
 * pending link while a helper thread completes that link after a short
 * delay, which takes the consumers' waiting paths (among them a dequeue
 * of the last linked node whose cmpxchg() of the tail fails).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/wfcqueue.h>
#include <urcu/wfcqueue.h>

#define NQ		3
#define NNODES		48
#define MAX_PENDING	2
/* Each "wait" costs a thread and a scheduling delay: a few per run. */
#define MAX_WAITS	50

/* Canonical value for a NULL result, shared by both implementations. */
#define R_NULL		-2

struct dnode {
	struct wfcq_node w;
	struct cds_wfcq_node c;
	int id;
};

struct dqueue {
	struct wfcq_head wh;
	struct wfcq_tail wt;
	struct __cds_wfcq_head ch;
	struct cds_wfcq_tail ct;
	int model[NNODES];
	int len;
};

struct pending {
	bool active;
	int id;
	struct wfcq_node *wold;
	struct cds_wfcq_node *cold;
};

enum op {
	OP_ENQ, OP_HALF_ENQ, OP_COMPLETE, OP_DEQ, OP_SPLICE, OP_EMPTY,
	OP_ITER, OP_DRAIN, OP_REINIT, OP_WAIT, NR_OPS
};

static const char *const op_name[NR_OPS] = {
	"enqueue", "half-enqueue", "complete", "dequeue", "splice", "empty",
	"iterate", "drain", "reinit", "wait",
};

/* Relative weights of the operations. */
static const unsigned int op_weight[NR_OPS] = {
	30, 3, 4, 20, 7, 6, 6, 2, 1, 1,
};

static struct dnode nodes[NNODES];
static struct dqueue q[NQ];
static struct pending pend[MAX_PENDING];
static int where[NNODES];		/* queue index, -1 when free */
static bool link_pending[NNODES];	/* incoming link not stored yet */
static unsigned long step, seed, done[NR_OPS], taken_pending, waits[3];
static enum op cur_op;

static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "diff: mismatch at step %lu (%s), seed %lu: ",
		step, op_name[cur_op], seed);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t rng_state;

static unsigned int rnd(unsigned int n)
{
	/* xorshift64 */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state % n;
}

static int wid(struct wfcq_node *n)
{
	if (!n)
		return R_NULL;
	return container_of(n, struct dnode, w)->id;
}

static int cid(struct cds_wfcq_node *n)
{
	if (!n)
		return R_NULL;
	return container_of(n, struct dnode, c)->id;
}

/* Model: number of leading nodes that are reachable from the head. */
static int linked_prefix(const struct dqueue *dq)
{
	int i;

	for (i = 0; i < dq->len; i++)
		if (link_pending[dq->model[i]])
			break;
	return i;
}

static bool has_pending(const struct dqueue *dq)
{
	return linked_prefix(dq) != dq->len;
}

/* Model: would taking the first node need a link that is pending? */
static bool first_blocks(const struct dqueue *dq)
{
	return dq->len && link_pending[dq->model[0]];
}

static bool dequeue_blocks(const struct dqueue *dq)
{
	return first_blocks(dq) || (dq->len > 1 && link_pending[dq->model[1]]);
}

static int pick_free(void)
{
	int i, start = rnd(NNODES);

	for (i = 0; i < NNODES; i++) {
		int id = (start + i) % NNODES;

		if (where[id] < 0)
			return id;
	}
	return -1;
}

static void model_push(int qi, int id)
{
	q[qi].model[q[qi].len++] = id;
	where[id] = qi;
}

static void model_pop(int qi, int id)
{
	struct dqueue *dq = &q[qi];

	if (!dq->len || dq->model[0] != id)
		fail("queue %d: got node %d, model expects %d", qi, id,
		     dq->len ? dq->model[0] : R_NULL);
	memmove(dq->model, dq->model + 1, --dq->len * sizeof(int));
	where[id] = -1;
}

static void model_splice(int dst, int src)
{
	int i;

	for (i = 0; i < q[src].len; i++) {
		q[dst].model[q[dst].len++] = q[src].model[i];
		where[q[src].model[i]] = dst;
	}
	q[src].len = 0;
}

static void check_empty(int qi)
{
	bool we = wfcq_empty(&q[qi].wh, &q[qi].wt);
	bool ce = cds_wfcq_empty(&q[qi].ch, &q[qi].ct);

	if (we != ce || we != !q[qi].len)
		fail("queue %d: empty wfcq %d, liburcu %d, model %d", qi, we,
		     ce, !q[qi].len);
}

static void do_enqueue(int qi, int id)
{
	struct dnode *n = &nodes[id];

	wfcq_node_init(&n->w);
	cds_wfcq_node_init(&n->c);
	wfcq_enqueue(&q[qi].wh, &q[qi].wt, &n->w);
	/* Its return value has no counterpart in wfcq_enqueue(). */
	(void)cds_wfcq_enqueue(&q[qi].ch, &q[qi].ct, &n->c);
	model_push(qi, id);
	if (q[qi].wt.p != &n->w)
		fail("queue %d: enqueue %d is not the tail", qi, id);
}

/* The first step of an enqueue, in both implementations alike. */
static void do_half_enqueue(int qi, int id, struct pending *p)
{
	struct dnode *n = &nodes[id];
	bool wr, cr;

	wfcq_node_init(&n->w);
	cds_wfcq_node_init(&n->c);
	p->wold = __atomic_exchange_n(&q[qi].wt.p, &n->w, __ATOMIC_SEQ_CST);
	p->cold = __atomic_exchange_n(&q[qi].ct.p, &n->c, __ATOMIC_SEQ_CST);
	p->id = id;
	p->active = true;
	wr = p->wold != &q[qi].wh.node;
	cr = p->cold != &q[qi].ch.node;
	if (wr != cr || wr != (q[qi].len > 0))
		fail("queue %d: half enqueue %d: non-empty wfcq %d, liburcu %d, model %d",
		     qi, id, wr, cr, q[qi].len > 0);
	link_pending[id] = true;
	model_push(qi, id);
}

static void do_complete(struct pending *p)
{
	__atomic_store_n(&p->wold->next, &nodes[p->id].w, __ATOMIC_RELEASE);
	__atomic_store_n(&p->cold->next, &nodes[p->id].c, __ATOMIC_RELEASE);
	link_pending[p->id] = false;
	p->active = false;
}

static void do_dequeue(int qi)
{
	struct dqueue *dq = &q[qi];
	int w, c, expect;

	w = wid(__wfcq_dequeue(&dq->wh, &dq->wt));
	c = cid(__cds_wfcq_dequeue_blocking(&dq->ch, &dq->ct));
	expect = dq->len ? dq->model[0] : R_NULL;
	if (w != c || w != expect)
		fail("queue %d: dequeue wfcq %d, liburcu %d, model %d", qi, w,
		     c, expect);
	if (w != R_NULL)
		model_pop(qi, w);
}

/*
 * Iterate over the first @n nodes with first/next, both implementations
 * and the model in step; with @n == len also check that next() of the
 * tail is NULL (with a link pending behind node n - 1, next() would wait
 * for it). Then the same with __wfcq_for_each().
 */
static void iterate(int qi, int n, const char *what)
{
	struct dqueue *dq = &q[qi];
	struct cds_wfcq_node *cn;
	struct wfcq_node *wn;
	int ids[NNODES], i;

	if (!n && dq->len)
		return;
	wn = __wfcq_first(&dq->wh, &dq->wt);
	cn = __cds_wfcq_first_blocking(&dq->ch, &dq->ct);
	for (i = 0; ; i++) {
		int w = wid(wn), c = cid(cn);
		int expect = i < dq->len ? dq->model[i] : R_NULL;

		if (w != c || w != expect)
			fail("queue %d: %s: first/next #%d: wfcq %d, liburcu %d, model %d",
			     qi, what, i, w, c, expect);
		if (w == R_NULL || (i + 1 == n && n < dq->len))
			break;
		wn = __wfcq_next(&dq->wh, &dq->wt, wn);
		cn = __cds_wfcq_next_blocking(&dq->ch, &dq->ct, cn);
	}
	if (n < dq->len)
		return;

	i = 0;
	__wfcq_for_each(&dq->wh, &dq->wt, wn) {
		if (i >= dq->len)
			fail("queue %d: %s: for_each past the tail", qi, what);
		ids[i++] = wid(wn);
	}
	if (wn)
		fail("queue %d: %s: for_each cursor not NULL at the end", qi,
		     what);
	if (i != dq->len)
		fail("queue %d: %s: for_each visited %d of %d", qi, what, i,
		     dq->len);
	i = 0;
	__cds_wfcq_for_each_blocking(&dq->ch, &dq->ct, cn) {
		if (i >= dq->len || cid(cn) != ids[i] || ids[i] != dq->model[i])
			fail("queue %d: %s: for_each #%d: wfcq %d, liburcu %d, model %d",
			     qi, what, i, i < dq->len ? ids[i] : R_NULL,
			     cid(cn), i < dq->len ? dq->model[i] : R_NULL);
		i++;
	}
	if (i != dq->len)
		fail("queue %d: %s: liburcu for_each visited %d of %d", qi,
		     what, i, dq->len);
}

static void do_splice(int dst, int src)
{
	bool pending = has_pending(&q[src]);

	__wfcq_splice(&q[dst].wh, &q[dst].wt, &q[src].wh, &q[src].wt);
	/* Its return value has no counterpart in __wfcq_splice(). */
	(void)__cds_wfcq_splice_blocking(&q[dst].ch, &q[dst].ct,
					 &q[src].ch, &q[src].ct);
	model_splice(dst, src);
	if (pending)
		taken_pending++;
	check_empty(src);
	check_empty(dst);
	iterate(src, 0, "splice source");
	iterate(dst, linked_prefix(&q[dst]), "splice destination");
}

/* Iteration, as far as no pending link is in the way. */
static void do_iterate(int qi)
{
	iterate(qi, linked_prefix(&q[qi]), "iterate");
}

/*
 * Splice into a private queue, iterate over it, then dequeue every node
 * from it.
 */
static void do_drain(int qi)
{
	struct dqueue *dq = &q[qi];
	struct wfcq_head wph;
	struct wfcq_tail wpt;
	struct __cds_wfcq_head cph;
	struct cds_wfcq_tail cpt;
	struct wfcq_node *wn;
	struct cds_wfcq_node *cn;
	int ids[NNODES], nw = 0, nc = 0, i;

	wfcq_init(&wph, &wpt);
	__cds_wfcq_init(&cph, &cpt);
	__wfcq_splice(&wph, &wpt, &dq->wh, &dq->wt);
	(void)__cds_wfcq_splice_blocking(&cph, &cpt, &dq->ch, &dq->ct);
	if (!wfcq_empty(&dq->wh, &dq->wt) || !cds_wfcq_empty(&dq->ch, &dq->ct))
		fail("drain %d: source not empty after the splice", qi);

	__wfcq_for_each(&wph, &wpt, wn) {
		if (nw >= dq->len || wid(wn) != dq->model[nw])
			fail("drain %d: for_each #%d: wfcq %d", qi, nw, wid(wn));
		ids[nw++] = wid(wn);
	}
	__cds_wfcq_for_each_blocking(&cph, &cpt, cn) {
		if (nc >= nw || cid(cn) != ids[nc])
			fail("drain %d: for_each #%d: liburcu %d", qi, nc,
			     cid(cn));
		nc++;
	}
	if (nw != nc || nw != dq->len)
		fail("drain %d: wfcq %d nodes, liburcu %d, model %d", qi, nw,
		     nc, dq->len);
	for (i = 0; i < nw; i++) {
		int w = wid(__wfcq_dequeue(&wph, &wpt));
		int c = cid(__cds_wfcq_dequeue_blocking(&cph, &cpt));

		if (w != c || w != ids[i])
			fail("drain %d: dequeue #%d: wfcq %d, liburcu %d, model %d",
			     qi, i, w, c, ids[i]);
		model_pop(qi, w);
	}
	if (!wfcq_empty(&wph, &wpt) || !cds_wfcq_empty(&cph, &cpt) ||
	    __wfcq_dequeue(&wph, &wpt) ||
	    __cds_wfcq_dequeue_blocking(&cph, &cpt))
		fail("drain %d: private queue not empty", qi);
	check_empty(qi);
}

static void do_reinit(int qi)
{
	wfcq_init(&q[qi].wh, &q[qi].wt);
	__cds_wfcq_init(&q[qi].ch, &q[qi].ct);
	check_empty(qi);
}

static struct pending *free_pending(void)
{
	int i;

	for (i = 0; i < MAX_PENDING; i++)
		if (!pend[i].active)
			return &pend[i];
	return NULL;
}

static struct pending *any_pending(void)
{
	int i, start = rnd(MAX_PENDING);

	for (i = 0; i < MAX_PENDING; i++)
		if (pend[(start + i) % MAX_PENDING].active)
			return &pend[(start + i) % MAX_PENDING];
	return NULL;
}

/* Is @p the first pending link of its queue? */
static bool first_pending(const struct pending *p)
{
	const struct dqueue *dq = &q[where[p->id]];
	int k = linked_prefix(dq);

	return k < dq->len && dq->model[k] == p->id;
}

/* Helper thread of do_wait(): complete the link after a short delay. */
static void *complete_later(void *arg)
{
	usleep(200);
	do_complete(arg);
	return NULL;
}

/*
 * Run a consumer operation that must wait for the pending link @p, the
 * first pending one of its queue, while a helper thread completes it.
 */
static void do_wait(struct pending *p)
{
	int qi = where[p->id], q2 = (qi + 1 + rnd(NQ - 1)) % NQ;
	struct dqueue *dq = &q[qi];
	int k = linked_prefix(dq), w[NNODES], c[NNODES], i, n = 0, kind;
	struct cds_wfcq_node *cn;
	struct wfcq_node *wn;
	pthread_t helper;

	/*
	 * 0: dequeue, which needs the first two nodes linked, so only with
	 * no other link pending there; 1: splice, which needs the first;
	 * 2: first/next up to @p's node.
	 */
	kind = rnd(3);
	if (kind == 1 && k != 0)
		kind = 0;
	if (kind == 0 && (k > 1 || (k == 0 && dq->len > 1 &&
				    link_pending[dq->model[1]])))
		kind = 2;
	if (pthread_create(&helper, NULL, complete_later, p)) {
		perror("pthread_create");
		exit(2);
	}
	switch (kind) {
	case 0:
		w[0] = wid(__wfcq_dequeue(&dq->wh, &dq->wt));
		c[0] = cid(__cds_wfcq_dequeue_blocking(&dq->ch, &dq->ct));
		n = 1;
		break;
	case 1:
		__wfcq_splice(&q[q2].wh, &q[q2].wt, &dq->wh, &dq->wt);
		(void)__cds_wfcq_splice_blocking(&q[q2].ch, &q[q2].ct,
						 &dq->ch, &dq->ct);
		break;
	case 2:
		/* first/next up to the node whose link is pending. */
		wn = __wfcq_first(&dq->wh, &dq->wt);
		cn = __cds_wfcq_first_blocking(&dq->ch, &dq->ct);
		for (n = 0; ; n++) {
			w[n] = wid(wn);
			c[n] = cid(cn);
			if (n == k)
				break;
			wn = __wfcq_next(&dq->wh, &dq->wt, wn);
			cn = __cds_wfcq_next_blocking(&dq->ch, &dq->ct, cn);
		}
		n++;
		break;
	}
	pthread_join(helper, NULL);
	waits[kind]++;

	for (i = 0; i < n; i++)
		if (w[i] != c[i] || w[i] != dq->model[i])
			fail("queue %d: %s #%d: wfcq %d, liburcu %d, model %d",
			     qi, kind ? "first/next" : "dequeue", i, w[i], c[i],
			     dq->model[i]);
	if (kind == 0)
		model_pop(qi, w[0]);
	if (kind == 1)
		model_splice(q2, qi);
	check_empty(qi);
	check_empty(q2);
	iterate(qi, linked_prefix(dq), "after wait");
	iterate(q2, linked_prefix(&q[q2]), "after wait");
}

static enum op pick_op(void)
{
	unsigned int total = 0, r, i;

	for (i = 0; i < NR_OPS; i++)
		total += op_weight[i];
	r = rnd(total);
	for (i = 0; r >= op_weight[i]; i++)
		r -= op_weight[i];
	return i;
}

/* Apply one operation; return false if it did not apply here. */
static bool apply(enum op op)
{
	int qi = rnd(NQ), q2 = (qi + 1 + rnd(NQ - 1)) % NQ, id;
	struct pending *p;

	cur_op = op;
	switch (op) {
	case OP_ENQ:
		id = pick_free();
		if (id < 0)
			return false;
		do_enqueue(qi, id);
		break;
	case OP_HALF_ENQ:
		p = free_pending();
		id = pick_free();
		if (!p || id < 0)
			return false;
		do_half_enqueue(qi, id, p);
		break;
	case OP_COMPLETE:
		p = any_pending();
		if (!p)
			return false;
		do_complete(p);
		break;
	case OP_DEQ:
		if (dequeue_blocks(&q[qi]))
			return false;
		do_dequeue(qi);
		break;
	case OP_SPLICE:
		if (first_blocks(&q[q2]))
			return false;
		do_splice(qi, q2);
		break;
	case OP_EMPTY:
		check_empty(qi);
		break;
	case OP_ITER:
		do_iterate(qi);
		break;
	case OP_DRAIN:
		if (has_pending(&q[qi]))
			return false;
		do_drain(qi);
		break;
	case OP_WAIT:
		p = any_pending();
		if (!p || !first_pending(p) || done[OP_WAIT] >= MAX_WAITS)
			return false;
		do_wait(p);
		break;
	case OP_REINIT:
		if (q[qi].len)
			return false;
		do_reinit(qi);
		break;
	default:
		return false;
	}
	done[op]++;
	return true;
}

int main(int argc, char **argv)
{
	unsigned long nops = argc > 1 ? strtoul(argv[1], NULL, 0) : 100000;
	struct pending *p;
	int i;

	seed = argc > 2 ? strtoul(argv[2], NULL, 0) : 1;
	rng_state = seed * 0x9e3779b97f4a7c15ULL + 1;

	for (i = 0; i < NNODES; i++) {
		nodes[i].id = i;
		where[i] = -1;
	}
	for (i = 0; i < NQ; i++) {
		wfcq_init(&q[i].wh, &q[i].wt);
		__cds_wfcq_init(&q[i].ch, &q[i].ct);
	}

	for (step = 0; step < nops; step++) {
		apply(pick_op());
		/* Catch a bad state before a later operation waits on it. */
		for (i = 0; i < NQ; i++)
			check_empty(i);
	}

	/* Complete every pending link, then drain and compare. */
	step = nops;
	while ((p = any_pending()))
		do_complete(p);
	for (i = 0; i < NQ; i++) {
		cur_op = OP_ITER;
		do_iterate(i);
		cur_op = OP_DEQ;
		while (q[i].len)
			do_dequeue(i);
		do_dequeue(i);
		check_empty(i);
	}

	printf("diff: %lu ops, seed %lu, all results equal:", nops, seed);
	for (i = 0; i < NR_OPS; i++)
		printf(" %s %lu", op_name[i], done[i]);
	printf(", waits: dequeue %lu splice %lu first/next %lu, splices with a pending link %lu\n",
	       waits[0], waits[1], waits[2], taken_pending);
	if (wfcq_shim_warnings) {
		printf("diff: %lu debug warning(s)\n", wfcq_shim_warnings);
		return 1;
	}
	return 0;
}
