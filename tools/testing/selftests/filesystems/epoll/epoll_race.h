/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the epoll race selftests.
 *
 * Every test runs in its own process (kselftest_harness forks one per
 * test), so the globals below start fresh for each test.
 *
 * Tuning, from the environment:
 *
 *   EPOLL_RACE_ITERS  base iteration count (default RACE_ITERS_DEFAULT);
 *                     each test derives its loop counts from it and says
 *                     how.  Larger values find rarer interleavings.
 *   EPOLL_RACE_SECS   cap, in seconds, on the busy phase of each test
 *                     (default RACE_SECS_DEFAULT).  On slow machines
 *                     (QEMU TCG) the cap ends the busy phase before the
 *                     iterations are done; every check still runs on
 *                     what was done.
 *
 *   EPOLL_RACE_WAIT_MS  timeout, in milliseconds, of a wait for an event
 *                     that must come (default RACE_WAIT_MS_DEFAULT, at most
 *                     RACE_WAIT_MS_MAX).
 *
 * A lost event never makes a test hang: every wait has a timeout of
 * RACE_WAIT_MS, and a test fails only when a wait ran into that timeout
 * with the event pending, or the event never came.  Lateness is no
 * failure (under QEMU TCG on a loaded host a vCPU can stall for a second
 * or more): the tests measure it and print it, see race_lat_print().
 */
#ifndef EPOLL_RACE_H
#define EPOLL_RACE_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "../../kselftest.h"

#define RACE_ITERS_DEFAULT	1000
#define RACE_SECS_DEFAULT	4
/* How long a wait for an event that must come lasts before it is lost. */
#define RACE_WAIT_MS_DEFAULT	3000
#define RACE_WAIT_MS_MAX	20000
#define RACE_WAIT_MS		race_wait_ms()
/* A helper thread or child process must have started by then. */
#define RACE_START_MS		60000
/* Harness timeout of one test: busy phase + drain + slack for TCG. */
#define RACE_TIMEOUT		60

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

static inline unsigned long race_env(const char *name, unsigned long dflt,
				     unsigned long max)
{
	const char *s = getenv(name);
	unsigned long v;
	char *end;

	if (!s || !*s)
		return dflt;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || !v)
		return dflt;
	return v > max ? max : v;
}

/* Base iteration count, at least 1. */
static inline unsigned long race_iters(void)
{
	return race_env("EPOLL_RACE_ITERS", RACE_ITERS_DEFAULT, 1UL << 30);
}

/* The timeout of a wait for an event that must come, in milliseconds. */
static inline int race_wait_ms(void)
{
	static int ms;

	if (!ms)
		ms = race_env("EPOLL_RACE_WAIT_MS", RACE_WAIT_MS_DEFAULT,
			      RACE_WAIT_MS_MAX);
	return ms;
}

static inline uint64_t race_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline uint64_t race_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The end of the busy phase of a test that starts now. */
static inline uint64_t race_deadline(void)
{
	return race_now_ms() +
	       race_env("EPOLL_RACE_SECS", RACE_SECS_DEFAULT, 3600) * 1000;
}

/*
 * Latencies of the waits of a test, in microseconds, for the line that
 * race_lat_print() prints at its end: lateness is reported, not failed.
 */
struct race_lat {
	unsigned long n;
	uint64_t max_us;
	unsigned long bits[65];	/* samples by bit length of the latency */
};

static inline void race_lat_add(struct race_lat *l, uint64_t us)
{
	l->n++;
	if (us > l->max_us)
		l->max_us = us;
	l->bits[us ? 64 - __builtin_clzll(us) : 0]++;
}

/* Count, median (rounded up to a power of two) and maximum. */
static inline void race_lat_print(const char *what, const struct race_lat *l)
{
	unsigned long seen = 0;
	int b;

	for (b = 0; b < 64; b++) {
		seen += l->bits[b];
		if (2 * seen >= l->n)
			break;
	}
	ksft_print_msg("%s: %lu waits, median < %llu us, max %llu us\n", what,
		       l->n, 1ULL << b, (unsigned long long)l->max_us);
}

/*
 * First failure seen by any thread of the test.  Helper threads must not
 * use the harness's ASSERT_*(): they record the failure here, every
 * thread stops soon after, and the test's main thread asserts on it once
 * the threads are joined.
 */
static int race_failed;
static char race_msg[512];

static inline __printf(1, 2) void race_fail(const char *fmt, ...)
{
	va_list ap;

	if (__atomic_exchange_n(&race_failed, 1, __ATOMIC_ACQ_REL))
		return;
	va_start(ap, fmt);
	vsnprintf(race_msg, sizeof(race_msg), fmt, ap);
	va_end(ap);
}

static inline bool race_stopped(void)
{
	return __atomic_load_n(&race_failed, __ATOMIC_ACQUIRE);
}

/* xorshift32: cheap per-thread randomness; the state must not be 0. */
static inline uint32_t race_rand(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

static inline uint32_t race_seed(unsigned int salt)
{
	return ((uint32_t)getpid() * 2654435761u) ^ (salt * 40503u) ^ 1u;
}

/* A compiler barrier: keeps busy-wait loops from being optimised out. */
static inline void race_relax(void)
{
	__asm__ __volatile__("" ::: "memory");
}

/*
 * Busy-wait @n units of a few nanoseconds each (on a 2-4 GHz host), to
 * move a write around inside another thread's syscall.
 */
static inline void race_spin(unsigned int n)
{
	for (n *= 8; n; n--)
		race_relax();
}

/* Threads of a test: each gets the test's context and its index. */
struct race_thread {
	pthread_t tid;
	void *ctx;
	int id;
};

static inline int start_threads(struct race_thread *t, int n, void *ctx,
				void *(*fn)(void *))
{
	int i, ret;

	for (i = 0; i < n; i++) {
		t[i].ctx = ctx;
		t[i].id = i;
		ret = pthread_create(&t[i].tid, NULL, fn, &t[i]);
		if (ret) {
			race_fail("pthread_create: %s", strerror(ret));
			return i;
		}
	}
	return n;
}

static inline void join_threads(struct race_thread *t, int n)
{
	while (n--)
		pthread_join(t[n].tid, NULL);
}

/* Read an int flag that another thread changes. */
static inline int load_int(const int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

#define RACE_NO_DEADLINE	UINT64_MAX

/*
 * Wait until *flag == want, spinning a little and then yielding, since
 * there are often more threads than CPUs.  Gives up at @deadline_ms;
 * RACE_NO_DEADLINE waits for a slow thread as long as the test runs.
 */
static inline bool race_wait_eq(const int *flag, int want, uint64_t deadline_ms)
{
	unsigned int i;

	for (i = 0; ; i++) {
		if (__atomic_load_n(flag, __ATOMIC_ACQUIRE) == want)
			return true;
		if (i < 64) {
			race_relax();
			continue;
		}
		if (race_stopped() || race_now_ms() > deadline_ms)
			return false;
		sched_yield();
	}
}

/*
 * Split the CPUs the caller may run on: the last one into @one, the
 * others into @rest, and move the caller onto @rest, so that it keeps
 * running while a SCHED_FIFO hog holds @one.  Returns 0; 1 with fewer
 * than two CPUs (@rest then holds the one CPU and nothing is moved); or
 * -1 with errno set.
 */
static inline int race_split_cpus(cpu_set_t *one, cpu_set_t *rest)
{
	int cpu = CPU_SETSIZE - 1;

	CPU_ZERO(one);
	if (sched_getaffinity(0, sizeof(*rest), rest))
		return -1;
	if (CPU_COUNT(rest) < 2)
		return 1;
	while (!CPU_ISSET(cpu, rest))
		cpu--;
	CPU_SET(cpu, one);
	CPU_CLR(cpu, rest);
	return sched_setaffinity(0, sizeof(*rest), rest) ? -1 : 0;
}

/* What a hog started with race_hog() says of itself. */
enum { RACE_HOG_STARTING, RACE_HOG_ON, RACE_HOG_REFUSED };

/*
 * Be a SCHED_FIFO hog on @cpu (NULL: where the caller runs) until *stop
 * is set, the test fails or @end_ms passes: spin all along or, with
 * @nap, spin up to a few hundred microseconds and sleep up to 255 us in
 * turns, so that the threads it preempts run a little now and then.
 * Sets *state to RACE_HOG_ON, or RACE_HOG_REFUSED when the CPU or the
 * policy is refused; either way it returns, so a forked hog can _exit().
 */
static inline void race_hog(int *state, const int *stop, const cpu_set_t *cpu,
			    uint64_t end_ms, bool nap)
{
	struct sched_param sp = { .sched_priority = 1 };
	uint32_t rnd = race_seed(53);

	if ((cpu && sched_setaffinity(0, sizeof(*cpu), cpu)) ||
	    sched_setscheduler(0, SCHED_FIFO, &sp)) {
		__atomic_store_n(state, RACE_HOG_REFUSED, __ATOMIC_RELEASE);
		return;
	}
	__atomic_store_n(state, RACE_HOG_ON, __ATOMIC_RELEASE);
	while (!__atomic_load_n(stop, __ATOMIC_ACQUIRE) && !race_stopped() &&
	       race_now_ms() < end_ms) {
		uint32_t r = race_rand(&rnd);

		if (!nap)
			continue;
		race_spin((r >> 8) % 16384);
		usleep(r % 256);
	}
}

/* Wait up to @ms for race_hog() to set *state; returns what it set. */
static inline int race_hog_wait(const int *state, unsigned int ms)
{
	uint64_t end = race_now_ms() + ms;
	int s;

	for (;;) {
		s = __atomic_load_n(state, __ATOMIC_ACQUIRE);
		if (s != RACE_HOG_STARTING || race_now_ms() >= end)
			return s;
		usleep(100);
	}
}

/*
 * An event source: an eventfd (counts are eventfd values) or a pipe
 * (counts are bytes).  Both ends are non-blocking.  Writes to either
 * wake their waiters on every write, which the edge-triggered tests
 * rely on only through the data they account for.
 */
struct race_src {
	int rfd;
	int wfd;
	bool pipe;
};

static inline int race_src_open(struct race_src *s, bool pipe, bool semaphore)
{
	int p[2];

	s->pipe = pipe;
	if (pipe) {
		if (pipe2(p, O_NONBLOCK | O_CLOEXEC))
			return -1;
		s->rfd = p[0];
		s->wfd = p[1];
		return 0;
	}
	s->rfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC |
			    (semaphore ? EFD_SEMAPHORE : 0));
	s->wfd = s->rfd;
	return s->rfd < 0 ? -1 : 0;
}

static inline void race_src_close(struct race_src *s)
{
	close(s->rfd);
	if (s->wfd != s->rfd)
		close(s->wfd);
	s->rfd = -1;
	s->wfd = -1;
}

/*
 * Write @n units (1 <= n <= 64): adds @n to an eventfd, or writes @n
 * bytes to a pipe.  Returns the number of units written: 0 when a pipe
 * is full, -1 on an unexpected error (recorded with race_fail()).
 */
static inline long race_src_write(struct race_src *s, unsigned int n)
{
	static const char buf[64];
	uint64_t v = n;
	ssize_t ret;

	if (s->pipe)
		ret = write(s->wfd, buf, n);
	else
		ret = write(s->wfd, &v, sizeof(v));
	if (ret < 0) {
		if (errno == EAGAIN)
			return 0;
		race_fail("write(fd %d): %s", s->wfd, strerror(errno));
		return -1;
	}
	return s->pipe ? ret : (long)n;
}

/*
 * Read until EAGAIN and return the number of units read, or -1 on an
 * unexpected error (recorded with race_fail()).  A semaphore eventfd
 * gives one unit per read.
 */
static inline long race_src_drain(struct race_src *s)
{
	char buf[256];
	long total = 0;
	uint64_t v;
	ssize_t ret;

	for (;;) {
		if (s->pipe) {
			ret = read(s->rfd, buf, sizeof(buf));
			if (ret > 0)
				total += ret;
		} else {
			ret = read(s->rfd, &v, sizeof(v));
			if (ret == sizeof(v))
				total += v;
		}
		if (ret > 0)
			continue;
		if (ret < 0 && errno == EAGAIN)
			return total;
		race_fail("read(fd %d) = %zd: %s", s->rfd, ret,
			  ret ? strerror(errno) : "EOF");
		return -1;
	}
}

static inline int race_epoll_add(int epfd, int fd, uint32_t events,
				 uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static inline int race_epoll_mod(int epfd, int fd, uint32_t events,
				 uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

/*
 * Whether the task whose stat file is @path (/proc/PID/stat or
 * /proc/self/task/TID/stat) sleeps interruptibly: state "S".
 */
static inline bool race_stat_sleeping(const char *path)
{
	char buf[512], *p;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'S';
}

#endif /* EPOLL_RACE_H */
