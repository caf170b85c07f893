// SPDX-License-Identifier: GPL-2.0
/*
 * Differential test of include/linux/wfcqueue.h against liburcu's
 * cds_wfcq_* (the reference implementation of the same algorithm) and
 * against a plain array model.
 *
 * A seeded random sequence of single-threaded operations is applied to
 * three queues of each implementation, and every result is compared:
 * enqueue return values, dequeued nodes (blocking and nonblocking),
 * splice results, emptiness, first/next iteration (blocking, nonblocking,
 * __wfcq_for_each(), and __wfcq_for_each_safe() while draining).
 *
 * To reach the WOULDBLOCK paths without threads, an operation can stop an
 * enqueue half-way, in both implementations alike: the tail is exchanged
 * but the old tail's next pointer is not linked yet. A later operation
 * completes the link. Blocking operations are only applied to queues
 * where they cannot wait for such a link; nonblocking ones are applied
 * anywhere, and the model predicts when they must return WOULDBLOCK.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/wfcqueue.h>
#include <urcu/wfcqueue.h>

#define NQ		3
#define NNODES		48
#define MAX_PENDING	2

/* Canonical values for results, shared by both implementations. */
#define R_NULL		-2
#define R_WOULDBLOCK	-3

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
	OP_ENQ, OP_HALF_ENQ, OP_COMPLETE, OP_DEQ, OP_DEQ_NB, OP_SPLICE,
	OP_SPLICE_NB, OP_EMPTY, OP_ITER, OP_ITER_NB, OP_DRAIN, OP_REINIT,
	NR_OPS
};

static const char *const op_name[NR_OPS] = {
	"enqueue", "half-enqueue", "complete", "dequeue", "dequeue-nb",
	"splice", "splice-nb", "empty", "iterate", "iterate-nb", "drain",
	"reinit",
};

/* Relative weights of the operations. */
static const unsigned int op_weight[NR_OPS] = {
	30, 3, 4, 14, 8, 4, 3, 6, 3, 3, 2, 1,
};

static struct dnode nodes[NNODES];
static struct dqueue q[NQ];
static struct pending pend[MAX_PENDING];
static int where[NNODES];		/* queue index, -1 when free */
static bool link_pending[NNODES];	/* incoming link not stored yet */
static unsigned long step, seed, done[NR_OPS], wouldblocks;
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
	if (n == WFCQ_WOULDBLOCK)
		return R_WOULDBLOCK;
	return container_of(n, struct dnode, w)->id;
}

static int cid(struct cds_wfcq_node *n)
{
	if (!n)
		return R_NULL;
	if (n == CDS_WFCQ_WOULDBLOCK)
		return R_WOULDBLOCK;
	return container_of(n, struct dnode, c)->id;
}

/* Splice results: -1 wouldblock, 0 source empty, 1 dest empty, 2 not. */
static int wret(enum wfcq_ret r)
{
	switch (r) {
	case WFCQ_RET_WOULDBLOCK:
		return -1;
	case WFCQ_RET_SRC_EMPTY:
		return 0;
	case WFCQ_RET_DEST_EMPTY:
		return 1;
	case WFCQ_RET_DEST_NON_EMPTY:
		return 2;
	}
	fail("bad wfcq_ret %d", r);
	return -9;
}

static int cret(enum cds_wfcq_ret r)
{
	switch (r) {
	case CDS_WFCQ_RET_WOULDBLOCK:
		return -1;
	case CDS_WFCQ_RET_SRC_EMPTY:
		return 0;
	case CDS_WFCQ_RET_DEST_EMPTY:
		return 1;
	case CDS_WFCQ_RET_DEST_NON_EMPTY:
		return 2;
	}
	fail("bad cds_wfcq_ret %d", r);
	return -9;
}

static bool has_pending(const struct dqueue *dq)
{
	int i;

	for (i = 0; i < dq->len; i++)
		if (link_pending[dq->model[i]])
			return true;
	return false;
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
	bool wr, cr;

	wfcq_node_init(&n->w);
	cds_wfcq_node_init(&n->c);
	wr = wfcq_enqueue(&q[qi].wh, &q[qi].wt, &n->w);
	cr = cds_wfcq_enqueue(&q[qi].ch, &q[qi].ct, &n->c);
	if (wr != cr || wr != (q[qi].len > 0))
		fail("queue %d: enqueue %d returned wfcq %d, liburcu %d, model %d",
		     qi, id, wr, cr, q[qi].len > 0);
	model_push(qi, id);
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

static void do_dequeue(int qi, bool blocking)
{
	struct dqueue *dq = &q[qi];
	int w, c, expect;

	if (blocking) {
		w = wid(__wfcq_dequeue(&dq->wh, &dq->wt));
		c = cid(__cds_wfcq_dequeue_blocking(&dq->ch, &dq->ct));
	} else {
		w = wid(__wfcq_dequeue_nonblocking(&dq->wh, &dq->wt));
		c = cid(__cds_wfcq_dequeue_nonblocking(&dq->ch, &dq->ct));
	}
	if (!dq->len)
		expect = R_NULL;
	else if (dequeue_blocks(dq))
		expect = R_WOULDBLOCK;
	else
		expect = dq->model[0];
	if (w != c || w != expect)
		fail("queue %d: dequeue wfcq %d, liburcu %d, model %d", qi, w,
		     c, expect);
	if (w == R_WOULDBLOCK)
		wouldblocks++;
	else if (w != R_NULL)
		model_pop(qi, w);
}

static void do_splice(int dst, int src, bool blocking)
{
	int w, c, expect;

	if (blocking) {
		w = wret(__wfcq_splice(&q[dst].wh, &q[dst].wt,
				       &q[src].wh, &q[src].wt));
		c = cret(__cds_wfcq_splice_blocking(&q[dst].ch, &q[dst].ct,
						    &q[src].ch, &q[src].ct));
	} else {
		w = wret(__wfcq_splice_nonblocking(&q[dst].wh, &q[dst].wt,
						   &q[src].wh, &q[src].wt));
		c = cret(__cds_wfcq_splice_nonblocking(&q[dst].ch, &q[dst].ct,
						       &q[src].ch,
						       &q[src].ct));
	}
	if (!q[src].len)
		expect = 0;
	else if (first_blocks(&q[src]))
		expect = -1;
	else
		expect = q[dst].len ? 2 : 1;
	if (w != c || w != expect)
		fail("splice %d <- %d: wfcq %d, liburcu %d, model %d", dst,
		     src, w, c, expect);
	if (w == -1)
		wouldblocks++;
	if (w > 0)
		model_splice(dst, src);
}

/* Blocking iteration, three ways, against the model. */
static void do_iterate(int qi)
{
	struct dqueue *dq = &q[qi];
	struct cds_wfcq_node *cn;
	struct wfcq_node *wn;
	int i;

	for (i = 0, wn = __wfcq_first(&dq->wh, &dq->wt),
	     cn = __cds_wfcq_first_blocking(&dq->ch, &dq->ct);
	     ; i++) {
		int w = wid(wn), c = cid(cn);
		int expect = i < dq->len ? dq->model[i] : R_NULL;

		if (w != c || w != expect)
			fail("queue %d: first/next #%d: wfcq %d, liburcu %d, model %d",
			     qi, i, w, c, expect);
		if (w == R_NULL)
			break;
		wn = __wfcq_next(&dq->wh, &dq->wt, wn);
		cn = __cds_wfcq_next_blocking(&dq->ch, &dq->ct, cn);
	}
	i = 0;
	__wfcq_for_each(&dq->wh, &dq->wt, wn) {
		if (i >= dq->len || wid(wn) != dq->model[i])
			fail("queue %d: for_each #%d: wfcq %d", qi, i, wid(wn));
		i++;
	}
	if (i != dq->len)
		fail("queue %d: for_each visited %d of %d", qi, i, dq->len);
}

static void do_iterate_nb(int qi)
{
	struct dqueue *dq = &q[qi];
	struct cds_wfcq_node *cn;
	struct wfcq_node *wn;
	int i;

	wn = __wfcq_first_nonblocking(&dq->wh, &dq->wt);
	cn = __cds_wfcq_first_nonblocking(&dq->ch, &dq->ct);
	for (i = 0; ; i++) {
		int w = wid(wn), c = cid(cn), expect;

		if (i >= dq->len)
			expect = R_NULL;
		else if (link_pending[dq->model[i]])
			expect = R_WOULDBLOCK;
		else
			expect = dq->model[i];
		if (w != c || w != expect)
			fail("queue %d: nonblocking first/next #%d: wfcq %d, liburcu %d, model %d",
			     qi, i, w, c, expect);
		if (w == R_NULL)
			break;
		if (w == R_WOULDBLOCK) {
			wouldblocks++;
			break;
		}
		wn = __wfcq_next_nonblocking(&dq->wh, &dq->wt, wn);
		cn = __cds_wfcq_next_nonblocking(&dq->ch, &dq->ct, cn);
	}
}

/* Splice into a private queue and free its nodes with for_each_safe. */
static void do_drain(int qi)
{
	struct dqueue *dq = &q[qi];
	struct wfcq_head wph;
	struct wfcq_tail wpt;
	struct __cds_wfcq_head cph;
	struct cds_wfcq_tail cpt;
	struct wfcq_node *wn, *wnext;
	struct cds_wfcq_node *cn, *cnext;
	int ids[NNODES], nw = 0, nc = 0, i, w, c;

	wfcq_init(&wph, &wpt);
	__cds_wfcq_init(&cph, &cpt);
	w = wret(__wfcq_splice(&wph, &wpt, &dq->wh, &dq->wt));
	c = cret(__cds_wfcq_splice_blocking(&cph, &cpt, &dq->ch, &dq->ct));
	if (w != c || w != (dq->len ? 1 : 0))
		fail("drain %d: splice wfcq %d, liburcu %d", qi, w, c);

	__wfcq_for_each_safe(&wph, &wpt, wn, wnext) {
		if (nw >= NNODES)
			fail("drain %d: too many nodes", qi);
		ids[nw++] = wid(wn);
		/* Poison what an unsafe iteration would follow. */
		wn->next = WFCQ_WOULDBLOCK;
	}
	__cds_wfcq_for_each_blocking_safe(&cph, &cpt, cn, cnext) {
		if (nc >= nw || cid(cn) != ids[nc])
			fail("drain %d: for_each_safe #%d: liburcu %d", qi, nc,
			     cid(cn));
		nc++;
		cn->next = CDS_WFCQ_WOULDBLOCK;
	}
	if (nw != nc || nw != dq->len)
		fail("drain %d: wfcq %d nodes, liburcu %d, model %d", qi, nw,
		     nc, dq->len);
	for (i = 0; i < nw; i++)
		model_pop(qi, ids[i]);
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
		do_dequeue(qi, true);
		break;
	case OP_DEQ_NB:
		do_dequeue(qi, false);
		break;
	case OP_SPLICE:
		if (first_blocks(&q[q2]))
			return false;
		do_splice(qi, q2, true);
		break;
	case OP_SPLICE_NB:
		do_splice(qi, q2, false);
		break;
	case OP_EMPTY:
		check_empty(qi);
		break;
	case OP_ITER:
		if (has_pending(&q[qi]))
			return false;
		do_iterate(qi);
		break;
	case OP_ITER_NB:
		do_iterate_nb(qi);
		break;
	case OP_DRAIN:
		if (has_pending(&q[qi]))
			return false;
		do_drain(qi);
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
			do_dequeue(i, true);
		do_dequeue(i, true);
		check_empty(i);
	}

	printf("diff: %lu ops, seed %lu, all results equal:", nops, seed);
	for (i = 0; i < NR_OPS; i++)
		printf(" %s %lu", op_name[i], done[i]);
	printf(", wouldblock %lu\n", wouldblocks);
	if (wfcq_shim_warnings) {
		printf("diff: %lu debug warning(s)\n", wfcq_shim_warnings);
		return 1;
	}
	return 0;
}
