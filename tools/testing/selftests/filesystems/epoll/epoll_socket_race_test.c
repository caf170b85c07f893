// SPDX-License-Identifier: GPL-2.0
/*
 * epoll on TCP sockets over IPv4 loopback.  A socket wakes its waiters
 * with wake_up_interruptible_sync_poll() from sk_data_ready() and
 * sk_state_change(), mostly in softirq context on the CPU of the sender,
 * so these tests drive ep_poll_callback() from the network stack: many
 * writers, writers in other processes, an accept storm on EPOLLEXCLUSIVE
 * waiters, and peers that shut down or close while data flows.
 *
 * As in epoll_race_test.c, the tests check what epoll(7) promises, and
 * a lost event shows up as a wait that runs into RACE_WAIT_MS with the
 * event pending, never as a hang.  TCP delivers in its own time, so what
 * counts as pending is what a socket reports after FIONREAD: FIONREAD
 * locks the socket, and the softirq (or lock owner) that queued data or
 * a shutdown on it ran the wakeup callback under that lock.  After a
 * wait timed out, an event pending in that sense must be on the ready
 * list, or it was lost; and if it was pending before the wait began, the
 * wait slept through it.  Anything else is late, and only counted.
 *
 * Needs CONFIG_INET; without IPv4 the tests skip.  A loopback device
 * that is down (a new network namespace, a minimal guest) is brought up,
 * and the tests skip if that is not allowed.  Ports are chosen by the
 * kernel.  Iterations derive from EPOLL_RACE_ITERS and each busy phase is
 * capped at EPOLL_RACE_SECS (see epoll_race.h); with the defaults the
 * whole file takes about two seconds on a two-CPU x86_64 host.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "epoll_race.h"
#include "../../kselftest_harness.h"

#define SK_MAXKIDS	8
/* Timeouts without news, once everything is sent, before giving up. */
#define SK_IDLE_WAITS	5

/*
 * The part of a test's state that its child processes share with it, in
 * a MAP_SHARED mapping.  A child records its failure with race_fail(),
 * in its own copy of the globals, and hands it on when it exits.
 */
struct sk_shared {
	int stop;			/* parent to children: quit */
	int claimed;			/* a child is writing msg */
	int failed;			/* a child failed; msg says why */
	char msg[sizeof(race_msg)];
};

static bool sk_stopped(struct sk_shared *sh)
{
	return race_stopped() || load_int(&sh->stop) || load_int(&sh->failed);
}

static void *sk_map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

struct sk_kids {
	pid_t pid[SK_MAXKIDS];
	int n;
};

/*
 * Fork a child that runs @fn(@ctx, @id) and exits; it dies with the test
 * thread that forked it.  Returns 0, or -1 if fork() failed.
 */
static int sk_fork(struct sk_kids *k, struct sk_shared *sh,
		   void (*fn)(void *, int), void *ctx, int id)
{
	pid_t parent = getpid(), pid;

	if (k->n == SK_MAXKIDS)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		fn(ctx, id);
		if (race_failed &&
		    !__atomic_exchange_n(&sh->claimed, 1, __ATOMIC_ACQ_REL)) {
			memcpy(sh->msg, race_msg, sizeof(sh->msg));
			/* Pairs with the acquire loads in sk_stopped(). */
			__atomic_store_n(&sh->failed, 1, __ATOMIC_RELEASE);
		}
		_exit(race_failed);
	}
	k->pid[k->n++] = pid;
	return 0;
}

/* Child @pid ended with wait status @status: did it fail? */
static void sk_ended(struct sk_shared *sh, pid_t pid, int status)
{
	if (load_int(&sh->failed))
		race_fail("%s", sh->msg);
	else if (status)
		race_fail("child %d: wait status %#x", pid, status);
}

/* Reap the children that ended, so that one that died is seen early. */
static void sk_poll_kids(struct sk_kids *k, struct sk_shared *sh)
{
	int i, status;

	for (i = k->n - 1; i >= 0; i--) {
		if (waitpid(k->pid[i], &status, WNOHANG) != k->pid[i])
			continue;
		sk_ended(sh, k->pid[i], status);
		k->pid[i] = k->pid[--k->n];
	}
}

/*
 * Reap every child, killing it first with @kill_them: the fixture
 * teardown does, which also runs after a failed assertion.
 */
static void sk_reap(struct sk_kids *k, struct sk_shared *sh, bool kill_them)
{
	int status;
	pid_t pid;

	while (k->n) {
		pid = k->pid[--k->n];
		if (kill_them)
			kill(pid, SIGKILL);
		if (waitpid(pid, &status, 0) != pid)
			status = -1;
		if (!kill_them)
			sk_ended(sh, pid, status);
	}
}

/* A TCP listener on 127.0.0.1, port chosen by the kernel: fd or -errno. */
static int sk_listen(struct sockaddr_in *addr, int backlog, bool nonblock)
{
	socklen_t len = sizeof(*addr);
	int one = 1, fd, err;

	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
		    (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)addr, sizeof(*addr)) ||
	    listen(fd, backlog) ||
	    getsockname(fd, (struct sockaddr *)addr, &len)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * A connection through listener @lfd at @addr: *cfd is the connecting
 * socket, *afd the accepted one (non-blocking).  Returns 0 or -errno.
 */
static int sk_pair(int lfd, const struct sockaddr_in *addr, int *cfd,
		   int *afd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int err;

	*afd = -1;
	*cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*cfd < 0)
		return -errno;
	errno = ETIMEDOUT;
	if (!connect(*cfd, (const struct sockaddr *)addr, sizeof(*addr)) &&
	    poll(&p, 1, RACE_WAIT_MS) == 1) {
		*afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (*afd >= 0)
			return 0;
	}
	err = -errno;
	close(*cfd);
	*cfd = -1;
	return err;
}

/* Bring up the loopback device: 0, or -1 with errno set. */
static int sk_lo_up(void)
{
	struct ifreq ifr = {};
	int fd, ret;

	memcpy(ifr.ifr_name, "lo", 3);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	ret = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (!ret && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return ret;
}

/*
 * Whether TCP over IPv4 loopback works: NULL, or why the tests skip.  A
 * loopback device that is down is brought up if we may.  Other errors
 * are left to the tests, which fail on them.
 */
static const char *sk_probe(void)
{
	static char why[128];
	struct sockaddr_in addr;
	int lfd, a, b, err, try;

	for (try = 0; try < 2; try++) {
		lfd = sk_listen(&addr, 1, false);
		if (lfd == -EAFNOSUPPORT)
			return "no IPv4: CONFIG_INET";
		err = lfd < 0 ? -lfd : -sk_pair(lfd, &addr, &a, &b);
		if (lfd >= 0)
			close(lfd);
		if (!err) {
			close(a);
			close(b);
			return NULL;
		}
		if (err != EADDRNOTAVAIL && err != ENETUNREACH)
			return NULL;
		if (try)
			return "127.0.0.1 unreachable with lo up";
		if (sk_lo_up()) {
			snprintf(why, sizeof(why),
				 "loopback is down (%s), cannot bring lo up: %s",
				 strerror(err), strerror(errno));
			return why;
		}
	}
	return NULL;
}

/*
 * 1. EPOLLET on TCP sockets written by other threads (variant threads)
 * or other processes (variant processes, whose wakeups come from another
 * mm).  Four writers send counted byte streams (EPOLL_RACE_ITERS * 10
 * sends each, with TCP_NODELAY; most of at most 64 bytes: one segment
 * and one callback each) to eight connected sockets, two each, and pause
 * now and then to let the consumer fall asleep.  The consumer waits with
 * maxevents 4 and reads each reported socket to EAGAIN.  Every byte must
 * arrive, in order, none twice, and no wait may time out with data queued
 * on a socket whose event it did not report.
 */
#define TS_PAIRS	8
#define TS_WRITERS	4	/* writer i sends to sockets i and i + 4 */
#define TS_DONE		0xd09e	/* data of the "writers done" event */
#define TS_MAXSEND	4096

struct ts_ctx {
	struct sk_shared sh;
	int rfd[TS_PAIRS];		/* consumer side, non-blocking */
	int wfd[TS_PAIRS];		/* writer side */
	uint64_t sent[TS_PAIRS];	/* by the socket's writer */
	uint64_t nread[TS_PAIRS];	/* consumer only */
	int writers_left;
	int done_fd;			/* eventfd, written by the last writer */
	int lfd, epfd;
	unsigned long iters;
	uint64_t deadline;
	long events, waits, late;
};

/* Byte @off of the stream to socket @k: 32-bit words k << 24 | n. */
static uint8_t ts_byte(int k, uint64_t off)
{
	uint32_t w = (uint32_t)k << 24 | ((off >> 2) & 0xffffff);

	return w >> (8 * (off & 3));
}

static int ts_setup(struct ts_ctx *c, unsigned long iters)
{
	struct sockaddr_in addr;
	int k, one = 1;

	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	c->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	c->lfd = sk_listen(&addr, TS_PAIRS, false);
	if (c->epfd < 0 || c->done_fd < 0 || c->lfd < 0 ||
	    race_epoll_add(c->epfd, c->done_fd, EPOLLIN | EPOLLET, TS_DONE))
		return -1;
	for (k = 0; k < TS_PAIRS; k++) {
		if (sk_pair(c->lfd, &addr, &c->wfd[k], &c->rfd[k]) ||
		    setsockopt(c->wfd[k], IPPROTO_TCP, TCP_NODELAY, &one,
			       sizeof(one)) ||
		    race_epoll_add(c->epfd, c->rfd[k], EPOLLIN | EPOLLET, k))
			return -1;
	}
	c->iters = iters;
	c->writers_left = TS_WRITERS;
	c->deadline = race_deadline();
	return 0;
}

static void ts_teardown(struct ts_ctx *c)
{
	int k;

	for (k = 0; k < TS_PAIRS; k++) {
		close(c->rfd[k]);
		close(c->wfd[k]);
	}
	close(c->lfd);
	close(c->done_fd);
	close(c->epfd);
}

static void ts_writer(void *ctx, int id)
{
	struct ts_ctx *c = ctx;
	uint32_t rnd = race_seed(id + 1);
	uint8_t buf[TS_MAXSEND];
	unsigned long i;
	uint64_t off, one = 1;
	size_t len, j;
	ssize_t n;
	int k;

	for (i = 0; i < c->iters && !sk_stopped(&c->sh); i++) {
		uint32_t r = race_rand(&rnd);

		if (!(i & 63) && race_now_ms() > c->deadline)
			break;
		k = id + TS_WRITERS * (r % (TS_PAIRS / TS_WRITERS));
		len = 1 + (r >> 4) % (r & 0x3f000 ? 64 : TS_MAXSEND);
		off = c->sent[k];
		for (j = 0; j < len; j++)
			buf[j] = ts_byte(k, off + j);
		n = send(c->wfd[k], buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN) {
			/* The consumer is behind: wait for room, briefly. */
			struct pollfd p = { .fd = c->wfd[k], .events = POLLOUT };

			poll(&p, 1, 10);
			continue;
		}
		if (n <= 0) {
			race_fail("send to socket %d: %s", k,
				  n ? strerror(errno) : "returned 0");
			break;
		}
		/* Published by the release of writers_left below. */
		__atomic_store_n(&c->sent[k], off + n, __ATOMIC_RELAXED);
		/* Now and then let the consumer catch up and fall asleep. */
		if (!((r >> 18) & 15))
			usleep(20);
		else if (!((r >> 18) & 3))
			race_spin((r >> 22) % 512);
	}
	/* Pairs with the acquire loads of writers_left by the consumer. */
	if (!__atomic_sub_fetch(&c->writers_left, 1, __ATOMIC_RELEASE) &&
	    write(c->done_fd, &one, sizeof(one)) != sizeof(one))
		race_fail("write(done): %s", strerror(errno));
}

static void *ts_thread(void *arg)
{
	struct race_thread *t = arg;

	ts_writer(t->ctx, t->id);
	return NULL;
}

/* Read socket @k to EAGAIN, checking every byte; false on failure. */
static bool ts_drain(struct ts_ctx *c, int k)
{
	uint8_t buf[16384];
	ssize_t n, j;

	for (;;) {
		n = recv(c->rfd[k], buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0) {
			race_fail("recv from socket %d: %s", k,
				  n ? strerror(errno) : "EOF");
			return false;
		}
		for (j = 0; j < n; j++) {
			if (buf[j] == ts_byte(k, c->nread[k] + j))
				continue;
			race_fail("socket %d: byte %llu is %#x, expected %#x",
				  k, (unsigned long long)(c->nread[k] + j),
				  buf[j], ts_byte(k, c->nread[k] + j));
			return false;
		}
		c->nread[k] += n;
	}
}

/* Handle @n events, adding the sockets reported to @seen. */
static bool ts_consume(struct ts_ctx *c, struct epoll_event *ev, int n,
		       uint32_t *seen)
{
	int i;

	for (i = 0; i < n; i++) {
		uint64_t k = ev[i].data.u64;

		if (k == TS_DONE)
			continue;
		if (k >= TS_PAIRS) {
			race_fail("event with unknown data %#llx",
				  (unsigned long long)k);
			return false;
		}
		c->events++;
		*seen |= 1u << k;
		if (!ts_drain(c, k))
			return false;
	}
	return true;
}

/* The sockets with data queued; FIONREAD syncs with the callback. */
static uint32_t ts_queued(struct ts_ctx *c)
{
	uint32_t mask = 0;
	int k, q;

	for (k = 0; k < TS_PAIRS; k++) {
		if (ioctl(c->rfd[k], FIONREAD, &q))
			race_fail("FIONREAD: %s", strerror(errno));
		else if (q > 0)
			mask |= 1u << k;
	}
	return mask;
}

/*
 * A wait timed out.  Data queued on a socket now came after the last
 * EAGAIN the consumer saw on it, with a callback that has run: its event
 * must be on the ready list.  If the data was queued before the wait
 * began (@before), the wait slept through it.
 */
static void ts_timed_out(struct ts_ctx *c, uint32_t before)
{
	struct epoll_event ev[TS_PAIRS + 1];
	uint32_t now = ts_queued(c), seen = 0;
	int k, n;

	if (!now)
		return;
	n = epoll_wait(c->epfd, ev, ARRAY_LEN(ev), 0);
	if (n < 0) {
		race_fail("epoll_wait: %s", strerror(errno));
		return;
	}
	if (!ts_consume(c, ev, n, &seen))
		return;
	for (k = 0; k < TS_PAIRS; k++) {
		if (!(now & (1u << k)))
			continue;
		if (!(seen & (1u << k)))
			race_fail("edge lost: data queued on socket %d, no event",
				  k);
		else if (before & (1u << k))
			race_fail("wakeup lost: socket %d had data queued before a %d ms wait",
				  k, RACE_WAIT_MS);
		else
			c->late++;
	}
}

static bool ts_all_read(struct ts_ctx *c)
{
	int k;

	for (k = 0; k < TS_PAIRS; k++)
		if (c->nread[k] != __atomic_load_n(&c->sent[k],
						   __ATOMIC_RELAXED))
			return false;
	return true;
}

/*
 * The writers quit and a wait timed out.  A socket whose peer saw every
 * byte sent acknowledged (SIOCOUTQ 0) got them all queued; if it has
 * none queued and fewer read, bytes were lost.  Bytes not acknowledged
 * yet are TCP's to deliver, in its own time.
 */
static void ts_check_unread(struct ts_ctx *c)
{
	int k, outq, inq;

	for (k = 0; k < TS_PAIRS; k++) {
		if (c->nread[k] == c->sent[k])
			continue;
		if (ioctl(c->wfd[k], SIOCOUTQ, &outq) ||
		    ioctl(c->rfd[k], FIONREAD, &inq)) {
			race_fail("SIOCOUTQ/FIONREAD: %s", strerror(errno));
			return;
		}
		if (!outq && !inq)
			race_fail("socket %d: %llu bytes sent and acknowledged, %llu read",
				  k, (unsigned long long)c->sent[k],
				  (unsigned long long)c->nread[k]);
	}
}

FIXTURE(stream) {
	struct sk_kids kids;
	struct ts_ctx *c;
};

FIXTURE_VARIANT(stream) {
	bool fork;
};

FIXTURE_VARIANT_ADD(stream, threads) {
	.fork = false,
};

FIXTURE_VARIANT_ADD(stream, processes) {
	.fork = true,
};

FIXTURE_SETUP(stream)
{
	const char *why = sk_probe();

	if (why)
		SKIP(return, "%s", why);
	self->c = sk_map(sizeof(*self->c));
	ASSERT_NE(NULL, self->c);
}

FIXTURE_TEARDOWN(stream)
{
	if (self->c)
		sk_reap(&self->kids, &self->c->sh, true);
}

TEST_F_TIMEOUT(stream, et_no_lost_edge, RACE_TIMEOUT)
{
	struct ts_ctx *c = self->c;
	struct race_thread t[TS_WRITERS];
	struct epoll_event ev[4];
	uint32_t before, seen = 0;
	int i, n, nt = 0;
	uint64_t bytes = 0;

	ASSERT_EQ(0, ts_setup(c, race_iters() * 10))
		TH_LOG("setup: %s", strerror(errno));
	if (variant->fork) {
		for (i = 0; i < TS_WRITERS; i++)
			ASSERT_EQ(0, sk_fork(&self->kids, &c->sh, ts_writer,
					     c, i));
	} else {
		nt = start_threads(t, TS_WRITERS, c, ts_thread);
	}

	while (!sk_stopped(&c->sh)) {
		bool done = !load_int(&c->writers_left);

		if (done && ts_all_read(c))
			break;
		/* Once the writers quit, look before each wait too. */
		before = done ? ts_queued(c) : 0;
		n = epoll_wait(c->epfd, ev, ARRAY_LEN(ev), RACE_WAIT_MS);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			race_fail("epoll_wait: %s", strerror(errno));
			break;
		}
		if (!ts_consume(c, ev, n, &seen))
			break;
		if (n) {
			c->waits++;
			continue;
		}
		ts_timed_out(c, before);
		if (done)
			ts_check_unread(c);
		/* A writer process that died never quits. */
		sk_poll_kids(&self->kids, &c->sh);
	}
	__atomic_store_n(&c->sh.stop, 1, __ATOMIC_RELEASE);
	join_threads(t, nt);
	sk_reap(&self->kids, &c->sh, false);
	ASSERT_EQ(0, race_failed) TH_LOG("%s", race_msg);
	for (i = 0; i < TS_PAIRS; i++) {
		ASSERT_EQ(c->sent[i], c->nread[i]);
		bytes += c->nread[i];
	}
	TH_LOG("%llu bytes, %ld waits returned %ld events, %ld events late",
	       (unsigned long long)bytes, c->waits, c->events, c->late);
	ts_teardown(c);
	munmap(c, sizeof(*c));
	self->c = NULL;
}

/*
 * 2. An accept storm on EPOLLEXCLUSIVE waiters.  Four waiters, threads
 * or processes, each with its own epoll instance, watch one non-blocking
 * listener with EPOLLIN | EPOLLEXCLUSIVE (level- or edge-triggered), and
 * accept until EAGAIN after each event.  Two connector threads make
 * EPOLL_RACE_ITERS connections and send a 4-byte id on each.  Every
 * connection must be accepted exactly once.  An exclusive wakeup wakes
 * one waiter, so a waiter that times out while a connection is pending
 * may have left it to another, and is only counted.  But when nothing
 * was accepted for RACE_WAIT_MS, a connection is pending and every waiter
 * sleeps in epoll_wait(), and all that still holds RACE_WAIT_MS / 2
 * later, the wakeup for that connection was lost.  Printed for each
 * waiter: its wakeups, those that found nothing to accept, connections
 * accepted, timeouts and, of those, the ones with a connection pending.
 */
#define AC_WAITERS	4
#define AC_CONNECTORS	2
#define AC_BACKLOG	1024
#define AC_INFLIGHT	100	/* connections made and not yet accepted */
#define AC_QUIT		0x9017	/* data of the quit event */

struct ac_waiter {
	int tid;
	int in_wait;		/* inside epoll_wait() */
	long wakeups;		/* waits that reported the listener */
	long empty;		/* of those, with nothing to accept */
	long accepted;
	long timeouts;
	long timeouts_pending;	/* of those, with a connection pending */
};

struct ac_ctx {
	struct sk_shared sh;
	struct sockaddr_in addr;
	int lfd;		/* non-blocking listener */
	int quit_fd;		/* eventfd, written at the end: wakes all */
	uint32_t events;	/* how the waiters watch the listener */
	int ready;		/* waiters set up */
	int connectors_left;
	int conns;		/* connections to make, at most */
	int next_id;
	int made;		/* connected, id sent */
	int accepted;
	uint64_t deadline;
	struct ac_waiter w[AC_WAITERS];
	uint8_t owner[];	/* by id: 1 + the waiter that accepted it */
};

static void *ac_connector(void *arg)
{
	struct race_thread *t = arg;
	struct ac_ctx *c = t->ctx;
	uint32_t id;
	int fd;

	while (!sk_stopped(&c->sh) && race_now_ms() < c->deadline) {
		/* Keep the accept queue short of the backlog: no SYN drops. */
		if (load_int(&c->made) - load_int(&c->accepted) >=
		    AC_INFLIGHT) {
			sched_yield();
			continue;
		}
		id = __atomic_fetch_add(&c->next_id, 1, __ATOMIC_RELAXED);
		if (id >= (uint32_t)c->conns)
			break;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&c->addr,
				      sizeof(c->addr)) ||
		    send(fd, &id, sizeof(id), MSG_NOSIGNAL) != sizeof(id)) {
			race_fail("connection %u: %s", id, strerror(errno));
			if (fd >= 0)
				close(fd);
			break;
		}
		close(fd);
		__atomic_fetch_add(&c->made, 1, __ATOMIC_RELEASE);
	}
	__atomic_fetch_sub(&c->connectors_left, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Read the id of accepted connection @fd.  It may trail the handshake for
 * as long as the connectors run; after that, TCP has SK_IDLE_WAITS *
 * RACE_WAIT_MS to deliver it.  Returns 0, or -1 with errno set.
 */
static int ac_read_id(struct ac_ctx *c, int fd, uint32_t *id)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t end = 0;
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(*id)) {
		n = recv(fd, (char *)id + got, sizeof(*id) - got,
			 MSG_DONTWAIT);
		if (n > 0) {
			got += n;
			continue;
		}
		if (!n)
			errno = EPIPE;
		if (!n || errno != EAGAIN || sk_stopped(&c->sh))
			return -1;
		if (!end && !load_int(&c->connectors_left))
			end = race_now_ms() + SK_IDLE_WAITS * RACE_WAIT_MS;
		if (end && race_now_ms() > end) {
			errno = ETIMEDOUT;
			return -1;
		}
		poll(&p, 1, RACE_WAIT_MS);
	}
	return 0;
}

/* Accept until EAGAIN, reading each connection's id.  False on failure. */
static bool ac_accept(struct ac_ctx *c, int self)
{
	struct ac_waiter *w = &c->w[self];
	long got = 0;
	uint32_t id;
	int fd, prev;

	for (;;) {
		fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EAGAIN)
				break;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			race_fail("waiter %d: accept4: %s", self,
				  strerror(errno));
			return false;
		}
		if (ac_read_id(c, fd, &id)) {
			race_fail("waiter %d: no id on an accepted connection: %s",
				  self, strerror(errno));
			close(fd);
			return false;
		}
		close(fd);
		if (id >= (uint32_t)c->conns) {
			race_fail("waiter %d: unknown id %u", self, id);
			return false;
		}
		prev = __atomic_exchange_n(&c->owner[id], self + 1,
					   __ATOMIC_RELAXED);
		if (prev) {
			race_fail("connection %u accepted by waiters %d and %d",
				  id, prev - 1, self);
			return false;
		}
		__atomic_fetch_add(&c->accepted, 1, __ATOMIC_RELEASE);
		got++;
	}
	w->accepted += got;
	w->empty += !got;
	return true;
}

static bool ac_pending(struct ac_ctx *c)
{
	struct pollfd p = { .fd = c->lfd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

/* Every waiter sleeps in epoll_wait(). */
static bool ac_asleep(struct ac_ctx *c)
{
	char path[64];
	int i;

	for (i = 0; i < AC_WAITERS; i++) {
		snprintf(path, sizeof(path), "/proc/%d/stat",
			 load_int(&c->w[i].tid));
		if (!load_int(&c->w[i].in_wait) || !race_stat_sleeping(path))
			return false;
	}
	return true;
}

/*
 * Is a connection pending while every waiter sleeps in epoll_wait(),
 * twice, RACE_WAIT_MS / 2 apart, with nothing accepted in between (so
 * that the connection seen first is still queued)?  A wakeup on its way
 * would have made one of the waiters runnable by then.
 */
static bool ac_stalled(struct ac_ctx *c)
{
	int before = load_int(&c->accepted);

	if (!ac_pending(c) || !ac_asleep(c))
		return false;
	usleep(RACE_WAIT_MS * 500);
	return ac_pending(c) && ac_asleep(c) &&
	       before == load_int(&c->accepted);
}

static void ac_waiter(void *ctx, int self)
{
	struct ac_ctx *c = ctx;
	struct ac_waiter *w = &c->w[self];
	struct epoll_event ev[2];
	bool listener, quit = false;
	int ep, i, n;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || race_epoll_add(ep, c->lfd, c->events, 0) ||
	    race_epoll_add(ep, c->quit_fd, EPOLLIN, AC_QUIT)) {
		race_fail("waiter %d: epoll setup: %s", self, strerror(errno));
		goto out;
	}
	__atomic_store_n(&w->tid, gettid(), __ATOMIC_RELEASE);
	__atomic_fetch_add(&c->ready, 1, __ATOMIC_RELEASE);
	while (!quit && !sk_stopped(&c->sh)) {
		__atomic_store_n(&w->in_wait, 1, __ATOMIC_RELEASE);
		n = epoll_wait(ep, ev, ARRAY_LEN(ev), RACE_WAIT_MS);
		__atomic_store_n(&w->in_wait, 0, __ATOMIC_RELEASE);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			race_fail("waiter %d: epoll_wait: %s", self,
				  strerror(errno));
			break;
		}
		if (!n) {
			w->timeouts++;
			w->timeouts_pending += ac_pending(c);
			continue;
		}
		listener = false;
		for (i = 0; i < n; i++) {
			if (ev[i].data.u64 == AC_QUIT)
				quit = true;
			else
				listener = true;
		}
		if (!listener)
			continue;
		w->wakeups++;
		if (!ac_accept(c, self))
			break;
	}
out:
	if (ep >= 0)
		close(ep);
}

static void *ac_thread(void *arg)
{
	struct race_thread *t = arg;

	ac_waiter(t->ctx, t->id);
	return NULL;
}

FIXTURE(accept) {
	struct sk_kids kids;
	struct ac_ctx *c;
	size_t len;
};

FIXTURE_VARIANT(accept) {
	bool fork;
	bool et;
};

FIXTURE_VARIANT_ADD(accept, threads) {
	.fork = false,
	.et = false,
};

FIXTURE_VARIANT_ADD(accept, threads_et) {
	.fork = false,
	.et = true,
};

FIXTURE_VARIANT_ADD(accept, processes) {
	.fork = true,
	.et = false,
};

FIXTURE_SETUP(accept)
{
	const char *why = sk_probe();

	if (why)
		SKIP(return, "%s", why);
	self->len = sizeof(*self->c) + race_iters();
	self->c = sk_map(self->len);
	ASSERT_NE(NULL, self->c);
}

FIXTURE_TEARDOWN(accept)
{
	if (self->c)
		sk_reap(&self->kids, &self->c->sh, true);
}

TEST_F_TIMEOUT(accept, exclusive_storm, RACE_TIMEOUT)
{
	struct race_thread ct[AC_CONNECTORS], wt[AC_WAITERS];
	struct ac_ctx *c = self->c;
	int i, id, accepted, nc, nw = 0;
	uint64_t one = 1, since = 0;

	c->conns = race_iters();
	c->events = EPOLLIN | EPOLLEXCLUSIVE | (variant->et ? EPOLLET : 0);
	c->lfd = sk_listen(&c->addr, AC_BACKLOG, true);
	ASSERT_LE(0, c->lfd) TH_LOG("listen: %s", strerror(-c->lfd));
	c->quit_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, c->quit_fd);
	if (variant->fork) {
		for (i = 0; i < AC_WAITERS; i++)
			ASSERT_EQ(0, sk_fork(&self->kids, &c->sh, ac_waiter,
					     c, i));
	} else {
		/* One that fails to start fails the test, and ends the wait. */
		nw = start_threads(wt, AC_WAITERS, c, ac_thread);
	}
	while (load_int(&c->ready) < AC_WAITERS && !sk_stopped(&c->sh)) {
		usleep(1000);
		sk_poll_kids(&self->kids, &c->sh);
	}

	c->deadline = race_deadline();
	c->connectors_left = AC_CONNECTORS;
	nc = 0;
	if (!sk_stopped(&c->sh))
		nc = start_threads(ct, AC_CONNECTORS, c, ac_connector);

	/* Until each connection made is accepted, watch for stalls. */
	accepted = -1;
	while (!sk_stopped(&c->sh)) {
		if (nc < AC_CONNECTORS)
			break;
		if (!load_int(&c->connectors_left) &&
		    load_int(&c->accepted) == load_int(&c->made))
			break;
		usleep(1000);
		sk_poll_kids(&self->kids, &c->sh);
		if (accepted != load_int(&c->accepted)) {
			accepted = load_int(&c->accepted);
			since = race_now_ms();
			continue;
		}
		if (race_now_ms() < since + RACE_WAIT_MS)
			continue;
		if (ac_stalled(c))
			race_fail("wakeup lost: a connection pending %d ms, all waiters asleep",
				  RACE_WAIT_MS / 2);
		else if (accepted < load_int(&c->made) && !ac_pending(c) &&
			 ac_asleep(c) &&
			 race_now_ms() > since + SK_IDLE_WAITS * RACE_WAIT_MS)
			race_fail("%d of %d connections neither queued nor accepted after %d ms",
				  c->made - accepted, c->made,
				  SK_IDLE_WAITS * RACE_WAIT_MS);
	}
	__atomic_store_n(&c->sh.stop, 1, __ATOMIC_RELEASE);
	join_threads(ct, nc);
	if (write(c->quit_fd, &one, sizeof(one)) != sizeof(one))
		race_fail("write(quit): %s", strerror(errno));
	join_threads(wt, nw);
	sk_reap(&self->kids, &c->sh, false);
	ASSERT_EQ(0, race_failed) TH_LOG("%s", race_msg);
	ASSERT_EQ(c->made, c->accepted);
	for (id = 0; id < c->made; id++)
		ASSERT_NE(0, c->owner[id]) TH_LOG("connection %d not accepted",
						  id);
	TH_LOG("%d connections, %s %s", c->made,
	       variant->fork ? "processes" : "threads",
	       variant->et ? "EPOLLET" : "level-triggered");
	for (i = 0; i < AC_WAITERS; i++)
		TH_LOG("waiter %d: %ld wakeups, %ld empty, %ld accepted, %ld timeouts, %ld pending",
		       i, c->w[i].wakeups, c->w[i].empty, c->w[i].accepted,
		       c->w[i].timeouts, c->w[i].timeouts_pending);
	close(c->quit_fd);
	close(c->lfd);
	munmap(c, self->len);
	self->c = NULL;
}

/*
 * 3. Peers that shut down or close while data flows.  Each round, eight
 * connected pairs: two writer threads send to the peer side of each
 * pair, while a third thread shuts the peer down (SHUT_WR or SHUT_RDWR),
 * closes it, or closes it with SO_LINGER 0 (a reset), and, but for the
 * reset, shuts down the watched side for writing, before or after.  The
 * watcher has each watched socket with EPOLLIN | EPOLLRDHUP | EPOLLET and
 * reads it to EAGAIN on each event.  Every watched socket must report
 * EPOLLRDHUP, and EPOLLHUP once both directions are shut down, and no
 * wait may time out while either is pending but unreported.
 * EPOLL_RACE_ITERS / 10 rounds.
 */
#define PC_PAIRS	8
#define PC_WRITERS	2
#define PC_WANT		(EPOLLRDHUP | EPOLLHUP)

enum { PC_SHUT_WR, PC_SHUT_RDWR, PC_CLOSE, PC_RESET, PC_MODES };

static const char * const pc_mode_name[PC_MODES] = {
	"shutdown(SHUT_WR)", "shutdown(SHUT_RDWR)", "close()",
	"close() with reset",
};

struct pc_ctx {
	int wfd[PC_PAIRS];	/* watched, non-blocking */
	int pfd[PC_PAIRS];	/* peer: written to, shut down or closed */
	int mode[PC_PAIRS];
	bool self_first[PC_PAIRS];	/* watched side shut down first */
	uint32_t seen[PC_PAIRS];	/* events reported */
	int placeholder;	/* dup2()ed over a peer to close it */
	int epfd;
	int started;		/* writers running */
	int closer_done;
	int stop;
	uint32_t seed;
	long events, late;
};

static void *pc_writer(void *arg)
{
	struct race_thread *t = arg;
	struct pc_ctx *c = t->ctx;
	uint32_t rnd = race_seed(t->id + 401);
	static const char buf[512];
	uint32_t dead = 0, all = 0;
	ssize_t n;
	int k;

	for (k = t->id; k < PC_PAIRS; k += PC_WRITERS)
		all |= 1u << k;
	__atomic_fetch_add(&c->started, 1, __ATOMIC_RELEASE);
	while (dead != all && !load_int(&c->stop) && !race_stopped()) {
		uint32_t r = race_rand(&rnd);

		k = t->id + PC_WRITERS * (r % (PC_PAIRS / PC_WRITERS));
		if (dead & (1u << k))
			continue;
		n = send(c->pfd[k], buf, 1 + (r >> 8) % sizeof(buf),
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0)
			continue;
		if (n < 0 && errno == EAGAIN) {
			sched_yield();
			continue;
		}
		/* Shut down, reset, or closed under us (a placeholder now). */
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET ||
			      errno == ENOTSOCK)) {
			dead |= 1u << k;
			continue;
		}
		race_fail("send to peer %d: %s", k,
			  n ? strerror(errno) : "returned 0");
		break;
	}
	return NULL;
}

/*
 * Shut down the watched side of pair @k for writing (@self), or do to
 * the peer what the pair's mode says.  A peer is closed by dup2() of the
 * placeholder over it, so that its number cannot be reused while a
 * writer may still send to it.
 */
static int pc_act(struct pc_ctx *c, int k, bool self)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (self)
		return shutdown(c->wfd[k], SHUT_WR);
	switch (c->mode[k]) {
	case PC_SHUT_WR:
		return shutdown(c->pfd[k], SHUT_WR);
	case PC_SHUT_RDWR:
		return shutdown(c->pfd[k], SHUT_RDWR);
	case PC_RESET:
		if (setsockopt(c->pfd[k], SOL_SOCKET, SO_LINGER, &lg,
			       sizeof(lg)))
			return -1;
		break;
	}
	return dup2(c->placeholder, c->pfd[k]) < 0 ? -1 : 0;
}

static void *pc_closer(void *arg)
{
	struct pc_ctx *c = ((struct race_thread *)arg)->ctx;
	uint32_t rnd = c->seed;
	int order[PC_PAIRS], i, j, k;
	bool self;

	for (i = 0; i < PC_PAIRS; i++) {
		j = race_rand(&rnd) % (i + 1);
		order[i] = order[j];
		order[j] = i;
	}
	/* Act while the writers send. */
	race_wait_eq(&c->started, PC_WRITERS, RACE_NO_DEADLINE);
	for (i = 0; i < PC_PAIRS && !race_stopped(); i++) {
		uint32_t r = race_rand(&rnd);

		k = order[i];
		race_spin(r % 2048);
		self = c->mode[k] != PC_RESET && c->self_first[k];
		if ((self && pc_act(c, k, true)) || pc_act(c, k, false))
			goto fail;
		if (c->mode[k] != PC_RESET && !self) {
			race_spin((r >> 11) % 1024);
			if (pc_act(c, k, true))
				goto fail;
		}
	}
	__atomic_store_n(&c->closer_done, 1, __ATOMIC_RELEASE);
	return NULL;
fail:
	race_fail("pair %d, %s: %s", k, pc_mode_name[c->mode[k]],
		  strerror(errno));
	return NULL;
}

/* Handle @n events, adding what they report to @rep. */
static bool pc_handle(struct pc_ctx *c, struct epoll_event *ev, int n,
		      uint32_t *rep)
{
	char buf[4096];
	ssize_t ret;
	int i, k;

	for (i = 0; i < n; i++) {
		k = ev[i].data.u64;
		if (k < 0 || k >= PC_PAIRS) {
			race_fail("event with unknown data %d", k);
			return false;
		}
		c->events++;
		c->seen[k] |= ev[i].events;
		rep[k] |= ev[i].events;
		if (!(ev[i].events & EPOLLIN))
			continue;
		do {
			ret = recv(c->wfd[k], buf, sizeof(buf), MSG_DONTWAIT);
		} while (ret > 0);
		if (ret < 0 && errno != EAGAIN && errno != ECONNRESET) {
			race_fail("recv from pair %d: %s", k, strerror(errno));
			return false;
		}
	}
	return true;
}

/* What pair @k is owed: events its socket shows that were not reported. */
static uint32_t pc_owed(struct pc_ctx *c, int k)
{
	struct pollfd p = { .fd = c->wfd[k], .events = POLLIN | POLLRDHUP };
	int q;

	/* FIONREAD locks the socket: the callback for what poll() sees ran. */
	if (ioctl(c->wfd[k], FIONREAD, &q) || poll(&p, 1, 0) < 0) {
		race_fail("pair %d: FIONREAD/poll: %s", k, strerror(errno));
		return 0;
	}
	return p.revents & PC_WANT & ~c->seen[k];
}

/*
 * A wait timed out.  An event owed now must be on the ready list; one
 * owed before the wait began (@before) should have ended the wait.
 */
static void pc_timed_out(struct pc_ctx *c, const uint32_t *before)
{
	uint32_t now[PC_PAIRS], rep[PC_PAIRS] = {}, any = 0;
	struct epoll_event ev[PC_PAIRS];
	int k, n;

	for (k = 0; k < PC_PAIRS; k++)
		any |= now[k] = pc_owed(c, k);
	if (!any)
		return;
	n = epoll_wait(c->epfd, ev, ARRAY_LEN(ev), 0);
	if (n < 0) {
		race_fail("epoll_wait: %s", strerror(errno));
		return;
	}
	if (!pc_handle(c, ev, n, rep))
		return;
	for (k = 0; k < PC_PAIRS; k++) {
		if (!now[k])
			continue;
		if (now[k] & ~rep[k])
			race_fail("pair %d, %s: %s pending, no event: lost",
				  k, pc_mode_name[c->mode[k]],
				  now[k] & EPOLLRDHUP ? "EPOLLRDHUP" :
							"EPOLLHUP");
		else if (now[k] & before[k])
			race_fail("wakeup lost: pair %d, %s: event pending before a %d ms wait",
				  k, pc_mode_name[c->mode[k]], RACE_WAIT_MS);
		else
			c->late++;
	}
}

/* Watch one round until every pair reported both events, or a failure. */
static void pc_watch(struct pc_ctx *c)
{
	uint32_t before[PC_PAIRS], rep[PC_PAIRS] = {};
	struct epoll_event ev[4];
	int k, n, idle = 0;
	bool quiet, done;

	while (!race_stopped()) {
		quiet = load_int(&c->closer_done);
		done = true;
		for (k = 0; k < PC_PAIRS; k++) {
			done &= (c->seen[k] & PC_WANT) == PC_WANT;
			before[k] = quiet ? pc_owed(c, k) : 0;
		}
		if (done)
			return;
		n = epoll_wait(c->epfd, ev, ARRAY_LEN(ev), RACE_WAIT_MS);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			race_fail("epoll_wait: %s", strerror(errno));
			break;
		}
		if (!pc_handle(c, ev, n, rep))
			break;
		if (n) {
			idle = 0;
			continue;
		}
		pc_timed_out(c, before);
		/* The closer is done: the shutdowns are TCP's to deliver. */
		if (!quiet || ++idle < SK_IDLE_WAITS)
			continue;
		for (k = 0; k < PC_PAIRS; k++)
			if ((c->seen[k] & PC_WANT) != PC_WANT)
				race_fail("pair %d, %s: events %#x after %d ms",
					  k, pc_mode_name[c->mode[k]],
					  c->seen[k], idle * RACE_WAIT_MS);
	}
}

FIXTURE(peer) {
};

FIXTURE_SETUP(peer)
{
	const char *why = sk_probe();

	if (why)
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(peer)
{
}

TEST_F_TIMEOUT(peer, close_while_writing, RACE_TIMEOUT)
{
	unsigned long round, rounds = race_iters() / 10 + 1;
	uint32_t rnd = race_seed(301);
	uint64_t deadline = race_deadline();
	struct race_thread t[PC_WRITERS + 1];
	long modes[PC_MODES] = {}, events = 0, late = 0;
	struct sockaddr_in addr;
	struct pc_ctx c;
	int lfd, k, nt, one = 1;

	lfd = sk_listen(&addr, PC_PAIRS, false);
	ASSERT_LE(0, lfd) TH_LOG("listen: %s", strerror(-lfd));
	for (round = 0; round < rounds && !race_stopped(); round++) {
		if (race_now_ms() > deadline)
			break;
		memset(&c, 0, sizeof(c));
		c.seed = race_rand(&rnd);
		c.placeholder = eventfd(0, EFD_CLOEXEC);
		c.epfd = epoll_create1(EPOLL_CLOEXEC);
		ASSERT_LE(0, c.placeholder);
		ASSERT_LE(0, c.epfd);
		for (k = 0; k < PC_PAIRS; k++) {
			uint32_t r = race_rand(&rnd);

			ASSERT_EQ(0, sk_pair(lfd, &addr, &c.pfd[k], &c.wfd[k]));
			ASSERT_EQ(0, setsockopt(c.pfd[k], IPPROTO_TCP,
						TCP_NODELAY, &one, sizeof(one)));
			ASSERT_EQ(0, race_epoll_add(c.epfd, c.wfd[k],
						    EPOLLIN | EPOLLRDHUP |
						    EPOLLET, k));
			c.mode[k] = r % PC_MODES;
			c.self_first[k] = r & 0x100;
			modes[c.mode[k]]++;
		}
		/* The closer is thread PC_WRITERS. */
		nt = start_threads(t, PC_WRITERS, &c, pc_writer);
		t[nt].ctx = &c;
		if (nt == PC_WRITERS &&
		    !pthread_create(&t[nt].tid, NULL, pc_closer, &t[nt]))
			nt++;
		if (nt == PC_WRITERS + 1)
			pc_watch(&c);
		else
			race_fail("cannot start the closer");
		__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
		join_threads(t, nt);
		events += c.events;
		late += c.late;
		for (k = 0; k < PC_PAIRS; k++) {
			close(c.wfd[k]);
			close(c.pfd[k]);
		}
		close(c.placeholder);
		close(c.epfd);
	}
	close(lfd);
	ASSERT_EQ(0, race_failed) TH_LOG("%s", race_msg);
	TH_LOG("%lu rounds, %ld events, %ld late; peers: %ld %s, %ld %s, %ld %s, %ld %s",
	       round, events, late, modes[0], pc_mode_name[0], modes[1],
	       pc_mode_name[1], modes[2], pc_mode_name[2], modes[3],
	       pc_mode_name[3]);
}

TEST_HARNESS_MAIN
