// SPDX-License-Identifier: GPL-2.0
/*
 * epoll-bench: the epoll-wfcq benchmarks, run inside the test guest.
 *
 *   epoll-bench [contended|contended_hog|oneshot|latency|tcp_latency|
 *                ctl|lt|harvest|lt_cycle|remove]...
 *
 * With no argument it runs the benchmarks named in EPB_ONLY (comma
 * separated), or all of them. Parameters come from the environment (the
 * guest's init gets them from the kernel command line):
 *
 *   EPB_MS=1000        length of one measurement, in milliseconds
 *   EPB_P=1,2,4,8,16   producer counts of "contended"
 *   EPB_HOG_P=8,16     producer counts of "contended_hog"
 *   EPB_HOG_SLICES=5   measurements of EPB_MS per "contended_hog" point
 *   EPB_OS=4,4,64      "oneshot": waiters, writers, file descriptors
 *   EPB_CTL_FDS=1000   file descriptors per ADD/MOD/DEL round of "ctl"
 *   EPB_LT=1024        ready file descriptors of "lt"
 *   EPB_LT_M=1,64,1024 maxevents of each epoll_wait() of "lt"
 *   EPB_HV=1,64,200,1024  ready pipes, then eventfds, of "harvest"
 *   EPB_LTC=256        file descriptors of "lt_cycle"
 *   EPB_RM=1000,10000,100000  ready items removed by each "remove" point
 *
 * Each result is one line, "BENCH name PARAM=v... metric=value...":
 * upper-case keys identify the point, lower-case keys are measurements.
 * Lines starting with '#' are for people.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define MAX_LIST	16
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define __aligned(n)	__attribute__((aligned(n)))

static long point_ms = 1000;
static atomic_int stop;
static int failed;	/* set by a benchmark that could not run */

static void die(const char *what)
{
	fprintf(stderr, "epoll-bench: %s: %s\n", what, strerror(errno));
	printf("BENCH error what=%s\n", what);
	exit(1);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static long env_long(const char *name, long def)
{
	const char *s = getenv(name);

	return s && *s ? strtol(s, NULL, 0) : def;
}

/* Parse "a,b,c" from the environment into v[]; return the count. */
static int env_list(const char *name, const char *def, long *v)
{
	const char *s = getenv(name);
	char *end;
	int n = 0;

	if (!s || !*s)
		s = def;
	while (*s && n < MAX_LIST) {
		v[n++] = strtol(s, &end, 0);
		if (end == s)
			break;
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

static int new_eventfd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	if (fd < 0)
		die("eventfd");
	return fd;
}

static void ctl(int ep, int op, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (epoll_ctl(ep, op, fd, &ev))
		die("epoll_ctl");
}

static void kick(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one) && errno != EAGAIN)
		die("write");
}

/* Returns the eventfd's counter, 0 if it was already drained. */
static uint64_t drain(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) == sizeof(v))
		return v;
	if (errno != EAGAIN)
		die("read");
	return 0;
}

/* @n readable eventfds, each added to @ep level-triggered for EPOLLIN. */
static int *ready_fds(int ep, int n)
{
	int *fd = calloc(n, sizeof(int));

	if (!fd)
		die("calloc");
	for (int i = 0; i < n; i++) {
		fd[i] = new_eventfd();
		kick(fd[i]);
		ctl(ep, EPOLL_CTL_ADD, fd[i], EPOLLIN);
	}
	return fd;
}

/*
 * @n pipes holding one byte each, their read ends added to @ep
 * level-triggered for EPOLLIN; 2 * @n fds, as pipe2() returns them.
 */
static int *ready_pipes(int ep, int n)
{
	int *fd = calloc(2 * n, sizeof(int));

	if (!fd)
		die("calloc");
	for (int i = 0; i < n; i++) {
		if (pipe2(&fd[2 * i], O_NONBLOCK | O_CLOEXEC))
			die("pipe2");
		if (write(fd[2 * i + 1], "x", 1) != 1)
			die("write");
		ctl(ep, EPOLL_CTL_ADD, fd[2 * i], EPOLLIN);
	}
	return fd;
}

/* Close what is left of @fd (entries already closed are -1), and @ep. */
static void close_fds(int ep, int *fd, int n)
{
	for (int i = 0; i < n; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	close(ep);
	free(fd);
}

static void start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	errno = pthread_create(t, NULL, fn, arg);
	if (errno)
		die("pthread_create");
}

/*
 * contended: P producers, each writing its own eventfd in a loop; all the
 * eventfds are in one epoll (edge-triggered) drained by one consumer.
 * Every write runs ep_poll_callback(), so writes/ms is the wakeup rate
 * the epoll sustains under contention: that is "events_per_ms".
 * "delivered_per_ms" counts the events epoll_wait() returned (several
 * writes to a queued item coalesce into one).
 *
 * contended_hog: the same with one busy-looping hog thread per online
 * CPU, so that there are more runnable threads than CPUs. Producers and
 * the consumer are then preempted at any point where preemption is
 * enabled, and a vCPU can be descheduled by the host even where it is
 * not: a wakeup path that makes others wait for a preempted thread
 * shows in the worst stretch of time, not in the average. Each point is
 * EPB_HOG_SLICES measurements of EPB_MS; "worst_slice_per_ms" is the
 * events/ms of the slowest of them, "events_per_ms" that of all.
 */
struct producer {
	int fd;
	atomic_ulong writes;	/* read by main() while it runs */
	pthread_barrier_t *go;
} __aligned(64);	/* producers do not share cache lines */

struct consumer {
	int ep;
	unsigned long delivered;
	pthread_barrier_t *go;
};

static void *producer_fn(void *arg)
{
	struct producer *p = arg;
	uint64_t one = 1;
	unsigned long n = 0;

	pthread_barrier_wait(p->go);
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		if (write(p->fd, &one, sizeof(one)) == sizeof(one))
			atomic_store_explicit(&p->writes, ++n, memory_order_relaxed);
	return NULL;
}

static void *consumer_fn(void *arg)
{
	struct consumer *c = arg;
	struct epoll_event ev[64];
	unsigned long n = 0;
	int i, got;

	pthread_barrier_wait(c->go);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		got = epoll_wait(c->ep, ev, 64, 100);
		if (got < 0 && errno != EINTR)
			die("epoll_wait");
		for (i = 0; i < got; i++)
			drain(ev[i].data.fd);
		if (got > 0)
			n += got;
	}
	c->delivered = n;
	return NULL;
}

/* Always runnable, never in the kernel: the load of stop keeps the loop. */
static void *hog_fn(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		;
	return NULL;
}

static unsigned long writes_of(struct producer *prod, int nprod)
{
	unsigned long writes = 0;

	for (int i = 0; i < nprod; i++)
		writes += atomic_load_explicit(&prod[i].writes, memory_order_relaxed);
	return writes;
}

static void contended_point(const char *row, int nprod, int nhog, int slices)
{
	int nt = nprod + 1 + nhog, ep = epoll_create1(EPOLL_CLOEXEC);
	struct producer *prod = calloc(nprod, sizeof(*prod));
	pthread_t *t = calloc(nt, sizeof(*t));
	struct consumer cons = { .ep = ep };
	pthread_barrier_t go;
	unsigned long writes, last = 0;
	double t0, t1, tn, ms, rate, worst = 0;

	if (ep < 0 || !prod || !t)
		die("setup");
	pthread_barrier_init(&go, NULL, nprod + 2);
	atomic_store(&stop, 0);
	cons.go = &go;
	for (int i = 0; i < nprod; i++) {
		prod[i].fd = new_eventfd();
		prod[i].go = &go;
		ctl(ep, EPOLL_CTL_ADD, prod[i].fd, EPOLLIN | EPOLLET);
		start_thread(&t[i], producer_fn, &prod[i]);
	}
	start_thread(&t[nprod], consumer_fn, &cons);
	for (int i = nprod + 1; i < nt; i++)
		start_thread(&t[i], hog_fn, NULL);
	pthread_barrier_wait(&go);
	t0 = t1 = now_ms();
	for (int k = 0; k < slices; k++) {
		sleep_ms(point_ms);
		writes = writes_of(prod, nprod);
		tn = now_ms();
		rate = (writes - last) / (tn - t1);
		if (!k || rate < worst)
			worst = rate;
		last = writes;
		t1 = tn;
	}
	atomic_store(&stop, 1);
	ms = now_ms() - t0;
	for (int i = 0; i < nt; i++)
		pthread_join(t[i], NULL);
	writes = writes_of(prod, nprod);
	printf("BENCH %s P=%d events_per_ms=%.1f delivered_per_ms=%.1f",
	       row, nprod, writes / ms, cons.delivered / ms);
	if (nhog) {
		printf(" worst_slice_per_ms=%.1f\n", worst);
		printf("# %s P=%d: %d hogs, %d slices of %ld ms\n",
		       row, nprod, nhog, slices, point_ms);
	} else {
		printf("\n");
	}
	for (int i = 0; i < nprod; i++)
		close(prod[i].fd);
	close(ep);
	pthread_barrier_destroy(&go);
	free(prod);
	free(t);
}

static void bench_contended(void)
{
	long pv[MAX_LIST];
	int np = env_list("EPB_P", "1,2,4,8,16", pv);

	for (int k = 0; k < np; k++)
		contended_point("contended", pv[k], 0, 1);
}

static void bench_contended_hog(void)
{
	long pv[MAX_LIST];
	int np = env_list("EPB_HOG_P", "8,16", pv);
	int slices = env_long("EPB_HOG_SLICES", 5);
	int nhog = sysconf(_SC_NPROCESSORS_ONLN);

	if (slices < 1)
		slices = 1;
	for (int k = 0; k < np; k++)
		contended_point("contended_hog", pv[k], nhog, slices);
}

/*
 * oneshot: W waiters share one epoll of F eventfds registered with
 * EPOLLONESHOT; each event is read and re-armed with EPOLL_CTL_MOD.
 * K writers write the eventfds round robin. events_per_ms counts the
 * events the waiters received.
 */
struct os_ctx {
	int ep, nfd, nwriters;
	int *fd;
	pthread_barrier_t go;
	atomic_ulong events, writes;
};

struct os_arg {
	struct os_ctx *c;
	int id;
};

static void *os_waiter(void *arg)
{
	struct os_ctx *c = ((struct os_arg *)arg)->c;
	struct epoll_event ev[16];
	unsigned long n = 0;
	int i, got;

	pthread_barrier_wait(&c->go);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		got = epoll_wait(c->ep, ev, 16, 100);
		if (got < 0 && errno != EINTR)
			die("epoll_wait");
		for (i = 0; i < got; i++) {
			drain(ev[i].data.fd);
			ctl(c->ep, EPOLL_CTL_MOD, ev[i].data.fd, EPOLLIN | EPOLLONESHOT);
		}
		if (got > 0)
			n += got;
	}
	atomic_fetch_add(&c->events, n);
	return NULL;
}

static void *os_writer(void *arg)
{
	struct os_arg *a = arg;
	struct os_ctx *c = a->c;
	unsigned long n = 0;
	int i = a->id;

	pthread_barrier_wait(&c->go);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		kick(c->fd[i]);
		n++;
		i += c->nwriters;
		if (i >= c->nfd)
			i = a->id;
	}
	atomic_fetch_add(&c->writes, n);
	return NULL;
}

static void bench_oneshot(void)
{
	long v[MAX_LIST] = { 4, 4, 64 };
	int nw, nk, nfd;
	struct os_ctx c = { 0 };
	struct os_arg *args;
	pthread_t *t;
	double t0, ms;

	env_list("EPB_OS", "4,4,64", v);
	nw = v[0], nk = v[1], nfd = v[2];
	if (nfd < nk)
		nfd = nk;
	c.ep = epoll_create1(EPOLL_CLOEXEC);
	c.nfd = nfd;
	c.nwriters = nk;
	c.fd = calloc(nfd, sizeof(int));
	t = calloc(nw + nk, sizeof(*t));
	args = calloc(nw + nk, sizeof(*args));
	if (c.ep < 0 || !c.fd || !t || !args)
		die("setup");
	for (int i = 0; i < nfd; i++) {
		c.fd[i] = new_eventfd();
		ctl(c.ep, EPOLL_CTL_ADD, c.fd[i], EPOLLIN | EPOLLONESHOT);
	}
	pthread_barrier_init(&c.go, NULL, nw + nk + 1);
	atomic_store(&stop, 0);
	for (int i = 0; i < nw + nk; i++) {
		args[i].c = &c;
		args[i].id = i < nw ? i : i - nw;
		start_thread(&t[i], i < nw ? os_waiter : os_writer, &args[i]);
	}
	pthread_barrier_wait(&c.go);
	t0 = now_ms();
	sleep_ms(point_ms);
	atomic_store(&stop, 1);
	ms = now_ms() - t0;
	for (int i = 0; i < nw + nk; i++)
		pthread_join(t[i], NULL);
	printf("BENCH oneshot W=%d K=%d F=%d events_per_ms=%.1f writes_per_ms=%.1f\n",
	       nw, nk, nfd, atomic_load(&c.events) / ms, atomic_load(&c.writes) / ms);
	for (int i = 0; i < nfd; i++)
		close(c.fd[i]);
	close(c.ep);
	pthread_barrier_destroy(&c.go);
	free(c.fd);
	free(t);
	free(args);
}

/*
 * latency: ping-pong between two threads, each blocked in epoll_wait()
 * on its own epoll. One round trip is two wakeups through epoll. It runs
 * twice: both threads on CPU 0 ("same": the wakeup path without an IPI)
 * and on CPUs 0 and 1 ("cross": with the IPI and the idle exit, which
 * under TCG cost far more than epoll itself).
 *
 * tcp_latency: the same over a TCP connection on 127.0.0.1 (TCP_NODELAY,
 * 1-byte messages, so the socket's wakeup path and not copying): what a
 * request-response server sees.
 */
#define MAX_SAMPLES (1 << 20)

struct pp_end {
	int ep, rx, tx;		/* wait in ep, read rx, write tx */
};

struct pp {
	struct pp_end ping;	/* the timing thread */
	struct pp_end echo;	/* the echo thread, on CPU cpu */
	int len, cpu;		/* len: bytes written per message */
};

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

static void send_one(struct pp *pp, struct pp_end *e)
{
	uint64_t one = 1;

	if (write(e->tx, &one, pp->len) != pp->len)
		die("write");
}

static void wait_one(struct pp_end *e)
{
	struct epoll_event ev;
	uint64_t v;

	for (;;) {
		int got = epoll_wait(e->ep, &ev, 1, -1);
		ssize_t r;

		if (got < 0 && errno != EINTR)
			die("epoll_wait");
		if (got != 1)
			continue;
		r = read(e->rx, &v, sizeof(v));
		if (r > 0)
			return;
		if (!r)
			errno = ECONNRESET;
		if (errno != EAGAIN)
			die("read");
	}
}

static void *pp_echo(void *arg)
{
	struct pp *pp = arg;

	pin(pp->cpu);
	for (;;) {
		wait_one(&pp->echo);
		if (atomic_load(&stop))
			return NULL;
		send_one(pp, &pp->echo);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void ping_pong(struct pp *pp, uint64_t *s, const char *row, int cpu,
		      const char *name)
{
	pthread_t t;
	uint64_t end, t0;
	long n = 0;

	pp->cpu = cpu;
	atomic_store(&stop, 0);
	pin(0);
	start_thread(&t, pp_echo, pp);
	/* a few warm-up round trips that are not counted */
	for (int i = 0; i < 100; i++) {
		send_one(pp, &pp->ping);
		wait_one(&pp->ping);
	}
	end = now_ns() + point_ms * 1000000ull;
	do {
		t0 = now_ns();
		send_one(pp, &pp->ping);
		wait_one(&pp->ping);
		s[n++] = now_ns() - t0;
	} while (n < MAX_SAMPLES && now_ns() < end);
	atomic_store(&stop, 1);
	send_one(pp, &pp->ping);
	pthread_join(t, NULL);
	qsort(s, n, sizeof(*s), cmp_u64);
	printf("BENCH %s CPU=%s rtt_median_us=%.2f rtt_p99_us=%.2f\n",
	       row, name, s[n / 2] / 1e3, s[n * 99 / 100] / 1e3);
	printf("# %s CPU=%s: %ld round trips\n", row, name, n);
}

/* One epoll per end of @pp, its rx fd in it edge-triggered. */
static void pp_ends(struct pp *pp)
{
	pp->ping.ep = epoll_create1(EPOLL_CLOEXEC);
	pp->echo.ep = epoll_create1(EPOLL_CLOEXEC);
	if (pp->ping.ep < 0 || pp->echo.ep < 0)
		die("epoll_create1");
	ctl(pp->ping.ep, EPOLL_CTL_ADD, pp->ping.rx, EPOLLIN | EPOLLET);
	ctl(pp->echo.ep, EPOLL_CTL_ADD, pp->echo.rx, EPOLLIN | EPOLLET);
}

/* Both ping-pongs over @pp, each end waiting in an epoll of its own. */
static void latency_rows(struct pp *pp, const char *row)
{
	uint64_t *s = malloc(MAX_SAMPLES * sizeof(*s));
	cpu_set_t all;

	if (!s)
		die("malloc");
	if (sched_getaffinity(0, sizeof(all), &all))
		die("sched_getaffinity");
	pp_ends(pp);
	ping_pong(pp, s, row, 0, "same");
	if (CPU_COUNT(&all) > 1 && CPU_ISSET(1, &all))
		ping_pong(pp, s, row, 1, "cross");
	/* the other benchmarks run unpinned */
	if (sched_setaffinity(0, sizeof(all), &all))
		die("sched_setaffinity");
	close(pp->ping.ep);
	close(pp->echo.ep);
	free(s);
}

static void bench_latency(void)
{
	int ping = new_eventfd(), pong = new_eventfd();
	struct pp pp = {
		.ping = { .rx = pong, .tx = ping },
		.echo = { .rx = ping, .tx = pong },
		.len = sizeof(uint64_t),
	};

	latency_rows(&pp, "latency");
	close(ping);
	close(pong);
}

/* Bring up "lo" (the guest's init does not), through any socket @sk. */
static void lo_up(int sk)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(sk, SIOCGIFFLAGS, &ifr))
		die("SIOCGIFFLAGS lo");
	if (ifr.ifr_flags & IFF_UP)
		return;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sk, SIOCSIFFLAGS, &ifr))
		die("SIOCSIFFLAGS lo");
	printf("# tcp_latency: brought lo up\n");
}

static void tcp_opts(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    fcntl(fd, F_SETFL, O_NONBLOCK))
		die("tcp_opts");
}

static void bench_tcp_latency(void)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c, s;
	struct pp pp = { .len = 1 };

	if (l < 0 && errno == EAFNOSUPPORT) {
		/* not silent: main() then fails, so "make bench" says so */
		fprintf(stderr, "epoll-bench: tcp_latency: no AF_INET in this kernel (CONFIG_INET)\n");
		printf("BENCH tcp_latency skipped=no_inet\n");
		failed = 1;
		return;
	}
	if (l < 0)
		die("socket");
	lo_up(l);
	if (bind(l, (struct sockaddr *)&sa, len) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&sa, &len))
		die("listen");
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, len))
		die("connect");
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		die("accept4");
	close(l);
	tcp_opts(c);
	tcp_opts(s);
	pp.ping.rx = pp.ping.tx = c;
	pp.echo.rx = pp.echo.tx = s;
	latency_rows(&pp, "tcp_latency");
	close(c);
	close(s);
}

/*
 * ctl: rounds of ADD, MOD and DEL over N eventfds, one thread. Half of
 * the eventfds are readable, so the ready list is part of every op.
 */
static void bench_ctl(void)
{
	int nfd = env_long("EPB_CTL_FDS", 1000), ep = epoll_create1(EPOLL_CLOEXEC);
	int *fd = calloc(nfd, sizeof(int));
	double t[3] = { 0 }, t0, end;
	unsigned long rounds = 0;

	if (ep < 0 || !fd)
		die("setup");
	for (int i = 0; i < nfd; i++) {
		fd[i] = new_eventfd();
		if (i & 1)
			kick(fd[i]);
	}
	end = now_ms() + point_ms;
	do {
		t0 = now_ms();
		for (int i = 0; i < nfd; i++)
			ctl(ep, EPOLL_CTL_ADD, fd[i], EPOLLIN);
		t[0] += now_ms() - t0;
		t0 = now_ms();
		for (int i = 0; i < nfd; i++)
			ctl(ep, EPOLL_CTL_MOD, fd[i], EPOLLIN | EPOLLET);
		t[1] += now_ms() - t0;
		t0 = now_ms();
		for (int i = 0; i < nfd; i++)
			ctl(ep, EPOLL_CTL_DEL, fd[i], 0);
		t[2] += now_ms() - t0;
		rounds++;
	} while (now_ms() < end);
	printf("BENCH ctl N=%d add_ops_per_ms=%.1f mod_ops_per_ms=%.1f del_ops_per_ms=%.1f\n",
	       nfd, rounds * nfd / t[0], rounds * nfd / t[1], rounds * nfd / t[2]);
	for (int i = 0; i < nfd; i++)
		close(fd[i]);
	close(ep);
	free(fd);
}

/*
 * lt: N readable eventfds, level-triggered, never read: every
 * epoll_wait() returns min(M, N) events and re-queues them.
 */
static void bench_lt(void)
{
	long mv[MAX_LIST];
	int nm = env_list("EPB_LT_M", "1,64,1024", mv);
	int nfd = env_long("EPB_LT", 1024), ep = epoll_create1(EPOLL_CLOEXEC);
	int *fd;

	if (ep < 0)
		die("epoll_create1");
	fd = ready_fds(ep, nfd);
	for (int k = 0; k < nm; k++) {
		int m = mv[k];
		struct epoll_event *ev = calloc(m, sizeof(*ev));
		unsigned long events = 0, calls = 0;
		double t0 = now_ms(), end = t0 + point_ms, ms;

		if (!ev)
			die("calloc");
		do {
			int got = epoll_wait(ep, ev, m, 0);

			if (got < 0)
				die("epoll_wait");
			events += got;
			calls++;
		} while (now_ms() < end);
		ms = now_ms() - t0;
		printf("BENCH lt N=%d M=%d events_per_ms=%.1f\n", nfd, m, events / ms);
		printf("# lt M=%d: %lu calls\n", m, calls);
		free(ev);
	}
	close_fds(ep, fd, nfd);
}

/*
 * harvest: N always-ready level-triggered fds, pipes holding one byte or
 * eventfds holding 1, never read: every epoll_wait(maxevents = N,
 * timeout 0) returns all N and re-queues them. "call_us" is the time of
 * one such call, what a busy level-triggered server pays per loop.
 */
static void harvest_point(int pipes, int nfd)
{
	int ep = epoll_create1(EPOLL_CLOEXEC), nopen = pipes ? 2 * nfd : nfd;
	struct epoll_event *ev = calloc(nfd, sizeof(*ev));
	unsigned long calls = 0;
	double t0, end, ms;
	struct rlimit rl;
	int *fd;

	if (ep < 0 || !ev || getrlimit(RLIMIT_NOFILE, &rl))
		die("setup");
	if (rl.rlim_cur < (rlim_t)nopen + 64) {
		/* as "remove" does: say so and go on with the next point */
		rl.rlim_cur = nopen + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl)) {
			printf("BENCH error what=rlimit-%d\n", nopen);
			free(ev);
			close(ep);
			return;
		}
	}
	fd = pipes ? ready_pipes(ep, nfd) : ready_fds(ep, nfd);
	t0 = now_ms();
	end = t0 + point_ms;
	do {
		/* a few calls per clock read: at N=1 a call is not much more */
		for (int i = 0; i < 16; i++)
			if (epoll_wait(ep, ev, nfd, 0) != nfd)
				die("harvest: not all ready");
		calls += 16;
	} while (now_ms() < end);
	ms = now_ms() - t0;
	printf("BENCH harvest KIND=%s N=%d call_us=%.3f calls_per_ms=%.1f\n",
	       pipes ? "pipe" : "eventfd", nfd, ms * 1e3 / calls, calls / ms);
	free(ev);
	close_fds(ep, fd, nopen);
}

static void bench_harvest(void)
{
	long nv[MAX_LIST];
	int nn = env_list("EPB_HV", "1,64,200,1024", nv);

	for (int pipes = 1; pipes >= 0; pipes--)
		for (int k = 0; k < nn; k++)
			harvest_point(pipes, nv[k]);
}

/*
 * lt_cycle: the cycle of a level-triggered server, N eventfds. Each
 * round writes all N (N callbacks queue them), one epoll_wait() returns
 * the N events, all N are read, and a second epoll_wait() re-polls the
 * N re-queued items and finds none ready.
 */
static void bench_lt_cycle(void)
{
	int nfd = env_long("EPB_LTC", 256), ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event *ev = calloc(nfd, sizeof(*ev));
	unsigned long rounds = 0;
	double t0, end, ms;
	int *fd;

	if (ep < 0 || !ev)
		die("setup");
	fd = ready_fds(ep, nfd);
	t0 = now_ms();
	end = t0 + point_ms;
	do {
		if (rounds)
			for (int i = 0; i < nfd; i++)
				kick(fd[i]);
		if (epoll_wait(ep, ev, nfd, 0) != nfd)
			die("lt_cycle: not all ready");
		for (int i = 0; i < nfd; i++)
			drain(fd[i]);
		if (epoll_wait(ep, ev, nfd, 0) != 0)
			die("lt_cycle: ready after read");
		rounds++;
	} while (now_ms() < end);
	ms = now_ms() - t0;
	printf("BENCH lt_cycle N=%d items_per_ms=%.1f\n", nfd, rounds * nfd / ms);
	free(ev);
	close_fds(ep, fd, nfd);
}

/*
 * remove: N readable level-triggered eventfds, all queued and never
 * harvested, then all removed, by EPOLL_CTL_DEL or by close(), in the
 * order they were added (FIFO) or in reverse. A mass disconnect.
 */
static void bench_remove_one(int nfd, int by_close, int reverse)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	double t0, ms;
	int *fd;

	if (ep < 0)
		die("epoll_create1");
	fd = ready_fds(ep, nfd);
	t0 = now_ms();
	for (int k = 0; k < nfd; k++) {
		int i = reverse ? nfd - 1 - k : k;

		if (by_close) {
			if (close(fd[i]))
				die("close");
			fd[i] = -1;
		} else {
			ctl(ep, EPOLL_CTL_DEL, fd[i], 0);
		}
	}
	ms = now_ms() - t0;
	printf("BENCH remove N=%d BY=%s ORDER=%s ops_per_ms=%.1f\n",
	       nfd, by_close ? "close" : "del", reverse ? "reverse" : "fifo",
	       nfd / ms);
	printf("# remove N=%d: %.1f ms\n", nfd, ms);
	close_fds(ep, fd, nfd);
}

static void bench_remove(void)
{
	long nv[MAX_LIST];
	int nn = env_list("EPB_RM", "1000,10000,100000", nv);
	struct rlimit rl;

	for (int k = 0; k < nn; k++) {
		rl.rlim_cur = rl.rlim_max = nv[k] + 64;
		if (setrlimit(RLIMIT_NOFILE, &rl) && nv[k] + 64 > 4096) {
			printf("BENCH error what=rlimit-%ld\n", nv[k]);
			continue;
		}
		for (int how = 0; how < 4; how++)
			bench_remove_one(nv[k], how >> 1, how & 1);
	}
}

static const struct {
	const char *name;
	void (*fn)(void);
} benches[] = {
	{ "contended", bench_contended },
	{ "contended_hog", bench_contended_hog },
	{ "oneshot", bench_oneshot },
	{ "latency", bench_latency },
	{ "tcp_latency", bench_tcp_latency },
	{ "ctl", bench_ctl },
	{ "lt", bench_lt },
	{ "harvest", bench_harvest },
	{ "lt_cycle", bench_lt_cycle },
	{ "remove", bench_remove },
};

static int run(const char *name)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(benches); i++) {
		if (strcmp(name, benches[i].name))
			continue;
		double t0 = now_ms();

		failed = 0;
		benches[i].fn();
		printf("# %s took %.1f s\n", name, (now_ms() - t0) / 1e3);
		return failed;
	}
	fprintf(stderr, "epoll-bench: unknown benchmark %s\n", name);
	printf("BENCH error what=unknown-%s\n", name);
	return 1;
}

int main(int argc, char **argv)
{
	struct rlimit rl = { 4096, 4096 };
	struct utsname u;
	char only[256], *tok, *save;
	int rc = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	point_ms = env_long("EPB_MS", 1000);
	setrlimit(RLIMIT_NOFILE, &rl);
	uname(&u);
	printf("# epoll-bench on %s %s, %ld CPUs, %ld ms per point\n",
	       u.release, u.version, sysconf(_SC_NPROCESSORS_ONLN), point_ms);
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			rc |= run(argv[i]);
		return rc;
	}
	snprintf(only, sizeof(only), "%s",
		 getenv("EPB_ONLY") ? getenv("EPB_ONLY") :
		 "contended,contended_hog,oneshot,latency,tcp_latency,ctl,lt,harvest,lt_cycle,remove");
	for (tok = strtok_r(only, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		rc |= run(tok);
	return rc;
}
