// SPDX-License-Identifier: GPL-2.0
/*
 * Multi-threaded stress and throughput test of include/linux/wfcqueue.h.
 *
 * P producer threads each enqueue N nodes tagged (producer, seq) into one
 * queue while one consumer thread mixes every consumer operation: dequeue,
 * splice into a private queue (empty or not), and iteration with
 * __wfcq_for_each() checked against the dequeues that follow. While the
 * private queue holds nodes, which are older than those of the shared
 * queue, the consumer dequeues and iterates there. Every node must arrive
 * exactly once and each producer's nodes in order; the run fails
 * otherwise, or if the consumer makes no progress for 10 seconds after
 * the producers are done.
 *
 * --baseline runs the same workload, alternately, on a doubly linked
 * list (list_head style) protected by a pthread spinlock, for every
 * producer count given with -p, and prints enqueues per second (total
 * nodes over the time from the start signal until the last producer has
 * finished) as median, min and max over the repetitions.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/wfcqueue.h>

#define CACHELINE	64
#define MAX_PRODUCERS	64
#define STALL_SECONDS	10.0

struct lnode {
	struct lnode *next, *prev;
};

struct item {
	struct wfcq_node wnode;
	struct lnode lnode;
	unsigned int producer;
	unsigned int seq;
};

enum impl { IMPL_WFCQ, IMPL_LIST };
enum op { OP_DEQ, OP_PEEK, OP_SPLICE, NR_OPS };
static const char *const impl_name[] = { "wfcq", "spinlock-list" };

struct producer {
	struct run *run;
	struct item *items;
	unsigned int id;
	double t_end;
	pthread_t thread;
};

struct run {
	/* wfcqueue under test: head and tail on separate cache lines. */
	struct wfcq_head head __attribute__((aligned(CACHELINE)));
	struct wfcq_tail tail __attribute__((aligned(CACHELINE)));
	/* Baseline: spinlock-protected circular doubly linked list. */
	pthread_spinlock_t lock __attribute__((aligned(CACHELINE)));
	struct lnode lhead;

	int go __attribute__((aligned(CACHELINE)));
	int ready;
	int producers_done;

	enum impl impl;
	unsigned int nr_producers;
	unsigned int nodes;
	uint64_t seed;
	struct producer producers[MAX_PRODUCERS];
	unsigned int expect[MAX_PRODUCERS];

	/* Consumer's private queue, filled by splice. */
	struct wfcq_head ph;
	struct wfcq_tail pt;

	/* Consumer results. */
	unsigned long seen, errors, ops[NR_OPS], splice_nonempty;
	double t_start, t_drained;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64 */
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* list_head-style helpers for the baseline */
static void l_init(struct lnode *h)
{
	h->next = h;
	h->prev = h;
}

static bool l_empty(const struct lnode *h)
{
	return h->next == h;
}

static void l_add_tail(struct lnode *n, struct lnode *h)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static void l_del(struct lnode *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
}

/* Move all of @src to the tail of @dst, leave @src empty. */
static void l_splice_tail_init(struct lnode *src, struct lnode *dst)
{
	if (l_empty(src))
		return;
	src->next->prev = dst->prev;
	dst->prev->next = src->next;
	src->prev->next = dst;
	dst->prev = src->prev;
	l_init(src);
}

static void *producer_fn(void *arg)
{
	struct producer *p = arg;
	struct run *r = p->run;
	unsigned int i;

	__atomic_fetch_add(&r->ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&r->go, __ATOMIC_ACQUIRE))
		cpu_relax();

	if (r->impl == IMPL_WFCQ) {
		for (i = 0; i < r->nodes; i++) {
			struct item *it = &p->items[i];

			it->producer = p->id;
			it->seq = i;
			wfcq_node_init(&it->wnode);
			wfcq_enqueue(&r->head, &r->tail, &it->wnode);
		}
	} else {
		for (i = 0; i < r->nodes; i++) {
			struct item *it = &p->items[i];

			it->producer = p->id;
			it->seq = i;
			pthread_spin_lock(&r->lock);
			l_add_tail(&it->lnode, &r->lhead);
			pthread_spin_unlock(&r->lock);
		}
	}
	p->t_end = now();
	__atomic_fetch_add(&r->producers_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void check_item(struct run *r, struct item *it)
{
	struct producer *p;

	r->seen++;
	if (it->producer >= r->nr_producers) {
		if (!r->errors++)
			fprintf(stderr, "%s: bad producer %u\n",
				impl_name[r->impl], it->producer);
		return;
	}
	p = &r->producers[it->producer];
	if (it->seq >= r->nodes || it != &p->items[it->seq] ||
	    it->seq != r->expect[it->producer]) {
		if (!r->errors++)
			fprintf(stderr,
				"%s: producer %u: got seq %u, expected %u\n",
				impl_name[r->impl], it->producer, it->seq,
				r->expect[it->producer]);
	}
	r->expect[it->producer] = it->seq + 1;
}

static void check_same(struct run *r, const void *peeked, const void *got)
{
	if (peeked != got && !r->errors++)
		fprintf(stderr, "%s: iteration saw %p, dequeue returned %p\n",
			impl_name[r->impl], peeked, got);
}

#define ITEM_W(n)	container_of(n, struct item, wnode)
#define ITEM_L(n)	container_of(n, struct item, lnode)
#define BATCH		64
#define PEEK		8

static void consume_wfcq(struct run *r, enum op op)
{
	struct wfcq_node *node, *peek[PEEK];
	struct wfcq_head *head = &r->head;
	struct wfcq_tail *tail = &r->tail;
	unsigned int i, k;

	/* Nodes in the private queue come first. */
	if (!wfcq_empty(&r->ph, &r->pt)) {
		head = &r->ph;
		tail = &r->pt;
	}
	switch (op) {
	case OP_DEQ:
		for (i = 0; i < BATCH; i++) {
			node = __wfcq_dequeue(head, tail);
			if (!node)
				break;
			check_item(r, ITEM_W(node));
		}
		break;
	case OP_SPLICE:
		if (head == &r->ph && !wfcq_empty(&r->head, &r->tail))
			r->splice_nonempty++;
		__wfcq_splice(&r->ph, &r->pt, &r->head, &r->tail);
		break;
	case OP_PEEK:
		k = 0;
		__wfcq_for_each(head, tail, node) {
			peek[k++] = node;
			if (k == PEEK)
				break;
		}
		for (i = 0; i < k; i++) {
			node = __wfcq_dequeue(head, tail);
			check_same(r, peek[i], node);
			if (!node)
				break;
			check_item(r, ITEM_W(node));
		}
		break;
	default:
		break;
	}
}

static void consume_list(struct run *r, enum op op)
{
	struct lnode priv, *ln, *peek[PEEK];
	unsigned int i, k;

	switch (op) {
	case OP_DEQ:
		for (i = 0; i < BATCH; i++) {
			pthread_spin_lock(&r->lock);
			ln = l_empty(&r->lhead) ? NULL : r->lhead.next;
			if (ln)
				l_del(ln);
			pthread_spin_unlock(&r->lock);
			if (!ln)
				break;
			check_item(r, ITEM_L(ln));
		}
		break;
	case OP_SPLICE:
		l_init(&priv);
		pthread_spin_lock(&r->lock);
		l_splice_tail_init(&r->lhead, &priv);
		pthread_spin_unlock(&r->lock);
		for (ln = priv.next; ln != &priv; ln = ln->next)
			check_item(r, ITEM_L(ln));
		break;
	case OP_PEEK:
		k = 0;
		pthread_spin_lock(&r->lock);
		for (ln = r->lhead.next; ln != &r->lhead && k < PEEK;
		     ln = ln->next)
			peek[k++] = ln;
		pthread_spin_unlock(&r->lock);
		for (i = 0; i < k; i++) {
			pthread_spin_lock(&r->lock);
			ln = l_empty(&r->lhead) ? NULL : r->lhead.next;
			if (ln)
				l_del(ln);
			pthread_spin_unlock(&r->lock);
			check_same(r, peek[i], ln);
			if (!ln)
				break;
			check_item(r, ITEM_L(ln));
		}
		break;
	default:
		break;
	}
}

static void *consumer_fn(void *arg)
{
	struct run *r = arg;
	unsigned long total = (unsigned long)r->nr_producers * r->nodes;
	uint64_t rng = r->seed;
	double last = 0;

	__atomic_fetch_add(&r->ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&r->go, __ATOMIC_ACQUIRE))
		cpu_relax();

	while (r->seen < total && !r->errors) {
		unsigned long before = r->seen;
		/* Mostly dequeues: a splice takes the whole queue. */
		static const unsigned char mix[16] = {
			OP_DEQ, OP_DEQ, OP_DEQ, OP_DEQ, OP_DEQ, OP_DEQ, OP_DEQ,
			OP_DEQ, OP_DEQ, OP_DEQ, OP_PEEK, OP_PEEK, OP_PEEK,
			OP_SPLICE, OP_SPLICE, OP_SPLICE,
		};
		enum op op = mix[rnd(&rng) % 16];

		r->ops[op]++;
		if (r->impl == IMPL_WFCQ)
			consume_wfcq(r, op);
		else
			consume_list(r, op);
		if (r->seen != before) {
			last = 0;
			continue;
		}
		if (__atomic_load_n(&r->producers_done, __ATOMIC_ACQUIRE) ==
		    (int)r->nr_producers) {
			if (!last) {
				last = now();
			} else if (now() - last > STALL_SECONDS) {
				fprintf(stderr,
					"%s: stalled at %lu of %lu nodes\n",
					impl_name[r->impl], r->seen, total);
				r->errors++;
				break;
			}
		}
		sched_yield();
	}
	r->t_drained = now();
	return NULL;
}

/* Run once; return enqueues per second, or a negative value on failure. */
static double run_once(struct run *r, enum impl impl, unsigned int nr,
		       unsigned int nodes, uint64_t seed, bool verbose)
{
	struct producer *p;
	pthread_t consumer;
	double t_end = 0, rate;
	unsigned int i;
	bool ok;

	r->impl = impl;
	r->nr_producers = nr;
	r->nodes = nodes;
	r->seed = seed;
	r->seen = 0;
	r->errors = 0;
	r->splice_nonempty = 0;
	memset(r->ops, 0, sizeof(r->ops));
	memset(r->expect, 0, sizeof(r->expect));
	__atomic_store_n(&r->go, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r->ready, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r->producers_done, 0, __ATOMIC_RELAXED);
	wfcq_init(&r->head, &r->tail);
	wfcq_init(&r->ph, &r->pt);
	l_init(&r->lhead);

	for (i = 0; i < nr; i++) {
		p = &r->producers[i];
		p->run = r;
		p->id = i;
		memset(p->items, 0, sizeof(*p->items) * nodes);
		if (pthread_create(&p->thread, NULL, producer_fn, p)) {
			perror("pthread_create");
			exit(2);
		}
	}
	if (pthread_create(&consumer, NULL, consumer_fn, r)) {
		perror("pthread_create");
		exit(2);
	}

	/* Start everyone at once, so that the producers really overlap. */
	while (__atomic_load_n(&r->ready, __ATOMIC_ACQUIRE) != (int)nr + 1)
		sched_yield();
	r->t_start = now();
	__atomic_store_n(&r->go, 1, __ATOMIC_RELEASE);

	for (i = 0; i < nr; i++) {
		pthread_join(r->producers[i].thread, NULL);
		if (r->producers[i].t_end > t_end)
			t_end = r->producers[i].t_end;
	}
	pthread_join(consumer, NULL);

	ok = !r->errors && r->seen == (unsigned long)nr * nodes;
	for (i = 0; i < nr; i++)
		ok = ok && r->expect[i] == nodes;
	if (impl == IMPL_WFCQ)
		ok = ok && wfcq_empty(&r->head, &r->tail) &&
		     wfcq_empty(&r->ph, &r->pt);
	else
		ok = ok && l_empty(&r->lhead);

	rate = (double)nr * nodes / (t_end - r->t_start);
	if (verbose)
		printf("%-13s P=%u N=%u: %6.2f M enq/s, producers %.3f s, drained %.3f s, ops deq %lu peek %lu splice %lu (into non-empty %lu): %s\n",
		       impl_name[impl], nr, nodes, rate / 1e6,
		       t_end - r->t_start, r->t_drained - r->t_start,
		       r->ops[OP_DEQ], r->ops[OP_PEEK], r->ops[OP_SPLICE],
		       r->splice_nonempty, ok ? "ok" : "FAILED");
	return ok ? rate : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-p P[,P...]] [-n NODES] [-r REPS] [-s SEED] [--baseline] [-q]\n"
		"  -p   producer thread counts (default 2; 1,2 with --baseline)\n"
		"  -n   nodes per producer (default 1000000)\n"
		"  -r   repetitions (default 1; 3 with --baseline)\n"
		"  -s   seed of the consumer's operation mix (default 1)\n"
		"  --baseline  also run the spinlock-protected list, alternating\n"
		"  -q   print only the summary\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "baseline", no_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int plist[MAX_PRODUCERS], np = 0, nodes = 1000000, reps = 0;
	unsigned int i, j, rep, nimpl, maxp = 0;
	uint64_t seed = 1;
	bool baseline = false, verbose = true, failed = false;
	const char *pspec = NULL;
	double *rates;
	struct run *r;
	int c;

	while ((c = getopt_long(argc, argv, "p:n:r:s:qh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'p':
			pspec = optarg;
			break;
		case 'n':
			nodes = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			reps = strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'b':
			baseline = true;
			break;
		case 'q':
			verbose = false;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (!pspec)
		pspec = baseline ? "1,2" : "2";
	for (const char *s = pspec; *s && np < MAX_PRODUCERS;) {
		char *end;
		unsigned long v = strtoul(s, &end, 0);

		if (end == s || !v || v > MAX_PRODUCERS)
			usage(argv[0]);
		plist[np++] = v;
		if (v > maxp)
			maxp = v;
		s = *end == ',' ? end + 1 : end;
	}
	if (!reps)
		reps = baseline ? 3 : 1;
	if (!nodes || !seed)
		usage(argv[0]);
	nimpl = baseline ? 2 : 1;

	r = aligned_alloc(CACHELINE, (sizeof(*r) + CACHELINE - 1) &
				     ~(size_t)(CACHELINE - 1));
	rates = calloc((size_t)np * nimpl * reps, sizeof(*rates));
	if (!r || !rates) {
		perror("malloc");
		return 2;
	}
	memset(r, 0, sizeof(*r));
	pthread_spin_init(&r->lock, PTHREAD_PROCESS_PRIVATE);
	for (i = 0; i < maxp; i++) {
		r->producers[i].items = calloc(nodes, sizeof(struct item));
		if (!r->producers[i].items) {
			perror("calloc");
			return 2;
		}
	}

	/* Alternate implementations so that both see the same conditions. */
	for (rep = 0; rep < reps; rep++)
		for (i = 0; i < np; i++)
			for (j = 0; j < nimpl; j++) {
				double v = run_once(r, j, plist[i], nodes,
						    seed + rep, verbose);

				if (v < 0)
					failed = true;
				rates[(i * nimpl + j) * reps + rep] = v;
			}

	printf("summary: enqueues/s over %u run(s), N=%u per producer\n",
	       reps, nodes);
	for (i = 0; i < np; i++)
		for (j = 0; j < nimpl; j++) {
			double *v = &rates[(i * nimpl + j) * reps];

			qsort(v, reps, sizeof(*v), cmp_double);
			printf("  %-13s P=%u: median %7.2f M/s  min %7.2f  max %7.2f\n",
			       impl_name[j], plist[i], v[reps / 2] / 1e6,
			       v[0] / 1e6, v[reps - 1] / 1e6);
		}
	if (failed)
		printf("stress: FAILED\n");
	if (wfcq_shim_warnings) {
		printf("stress: %lu debug warning(s)\n", wfcq_shim_warnings);
		failed = true;
	}
	return failed ? 1 : 0;
}
