// SPDX-License-Identifier: GPL-2.0
/*
 * Races on one epoll instance: several threads write to the watched
 * files, add, modify and delete them, and wait on the instance, while
 * the checks look for lost, duplicated and stale events.
 *
 * The tests check behaviour that epoll(7) and the kernel promise, not
 * how the kernel implements it, so they pass on any correct kernel.
 * A lost event shows up as a wait that times out (RACE_WAIT_MS), never
 * as a hang.
 *
 * Run time is bounded twice: by iteration counts derived from
 * EPOLL_RACE_ITERS (default RACE_ITERS_DEFAULT, see epoll_race.h) and by
 * EPOLL_RACE_SECS of busy phase per test (default RACE_SECS_DEFAULT).
 * With the defaults the whole file takes two to five seconds on a
 * two-CPU x86_64 host and about twenty seconds in QEMU TCG with two
 * vCPUs; the time caps bound it on slower machines.
 */

#define _GNU_SOURCE
#include <grp.h>
#include <signal.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "epoll_race.h"
#include "../../kselftest_harness.h"

/*
 * Edge-triggered sources hammered by writers, shared by the tests that
 * count every unit written and require every one to be read through an
 * event: no read happens without an event for the file.
 */
#define ET_NSRC		8
#define ET_WRITERS	2
#define ET_DONE		0xd09e		/* data of the "writers done" event */

struct et_ctx {
	struct race_src src[ET_NSRC];
	struct race_src done;		/* written once, by the last writer */
	long written[ET_NSRC];		/* writers add, atomically */
	long nread[ET_NSRC];		/* consumer only */
	int writers_left;
	unsigned long iters;
	uint64_t deadline;
	int epfd;
	/* test 2 only */
	unsigned long state[ET_NSRC];
	long owed_marks;
	int in_wait;
};

static int et_setup(struct et_ctx *c, uint32_t events, unsigned long iters)
{
	int i;

	memset(c, 0, sizeof(*c));
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->epfd < 0)
		return -1;
	/* So that a consumer sleeping when the writers quit wakes up. */
	if (race_src_open(&c->done, false, false) ||
	    race_epoll_add(c->epfd, c->done.rfd, EPOLLIN | EPOLLET, ET_DONE))
		return -1;
	for (i = 0; i < ET_NSRC; i++) {
		/* even: eventfd, odd: pipe */
		if (race_src_open(&c->src[i], i & 1, false))
			return -1;
		if (race_epoll_add(c->epfd, c->src[i].rfd, events, i))
			return -1;
	}
	c->iters = iters;
	c->writers_left = ET_WRITERS;
	c->deadline = race_deadline();
	return 0;
}

static void et_teardown(struct et_ctx *c)
{
	int i;

	for (i = 0; i < ET_NSRC; i++)
		race_src_close(&c->src[i]);
	race_src_close(&c->done);
	close(c->epfd);
}

/* A writer quits; the last one tells the consumer. */
static void et_writer_done(struct et_ctx *c)
{
	/* Pairs with the acquire loads of writers_left by the consumer. */
	if (!__atomic_sub_fetch(&c->writers_left, 1, __ATOMIC_RELEASE))
		race_src_write(&c->done, 1);
}

/* Every unit written has been read.  Only valid once the writers quit. */
static bool et_all_read(struct et_ctx *c)
{
	int i;

	for (i = 0; i < ET_NSRC; i++)
		if (c->nread[i] != __atomic_load_n(&c->written[i],
						   __ATOMIC_RELAXED))
			return false;
	return true;
}

static void et_report_unread(struct et_ctx *c, const char *what)
{
	int i;

	for (i = 0; i < ET_NSRC; i++) {
		long w = __atomic_load_n(&c->written[i], __ATOMIC_RELAXED);

		if (c->nread[i] != w) {
			race_fail("%s: %s %d: %ld units written, %ld read",
				  what, c->src[i].pipe ? "pipe" : "eventfd",
				  i, w, c->nread[i]);
			return;
		}
	}
}

/* The writers quit and every unit they wrote was read. */
static bool et_finished(struct et_ctx *c)
{
	return !load_int(&c->writers_left) && et_all_read(c);
}

/* Consume one event: read the file to EAGAIN. */
static bool et_consume(struct et_ctx *c, uint64_t data)
{
	long r;

	if (data == ET_DONE)
		return true;
	if (data >= ET_NSRC) {
		race_fail("event with unknown data %#llx",
			  (unsigned long long)data);
		return false;
	}
	r = race_src_drain(&c->src[data]);
	if (r < 0)
		return false;
	c->nread[data] += r;
	return true;
}

static void *et_writer(void *arg)
{
	struct race_thread *t = arg;
	struct et_ctx *c = t->ctx;
	uint32_t rnd = race_seed(t->id + 1);
	unsigned long i;

	for (i = 0; i < c->iters && !race_stopped(); i++) {
		uint32_t r = race_rand(&rnd);
		int k = r % ET_NSRC;
		long w;

		if (!(i & 63) && race_now_ms() > c->deadline)
			break;
		w = race_src_write(&c->src[k], 1 + (r >> 8) % 8);
		if (w < 0)
			break;
		if (!w) {		/* pipe full: let the consumer run */
			sched_yield();
			continue;
		}
		__atomic_fetch_add(&c->written[k], w, __ATOMIC_RELAXED);
		if (!((r >> 16) & 3))
			race_spin((r >> 18) % 512);
	}
	et_writer_done(c);
	return NULL;
}

FIXTURE(race) {
};

FIXTURE_SETUP(race)
{
}

FIXTURE_TEARDOWN(race)
{
}

/*
 * 1. EPOLLET, no lost edge.  Two writers hammer four eventfds and four
 * pipes (EPOLL_RACE_ITERS * 20 writes each); the consumer reads each
 * file to EAGAIN after each event.  Every unit written must be read,
 * and after the writers stop, the remaining data must come with events
 * within RACE_WAIT_MS: the consumer never reads a file without an event.
 */
TEST_F_TIMEOUT(race, et_no_lost_edge, RACE_TIMEOUT)
{
	struct race_thread t[ET_WRITERS];
	struct epoll_event ev[4];
	struct et_ctx c;
	int i, n, nt;

	ASSERT_EQ(0, et_setup(&c, EPOLLIN | EPOLLET, race_iters() * 20));
	nt = start_threads(t, ET_WRITERS, &c, et_writer);

	while (!race_stopped()) {
		bool done = load_int(&c.writers_left) == 0;

		n = epoll_wait(c.epfd, ev, ARRAY_LEN(ev), RACE_WAIT_MS);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			race_fail("epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++)
			if (!et_consume(&c, ev[i].data.u64))
				break;
		if (et_finished(&c))
			break;
		if (done && !n)
			et_report_unread(&c, "edge lost");
	}
	join_threads(t, nt);
	ASSERT_EQ(0, race_failed) TH_LOG("%s", race_msg);
	et_teardown(&c);
}

/*
 * 2. EPOLLET, event arriving during delivery.  maxevents is 1 and
 * several files are ready, so most of a wait's work is on items it does
 * not return.  The writers aim most of their writes at the moment the
 * consumer is inside epoll_wait() (EPOLL_RACE_ITERS * 10 bursts per
 * writer); a write that lands during a drain leaves an event queued for
 * a file that is empty when epoll_wait() polls it.
 *
 * Each file has a state: BUSY while the consumer reads it, DRAINED once
 * it saw EAGAIN, OWED when a writer wrote to it after that EAGAIN.  The
 * writers mostly write to DRAINED files and seldom to OWED ones, so that
 * a later write rarely hides a lost event.  A write after EAGAIN must
 * produce a later event: an OWED file must be reported within
 * 2 * ET_NSRC waits (ready events are FIFO, one per wait), and a wait
 * may not time out while a file is OWED.  The state carries a generation
 * in its upper bits so that a writer's mark can never land on a later
 * drain.
 */
enum { DL_BUSY, DL_DRAINED, DL_OWED, DL_MASK = 3 };

/*
 * Mark file @k OWED if it is still in the drained state @st: fails once
 * the consumer started a new generation.  The release pairs with the
 * consumer's acquire loads of the state.
 */
static bool dl_mark_owed(struct et_ctx *c, int k, unsigned long st)
{
	unsigned long owed = (st & ~DL_MASK) | DL_OWED;

	return __atomic_compare_exchange_n(&c->state[k], &st, owed, false,
					   __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

static void *dl_writer(void *arg)
{
	struct race_thread *t = arg;
	struct et_ctx *c = t->ctx;
	uint32_t rnd = race_seed(t->id + 11);
	unsigned long i;
	int b, s;

	for (i = 0; i < c->iters && !race_stopped(); i++) {
		uint32_t r = race_rand(&rnd);

		if (!(i & 15) && race_now_ms() > c->deadline)
			break;
		/*
		 * Most bursts wait (a little) for the consumer to enter
		 * epoll_wait(); the others land anywhere, drains included.
		 */
		for (s = 0; s < 4096 && (r & 0x30000) &&
		     !load_int(&c->in_wait); s++)
			race_relax();
		if (s == 4096)
			sched_yield();
		race_spin(r % 1024);

		for (b = 0; b <= (int)(r >> 10) % 3; b++) {
			uint32_t r2 = race_rand(&rnd);
			int k = r2 % ET_NSRC;
			unsigned long st;
			long w;

			/*
			 * Pairs with the release store of DRAINED by the
			 * consumer: seeing it means EAGAIN came before this
			 * write.
			 */
			st = __atomic_load_n(&c->state[k], __ATOMIC_ACQUIRE);
			/*
			 * Mostly write to drained files, whose next event
			 * is owed to this write alone; sometimes write
			 * during a drain, which leaves an event queued for a
			 * file that will be empty when the event is polled.
			 */
			if ((st & DL_MASK) == DL_BUSY && (r2 & 0x100))
				continue;
			if ((st & DL_MASK) == DL_OWED && (r2 & 0x700))
				continue;
			w = race_src_write(&c->src[k], 1 + b);
			if (w < 0)
				goto out;
			__atomic_fetch_add(&c->written[k], w, __ATOMIC_RELAXED);
			if (w && (st & DL_MASK) == DL_DRAINED &&
			    dl_mark_owed(c, k, st))
				__atomic_fetch_add(&c->owed_marks, 1,
						   __ATOMIC_RELAXED);
		}
	}
out:
	et_writer_done(c);
	return NULL;
}

TEST_F_TIMEOUT(race, et_event_during_delivery, RACE_TIMEOUT)
{
	struct race_thread t[ET_WRITERS];
	int waits_owed[ET_NSRC] = { 0 };
	long waits = 0, owed_waits = 0;
	struct epoll_event ev;
	struct et_ctx c;
	int i, k, n, nt;

	ASSERT_EQ(0, et_setup(&c, EPOLLIN | EPOLLET, race_iters() * 10));
	for (i = 0; i < ET_NSRC; i++)
		c.state[i] = DL_DRAINED;
	nt = start_threads(t, ET_WRITERS, &c, dl_writer);

	while (!race_stopped()) {
		bool done = load_int(&c.writers_left) == 0;
		int owed = -1;

		for (i = 0; i < ET_NSRC; i++) {
			if ((__atomic_load_n(&c.state[i], __ATOMIC_ACQUIRE) &
			     DL_MASK) != DL_OWED)
				continue;
			owed = i;
			if (++waits_owed[i] > 2 * ET_NSRC)
				race_fail("fd %d written after EAGAIN, not reported by %d waits",
					  i, 2 * ET_NSRC);
		}

		waits++;
		owed_waits += owed >= 0;
		__atomic_store_n(&c.in_wait, 1, __ATOMIC_RELAXED);
		n = epoll_wait(c.epfd, &ev, 1, RACE_WAIT_MS);
		__atomic_store_n(&c.in_wait, 0, __ATOMIC_RELAXED);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			race_fail("epoll_wait: %s", strerror(errno));
			break;
		}
		if (!n && owed >= 0) {
			race_fail("fd %d written after EAGAIN, no event in %d ms",
				  owed, RACE_WAIT_MS);
			break;
		}
		if (n && ev.data.u64 != ET_DONE) {
			unsigned long st;

			k = ev.data.u64;
			if (k >= ET_NSRC) {
				race_fail("unknown event data %d", k);
				break;
			}
			/* A new generation: pending writer marks now fail. */
			st = __atomic_load_n(&c.state[k], __ATOMIC_RELAXED);
			st = (st & ~DL_MASK) + (DL_MASK + 1);
			__atomic_exchange_n(&c.state[k], st | DL_BUSY,
					    __ATOMIC_ACQ_REL);
			waits_owed[k] = 0;
			/* Let writes land during the drain now and then. */
			if (!(waits & 3))
				race_spin(waits % 509);
			if (!et_consume(&c, k))
				break;
			/* Pairs with the acquire load in dl_writer(). */
			__atomic_store_n(&c.state[k], st | DL_DRAINED,
					 __ATOMIC_RELEASE);
		}
		if (et_finished(&c))
			break;
		if (done && !n)
			et_report_unread(&c, "edge lost");
	}
	join_threads(t, nt);
	ASSERT_EQ(0, race_failed) TH_LOG("%s", race_msg);
	TH_LOG("%ld waits, %ld of them with an event owed; %ld writes after EAGAIN",
	       waits, owed_waits, c.owed_marks);
	et_teardown(&c);
}

/*
 * 3. EPOLLONESHOT exclusivity.  Three waiters share one epoll instance
 * with twelve eventfds and four pipes in EPOLLONESHOT mode, while two
 * writers write to them (EPOLL_RACE_ITERS * 10 writes each).  A waiter
 * that gets a file takes ownership with an atomic exchange (finding an
 * owner is a failure), reads it (there must be data: nobody else may
 * have read it), releases it and re-arms it with EPOLL_CTL_MOD.  The
 * event data carries the arming generation: an event from an arming
 * that was already consumed is a one-shot delivered twice.  Every unit
 * written must be read: once the waiters are gone, and with them any
 * file they held disarmed, the test thread takes what is left, and a
 * wait that runs into RACE_WAIT_MS with data unread is a lost event.
 */
#define OS_NSRC		16
#define OS_WAITERS	3
#define OS_WRITERS	2

struct os_ctx {
	struct race_src src[OS_NSRC];
	int owner[OS_NSRC];
	uint32_t armgen[OS_NSRC];
	long written, nread;
	int writers_left;
	unsigned long iters;
	uint64_t deadline;
	int epfd;
};

static uint64_t os_data(int k, uint32_t gen)
{
	return (uint64_t)gen << 32 | k;
}

static void *os_writer(void *arg)
{
	struct race_thread *t = arg;
	struct os_ctx *c = t->ctx;
	uint32_t rnd = race_seed(t->id + 21);
	unsigned long i;

	for (i = 0; i < c->iters && !race_stopped(); i++) {
		uint32_t r = race_rand(&rnd);
		long w;

		if (!(i & 63) && race_now_ms() > c->deadline)
			break;
		w = race_src_write(&c->src[r % OS_NSRC], 1 + (r >> 8) % 4);
		if (w < 0)
			break;
		if (!w)
			sched_yield();
		__atomic_fetch_add(&c->written, w, __ATOMIC_RELAXED);
		if (!((r >> 12) & 3))
			race_spin((r >> 14) % 512);
	}
	__atomic_fetch_sub(&c->writers_left, 1, __ATOMIC_RELEASE);
	return NULL;
}

static bool os_handle(struct os_ctx *c, int self, uint64_t data,
		      uint32_t *rnd)
{
	uint32_t gen = data >> 32, cur;
	int k = (uint32_t)data, prev;
	long r;

	if (k >= OS_NSRC) {
		race_fail("unknown event data %#llx", (unsigned long long)data);
		return false;
	}
	/* Pairs with the release store of armgen before EPOLL_CTL_MOD. */
	cur = __atomic_load_n(&c->armgen[k], __ATOMIC_ACQUIRE);
	if (gen != cur) {
		race_fail("fd %d: event of arming %u delivered during arming %u",
			  k, gen, cur);
		return false;
	}
	prev = __atomic_exchange_n(&c->owner[k], self + 1, __ATOMIC_ACQ_REL);
	if (prev) {
		race_fail("fd %d delivered to waiter %d while waiter %d owns it",
			  k, self, prev - 1);
		return false;
	}
	/* Hold the file a little while, to give a duplicate a chance. */
	race_spin(race_rand(rnd) % 256);
	r = race_src_drain(&c->src[k]);
	if (r < 0)
		return false;
	if (!r) {
		race_fail("one-shot event for fd %d (arming %u) without data",
			  k, gen);
		return false;
	}
	__atomic_fetch_add(&c->nread, r, __ATOMIC_RELAXED);

	/* Both pair with the acquire operations above, in the next owner. */
	__atomic_store_n(&c->armgen[k], gen + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&c->owner[k], 0, __ATOMIC_RELEASE);
	if (race_epoll_mod(c->epfd, c->src[k].rfd, EPOLLIN | EPOLLONESHOT,
			   os_data(k, gen + 1))) {
		race_fail("EPOLL_CTL_MOD: %s", strerror(errno));
		return false;
	}
	return true;
}

static void *os_waiter(void *arg)
{
	struct race_thread *t = arg;
	struct os_ctx *c = t->ctx;
	uint32_t rnd = race_seed(t->id + 31);
	struct epoll_event ev[2];
	bool done;
	int i, n;

	while (!race_stopped()) {
		done = !load_int(&c->writers_left);
		if (done && __atomic_load_n(&c->nread, __ATOMIC_RELAXED) ==
			    __atomic_load_n(&c->written, __ATOMIC_RELAXED))
			break;
		/* Short timeout: the loop also watches for the end. */
		n = epoll_wait(c->epfd, ev, ARRAY_LEN(ev), 20);
		if (n < 0 && errno != EINTR) {
			race_fail("epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++)
			if (!os_handle(c, t->id, ev[i].data.u64, &rnd))
				break;
		/* Quiet after the writers quit: the test thread takes the rest. */
		if (done && !n)
			break;
	}
	return NULL;
}

TEST_F_TIMEOUT(race, oneshot_exclusive, RACE_TIMEOUT)
{
	struct race_thread w[OS_WRITERS], r[OS_WAITERS];
	uint32_t rnd = race_seed(OS_WAITERS + 31);
	struct epoll_event ev[2];
	struct os_ctx c;
	int i, n, nw, nr;

	memset(&c, 0, sizeof(c));
	c.epfd = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, c.epfd);
	for (i = 0; i < OS_NSRC; i++) {
		ASSERT_EQ(0, race_src_open(&c.src[i], i >= 12, false));
		ASSERT_EQ(0, race_epoll_add(c.epfd, c.src[i].rfd,
					    EPOLLIN | EPOLLONESHOT,
					    os_data(i, 0)));
	}
	c.iters = race_iters() * 10;
	c.writers_left = OS_WRITERS;
	c.deadline = race_deadline();

	nr = start_threads(r, OS_WAITERS, &c, os_waiter);
	nw = start_threads(w, OS_WRITERS, &c, os_writer);
	join_threads(w, nw);
	join_threads(r, nr);
	ASSERT_EQ(0, race_failed) TH_LOG("%s", race_msg);
	/* No waiter left, every file re-armed: unread data must come. */
	while (c.nread != c.written) {
		n = epoll_wait(c.epfd, ev, ARRAY_LEN(ev), RACE_WAIT_MS);
		ASSERT_LT(0, n)
			TH_LOG("one-shot event lost: %ld written, %ld read, %d ms",
			       c.written, c.nread, RACE_WAIT_MS);
		for (i = 0; i < n; i++)
			ASSERT_TRUE(os_handle(&c, OS_WAITERS, ev[i].data.u64,
					      &rnd)) TH_LOG("%s", race_msg);
	}
	for (i = 0; i < OS_NSRC; i++)
		race_src_close(&c.src[i]);
	close(c.epfd);
}

/*
 * 4. EPOLLONESHOT re-arm race.  A disarmed, drained file gets data just
 * before, while or just after EPOLL_CTL_MOD re-arms it (a helper thread
 * writes after a random delay while the test re-arms after another).
 * Once both the write and the MOD have returned, the data is pending and
 * the file armed, so epoll_wait() must report it: either the MOD's poll
 * or the wakeup callback saw the data.  Without a write, the re-armed
 * file must not be reported.  Level-triggered and EPOLLET one-shot
 * alternate; EPOLL_RACE_ITERS * 4 rounds.
 */
struct ra_ctx {
	struct race_src src[2];
	int go, wrote, target;
	unsigned int delay;
	int quit;
};

static void *ra_writer(void *arg)
{
	struct race_thread *t = arg;
	struct ra_ctx *c = t->ctx;
	int last = 0, g;

	while (!load_int(&c->quit) && !race_stopped()) {
		g = load_int(&c->go);
		if (g == last) {
			sched_yield();
			continue;
		}
		race_spin(c->delay);
		if (race_src_write(&c->src[c->target], 1) != 1) {
			race_fail("write to re-armed fd failed");
			break;
		}
		/* Pairs with the acquire load of wrote by the test. */
		__atomic_store_n(&c->wrote, g, __ATOMIC_RELEASE);
		last = g;
	}
	return NULL;
}

TEST_F_TIMEOUT(race, oneshot_rearm_race, RACE_TIMEOUT)
{
	uint32_t rnd = race_seed(41);
	uint64_t deadline = race_deadline();
	unsigned long it, iters = race_iters() * 4;
	struct race_thread t;
	struct epoll_event ev[2];
	struct ra_ctx c;
	int epfd, i, k, n, nt;

	memset(&c, 0, sizeof(c));
	epfd = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, epfd);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, race_src_open(&c.src[i], i, false));
		ASSERT_EQ(0, race_epoll_add(epfd, c.src[i].rfd,
					    EPOLLIN | EPOLLONESHOT, i));
		/* Consume the arming from EPOLL_CTL_ADD: disarmed, drained. */
		ASSERT_EQ(1, race_src_write(&c.src[i], 1));
		ASSERT_EQ(1, epoll_wait(epfd, ev, 2, RACE_WAIT_MS));
		ASSERT_EQ(i, ev[0].data.u64);
		ASSERT_EQ(1, race_src_drain(&c.src[i]));
	}
	nt = start_threads(&t, 1, &c, ra_writer);
	ASSERT_EQ(1, nt);

	for (it = 1; it <= iters && !race_stopped(); it++) {
		uint32_t r = race_rand(&rnd);
		uint32_t events = EPOLLIN | EPOLLONESHOT;
		int mode = (r >> 1) % 5, fd;

		if (race_now_ms() > deadline)
			break;
		if (r & 1)
			events |= EPOLLET;
		k = (r >> 4) & 1;
		fd = c.src[k].rfd;
		if (mode == 0) {
			/* No data: the re-armed file must stay silent. */
			ASSERT_EQ(0, race_epoll_mod(epfd, fd, events, k));
			ASSERT_EQ(0, epoll_wait(epfd, ev, 2, 0))
				TH_LOG("re-armed fd without data reported");
			ASSERT_EQ(1, race_src_write(&c.src[k], 1));
		} else if (mode == 1) {
			/* Data well before the MOD. */
			ASSERT_EQ(1, race_src_write(&c.src[k], 1));
			ASSERT_EQ(0, race_epoll_mod(epfd, fd, events, k));
		} else {
			/* Data racing with the MOD. */
			c.target = k;
			c.delay = (r >> 8) % (64u << (2 * (mode - 2)));
			__atomic_store_n(&c.go, (int)it, __ATOMIC_RELEASE);
			race_spin((r >> 20) % (64u << (2 * (mode - 2))));
			ASSERT_EQ(0, race_epoll_mod(epfd, fd, events, k));
			/* A slow writer is late, not wrong: no deadline. */
			ASSERT_TRUE(race_wait_eq(&c.wrote, (int)it,
						 RACE_NO_DEADLINE))
				TH_LOG("writer thread failed");
		}
		/* Data pending, file armed: it must be reported, alone. */
		n = epoll_wait(epfd, ev, 2, RACE_WAIT_MS);
		ASSERT_EQ(1, n)
			TH_LOG("round %lu mode %d fd %d %s: %d events after re-arm",
			       it, mode, k, r & 1 ? "ET" : "LT", n);
		ASSERT_EQ(k, ev[0].data.u64);
		ASSERT_EQ(1, race_src_drain(&c.src[k]));
	}
	__atomic_store_n(&c.quit, 1, __ATOMIC_RELEASE);
	join_threads(&t, nt);
	ASSERT_EQ(0, race_failed) TH_LOG("%s", race_msg);
	for (i = 0; i < 2; i++)
		race_src_close(&c.src[i]);
	close(epfd);
}

/*
 * 5. Level-triggered re-queue under concurrent writers.  Fourteen
 * eventfds are always readable and never read, while a writer keeps
 * adding to them (so wakeup callbacks run during every wait).  Each
 * wait must return min(maxevents, 14) distinct files, and the ready
 * files must take turns: within any ceil(14 / maxevents) + 1
 * consecutive waits every file is reported.  EPOLL_RACE_ITERS * 2 waits
 * per variant.  In the fifo_hog variant the writer shares its CPU with a
 * SCHED_FIFO thread that spins and sleeps in turns, so that the writer
 * is preempted anywhere in write(), on PREEMPT_RT also inside the wakeup
 * callback, while the waits run on another CPU.
 */
#define LT_NSRC		14

FIXTURE(lt) {
};

FIXTURE_VARIANT(lt) {
	int maxevents;
	bool fifo_hog;
};

FIXTURE_VARIANT_ADD(lt, max1) {
	.maxevents = 1,
};

FIXTURE_VARIANT_ADD(lt, max5) {
	.maxevents = 5,
};

FIXTURE_VARIANT_ADD(lt, max_all) {
	.maxevents = LT_NSRC,
};

FIXTURE_VARIANT_ADD(lt, max_double) {
	.maxevents = 2 * LT_NSRC,
};

FIXTURE_VARIANT_ADD(lt, max5_fifo_hog) {
	.maxevents = 5,
	.fifo_hog = true,
};

FIXTURE_SETUP(lt)
{
}

FIXTURE_TEARDOWN(lt)
{
}

struct lt_ctx {
	struct race_src src[LT_NSRC];
	cpu_set_t writer_cpu;		/* fifo_hog: the writer's and the hog's */
	int hog;			/* fifo_hog: RACE_HOG_* */
	int quit;
};

static void *lt_writer(void *arg)
{
	struct race_thread *t = arg;
	struct lt_ctx *c = t->ctx;
	uint32_t rnd = race_seed(t->id + 51);

	if (load_int(&c->hog) == RACE_HOG_ON &&
	    sched_setaffinity(0, sizeof(c->writer_cpu), &c->writer_cpu)) {
		race_fail("writer: sched_setaffinity: %s", strerror(errno));
		return NULL;
	}
	while (!load_int(&c->quit) && !race_stopped()) {
		uint32_t r = race_rand(&rnd);

		if (race_src_write(&c->src[r % LT_NSRC], 1) < 0)
			break;
		race_spin((r >> 8) % 2048);
	}
	return NULL;
}

/* fifo_hog: SCHED_FIFO on the writer's CPU, spinning and sleeping. */
static void *lt_hog(void *arg)
{
	struct race_thread *t = arg;
	struct lt_ctx *c = t->ctx;

	race_hog(&c->hog, &c->quit, &c->writer_cpu, RACE_NO_DEADLINE, true);
	return NULL;
}

TEST_F_TIMEOUT(lt, round_robin, RACE_TIMEOUT)
{
	int m = variant->maxevents;
	int expect = m < LT_NSRC ? m : LT_NSRC;
	int window = (LT_NSRC + m - 1) / m + 1;
	unsigned long call, calls = race_iters() * 2;
	uint64_t deadline = race_deadline();
	struct epoll_event ev[2 * LT_NSRC];
	long last_seen[LT_NSRC];
	struct race_thread t, hog;
	struct lt_ctx c;
	cpu_set_t own;
	int epfd, i, n, nt, nh = 0;

	memset(&c, 0, sizeof(c));
	if (variant->fifo_hog) {
		i = race_split_cpus(&c.writer_cpu, &own);
		if (i > 0)
			SKIP(return, "fifo_hog needs two CPUs");
		ASSERT_EQ(0, i) TH_LOG("sched_setaffinity: %s", strerror(errno));
		nh = start_threads(&hog, 1, &c, lt_hog);
		ASSERT_EQ(1, nh);
		i = race_hog_wait(&c.hog, RACE_START_MS);
		if (i != RACE_HOG_ON) {
			__atomic_store_n(&c.quit, 1, __ATOMIC_RELEASE);
			join_threads(&hog, nh);
		}
		ASSERT_NE(RACE_HOG_STARTING, i)
			TH_LOG("the SCHED_FIFO thread did not start in %d ms",
			       RACE_START_MS);
		if (i == RACE_HOG_REFUSED)
			SKIP(return, "no SCHED_FIFO thread on the writer's CPU");
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, epfd);
	for (i = 0; i < LT_NSRC; i++) {
		ASSERT_EQ(0, race_src_open(&c.src[i], false, false));
		ASSERT_EQ(1, race_src_write(&c.src[i], 1));
		ASSERT_EQ(0, race_epoll_add(epfd, c.src[i].rfd, EPOLLIN, i));
		last_seen[i] = -1;
	}
	nt = start_threads(&t, 1, &c, lt_writer);

	for (call = 0; call < calls && !race_stopped(); call++) {
		uint32_t seen = 0;

		if (!(call & 63) && race_now_ms() > deadline)
			break;
		n = epoll_wait(epfd, ev, m, RACE_WAIT_MS);
		EXPECT_EQ(expect, n)
			TH_LOG("wait %lu returned %d of %d ready fds (maxevents %d)",
			       call, n, LT_NSRC, m);
		if (n != expect)
			break;
		for (i = 0; i < n; i++) {
			uint64_t k = ev[i].data.u64;

			ASSERT_GT(LT_NSRC, k);
			EXPECT_EQ(0, seen & (1u << k))
				TH_LOG("fd %d reported twice by wait %lu",
				       (int)k, call);
			seen |= 1u << k;
			last_seen[k] = call;
		}
		for (i = 0; i < LT_NSRC; i++) {
			EXPECT_GT(window, (long)call - last_seen[i])
				TH_LOG("ready fd %d not reported by waits %ld..%lu (maxevents %d)",
				       i, last_seen[i] + 1, call, m);
		}
		if (_metadata->exit_code)
			break;
	}
	__atomic_store_n(&c.quit, 1, __ATOMIC_RELEASE);
	join_threads(&t, nt);
	join_threads(&hog, nh);
	ASSERT_EQ(0, race_failed) TH_LOG("%s", race_msg);
	for (i = 0; i < LT_NSRC; i++)
		race_src_close(&c.src[i]);
	close(epfd);
}

/*
 * 6. EPOLL_CTL_DEL, EPOLL_CTL_MOD and close() while callbacks fire.
 * Two writers hammer eight eventfds; the test thread waits on them and,
 * EPOLL_RACE_ITERS * 4 times, picks one and deletes and re-adds it,
 * changes its data with EPOLL_CTL_MOD, or closes it and adds a new
 * eventfd in its place.  Each registration has its own generation in the
 * event data.  No event may carry the data of a registration after its
 * EPOLL_CTL_DEL or EPOLL_CTL_MOD returned.  (After close() a writer in
 * the middle of write() may still hold the file, and with it the epoll
 * item, for a moment, so those generations are only counted.)  At the
 * end /proc/self/fdinfo must list exactly the live registrations and
 * each of them must still deliver events.
 */
#define DC_NSLOT	8
#define DC_WRITERS	2

enum { DC_LIVE, DC_DELETED, DC_CLOSED };

struct dc_ctx {
	int fd[DC_NSLOT];		/* writers load it atomically */
	uint32_t gen[DC_NSLOT];
	uint8_t *how;			/* how each generation ended */
	uint32_t ngen, maxgen;
	int epfd, quit;
};

static uint64_t dc_data(int s, uint32_t gen)
{
	return (uint64_t)gen << 32 | s;
}

static void *dc_writer(void *arg)
{
	struct race_thread *t = arg;
	struct dc_ctx *c = t->ctx;
	uint32_t rnd = race_seed(t->id + 61);
	uint64_t one = 1;

	while (!load_int(&c->quit) && !race_stopped()) {
		uint32_t r = race_rand(&rnd);
		int fd = load_int(&c->fd[r % DC_NSLOT]);

		/* The fd may be closed (EBADF) or reused: both harmless. */
		if (write(fd, &one, sizeof(one)) < 0 && errno != EBADF &&
		    errno != EAGAIN)
			race_fail("write: %s", strerror(errno));
		if (!((r >> 8) & 7))
			race_spin((r >> 11) % 256);
	}
	return NULL;
}

/* Check the events of one wait; returns the number of stale events. */
static long dc_check(struct dc_ctx *c, struct epoll_event *ev, int n)
{
	long stale = 0;
	uint64_t v;
	int i;

	for (i = 0; i < n; i++) {
		uint32_t g = ev[i].data.u64 >> 32;
		int s = (uint32_t)ev[i].data.u64;

		if (s >= DC_NSLOT || !g || g > c->ngen) {
			race_fail("event with unknown data %#llx",
				  (unsigned long long)ev[i].data.u64);
			return stale;
		}
		if (c->how[g] == DC_DELETED) {
			race_fail("slot %d: event of registration %u after DEL/MOD",
				  s, g);
			return stale;
		}
		if (c->how[g] == DC_CLOSED) {
			stale++;
			continue;
		}
		if (c->gen[s] != g) {
			race_fail("slot %d: event of live registration %u, current is %u",
				  s, g, c->gen[s]);
			return stale;
		}
		if ((g & 1) && read(c->fd[s], &v, sizeof(v)) < 0 &&
		    errno != EAGAIN)
			race_fail("read: %s", strerror(errno));
	}
	return stale;
}

static uint32_t dc_events(uint32_t gen)
{
	/* Alternate level- and edge-triggered registrations. */
	return EPOLLIN | (gen & 2 ? EPOLLET : 0);
}

TEST_F_TIMEOUT(race, del_mod_close_while_firing, RACE_TIMEOUT)
{
	unsigned long it, iters = race_iters() * 4;
	uint32_t rnd = race_seed(71);
	uint64_t deadline = race_deadline();
	struct race_thread t[DC_WRITERS];
	struct epoll_event ev[DC_NSLOT * 2];
	long stale = 0;
	unsigned int seen;
	struct dc_ctx c;
	int i, n, nt, s, fd, ofd, tfd;
	uint32_t og;
	char path[64], line[256];
	unsigned long long data;
	uint32_t events;
	FILE *f;

	memset(&c, 0, sizeof(c));
	c.maxgen = iters + DC_NSLOT + 1;
	c.how = calloc(c.maxgen + 1, 1);
	ASSERT_NE(NULL, c.how);
	c.epfd = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, c.epfd);
	for (s = 0; s < DC_NSLOT; s++) {
		c.fd[s] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ASSERT_LE(0, c.fd[s]);
		c.gen[s] = ++c.ngen;
		ASSERT_EQ(0, race_epoll_add(c.epfd, c.fd[s],
					    dc_events(c.gen[s]),
					    dc_data(s, c.gen[s])));
	}
	nt = start_threads(t, DC_WRITERS, &c, dc_writer);

	for (it = 0; it < iters && !race_stopped(); it++) {
		uint32_t r = race_rand(&rnd);

		if (!(it & 31) && race_now_ms() > deadline)
			break;
		n = epoll_wait(c.epfd, ev, 1 + r % ARRAY_LEN(ev), 0);
		ASSERT_LE(0, n);
		stale += dc_check(&c, ev, n);
		if (race_stopped())
			break;

		s = (r >> 8) % DC_NSLOT;
		og = c.gen[s];
		c.gen[s] = ++c.ngen;
		switch ((r >> 12) % 3) {
		case 0:	/* delete and add again */
			ASSERT_EQ(0, epoll_ctl(c.epfd, EPOLL_CTL_DEL, c.fd[s],
					       NULL));
			c.how[og] = DC_DELETED;
			if (r & (1 << 20)) {
				ASSERT_EQ(-1, epoll_ctl(c.epfd, EPOLL_CTL_DEL,
							c.fd[s], NULL));
				ASSERT_EQ(ENOENT, errno);
			}
			ASSERT_EQ(0, race_epoll_add(c.epfd, c.fd[s],
						    dc_events(c.gen[s]),
						    dc_data(s, c.gen[s])));
			break;
		case 1:	/* new data, same registration */
			ASSERT_EQ(0, race_epoll_mod(c.epfd, c.fd[s],
						    dc_events(c.gen[s]),
						    dc_data(s, c.gen[s])));
			c.how[og] = DC_DELETED;
			break;
		case 2:	/* close under the writers' feet */
			fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
			ASSERT_LE(0, fd);
			ofd = __atomic_exchange_n(&c.fd[s], fd,
						  __ATOMIC_ACQ_REL);
			c.how[og] = DC_CLOSED;
			ASSERT_EQ(0, close(ofd));
			/* Closed: EBADF, whatever epoll still holds. */
			ASSERT_EQ(-1, epoll_ctl(c.epfd, EPOLL_CTL_DEL, ofd,
						NULL));
			ASSERT_EQ(EBADF, errno);
			ASSERT_EQ(0, race_epoll_add(c.epfd, fd,
						    dc_events(c.gen[s]),
						    dc_data(s, c.gen[s])));
			break;
		}
	}
	__atomic_store_n(&c.quit, 1, __ATOMIC_RELEASE);
	join_threads(t, nt);
	ASSERT_EQ(0, race_failed) TH_LOG("%s", race_msg);

	/* Writers gone: no closed file can linger in the interest list. */
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", c.epfd);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	n = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "tfd: %d events: %x data: %llx",
			   &tfd, &events, &data) != 3)
			continue;
		n++;
		s = (uint32_t)data;
		ASSERT_GT(DC_NSLOT, s);
		EXPECT_EQ(c.fd[s], tfd);
		EXPECT_EQ(c.gen[s], data >> 32);
	}
	fclose(f);
	EXPECT_EQ(DC_NSLOT, n);

	/* Every live registration still works, with its current data. */
	for (s = 0; s < DC_NSLOT; s++) {
		uint64_t one = 1;

		ASSERT_EQ(sizeof(one), write(c.fd[s], &one, sizeof(one)));
	}
	for (seen = 0; seen != (1u << DC_NSLOT) - 1; ) {
		n = epoll_wait(c.epfd, ev, ARRAY_LEN(ev), RACE_WAIT_MS);
		ASSERT_LT(0, n) TH_LOG("live registrations %#x not reported",
				       ~seen & ((1u << DC_NSLOT) - 1));
		for (i = 0; i < n; i++) {
			s = (uint32_t)ev[i].data.u64;
			ASSERT_GT(DC_NSLOT, s);
			ASSERT_EQ(c.gen[s], ev[i].data.u64 >> 32);
			seen |= 1u << s;
		}
	}
	TH_LOG("%lu rounds, %ld events of closed files", it, stale);
	for (s = 0; s < DC_NSLOT; s++)
		close(c.fd[s]);
	close(c.epfd);
	free(c.how);
}

/*
 * 6b. Closing the epoll file itself while callbacks fire: the writers of
 * test 6 hammer eight eventfds while the test thread, EPOLL_RACE_ITERS
 * times, creates an epoll instance watching all of them (some of them
 * edge-triggered, some also through a nested instance), maybe waits on
 * it, and closes it.  Nothing to compare: it must not crash, hang or
 * leak (run it under KASAN and kmemleak to see the last two).
 */
TEST_F_TIMEOUT(race, close_epoll_while_firing, RACE_TIMEOUT)
{
	unsigned long it, iters = race_iters();
	uint32_t rnd = race_seed(81);
	uint64_t deadline = race_deadline();
	struct race_thread t[DC_WRITERS];
	struct epoll_event ev[DC_NSLOT];
	struct dc_ctx c;
	int ep, inner, nt, s;

	memset(&c, 0, sizeof(c));
	for (s = 0; s < DC_NSLOT; s++) {
		c.fd[s] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ASSERT_LE(0, c.fd[s]);
	}
	nt = start_threads(t, DC_WRITERS, &c, dc_writer);

	for (it = 0; it < iters && !race_stopped(); it++) {
		uint32_t r = race_rand(&rnd);

		if (!(it & 15) && race_now_ms() > deadline)
			break;
		ep = epoll_create1(EPOLL_CLOEXEC);
		ASSERT_LE(0, ep);
		inner = -1;
		if (r & 1) {
			inner = epoll_create1(EPOLL_CLOEXEC);
			ASSERT_LE(0, inner);
			ASSERT_EQ(0, race_epoll_add(ep, inner, EPOLLIN, 99));
		}
		for (s = 0; s < DC_NSLOT; s++) {
			int to = inner >= 0 && (s & 1) ? inner : ep;
			uint32_t events = EPOLLIN | (s & 2 ? EPOLLET : 0);

			ASSERT_EQ(0, race_epoll_add(to, c.fd[s], events, s));
		}
		if (r & 2)
			ASSERT_LE(0, epoll_wait(ep, ev, 1 + (r >> 4) % DC_NSLOT,
						0));
		race_spin((r >> 8) % 4096);
		/* Close the inner instance first or last. */
		if (inner >= 0 && (r & 4))
			ASSERT_EQ(0, close(inner));
		ASSERT_EQ(0, close(ep));
		if (inner >= 0 && !(r & 4))
			ASSERT_EQ(0, close(inner));
	}
	__atomic_store_n(&c.quit, 1, __ATOMIC_RELEASE);
	join_threads(t, nt);
	ASSERT_EQ(0, race_failed) TH_LOG("%s", race_msg);
	TH_LOG("%lu instances closed under fire", it);
	for (s = 0; s < DC_NSLOT; s++)
		close(c.fd[s]);
}

/*
 * 7. Many waiters, with and without EPOLLEXCLUSIVE.  Four waiter threads
 * sleep in epoll_wait() (with a long timeout) on three semaphore
 * eventfds; the test thread posts bursts of one to three tokens and
 * waits for all of them to be taken before posting the next burst
 * (EPOLL_RACE_ITERS bursts).  A token is taken only by a waiter that
 * woke up and got the event, so a burst still pending after RACE_WAIT_MS
 * while every waiter sleeps means they all slept through a pending
 * event; a waiter that is woken but not yet running makes the burst
 * late, not lost.  Variants: the waiters
 * share one instance (level-triggered, or edge-triggered and then read
 * to EAGAIN), or each has its own instance and all watch the eventfds
 * with EPOLLEXCLUSIVE (level- or edge-triggered).  The waiters are told
 * to stop by a signal that epoll_pwait() unblocks.
 */
#define MW_WAITERS	4
#define MW_NTOK		3

FIXTURE(waiters) {
};

FIXTURE_VARIANT(waiters) {
	bool exclusive;
	bool et;
};

FIXTURE_VARIANT_ADD(waiters, shared_lt) {
	.exclusive = false,
	.et = false,
};

FIXTURE_VARIANT_ADD(waiters, shared_et) {
	.exclusive = false,
	.et = true,
};

FIXTURE_VARIANT_ADD(waiters, exclusive_lt) {
	.exclusive = true,
	.et = false,
};

FIXTURE_VARIANT_ADD(waiters, exclusive_et) {
	.exclusive = true,
	.et = true,
};

FIXTURE_SETUP(waiters)
{
}

FIXTURE_TEARDOWN(waiters)
{
}

struct mw_ctx {
	struct race_src tok[MW_NTOK];
	int epfd[MW_WAITERS];
	int tid[MW_WAITERS];
	long consumed;
	long wakeups[MW_WAITERS];
	bool et;
	int quit;
	sigset_t waitmask;
};

static void mw_sigusr1(int sig)
{
}

static void *mw_waiter(void *arg)
{
	struct race_thread *t = arg;
	struct mw_ctx *c = t->ctx;
	struct epoll_event ev[MW_NTOK];
	uint64_t v;
	int i, n;

	/* Pairs with the acquire load in mw_all_asleep(). */
	__atomic_store_n(&c->tid[t->id], gettid(), __ATOMIC_RELEASE);
	while (!load_int(&c->quit) && !race_stopped()) {
		/* SIGUSR1 is blocked except inside epoll_pwait(). */
		n = epoll_pwait(c->epfd[t->id], ev, MW_NTOK, 10 * RACE_WAIT_MS,
				&c->waitmask);
		if (n < 0) {
			if (errno != EINTR)
				race_fail("epoll_pwait: %s", strerror(errno));
			continue;
		}
		if (n)
			c->wakeups[t->id]++;
		for (i = 0; i < n; i++) {
			uint64_t k = ev[i].data.u64;

			if (k >= MW_NTOK) {
				race_fail("unknown event data %#llx",
					  (unsigned long long)k);
				return NULL;
			}
			/* One token per read; edge-triggered: all of them. */
			for (;;) {
				ssize_t ret;

				ret = read(c->tok[k].rfd, &v, sizeof(v));

				if (ret < 0 && errno == EAGAIN)
					break;
				if (ret != sizeof(v)) {
					race_fail("read token: %zd", ret);
					return NULL;
				}
				__atomic_fetch_add(&c->consumed, 1,
						   __ATOMIC_RELEASE);
				if (!c->et)
					break;
			}
		}
	}
	return NULL;
}

/* Whether thread @tid of this process sleeps interruptibly ("S"). */
static bool mw_sleeping(int tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	return race_stat_sleeping(path);
}

/*
 * Tokens are pending and every waiter sleeps, in epoll_pwait(), the only
 * place where it sleeps: nobody was woken for them.  A waiter woken for
 * an event stays runnable until it has taken a token or found that
 * another one did; no token taken between the two loads of the count.
 */
static bool mw_all_asleep(struct mw_ctx *c, long produced)
{
	long before = __atomic_load_n(&c->consumed, __ATOMIC_ACQUIRE);
	int i;

	for (i = 0; i < MW_WAITERS; i++)
		if (!mw_sleeping(load_int(&c->tid[i])))
			return false;
	return before < produced &&
	       before == __atomic_load_n(&c->consumed, __ATOMIC_ACQUIRE);
}

TEST_F_TIMEOUT(waiters, wake, RACE_TIMEOUT)
{
	unsigned long round, rounds = race_iters();
	uint32_t rnd = race_seed(91);
	uint64_t deadline = race_deadline(), end, t0;
	struct race_thread t[MW_WAITERS];
	struct sigaction sa = { .sa_handler = mw_sigusr1 };
	struct race_lat lat = {};
	uint32_t events = EPOLLIN;
	long produced = 0;
	sigset_t block;
	struct mw_ctx c;
	int i, j, nt;

	memset(&c, 0, sizeof(c));
	c.et = variant->et;
	if (variant->et)
		events |= EPOLLET;
	if (variant->exclusive)
		events |= EPOLLEXCLUSIVE;
	for (j = 0; j < MW_NTOK; j++)
		ASSERT_EQ(0, race_src_open(&c.tok[j], false, true));
	for (i = 0; i < MW_WAITERS; i++) {
		if (i && !variant->exclusive) {
			c.epfd[i] = c.epfd[0];
			continue;
		}
		c.epfd[i] = epoll_create1(EPOLL_CLOEXEC);
		ASSERT_LE(0, c.epfd[i]);
		for (j = 0; j < MW_NTOK; j++)
			ASSERT_EQ(0, race_epoll_add(c.epfd[i], c.tok[j].rfd,
						    events, j));
	}

	/* Block SIGUSR1 in every thread except inside epoll_pwait(). */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &block, &c.waitmask));
	sigdelset(&c.waitmask, SIGUSR1);
	nt = start_threads(t, MW_WAITERS, &c, mw_waiter);

	for (round = 0; round < rounds && !race_stopped(); round++) {
		uint32_t r = race_rand(&rnd);

		if (race_now_ms() > deadline)
			break;
		/* Sometimes let the waiters fall asleep first. */
		if (r & 1)
			usleep(50);
		t0 = race_now_ns();
		for (j = 0; j <= (int)(r >> 1) % 3; j++) {
			ASSERT_EQ(1, race_src_write(&c.tok[(r >> (4 + 2 * j)) %
						    MW_NTOK], 1));
			produced++;
		}
		end = race_now_ms() + RACE_WAIT_MS;
		while (__atomic_load_n(&c.consumed, __ATOMIC_ACQUIRE) <
		       produced && !race_stopped()) {
			if (race_now_ms() > end) {
				if (mw_all_asleep(&c, produced)) {
					race_fail("round %lu: %ld tokens pending %d ms, all asleep",
						  round, produced -
						  __atomic_load_n(&c.consumed,
								  __ATOMIC_ACQUIRE),
						  RACE_WAIT_MS);
					break;
				}
				/* A waiter is awake: late, not lost. */
				usleep(1000);
			}
			sched_yield();
		}
		race_lat_add(&lat, (race_now_ns() - t0) / 1000);
	}

	__atomic_store_n(&c.quit, 1, __ATOMIC_RELEASE);
	for (i = 0; i < nt; i++)
		pthread_kill(t[i].tid, SIGUSR1);
	join_threads(t, nt);
	ASSERT_EQ(0, race_failed) TH_LOG("%s", race_msg);
	EXPECT_EQ(produced, c.consumed);
	TH_LOG("%lu bursts, %ld tokens, wakeups %ld/%ld/%ld/%ld", round,
	       produced, c.wakeups[0], c.wakeups[1], c.wakeups[2],
	       c.wakeups[3]);
	race_lat_print("burst taken", &lat);
	for (i = 0; i < MW_WAITERS; i++)
		if (!i || variant->exclusive)
			close(c.epfd[i]);
	for (j = 0; j < MW_NTOK; j++)
		race_src_close(&c.tok[j]);
}

/*
 * 8. Nested epoll under concurrent wakeups.  The writers of test 1 feed
 * eight edge-triggered files watched by an inner instance, itself watched
 * by an outer one (and, in one variant, that by a third).  The consumer
 * waits only on the outermost instance and, on each event, drains the
 * chain down to the files.  Every unit written must be read; whenever the
 * outermost instance reports nothing for RACE_WAIT_MS after the writers
 * stopped, no instance below may have a ready event; and at the end one
 * write to each file must reach the outermost instance.
 */
#define NE_MAXDEPTH	3

FIXTURE(nested) {
};

FIXTURE_VARIANT(nested) {
	int depth;		/* instances above the inner one */
	bool et;		/* how each instance watches the one below */
};

FIXTURE_VARIANT_ADD(nested, lt) {
	.depth = 1,
	.et = false,
};

FIXTURE_VARIANT_ADD(nested, et) {
	.depth = 1,
	.et = true,
};

FIXTURE_VARIANT_ADD(nested, et_depth2) {
	.depth = 2,
	.et = true,
};

FIXTURE_SETUP(nested)
{
}

FIXTURE_TEARDOWN(nested)
{
}

/* Drain instance @lvl and everything below it; false on failure. */
static bool ne_drain(struct et_ctx *c, const int *ep, int lvl)
{
	struct epoll_event ev[ET_NSRC];
	int i, n, rounds;

	for (rounds = 0; rounds < 64; rounds++) {
		n = epoll_wait(ep[lvl], ev, ARRAY_LEN(ev), 0);
		if (n < 0) {
			race_fail("epoll_wait(level %d): %s", lvl,
				  strerror(errno));
			return false;
		}
		if (!n)
			return true;
		for (i = 0; i < n; i++) {
			if (lvl ? !ne_drain(c, ep, lvl - 1) :
				  !et_consume(c, ev[i].data.u64))
				return false;
		}
	}
	return true;		/* busy writers: the next event comes back */
}

TEST_F_TIMEOUT(nested, wakeups, RACE_TIMEOUT)
{
	uint32_t events = EPOLLIN | (variant->et ? EPOLLET : 0);
	int depth = variant->depth, ep[NE_MAXDEPTH], top;
	struct race_thread t[ET_WRITERS];
	struct epoll_event ev;
	struct et_ctx c;
	int i, l, n, nt;

	ASSERT_EQ(0, et_setup(&c, EPOLLIN | EPOLLET, race_iters() * 10));
	ep[0] = c.epfd;
	for (l = 1; l <= depth; l++) {
		ep[l] = epoll_create1(EPOLL_CLOEXEC);
		ASSERT_LE(0, ep[l]);
		ASSERT_EQ(0, race_epoll_add(ep[l], ep[l - 1], events, 100 + l));
	}
	top = ep[depth];
	nt = start_threads(t, ET_WRITERS, &c, et_writer);

	while (!race_stopped()) {
		bool done = load_int(&c.writers_left) == 0;

		n = epoll_wait(top, &ev, 1, RACE_WAIT_MS);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			race_fail("epoll_wait: %s", strerror(errno));
			break;
		}
		if (n && ev.data.u64 != (uint64_t)(100 + depth)) {
			race_fail("outer instance: unknown event data");
			break;
		}
		if (n && !ne_drain(&c, ep, depth - 1))
			break;
		if (et_finished(&c))
			break;
		if (done && !n) {
			struct epoll_event tmp[ET_NSRC];

			for (l = depth - 1; l >= 0; l--) {
				if (epoll_wait(ep[l], tmp, ET_NSRC, 0) > 0) {
					race_fail("level %d ready, top silent %d ms",
						  l, RACE_WAIT_MS);
					break;
				}
			}
			et_report_unread(&c, "nested edge lost");
		}
	}
	join_threads(t, nt);
	ASSERT_EQ(0, race_failed) TH_LOG("%s", race_msg);

	/* Quiet now: one write to each file must reach the top. */
	for (i = 0; i < ET_NSRC; i++) {
		ASSERT_EQ(1, race_src_write(&c.src[i], 1));
		c.written[i]++;
		ASSERT_EQ(1, epoll_wait(top, &ev, 1, RACE_WAIT_MS))
			TH_LOG("write to fd %d did not reach the top level", i);
		ASSERT_TRUE(ne_drain(&c, ep, depth - 1)) TH_LOG("%s", race_msg);
		ASSERT_TRUE(et_all_read(&c));
		ASSERT_EQ(0, epoll_wait(top, &ev, 1, 0));
	}
	for (l = 1; l <= depth; l++)
		close(ep[l]);
	et_teardown(&c);
}

/*
 * 9. A bad user buffer.  epoll_wait() copies events one at a time; when
 * a copy faults it returns what it copied, or EFAULT if that was
 * nothing, and keeps the event whose copy faulted, ahead of the others,
 * for the next call.  The buffers end at an unmapped page, so that entry
 * 0 or entry 1 crosses into it.
 */
struct bad_buf {
	char *map;
	size_t page;
};

static int bad_buf_init(struct bad_buf *b)
{
	b->page = sysconf(_SC_PAGESIZE);
	b->map = mmap(NULL, 2 * b->page, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->map == MAP_FAILED)
		return -1;
	return munmap(b->map + b->page, b->page);
}

/* A buffer whose entry @idx straddles the unmapped page. */
static struct epoll_event *bad_buf_at(struct bad_buf *b, int idx)
{
	size_t sz = sizeof(struct epoll_event);

	return (struct epoll_event *)(b->map + b->page - idx * sz - sz / 2);
}

TEST(efault_partial_copy)
{
	struct itimerspec its = { .it_value.tv_nsec = 20 * 1000 * 1000 };
	struct epoll_event good[4], *bad;
	struct race_src src[4];
	struct bad_buf b;
	int epfd, i, k, tfd;

	ASSERT_EQ(0, bad_buf_init(&b));
	epfd = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, epfd);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, race_src_open(&src[i], false, false));
		ASSERT_EQ(0, race_epoll_add(epfd, src[i].rfd,
					    EPOLLIN | EPOLLET, i));
	}

	/* Entry 1 faults: one event copied, three kept, in order. */
	for (i = 0; i < 4; i++)
		ASSERT_EQ(1, race_src_write(&src[i], 1));
	bad = bad_buf_at(&b, 1);
	ASSERT_EQ(1, epoll_wait(epfd, bad, 4, 0));
	EXPECT_EQ(0, bad[0].data.u64);
	ASSERT_EQ(3, epoll_wait(epfd, good, 4, 0));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(i + 1, good[i].data.u64);
	ASSERT_EQ(0, epoll_wait(epfd, good, 4, 0));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(1, race_src_drain(&src[i]));

	/* Entry 0 faults, or all of the buffer: EFAULT, none lost. */
	for (k = 0; k < 2; k++) {
		for (i = 0; i < 4; i++)
			ASSERT_EQ(1, race_src_write(&src[i], 1));
		bad = k ? (struct epoll_event *)(b.map + b.page) :
			  bad_buf_at(&b, 0);
		ASSERT_EQ(-1, epoll_wait(epfd, bad, 4, 0));
		ASSERT_EQ(EFAULT, errno);
		ASSERT_EQ(4, epoll_wait(epfd, good, 4, 0));
		for (i = 0; i < 4; i++)
			EXPECT_EQ(i, good[i].data.u64);
		for (i = 0; i < 4; i++)
			ASSERT_EQ(1, race_src_drain(&src[i]));
	}

	/* A wait that sleeps and wakes up to a bad buffer: same rules. */
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ASSERT_LE(0, tfd);
	ASSERT_EQ(0, race_epoll_add(epfd, tfd, EPOLLIN | EPOLLET, 7));
	ASSERT_EQ(0, timerfd_settime(tfd, 0, &its, NULL));
	ASSERT_EQ(-1, epoll_wait(epfd, bad_buf_at(&b, 0), 4, RACE_WAIT_MS));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(1, epoll_wait(epfd, good, 4, 0));
	EXPECT_EQ(7, good[0].data.u64);
	close(tfd);
	for (i = 0; i < 4; i++)
		race_src_close(&src[i]);
	close(epfd);
	munmap(b.map, b.page);
}

/*
 * 9b. The same in the middle of a stream: the writers of test 1 hammer
 * eight edge-triggered files while the consumer alternates between good
 * buffers and buffers whose entry 0, 1 or 2 faults (EPOLL_RACE_ITERS * 10
 * writes per writer).  A faulting entry i allows at most i events and
 * EFAULT only for i == 0; every unit written must still be read.
 */
TEST_F_TIMEOUT(race, efault_stream, RACE_TIMEOUT)
{
	struct race_thread t[ET_WRITERS];
	struct epoll_event ev[4], *buf;
	uint32_t rnd = race_seed(101);
	struct bad_buf b;
	long efaults = 0;
	struct et_ctx c;
	int i, n, nt, f;

	ASSERT_EQ(0, bad_buf_init(&b));
	ASSERT_EQ(0, et_setup(&c, EPOLLIN | EPOLLET, race_iters() * 10));
	nt = start_threads(t, ET_WRITERS, &c, et_writer);

	while (!race_stopped()) {
		bool done = load_int(&c.writers_left) == 0;
		uint32_t r = race_rand(&rnd);

		f = r % 6;
		if (f < 3) {
			buf = bad_buf_at(&b, f);
			n = epoll_wait(c.epfd, buf, 4, 0);
			if (n < 0 && (errno != EFAULT || f)) {
				race_fail("bad buffer at entry %d: %s", f,
					  strerror(errno));
				break;
			}
			if (n > f) {
				race_fail("bad buffer at entry %d: %d events", f, n);
				break;
			}
			efaults += n < 0;
			done = false;
		} else {
			buf = ev;
			n = epoll_wait(c.epfd, buf, 4, RACE_WAIT_MS);
			if (n < 0) {
				race_fail("epoll_wait: %s", strerror(errno));
				break;
			}
		}
		for (i = 0; i < n; i++)
			if (!et_consume(&c, buf[i].data.u64))
				break;
		if (et_finished(&c))
			break;
		if (done && n <= 0)
			et_report_unread(&c, "edge lost after a fault");
	}
	join_threads(t, nt);
	ASSERT_EQ(0, race_failed) TH_LOG("%s", race_msg);
	TH_LOG("%ld waits returned EFAULT", efaults);
	et_teardown(&c);
	munmap(b.map, b.page);
}

/*
 * 9c. The copy of the first of two ready edge-triggered items faults
 * while a writer keeps signalling that item. Its re-poll comes after
 * its reset to IDLE, so a callback can queue it again before the
 * put-back. Either way the item goes back ahead of the second, as in
 * the base: the next epoll_wait(maxevents 1) returns it first.
 * EPOLL_RACE_ITERS / 4 rounds.
 */
struct ef_ctx {
	struct race_src a;
	int go;			/* 1: write a, 2: stop */
	int idle;		/* the writer saw go == 0 */
	unsigned long writes;
};

static void *ef_writer(void *arg)
{
	struct ef_ctx *c = ((struct race_thread *)arg)->ctx;
	int go;

	while ((go = load_int(&c->go)) != 2 && !race_stopped()) {
		if (go == 1) {
			__atomic_store_n(&c->idle, 0, __ATOMIC_RELEASE);
			if (race_src_write(&c->a, 1) == 1)
				__atomic_add_fetch(&c->writes, 1, __ATOMIC_RELEASE);
		} else {
			__atomic_store_n(&c->idle, 1, __ATOMIC_RELEASE);
			race_relax();
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(race, efault_put_back_order, RACE_TIMEOUT)
{
	unsigned long r, rounds = race_iters() / 4 + 1, writes;
	struct epoll_event ev[2], *bad;
	struct race_thread t[1];
	struct race_src b;
	struct bad_buf bb;
	struct ef_ctx c = { 0 };
	int epfd, nt;

	ASSERT_EQ(0, bad_buf_init(&bb));
	bad = bad_buf_at(&bb, 0);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, epfd);
	ASSERT_EQ(0, race_src_open(&c.a, false, false));
	ASSERT_EQ(0, race_src_open(&b, false, false));
	ASSERT_EQ(0, race_epoll_add(epfd, c.a.rfd, EPOLLIN | EPOLLET, 0));
	ASSERT_EQ(0, race_epoll_add(epfd, b.rfd, EPOLLIN | EPOLLET, 1));
	nt = start_threads(t, 1, &c, ef_writer);
	ASSERT_EQ(1, nt);

	for (r = 0; r < rounds && !race_stopped(); r++) {
		race_src_drain(&c.a);
		race_src_drain(&b);
		while (epoll_wait(epfd, ev, 2, 0) > 0)
			;
		ASSERT_EQ(1, race_src_write(&c.a, 1));
		ASSERT_EQ(1, race_src_write(&b, 1));
		writes = __atomic_load_n(&c.writes, __ATOMIC_ACQUIRE);
		__atomic_store_n(&c.go, 1, __ATOMIC_RELEASE);
		while (__atomic_load_n(&c.writes, __ATOMIC_ACQUIRE) == writes &&
		       !race_stopped())
			race_relax();
		ASSERT_EQ(-1, epoll_wait(epfd, bad, 2, 0));
		ASSERT_EQ(EFAULT, errno);
		__atomic_store_n(&c.go, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&c.idle, 0, __ATOMIC_RELEASE);
		ASSERT_TRUE(race_wait_eq(&c.idle, 1, race_now_ms() + RACE_START_MS));
		ASSERT_EQ(1, epoll_wait(epfd, ev, 1, 0));
		if (ev[0].data.u64 != 0)
			race_fail("round %lu: after EFAULT the second item came first",
				  r);
		ASSERT_EQ(1, epoll_wait(epfd, ev, 1, 0));
	}
	__atomic_store_n(&c.go, 2, __ATOMIC_RELEASE);
	join_threads(t, nt);
	TH_LOG("%lu rounds, %lu writes", r, c.writes);
	ASSERT_EQ(0, race_failed) TH_LOG("%s", race_msg);
	race_src_close(&c.a);
	race_src_close(&b);
	close(epfd);
	munmap(bb.map, bb.page);
}

/*
 * 10. The error codes of the interface, which the series must keep:
 * EBADF, EINVAL, EEXIST, ENOENT, ELOOP, EPERM and EFAULT.  (ENOSPC past
 * max_user_watches is test 12.)
 */
#define EXPECT_ERR(err, call) do {					\
		errno = 0;						\
		EXPECT_EQ(-1, (call));					\
		EXPECT_EQ(err, errno) TH_LOG("%s", #call);		\
	} while (0)

TEST(error_codes)
{
	struct epoll_event ev = { .events = EPOLLIN }, out[1];
	int ep, ep2, ep3, efd, mfd, i, chain[6];

	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ep2 = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep2);
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	mfd = memfd_create("epoll_race", MFD_CLOEXEC);
	ASSERT_LE(0, mfd);

	EXPECT_ERR(EINVAL, epoll_create(0));
	EXPECT_ERR(EINVAL, epoll_create1(~EPOLL_CLOEXEC));

	/* EBADF: a bad epoll fd or a bad target fd. */
	EXPECT_ERR(EBADF, epoll_ctl(-1, EPOLL_CTL_ADD, efd, &ev));
	EXPECT_ERR(EBADF, epoll_ctl(ep, EPOLL_CTL_ADD, -1, &ev));
	EXPECT_ERR(EBADF, epoll_wait(-1, out, 1, 0));

	/* EINVAL: not an epoll fd, itself, bad op, bad flags, maxevents. */
	EXPECT_ERR(EINVAL, epoll_ctl(efd, EPOLL_CTL_ADD, ep, &ev));
	EXPECT_ERR(EINVAL, epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
	EXPECT_ERR(EINVAL, epoll_ctl(ep, 42, efd, &ev));
	EXPECT_ERR(EINVAL, epoll_wait(efd, out, 1, 0));
	EXPECT_ERR(EINVAL, epoll_wait(ep, out, 0, 0));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
	EXPECT_ERR(EINVAL, epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	EXPECT_ERR(EINVAL, epoll_ctl(ep, EPOLL_CTL_ADD, ep2, &ev));
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	EXPECT_ERR(EINVAL, epoll_ctl(ep, EPOLL_CTL_MOD, efd, &ev));
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL));
	ev.events = EPOLLIN;

	/* EEXIST and ENOENT. */
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	EXPECT_ERR(EEXIST, epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL));
	EXPECT_ERR(ENOENT, epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL));
	EXPECT_ERR(ENOENT, epoll_ctl(ep, EPOLL_CTL_MOD, efd, &ev));

	/* EPERM: a file without poll support. */
	EXPECT_ERR(EPERM, epoll_ctl(ep, EPOLL_CTL_ADD, mfd, &ev));

	/* ELOOP: a cycle, and a chain deeper than the kernel allows. */
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, ep2, &ev));
	EXPECT_ERR(ELOOP, epoll_ctl(ep2, EPOLL_CTL_ADD, ep, &ev));
	ep3 = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep3);
	ASSERT_EQ(0, epoll_ctl(ep2, EPOLL_CTL_ADD, ep3, &ev));
	EXPECT_ERR(ELOOP, epoll_ctl(ep3, EPOLL_CTL_ADD, ep, &ev));
	close(ep3);
	for (i = 0; i < (int)ARRAY_LEN(chain); i++) {
		chain[i] = epoll_create1(EPOLL_CLOEXEC);
		ASSERT_LE(0, chain[i]);
		if (i < (int)ARRAY_LEN(chain) - 1 && i)
			ASSERT_EQ(0, epoll_ctl(chain[i], EPOLL_CTL_ADD,
					       chain[i - 1], &ev));
	}
	/* chain[4] is five instances deep: a sixth level is too many. */
	EXPECT_ERR(ELOOP, epoll_ctl(chain[5], EPOLL_CTL_ADD, chain[4], &ev));
	for (i = 0; i < (int)ARRAY_LEN(chain); i++)
		close(chain[i]);

	/* EFAULT: event or events outside the user address space. */
	EXPECT_ERR(EFAULT, epoll_ctl(ep, EPOLL_CTL_ADD, efd,
				     (struct epoll_event *)-4096L));
	EXPECT_ERR(EFAULT, epoll_wait(ep, (struct epoll_event *)-4096L, 1, 0));

	close(mfd);
	close(efd);
	close(ep2);
	close(ep);
}

/*
 * 11. The re-poll window of RFC v3, made wide with a nested epoll.  The
 * outer instance watches an inner one whose ready list holds RW_NITEMS
 * eventfds that are no longer ready.  epoll_wait() on the outer instance
 * re-polls the inner one, which re-polls each of its items in turn.  An
 * event on the first item, arriving while the inner instance is still
 * busy with the others, must reach the outer instance: the outer item
 * has to be back to idle before its re-poll started, or the callback
 * that this event triggers finds it still queued and drops it.  The
 * event is lost if the outer instance has not reported it once the
 * write returned and a wait ran into RACE_WAIT_MS; a wait that ran out
 * only because the writer was slow is late.
 */
#define RW_NITEMS	512

/*
 * A writer thread that adds 1 to an eventfd once per round, a random
 * race_spin() delay after the main thread starts the round: tests 11
 * and 13 use it to land a write at a random point of a syscall.
 */
struct pulse {
	int fd;
	int round;		/* main thread: write once in this round */
	int written;		/* writer: last round it wrote in */
	uint64_t written_ns;	/* writer: when that write returned */
	int stop;
	unsigned int delay;	/* race_spin() units before the write */
};

static void *pulse_writer(void *arg)
{
	struct pulse *c = ((struct race_thread *)arg)->ctx;
	uint64_t one = 1;
	int r;

	for (r = 1; ; r++) {
		while (load_int(&c->round) < r)
			if (load_int(&c->stop))
				return NULL;
		race_spin(__atomic_load_n(&c->delay, __ATOMIC_RELAXED));
		if (write(c->fd, &one, sizeof(one)) != sizeof(one)) {
			race_fail("write: %s", strerror(errno));
			return NULL;
		}
		c->written_ns = race_now_ns();
		/* Pairs with the acquire in race_wait_eq() by the test. */
		__atomic_store_n(&c->written, r, __ATOMIC_RELEASE);
	}
}

/* Start round @r of @c, its write @spin_max race_spin() units or less away. */
static void pulse_start(struct pulse *c, unsigned long r, uint32_t *seed,
			unsigned long spin_max)
{
	c->delay = race_rand(seed) % spin_max;
	__atomic_store_n(&c->round, (int)r, __ATOMIC_RELEASE);
}

/* How many race_spin() units take about @ns nanoseconds, at least 1. */
static unsigned long spin_units(uint64_t ns)
{
	uint64_t t0 = race_now_ns();

	race_spin(1 << 16);
	return (ns << 16) / (race_now_ns() - t0 + 1) + 1;
}

struct rw_ctx {
	int fd[RW_NITEMS];
	struct pulse pulse;	/* writes fd[0] */
};

/* Queue every item on the inner instance, then make them not ready. */
static int rw_fill(struct rw_ctx *c)
{
	uint64_t v = 1;
	int i;

	for (i = 0; i < RW_NITEMS; i++)
		if (write(c->fd[i], &v, sizeof(v)) != sizeof(v))
			return -1;
	for (i = 0; i < RW_NITEMS; i++)
		if (read(c->fd[i], &v, sizeof(v)) != sizeof(v))
			return -1;
	return 0;
}

TEST_F_TIMEOUT(race, nested_repoll_window, RACE_TIMEOUT)
{
	unsigned long rounds = race_iters() / 2, r, spin_max, late = 0;
	uint64_t deadline, t0, scan_ns;
	uint32_t seed = race_seed(11);
	struct epoll_event ev[8];
	struct race_lat lat = {};
	struct race_thread t;
	struct rw_ctx c = {};
	int inner, outer, i, n;
	uint64_t v;

	inner = epoll_create1(EPOLL_CLOEXEC);
	outer = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, inner);
	ASSERT_LE(0, outer);
	for (i = 0; i < RW_NITEMS; i++) {
		c.fd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ASSERT_LE(0, c.fd[i]);
		ASSERT_EQ(0, race_epoll_add(inner, c.fd[i], EPOLLIN | EPOLLET, i));
	}
	ASSERT_EQ(0, race_epoll_add(outer, inner, EPOLLIN | EPOLLET, 1000));

	/* Spread the writes over one re-poll of the inner instance. */
	ASSERT_EQ(0, rw_fill(&c));
	t0 = race_now_ns();
	ASSERT_EQ(0, epoll_wait(outer, ev, ARRAY_LEN(ev), 0));
	scan_ns = race_now_ns() - t0 + 1;
	spin_max = spin_units(scan_ns);

	c.pulse.fd = c.fd[0];
	deadline = race_deadline();
	ASSERT_EQ(1, start_threads(&t, 1, &c.pulse, pulse_writer));
	for (r = 1; r <= rounds && race_now_ms() < deadline; r++) {
		if (rw_fill(&c)) {
			race_fail("write/read of the eventfds: %s", strerror(errno));
			break;
		}
		pulse_start(&c.pulse, r, &seed, spin_max);

		t0 = race_now_ns();
		n = epoll_wait(outer, ev, ARRAY_LEN(ev), 0);
		if (!n)
			n = epoll_wait(outer, ev, ARRAY_LEN(ev), RACE_WAIT_MS);
		if (!n) {
			/* Timed out: the event is due once the write returned. */
			if (!race_wait_eq(&c.pulse.written, (int)r,
					  RACE_NO_DEADLINE))
				break;
			late++;
			n = epoll_wait(outer, ev, ARRAY_LEN(ev), 0);
		}
		race_lat_add(&lat, (race_now_ns() - t0) / 1000);
		if (n <= 0) {
			race_fail("round %lu: %s", r, n ? strerror(errno) :
				  "an event on the inner instance did not reach the outer one");
			break;
		}
		if (!race_wait_eq(&c.pulse.written, (int)r,
				  race_now_ms() + RACE_WAIT_MS))
			break;
		/* Consume the event; empty both ready lists. */
		while (epoll_wait(inner, ev, ARRAY_LEN(ev), 0) > 0)
			;
		if (read(c.fd[0], &v, sizeof(v)) != sizeof(v)) {
			race_fail("read: %s", strerror(errno));
			break;
		}
		while (epoll_wait(outer, ev, ARRAY_LEN(ev), 0) > 0)
			;
	}
	__atomic_store_n(&c.pulse.stop, 1, __ATOMIC_RELEASE);
	join_threads(&t, 1);
	ASSERT_EQ(0, race_failed) TH_LOG("%s", race_msg);
	TH_LOG("%lu rounds, writes spread over %llu ns, %lu waits timed out before the write",
	       r - 1, (unsigned long long)scan_ns, late);
	race_lat_print("outer event", &lat);
	for (i = 0; i < RW_NITEMS; i++)
		close(c.fd[i]);
	close(outer);
	close(inner);
}

/*
 * 12. ENOSPC past max_user_watches, the per-user limit, for an
 * unprivileged user: lower the limit, fill it from a child that runs as
 * nobody, check that one more watch fails and that a freed slot can be
 * used again, then restore the limit.
 */
#define MUW_PATH	"/proc/sys/fs/epoll/max_user_watches"
#define MUW_LIMIT	16

/* The child's exit code says which step failed. */
static int muw_child(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep, fd[MUW_LIMIT + 1], i;

	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		return 1;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return 2;
	for (i = 0; i <= MUW_LIMIT; i++) {
		fd[i] = eventfd(0, EFD_CLOEXEC);
		if (fd[i] < 0)
			return 2;
	}
	for (i = 0; i < MUW_LIMIT; i++)
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd[i], &ev))
			return 3;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd[MUW_LIMIT], &ev) != -1 ||
	    errno != ENOSPC)
		return 4;
	if (epoll_ctl(ep, EPOLL_CTL_DEL, fd[0], NULL) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, fd[MUW_LIMIT], &ev))
		return 5;
	return 0;
}

static int muw_write(int fd, const char *val)
{
	ssize_t len = strlen(val);

	return pwrite(fd, val, len, 0) == len ? 0 : -1;
}

TEST(max_user_watches)
{
	static const char * const why[] = {
		"", "cannot become nobody", "epoll_create1/eventfd failed",
		"an add below the limit failed",
		"the add past the limit did not fail with ENOSPC",
		"a slot freed by EPOLL_CTL_DEL could not be used again",
	};
	char old[32] = "", limit[16];
	int fd, status = 0;
	ssize_t n;
	pid_t pid;

	if (geteuid())
		SKIP(return, "needs root to lower %s", MUW_PATH);
	fd = open(MUW_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	n = pread(fd, old, sizeof(old) - 1, 0);
	ASSERT_LT(0, n);
	snprintf(limit, sizeof(limit), "%d", MUW_LIMIT);
	ASSERT_EQ(0, muw_write(fd, limit));
	pid = fork();
	if (!pid)
		_exit(muw_child());
	if (pid > 0)
		waitpid(pid, &status, 0);
	ASSERT_EQ(0, muw_write(fd, old));
	close(fd);
	ASSERT_LT(0, pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("%s", WEXITSTATUS(status) < ARRAY_LEN(why) ?
		       why[WEXITSTATUS(status)] : "?");
}

/*
 * 13. A waiter that goes to sleep while an event arrives.  epoll_wait()
 * adds the waiter to the instance's wait queue and then looks at the
 * ready list once more; the wakeup callback queues the item and then
 * looks for waiters.  One of the two must see the other, or the waiter
 * sleeps through the event until its timeout.  The writer fires at a
 * random point of the waiter's way into the sleep.  The wakeup is lost
 * if the wait runs into RACE_WAIT_MS with the event pending, its write
 * having returned before the timeout; a round whose event came after
 * WR_LATE_MS (or whose write came after the timeout) is only late, and
 * printed.
 */
#define WR_LATE_MS	500

TEST_F_TIMEOUT(race, wakeup_while_going_to_sleep, RACE_TIMEOUT)
{
	unsigned long rounds = race_iters() * 20, r, spin_max, late = 0;
	uint64_t deadline, t0, entry_ns, v, wait_ns;
	uint32_t seed = race_seed(13);
	struct epoll_event ev;
	struct race_lat lat = {};
	struct race_thread t;
	struct pulse c = {};
	int ep, n, i;

	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	c.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, c.fd);
	ASSERT_EQ(0, race_epoll_add(ep, c.fd, EPOLLIN | EPOLLET, 1));

	/* Spread the writes over twice the time of an epoll_wait() call. */
	t0 = race_now_ns();
	for (i = 0; i < 100; i++)
		ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	entry_ns = (race_now_ns() - t0) / 100 + 1;
	spin_max = spin_units(2 * entry_ns);

	wait_ns = (uint64_t)RACE_WAIT_MS * 1000000;
	deadline = race_deadline();
	ASSERT_EQ(1, start_threads(&t, 1, &c, pulse_writer));
	for (r = 1; r <= rounds && race_now_ms() < deadline; r++) {
		pulse_start(&c, r, &seed, spin_max);
		t0 = race_now_ns();
		n = epoll_wait(ep, &ev, 1, RACE_WAIT_MS);
		if (!n) {
			/*
			 * Timed out.  A write that returned before the timeout
			 * expired queued the event and had to wake the waiter;
			 * a later one is merely late.
			 */
			if (!race_wait_eq(&c.written, (int)r, RACE_NO_DEADLINE))
				break;
			n = epoll_wait(ep, &ev, 1, 0);
			if (n == 1 && c.written_ns < t0 + wait_ns) {
				race_fail("round %lu: wakeup lost: write at %lld ms, timeout %d ms",
					  r, (long long)(c.written_ns - t0) / 1000000,
					  RACE_WAIT_MS);
				break;
			}
		}
		if (n != 1) {
			race_fail("round %lu: epoll_wait returned %d (%s)", r, n,
				  n ? strerror(errno) : "no event after the write");
			break;
		}
		v = race_now_ns() - t0;
		race_lat_add(&lat, v / 1000);
		if (v >= WR_LATE_MS * 1000000ULL) {
			late++;
			ksft_print_msg("round %lu: woken after %llu ms: late, not lost\n",
				       r, (unsigned long long)v / 1000000);
		}
		if (read(c.fd, &v, sizeof(v)) != sizeof(v)) {
			race_fail("read: %s", strerror(errno));
			break;
		}
		if (race_stopped())
			break;
	}
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
	join_threads(&t, 1);
	ASSERT_EQ(0, race_failed) TH_LOG("%s", race_msg);
	TH_LOG("%lu rounds, writes spread over %llu ns, %lu woken after %d ms or more",
	       r - 1, (unsigned long long)entry_ns * 2, late, WR_LATE_MS);
	race_lat_print("wakeup", &lat);
	close(c.fd);
	close(ep);
}

/*
 * 14. Mass removal of ready items, as in a mass disconnect.  MR_N
 * level-triggered eventfds, all readable.  A first epoll_wait() with
 * maxevents MR_N / 2 delivers the first half, which is queued again
 * behind the second half, still undelivered.  Then the odd items are
 * removed, by EPOLL_CTL_DEL or by close(), in the order they were added
 * or in reverse.  A full harvest must return each even item once, the
 * second half first, then the first; after the rest is removed, nothing.
 * The time each removal pass took is printed, not judged.
 */
#define MR_N	4096

FIXTURE(mass_remove) {
};

FIXTURE_VARIANT(mass_remove) {
	bool by_close;
	bool reverse;
};

FIXTURE_VARIANT_ADD(mass_remove, del_fifo) {
	.by_close = false, .reverse = false,
};

FIXTURE_VARIANT_ADD(mass_remove, del_reverse) {
	.by_close = false, .reverse = true,
};

FIXTURE_VARIANT_ADD(mass_remove, close_fifo) {
	.by_close = true, .reverse = false,
};

FIXTURE_VARIANT_ADD(mass_remove, close_reverse) {
	.by_close = true, .reverse = true,
};

FIXTURE_SETUP(mass_remove)
{
}

FIXTURE_TEARDOWN(mass_remove)
{
}

/* Remove every @step-th item from @first, in the variant's order. */
static int mr_remove(int epfd, int *fd, int n, int first, int step,
		     bool by_close, bool reverse)
{
	int k, i, cnt = (n - first + step - 1) / step;

	for (k = 0; k < cnt; k++) {
		i = first + (reverse ? cnt - 1 - k : k) * step;
		if (by_close) {
			if (close(fd[i]))
				return -1;
			fd[i] = -1;
		} else if (epoll_ctl(epfd, EPOLL_CTL_DEL, fd[i], NULL)) {
			return -1;
		}
	}
	return 0;
}

TEST_F_TIMEOUT(mass_remove, ready_items, RACE_TIMEOUT)
{
	struct rlimit rl = { MR_N + 64, MR_N + 64 };
	int *fd, epfd, n = MR_N, got, i, k;
	struct epoll_event *ev;
	uint64_t t0, t1, t2;

	if (setrlimit(RLIMIT_NOFILE, &rl) && getrlimit(RLIMIT_NOFILE, &rl) == 0)
		n = rl.rlim_cur > 128 ? ((rl.rlim_cur - 64) & ~3UL) : 0;
	if (n < 64)
		SKIP(return, "RLIMIT_NOFILE too low");
	fd = calloc(n, sizeof(*fd));
	ev = calloc(n, sizeof(*ev));
	ASSERT_NE(NULL, fd);
	ASSERT_NE(NULL, ev);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, epfd);
	for (i = 0; i < n; i++) {
		fd[i] = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
		ASSERT_LE(0, fd[i]);
		ASSERT_EQ(0, race_epoll_add(epfd, fd[i], EPOLLIN, i));
	}

	ASSERT_EQ(n / 2, epoll_wait(epfd, ev, n / 2, 0));
	for (i = 0; i < n / 2; i++)
		ASSERT_EQ(i, ev[i].data.u64);

	t0 = race_now_ns();
	ASSERT_EQ(0, mr_remove(epfd, fd, n, 1, 2, variant->by_close,
			       variant->reverse));
	t1 = race_now_ns();

	got = epoll_wait(epfd, ev, n, 0);
	ASSERT_EQ(n / 2, got);
	for (k = 0; k < got; k++) {
		/* The undelivered second half first, then the first. */
		i = k < n / 4 ? n / 2 + 2 * k : 2 * (k - n / 4);
		if (ev[k].data.u64 != (uint64_t)i) {
			TH_LOG("event %d: item %llu, expected %d", k,
			       (unsigned long long)ev[k].data.u64, i);
			break;
		}
	}
	EXPECT_EQ(got, k);

	t2 = race_now_ns();
	ASSERT_EQ(0, mr_remove(epfd, fd, n, 0, 2, variant->by_close,
			       variant->reverse));
	TH_LOG("%d ready items: %d removed in %.1f ms, the other %d in %.1f ms",
	       n, n / 2, (t1 - t0) / 1e6, n / 2, (race_now_ns() - t2) / 1e6);
	EXPECT_EQ(0, epoll_wait(epfd, ev, n, 0));

	for (i = 0; i < n; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	close(epfd);
	free(ev);
	free(fd);
}

/*
 * 15. A wakeup callback preempted between its claim of an item and the
 * item's link onto the ready list.  One eventfd, always readable and
 * never read, is registered CW_NITEMS times (through dup()) with
 * EPOLLIN | EPOLLET, and a SCHED_OTHER producer writes to it without
 * pause on one CPU: each write runs CW_NITEMS wakeup callbacks.  On
 * another CPU the consumer harvests the items with epoll_wait() and a
 * zero timeout, which leaves them idle for the producer's next write to
 * queue again: one to four times, then it wakes a SCHED_FIFO thread on
 * the producer's CPU, harvests zero to two more times and re-arms every
 * item with EPOLL_CTL_MOD, which finds it ready and queues it unless a
 * callback has (a round).  The FIFO thread preempts the producer
 * wherever it is (on PREEMPT_RT also between a callback's claim and
 * link) and holds the CPU until the round ends.  RT throttling and that
 * CPU's fair server are off meanwhile: a consumer that waits for the
 * producer never ends the round.  The test fails when the consumer makes
 * no progress for CW_STUCK_MS while busy on its CPU: it spins for a
 * callback preempted inside the claim-to-link window.  A consumer that
 * sleeps instead is let go after CW_ASLEEP_MS (the base kernel's
 * callback holds ep->lock, a sleeping lock on PREEMPT_RT, which
 * epoll_wait() and EPOLL_CTL_MOD take).  The harvest after a round must
 * return every item, and none twice.  Up to EPOLL_RACE_ITERS * 20
 * rounds.  Without PREEMPT_RT the window cannot be preempted and the
 * test passes.
 */
#define CW_NITEMS	32
#define CW_ASLEEP_MS	50
#define CW_STUCK_MS	(3 * RACE_WAIT_MS)
#define CW_RT_RUNTIME	"/proc/sys/kernel/sched_rt_runtime_us"
#define CW_FAIR_SERVER	"/sys/kernel/debug/sched/fair_server/cpu%d/runtime"
#define CW_NS_PER_MS	1000000ULL

FIXTURE(claim_window) {
	/* The values the test replaced, restored by the parent process. */
	char rt_runtime[32];
	char fair_path[80];
	char fair_runtime[32];
};

FIXTURE_SETUP(claim_window)
{
}

/* Write @val to @path with write(): debugfs files refuse pwrite(). */
static int cw_write(const char *path, const char *val)
{
	ssize_t len = strlen(val);
	int fd, ret;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = write(fd, val, len) == len ? 0 : -1;
	close(fd);
	return ret;
}

FIXTURE_TEARDOWN_PARENT(claim_window)
{
	/* Only what the test replaced: those are non-empty. */
	if (*self->fair_runtime && cw_write(self->fair_path, self->fair_runtime))
		ksft_print_msg("cannot restore %s\n", self->fair_path);
	if (*self->rt_runtime && cw_write(CW_RT_RUNTIME, self->rt_runtime))
		ksft_print_msg("cannot restore %s\n", CW_RT_RUNTIME);
}

/* Save the value of @path in @old, then write @val.  0, or -1 and errno. */
static int cw_replace(const char *path, char *old, size_t len,
		      const char *val)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || (size_t)n >= len) {
		errno = n < 0 ? errno : EIO;
		return -1;
	}
	if (cw_write(path, val))
		return -1;
	buf[n] = '\0';
	memcpy(old, buf, n + 1);
	return 0;
}

struct cw_ctx {
	int efd;
	cpu_set_t cpu;			/* the producer's and the preempter's */
	clockid_t consumer_clock;	/* the consumer's CPU time */
	int hog;			/* the preempter's RACE_HOG_* */
	int go;				/* the consumer runs */
	int kick;			/* futex: 0 while the preempter sleeps */
	int quit;
	int op;				/* consumer: item it MODs, -1: harvest */
	unsigned long progress;		/* consumer: syscalls completed */
	unsigned long sweeps;		/* consumer: rounds of MODs completed */
	uint64_t resumed_ns;		/* consumer: first syscall done after a failure */
	unsigned long writes;		/* producer */
	long nivcsw;			/* producer: times it was preempted */
	unsigned long holds;		/* preempter: wakeups */
	unsigned long kicks;		/* consumer: wakeups of the preempter */
	unsigned long early;		/* preempter: holds let go, consumer asleep */
	uint64_t released_ns;		/* preempter: gave up the CPU for good */
	uint64_t stuck_ms;		/* preempter: how long the consumer spun */
	uint64_t stuck_busy_ms;		/* ... of which on its CPU */
};

static void *cw_producer(void *arg)
{
	struct race_thread *t = arg;
	struct cw_ctx *c = t->ctx;
	const uint64_t one = 1;
	struct rusage ru;

	if (sched_setaffinity(0, sizeof(c->cpu), &c->cpu)) {
		race_fail("producer: sched_setaffinity: %s", strerror(errno));
		return NULL;
	}
	while (!load_int(&c->quit) && !race_stopped()) {
		if (write(c->efd, &one, sizeof(one)) != sizeof(one)) {
			race_fail("producer: write: %s", strerror(errno));
			break;
		}
		c->writes++;
	}
	if (!getrusage(RUSAGE_THREAD, &ru))
		c->nivcsw = ru.ru_nivcsw;
	return NULL;
}

static uint64_t cw_consumer_ns(struct cw_ctx *c)
{
	struct timespec ts;

	if (clock_gettime(c->consumer_clock, &ts)) {
		race_fail("clock_gettime: %s", strerror(errno));
		return 0;
	}
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Hold the producer's CPU until the consumer completes its next round of
 * MODs, the one it kicked us for.  Let go early if the consumer makes no
 * progress for CW_ASLEEP_MS while asleep; fail if it makes none for
 * CW_STUCK_MS while busy on its CPU: it spins for the producer.  The
 * consumer's CPU time is sampled once it is 1 ms without progress.
 */
static void cw_hold(struct cw_ctx *c)
{
	unsigned long s0 = __atomic_load_n(&c->sweeps, __ATOMIC_ACQUIRE);
	uint64_t now, since = 0, next = 0, cpu = 0, idle, busy;
	unsigned long p, seen = 0;
	bool sampled = false;

	for (;;) {
		if (__atomic_load_n(&c->sweeps, __ATOMIC_ACQUIRE) != s0 ||
		    load_int(&c->quit) || race_stopped())
			return;
		now = race_now_ns();
		p = __atomic_load_n(&c->progress, __ATOMIC_ACQUIRE);
		if (!since || p != seen) {
			seen = p;
			since = now;
			next = now + CW_NS_PER_MS;
			sampled = false;
			continue;
		}
		if (now < next)
			continue;
		next = now + CW_NS_PER_MS;
		if (!sampled) {
			cpu = cw_consumer_ns(c);
			since = now;
			sampled = true;
			continue;
		}
		idle = now - since;
		busy = cw_consumer_ns(c) - cpu;
		if (idle >= CW_ASLEEP_MS * CW_NS_PER_MS && 2 * busy < idle)
			break;
		if (idle < CW_STUCK_MS * CW_NS_PER_MS)
			continue;
		if (4 * busy < 3 * idle)
			break;
		c->stuck_ms = idle / CW_NS_PER_MS;
		c->stuck_busy_ms = busy / CW_NS_PER_MS;
		race_fail("%s waited for a producer preempted between claim and link",
			  load_int(&c->op) < 0 ? "epoll_wait()" : "EPOLL_CTL_MOD");
		return;
	}
	c->early++;
}

/* SCHED_FIFO on the producer's CPU: sleep until kicked, hold the CPU. */
static void *cw_preempter(void *arg)
{
	struct race_thread *t = arg;
	struct cw_ctx *c = t->ctx;
	struct sched_param sp = { .sched_priority = 1 };
	struct timespec ts = { 0, 10 * CW_NS_PER_MS };

	if (sched_setaffinity(0, sizeof(c->cpu), &c->cpu) ||
	    sched_setscheduler(0, SCHED_FIFO, &sp)) {
		__atomic_store_n(&c->hog, RACE_HOG_REFUSED, __ATOMIC_RELEASE);
		return NULL;
	}
	__atomic_store_n(&c->hog, RACE_HOG_ON, __ATOMIC_RELEASE);
	while (!load_int(&c->go) && !load_int(&c->quit))
		usleep(1000);
	while (!load_int(&c->quit) && !race_stopped()) {
		__atomic_store_n(&c->kick, 0, __ATOMIC_RELEASE);
		if (syscall(SYS_futex, &c->kick, FUTEX_WAIT_PRIVATE, 0, &ts,
			    NULL, 0) && errno == ETIMEDOUT)
			continue;
		c->holds++;
		cw_hold(c);
	}
	__atomic_store_n(&c->released_ns, race_now_ns(), __ATOMIC_RELEASE);
	return NULL;
}

/* Wake the preempter up if it sleeps. */
static void cw_kick(struct cw_ctx *c)
{
	if (!__atomic_load_n(&c->kick, __ATOMIC_ACQUIRE) &&
	    !__atomic_exchange_n(&c->kick, 1, __ATOMIC_ACQ_REL)) {
		syscall(SYS_futex, &c->kick, FUTEX_WAKE_PRIVATE, 1, NULL,
			NULL, 0);
		c->kicks++;
	}
}

/* The consumer completed a syscall. */
static void cw_progress(struct cw_ctx *c)
{
	__atomic_store_n(&c->progress, c->progress + 1, __ATOMIC_RELEASE);
	if (race_stopped() && !c->resumed_ns)
		c->resumed_ns = race_now_ns();
}

TEST_F_TIMEOUT(claim_window, preempted_callback, 2 * RACE_TIMEOUT)
{
	unsigned long harvests = 0, sweeps = race_iters() * 20;
	struct epoll_event ev[2 * CW_NITEMS];
	int epfd, fd[CW_NITEMS], i, k, n, nt = 0, nh = 0;
	uint32_t rnd = race_seed(72), h = 1, j = 0;
	uint64_t deadline, released, seen;
	struct race_thread prod, hog;
	bool after_sweep = true;
	struct utsname u;
	struct cw_ctx c;
	cpu_set_t own;

	memset(&c, 0, sizeof(c));
	if (uname(&u) || !strstr(u.version, "PREEMPT_RT"))
		ksft_print_msg("no PREEMPT_RT: the claim-to-link window cannot be preempted\n");
	i = race_split_cpus(&c.cpu, &own);
	if (i > 0)
		SKIP(return, "needs two CPUs");
	ASSERT_EQ(0, i) TH_LOG("sched_setaffinity: %s", strerror(errno));
	if (geteuid())
		SKIP(return, "needs root to turn RT throttling off");
	if (cw_replace(CW_RT_RUNTIME, self->rt_runtime,
		       sizeof(self->rt_runtime), "-1"))
		SKIP(return, "cannot turn RT throttling off: %s",
		     strerror(errno));
	for (k = CPU_SETSIZE - 1; !CPU_ISSET(k, &c.cpu); k--)
		;
	snprintf(self->fair_path, sizeof(self->fair_path), CW_FAIR_SERVER, k);
	if (cw_replace(self->fair_path, self->fair_runtime,
		       sizeof(self->fair_runtime), "0")) {
		if (errno != ENOENT)
			SKIP(return, "cannot turn the fair server of CPU %d off: %s",
			     k, strerror(errno));
		ksft_print_msg("no %s: a fair server, if any, can run the producer\n",
			       self->fair_path);
	}

	ASSERT_EQ(0, pthread_getcpuclockid(pthread_self(), &c.consumer_clock));
	nh = start_threads(&hog, 1, &c, cw_preempter);
	ASSERT_EQ(1, nh);
	i = race_hog_wait(&c.hog, RACE_START_MS);
	if (i != RACE_HOG_ON) {
		__atomic_store_n(&c.quit, 1, __ATOMIC_RELEASE);
		join_threads(&hog, nh);
	}
	ASSERT_NE(RACE_HOG_STARTING, i)
		TH_LOG("the SCHED_FIFO thread did not start in %d ms",
		       RACE_START_MS);
	if (i == RACE_HOG_REFUSED)
		SKIP(return, "no SCHED_FIFO thread on the producer's CPU");

	c.efd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, c.efd);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, epfd);
	for (k = 0; k < CW_NITEMS; k++) {
		fd[k] = dup(c.efd);
		ASSERT_LE(0, fd[k]);
		ASSERT_EQ(0, race_epoll_add(epfd, fd[k], EPOLLIN | EPOLLET, k));
	}
	nt = start_threads(&prod, 1, &c, cw_producer);
	deadline = race_deadline();
	__atomic_store_n(&c.go, 1, __ATOMIC_RELEASE);

	/*
	 * Harvest one to four times, kick the preempter, harvest zero to two
	 * more times, then a round of MODs.  Right after a round every item
	 * is queued, so the next harvest returns all of them.
	 */
	while (c.sweeps < sweeps && !race_stopped()) {
		if (!(++harvests & 63) && race_now_ms() > deadline)
			break;
		__atomic_store_n(&c.op, -1, __ATOMIC_RELAXED);
		n = epoll_wait(epfd, ev, ARRAY_LEN(ev), 0);
		cw_progress(&c);
		if (n < 0 || n > CW_NITEMS || (after_sweep && n != CW_NITEMS)) {
			race_fail("epoll_wait() returned %d of %d ready items",
				  n, after_sweep ? CW_NITEMS : n);
			break;
		}
		after_sweep = false;
		for (seen = 0, i = 0; i < n; i++) {
			if (ev[i].data.u64 >= CW_NITEMS ||
			    (seen & (1ULL << ev[i].data.u64))) {
				race_fail("item %llu reported twice by a harvest",
					  (unsigned long long)ev[i].data.u64);
				break;
			}
			seen |= 1ULL << ev[i].data.u64;
		}
		if (h && !--h) {
			cw_kick(&c);
			j = race_rand(&rnd) % 3;
		}
		if (h || j--)
			continue;
		for (k = 0; k < CW_NITEMS && !race_stopped(); k++) {
			__atomic_store_n(&c.op, k, __ATOMIC_RELAXED);
			if (race_epoll_mod(epfd, fd[k], EPOLLIN | EPOLLET, k))
				race_fail("EPOLL_CTL_MOD: %s", strerror(errno));
			cw_progress(&c);
		}
		__atomic_store_n(&c.sweeps, c.sweeps + 1, __ATOMIC_RELEASE);
		after_sweep = true;
		h = 1 + race_rand(&rnd) % 4;
	}
	__atomic_store_n(&c.quit, 1, __ATOMIC_RELEASE);
	join_threads(&prod, nt);
	join_threads(&hog, nh);
	ksft_print_msg("%lu harvests, %lu rounds of %d MODs, %lu writes of the producer\n",
		       harvests, c.sweeps, CW_NITEMS, c.writes);
	ksft_print_msg("%lu kicks, %lu holds of its CPU, %ld preemptions, %lu let go early\n",
		       c.kicks, c.holds, c.nivcsw, c.early);
	released = __atomic_load_n(&c.released_ns, __ATOMIC_ACQUIRE);
	if (c.stuck_ms)
		TH_LOG("round %lu: no progress for %llu ms, %llu ms of it on CPU",
		       c.sweeps + 1, (unsigned long long)c.stuck_ms,
		       (unsigned long long)c.stuck_busy_ms);
	if (c.stuck_ms && c.resumed_ns > released)
		TH_LOG("the consumer went on %llu ms after the producer could run",
		       (unsigned long long)(c.resumed_ns - released) /
		       CW_NS_PER_MS);
	ASSERT_EQ(0, race_failed) TH_LOG("%s", race_msg);
	for (k = 0; k < CW_NITEMS; k++)
		close(fd[k]);
	close(epfd);
	close(c.efd);
}

TEST_HARNESS_MAIN
