// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-epoll: random sequences of epoll_create1, epoll_ctl, epoll_wait,
 * epoll_pwait, epoll_pwait2, eventfd, pipe2, read, write, close and dup
 * from several threads sharing one fd table, so that close() and
 * EPOLL_CTL_DEL race with callbacks, nested epoll and waiters on other
 * CPUs. It checks nothing itself: the kernel's sanitizers do, and the
 * harness scans the console. Prints TAP with the number of calls made.
 *
 * usage: fuzz-epoll [SECONDS [THREADS [SEED]]]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#define SLOTS 48	/* fds in play per pool, shared by every thread */
enum pool { EP, FD };	/* epoll fds; eventfds and pipe ends */

enum op { OP_CREATE, OP_CTL, OP_WAIT, OP_PWAIT, OP_PWAIT2, OP_EVENTFD,
	  OP_PIPE2, OP_READ, OP_WRITE, OP_CLOSE, OP_DUP, NOPS };
static const char *const op_name[NOPS] = {
	"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"epoll_pwait2", "eventfd", "pipe2", "read", "write", "close", "dup",
};

static int slot[2][SLOTS];		/* fd, or -1 */
static unsigned long calls[NOPS], ok[NOPS];
static int stop;
static void *bad;			/* a PROT_NONE page: EFAULT paths */

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* An fd from pool p, mostly; now and then from the other one. */
static int pick(uint64_t *s, enum pool p)
{
	if (rnd(s) % 10 == 0)
		p = !p;
	return __atomic_load_n(&slot[p][rnd(s) % SLOTS], __ATOMIC_RELAXED);
}

/*
 * Keep a new fd in pool p, in place of a random one, which is closed: its
 * number gets reused while other threads may still use it, as in a buggy
 * program. Nothing leaks, so the fd limit is never reached.
 */
static void keep(uint64_t *s, enum pool p, int fd)
{
	int old;

	if (fd < 3)
		return;
	old = __atomic_exchange_n(&slot[p][rnd(s) % SLOTS], fd, __ATOMIC_RELAXED);
	if (old >= 3)
		close(old);
}

/* An event mask: mostly valid, with the flags in realistic proportions. */
static uint32_t events(uint64_t *s)
{
	static const struct { uint32_t bit, one_in; } bits[] = {
		{ EPOLLIN, 1 }, { EPOLLOUT, 3 }, { EPOLLET, 2 },
		{ EPOLLONESHOT, 4 }, { EPOLLWAKEUP, 4 }, { EPOLLEXCLUSIVE, 12 },
		{ EPOLLPRI, 8 }, { EPOLLRDHUP, 8 }, { EPOLLERR, 8 },
		{ EPOLLHUP, 8 }, { EPOLLRDNORM, 8 }, { EPOLLWRNORM, 8 },
	};
	uint32_t e = 0;
	unsigned int i;

	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (rnd(s) % (bits[i].one_in + 1) == 0)
			e |= bits[i].bit;
	if (rnd(s) % 50 == 0)
		e = (uint32_t)rnd(s);	/* unknown bits too */
	return e;
}

/* A buffer for events: usually good, sometimes NULL or unmapped. */
static struct epoll_event *evbuf(uint64_t *s, struct epoll_event *ev)
{
	switch (rnd(s) % 40) {
	case 0:
		return NULL;
	case 1:
		return bad;
	default:
		return ev;
	}
}

static void one(uint64_t *s)
{
	struct epoll_event ev[64], e;
	struct timespec ts;
	sigset_t mask;
	char buf[64];
	int fds[2], r = -1, n;
	enum op op = rnd(s) % NOPS;

	n = 1 + rnd(s) % 64;
	if (rnd(s) % 30 == 0)
		n = (int)rnd(s);	/* bad maxevents */
	switch (op) {
	case OP_CREATE:
		r = epoll_create1(rnd(s) % 4 ? EPOLL_CLOEXEC : 0);
		keep(s, EP, r);
		break;
	case OP_CTL: {
		/* the other pool now and then: nested epoll, loops, EINVAL */
		int epfd = pick(s, EP), fd = pick(s, FD);
		/* ADD half the time, so that most pools have interest lists */
		int how = rnd(s) % 2 ? EPOLL_CTL_ADD : 2 + rnd(s) % 2;

		if (rnd(s) % 20 == 0)
			how = (int)(rnd(s) % 8);
		e.events = events(s);
		e.data.u64 = rnd(s);
		r = epoll_ctl(epfd, how, fd, rnd(s) % 40 ? &e : bad);
		break;
	}
	case OP_WAIT:
		r = epoll_wait(pick(s, EP), evbuf(s, ev), n, rnd(s) % 3);
		break;
	case OP_PWAIT:
		sigemptyset(&mask);
		sigaddset(&mask, SIGUSR1);
		r = epoll_pwait(pick(s, EP), evbuf(s, ev), n, rnd(s) % 3,
				rnd(s) % 2 ? &mask : NULL);
		break;
	case OP_PWAIT2:
		sigemptyset(&mask);
		sigaddset(&mask, SIGUSR1);
		ts.tv_sec = 0;
		ts.tv_nsec = rnd(s) % 2000000;
		if (rnd(s) % 30 == 0)
			ts.tv_nsec = -1;	/* EINVAL */
		/* never NULL: nothing would end an unbounded wait */
		r = syscall(SYS_epoll_pwait2, pick(s, EP), evbuf(s, ev), n, &ts,
			    rnd(s) % 2 ? &mask : NULL, 8);
		if (r < 0 && errno == ENOSYS)
			r = -1;
		break;
	case OP_EVENTFD:
		r = eventfd(rnd(s) % 3, EFD_NONBLOCK | EFD_CLOEXEC |
			    (rnd(s) % 4 ? 0 : EFD_SEMAPHORE));
		keep(s, FD, r);
		break;
	case OP_PIPE2:
		r = pipe2(fds, O_NONBLOCK | O_CLOEXEC);
		if (!r) {
			keep(s, FD, fds[0]);
			keep(s, FD, fds[1]);
		}
		break;
	case OP_READ:
		r = read(pick(s, FD), buf, 8 + rnd(s) % 56);
		break;
	case OP_WRITE: {
		uint64_t v = 1 + rnd(s) % 3;

		memcpy(buf, &v, sizeof(v));
		r = write(pick(s, FD), buf, rnd(s) % 4 ? 8 : 1 + rnd(s) % 63);
		break;
	}
	case OP_CLOSE: {
		int *p = &slot[rnd(s) % 2][rnd(s) % SLOTS];
		int fd = __atomic_exchange_n(p, -1, __ATOMIC_RELAXED);

		if (fd >= 3)
			r = close(fd);
		break;
	}
	case OP_DUP: {
		enum pool p = rnd(s) % 2;
		int fd = __atomic_load_n(&slot[p][rnd(s) % SLOTS], __ATOMIC_RELAXED);

		if (fd >= 3) {
			r = dup(fd);
			keep(s, p, r);
		}
		break;
	}
	default:
		break;
	}
	__atomic_fetch_add(&calls[op], 1, __ATOMIC_RELAXED);
	if (r >= 0)
		__atomic_fetch_add(&ok[op], 1, __ATOMIC_RELAXED);
}

static void *worker(void *arg)
{
	uint64_t s = (uintptr_t)arg;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		one(&s);
	return NULL;
}

int main(int argc, char **argv)
{
	int secs = argc > 1 ? atoi(argv[1]) : 60;
	int nthreads = argc > 2 ? atoi(argv[2]) : 4;
	uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 0) : (uint64_t)time(NULL);
	pthread_t th[64];
	unsigned long total = 0;
	int i;

	if (nthreads < 1 || nthreads > 64 || secs < 1) {
		fprintf(stderr, "usage: %s [SECONDS [THREADS(1-64) [SEED]]]\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bad == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (i = 0; i < SLOTS; i++)
		slot[EP][i] = slot[FD][i] = -1;
	printf("1..1\n# fuzz-epoll: %d threads, %d s, seed %llu\n", nthreads,
	       secs, (unsigned long long)seed);
	fflush(stdout);
	for (i = 0; i < nthreads; i++) {
		/* a distinct, non-zero xorshift state per thread */
		uintptr_t s = (uintptr_t)(seed * 2654435761u + i + 1);

		if (pthread_create(&th[i], NULL, worker, (void *)s)) {
			perror("pthread_create");
			return 1;
		}
	}
	sleep(secs);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < NOPS; i++) {
		printf("# %-14s %10lu calls %10lu succeeded\n", op_name[i],
		       calls[i], ok[i]);
		total += calls[i];
	}
	for (i = 0; i < SLOTS; i++) {
		if (slot[EP][i] >= 3)
			close(slot[EP][i]);
		if (slot[FD][i] >= 3)
			close(slot[FD][i]);
	}
	if (total)
		printf("ok 1 fuzz-epoll made %lu calls\n", total);
	else
		printf("not ok 1 fuzz-epoll made no calls\n");
	return total ? 0 : 1;
}
