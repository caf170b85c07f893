// SPDX-License-Identifier: GPL-2.0
/*
 * No waiter is stranded: a waiter that epoll_wait() woke for a queued
 * item and that then left without harvesting it must not leave the
 * other waiters asleep while the item stays queued.
 *
 * Each round, on a fresh eventfd and epoll fd: the remaining waiters go
 * to sleep in epoll_wait(), then the victim P1, pinned to a CPU on which
 * a SCHED_FIFO hog is then started. The parent writes the eventfd: the
 * item is queued and P1, the latest sleeper (ep_poll() queues exclusive
 * waiters at the head, so the wakeup picks the latest), is woken but
 * cannot run. P1 is killed and leaves without harvesting (a fatal
 * signal short-cuts the harvest). ST_GAP_MS after the first write the
 * parent writes again: that event must reach a remaining waiter. A
 * kernel whose callback wakes ep->wq only when it queued the item
 * itself finds the item queued and wakes nobody: the waiters sleep on,
 * and epoll_wait(0) shows the event pending.
 *
 * Variants: level- and edge-triggered; EPOLLEXCLUSIVE on one shared
 * epoll fd; EPOLLEXCLUSIVE with P1 and P3 on one epoll fd and P2 on a
 * second one on the same eventfd (the second write must wake P3, or be
 * passed on to P2, not be reported as taken by nobody); and eintr, where
 * P1 gets a handled signal (no SA_RESTART) just before the first write
 * while the hog holds it off, and stays out of epoll_wait() once it has
 * left with -EINTR. A waiter that a signal woke first takes no share of
 * an exclusive wakeup, so the first event goes to P2 there; the variant
 * checks that P1's -EINTR strands nobody.
 *
 * The remaining waiters have no timeout of their own: the parent gives
 * them EPOLL_RACE_WAIT_MS (default 4000) after the second write, and
 * longer while one of them is woken but not yet running, prints how late
 * the first of them woke, and fails only if none woke while an event is
 * pending (stranded) or nothing is pending (lost). Lateness is never a
 * failure. EPOLL_STRANDED_ROUNDS (default 5) sets the rounds.
 * With a single CPU or without SCHED_FIFO, P1 is killed right after the
 * write with no hog: a weaker test that may miss the window.
 */
#include "epoll_race.h"

#include <signal.h>
#include <linux/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "../../kselftest_harness.h"

#define ST_ROUNDS_DEFAULT	5
#define ST_WAIT_MS_DEFAULT	4000
#define ST_GAP_MS		300
#define ST_HOG_MAX_MS		1000	/* the hog gives up its CPU by then */
#define ST_TIMEOUT		300
#define ST_WAITERS		3	/* P1 (index 0), P2, P3 */
#define ST_HOG			ST_WAITERS	/* its slot in st_ctx.pid[] */
#define NS_PER_MS		1000000ULL

struct st_slot {
	int ready;		/* about to call epoll_wait() */
	int done;		/* epoll_wait() returned: ret, err, woke_ns */
	int ret;
	int err;
	__u64 woke_ns;
};

struct st_shared {
	struct st_slot w[ST_WAITERS];
	int hog;		/* RACE_HOG_* */
	int hog_stop;
};

struct st_ctx {
	struct st_shared *sh;
	pid_t pid[ST_WAITERS + 1];
	int efd;
	int epfd[2];
	cpu_set_t victim;	/* P1 and the hog */
	cpu_set_t others;	/* everyone else */
	bool pin;
};

FIXTURE(stranded) {
	struct st_ctx c;
};

FIXTURE_VARIANT(stranded) {
	__u32 flags;		/* added to EPOLLIN in the registrations */
	bool two_epfds;		/* P1, P3 on epfd[0]; P2 on epfd[1] */
	bool eintr;		/* P1 gets a handled SIGUSR1, not SIGKILL */
};

FIXTURE_VARIANT_ADD(stranded, sigkill) {
	.flags = 0,
};

FIXTURE_VARIANT_ADD(stranded, sigkill_et) {
	.flags = EPOLLET,
};

FIXTURE_VARIANT_ADD(stranded, exclusive) {
	.flags = EPOLLEXCLUSIVE,
};

FIXTURE_VARIANT_ADD(stranded, exclusive_two_epfds) {
	.flags = EPOLLEXCLUSIVE,
	.two_epfds = true,
};

/* ET: once a remaining waiter has harvested, P1 finds nothing. */
FIXTURE_VARIANT_ADD(stranded, eintr) {
	.flags = EPOLLET,
	.eintr = true,
};

static void st_close(struct st_ctx *c)
{
	int i, *fd;

	for (i = 0; i <= ST_HOG; i++) {
		if (c->pid[i] > 0) {
			kill(c->pid[i], SIGKILL);
			waitpid(c->pid[i], NULL, 0);
		}
		c->pid[i] = 0;
	}
	for (i = 0; i < 3; i++) {
		fd = i ? &c->epfd[i - 1] : &c->efd;
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
}

FIXTURE_SETUP(stranded)
{
	struct st_ctx *c = &self->c;
	int ret;

	c->efd = -1;
	c->epfd[0] = -1;
	c->epfd[1] = -1;
	c->sh = mmap(NULL, sizeof(*c->sh), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, c->sh);
	/* The parent must run while the hog holds P1's CPU. */
	ret = race_split_cpus(&c->victim, &c->others);
	ASSERT_LE(0, ret) TH_LOG("sched_setaffinity: %s", strerror(errno));
	c->pin = !ret;
}

FIXTURE_TEARDOWN(stranded)
{
	struct st_ctx *c = &self->c;

	st_close(c);
	if (c->sh != MAP_FAILED)
		munmap(c->sh, sizeof(*c->sh));
}

static void st_handler(int sig)
{
}

/* One epoll_wait() without timeout; then wait to be killed. */
static void st_waiter(struct st_slot *s, int epfd, bool handler)
{
	struct sigaction sa = { .sa_handler = st_handler };
	struct epoll_event ev;
	int n;

	if (handler)
		sigaction(SIGUSR1, &sa, NULL);
	__atomic_store_n(&s->ready, 1, __ATOMIC_RELEASE);
	n = epoll_wait(epfd, &ev, 1, -1);
	s->err = errno;
	s->woke_ns = race_now_ns();
	s->ret = n;
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
}

/* fork(); the child dies with the parent and runs on @cpus. */
static pid_t st_spawn(struct st_ctx *c, int slot,
		      const cpu_set_t *cpus)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		if (c->pin)
			sched_setaffinity(0, sizeof(*cpus), cpus);
	} else if (pid > 0) {
		c->pid[slot] = pid;
	}
	return pid;
}

/* Whether @pid sleeps interruptibly, "S" in /proc/PID/stat. */
static bool st_sleeping(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	return race_stat_sleeping(path);
}

/* Wait until waiter @s (process @pid) sleeps in epoll_wait(). */
static bool st_wait_asleep(struct st_slot *s, pid_t pid)
{
	__u64 end = race_now_ms() + RACE_START_MS;

	while (race_now_ms() < end) {
		if (__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE) &&
		    st_sleeping(pid))
			return true;
		usleep(200);
	}
	return false;
}

/* Whether every remaining waiter sleeps (a woken one is runnable). */
static bool st_all_asleep(struct st_ctx *c, int nw)
{
	int i;

	for (i = 1; i < nw; i++)
		if (!st_sleeping(c->pid[i]))
			return false;
	return true;
}

/*
 * The remaining waiter that woke first with an event, or -1; *bad is one
 * whose epoll_wait() returned without an event, or 0.
 */
static int st_woken(struct st_shared *sh, int nw, int *bad)
{
	int i, best = -1;

	*bad = 0;
	for (i = 1; i < nw; i++) {
		struct st_slot *s = &sh->w[i];

		if (!__atomic_load_n(&s->done, __ATOMIC_ACQUIRE))
			continue;
		if (s->ret <= 0)
			*bad = i;
		else if (best < 0 || s->woke_ns < sh->w[best].woke_ns)
			best = i;
	}
	return best;
}

static void st_sleep_until(__u64 ns)
{
	struct timespec ts = {
		.tv_sec = ns / 1000000000ULL,
		.tv_nsec = ns % 1000000000ULL,
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
		;
}

static long long st_ms(__u64 a, __u64 b)
{
	return ((long long)a - (long long)b) / (long long)NS_PER_MS;
}

TEST_F_TIMEOUT(stranded, next_event_wakes_sleeper, ST_TIMEOUT)
{
	struct st_ctx *c = &self->c;
	unsigned long rounds = race_env("EPOLL_STRANDED_ROUNDS",
					ST_ROUNDS_DEFAULT, 100000);
	unsigned long wait_ms = race_env("EPOLL_RACE_WAIT_MS",
					 ST_WAIT_MS_DEFAULT, 600000);
	__u32 events = EPOLLIN | variant->flags;
	int nw = variant->two_epfds ? 3 : 2;
	unsigned long r, hit = 0, weak = 0;
	struct st_shared *sh = c->sh;
	struct epoll_event ev;
	__u64 one = 1;

	for (r = 1; r <= rounds; r++) {
		__u64 t1, t2, end;
		int i, k, got, bad, hog = 0, pending = 0;
		struct st_slot p1;
		const char *why;
		pid_t pid;

		memset(sh, 0, sizeof(*sh));
		c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ASSERT_LE(0, c->efd);
		for (k = 0; k <= variant->two_epfds; k++) {
			c->epfd[k] = epoll_create1(EPOLL_CLOEXEC);
			ASSERT_LE(0, c->epfd[k]);
			ASSERT_EQ(0, race_epoll_add(c->epfd[k], c->efd,
						    events, k));
		}

		/* The remaining waiters first, P1 last: it is woken first. */
		for (i = nw - 1; i >= 0; i--) {
			pid = st_spawn(c, i, i ? &c->others : &c->victim);
			ASSERT_LE(0, pid);
			if (!pid)
				st_waiter(&sh->w[i],
					  c->epfd[variant->two_epfds && i == 1],
					  !i && variant->eintr);
			ASSERT_TRUE(st_wait_asleep(&sh->w[i], pid))
				TH_LOG("round %lu: P%d not asleep in epoll_wait()",
				       r, i + 1);
		}
		if (c->pin) {
			pid = st_spawn(c, ST_HOG, &c->victim);
			ASSERT_LE(0, pid);
			if (!pid) {
				/* Spins on P1's CPU, ST_HOG_MAX_MS at most. */
				race_hog(&sh->hog, &sh->hog_stop, NULL,
					 race_now_ms() + ST_HOG_MAX_MS, false);
				_exit(0);
			}
			hog = race_hog_wait(&sh->hog, RACE_START_MS);
		}
		weak += hog != RACE_HOG_ON;

		if (variant->eintr)
			ASSERT_EQ(0, kill(c->pid[0], SIGUSR1));
		t1 = race_now_ns();
		ASSERT_EQ(sizeof(one), write(c->efd, &one, sizeof(one)));
		if (!variant->eintr)
			ASSERT_EQ(0, kill(c->pid[0], SIGKILL));
		/* eintr: hold P1 off until a remaining waiter harvested. */
		while (variant->eintr && hog == RACE_HOG_ON &&
		       st_woken(sh, nw, &bad) < 0 &&
		       race_now_ns() < t1 + ST_GAP_MS / 2 * NS_PER_MS)
			usleep(100);
		__atomic_store_n(&sh->hog_stop, 1, __ATOMIC_RELEASE);
		if (c->pid[ST_HOG] > 0) {
			waitpid(c->pid[ST_HOG], NULL, 0);
			c->pid[ST_HOG] = 0;
		}
		if (!variant->eintr) {
			/* P1 is gone before the second event. */
			waitpid(c->pid[0], NULL, 0);
			c->pid[0] = 0;
		}

		st_sleep_until(t1 + ST_GAP_MS * NS_PER_MS);
		t2 = race_now_ns();
		ASSERT_EQ(sizeof(one), write(c->efd, &one, sizeof(one)));
		end = t2 + wait_ms * NS_PER_MS;
		while ((got = st_woken(sh, nw, &bad)) < 0 && !bad &&
		       (race_now_ns() < end || !st_all_asleep(c, nw)))
			usleep(1000);
		if (got < 0 && !bad) {
			for (k = 0; k <= variant->two_epfds; k++)
				if (epoll_wait(c->epfd[k], &ev, 1, 0) > 0)
					pending++;
		}
		p1 = sh->w[0];
		st_close(c);

		ASSERT_EQ(0, bad)
			TH_LOG("round %lu: P%d: epoll_wait() = %d without an event: %s",
			       r, bad + 1, sh->w[bad].ret,
			       strerror(sh->w[bad].err));
		why = pending ? "stranded: epoll_wait(0) finds the event pending" :
				"lost: nothing is pending";
		ASSERT_LE(0, got)
			TH_LOG("round %lu: no waiter woke %lu ms after write 2: %s",
			       r, wait_ms, why);

		/* Woken by the second event: P1 took the first and left. */
		if (variant->eintr)
			hit += p1.done && p1.ret < 0 && p1.err == EINTR;
		else
			hit += sh->w[got].woke_ns >= t2;
		ksft_print_msg("round %lu: P%d woke at %lld ms (write 2: %+lld ms), P1 %s%s\n",
			       r, got + 1, st_ms(sh->w[got].woke_ns, t1),
			       st_ms(sh->w[got].woke_ns, t2),
			       !variant->eintr ? "killed" :
			       !p1.done ? "did not return" :
			       p1.ret < 0 ? strerror(p1.err) : "harvested",
			       hog == RACE_HOG_ON ? "" : " (no SCHED_FIFO hog)");
	}
	ksft_print_msg("%s in %lu of %lu rounds; %lu rounds without a SCHED_FIFO hog\n",
		       variant->eintr ? "P1 left with EINTR" :
		       "P1 took the first wakeup and left", hit, rounds, weak);
}

/*
 * A waiter whose timeout fires as an EPOLLEXCLUSIVE event arrives. The
 * eventfd is watched with EPOLLIN | EPOLLEXCLUSIVE by ep1, then by ep2.
 * A sleeps in epoll_pwait2(ep1) with a short timeout on one CPU, B in
 * epoll_wait(ep2, -1); the main thread writes the eventfd from another
 * CPU close to A's deadline, aiming the write at the moment A leaves
 * ep1's wait queue. Either A harvests the event, or ep1's callback must
 * answer "wakeup not taken", so that ep2's callback runs and wakes B. A
 * callback that decides "taken" from a look at ep1's wait queue made
 * before A left it, and then wakes an empty queue, strands the event:
 * A returned 0, B sleeps on, and ep1 holds the event.
 *
 * The window is a few instructions wide, so the write sweeps an interval
 * around A's measured return, round after round, for EPOLL_XT_SECS
 * (default 30) seconds or until the first loss. A loss is B asleep
 * (state S) RACE_WAIT_MS after A returned 0: a B that was woken but has
 * not run yet is waited for. How late B woke is printed.
 */
#define XT_SECS_DEFAULT		30
#define XT_TIMEOUT_US		300
#define XT_TIMEOUT		(XT_SECS_DEFAULT + 240)

struct xt_ctx {
	int efd, ep1, ep2;
	cpu_set_t a_cpu, main_cpu;
	int round;		/* main -> A: start round n */
	int a_done;		/* A -> main: round n returned */
	int a_ret;
	__u64 a_deadline;	/* A's deadline, CLOCK_MONOTONIC ns */
	__u64 a_back;		/* when epoll_pwait2() returned */
	int b_woken;		/* B's wakeups */
	pid_t b_tid;
	int stop;
};

static void *xt_a(void *arg)
{
	struct xt_ctx *x = arg;
	struct timespec to = { .tv_nsec = XT_TIMEOUT_US * 1000 };
	struct epoll_event ev;
	int n = 0, ret;
	__u64 t;

	sched_setaffinity(0, sizeof(x->a_cpu), &x->a_cpu);
	prctl(PR_SET_TIMERSLACK, 1UL);
	for (;;) {
		if (!race_wait_eq(&x->round, n + 1, RACE_NO_DEADLINE) ||
		    load_int(&x->stop))
			return NULL;
		n++;
		t = race_now_ns();
		__atomic_store_n(&x->a_deadline, t + XT_TIMEOUT_US * 1000,
				 __ATOMIC_RELEASE);
		ret = syscall(__NR_epoll_pwait2, x->ep1, &ev, 1, &to, NULL, 0);
		x->a_back = race_now_ns();
		x->a_ret = ret;
		__atomic_store_n(&x->a_done, n, __ATOMIC_RELEASE);
	}
}

static void *xt_b(void *arg)
{
	struct xt_ctx *x = arg;
	struct epoll_event ev;
	__u64 v;

	sched_setaffinity(0, sizeof(x->main_cpu), &x->main_cpu);
	__atomic_store_n(&x->b_tid, gettid(), __ATOMIC_RELEASE);
	while (!load_int(&x->stop)) {
		if (epoll_wait(x->ep2, &ev, 1, 100) == 1) {
			if (read(x->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				race_fail("B: read: %s", strerror(errno));
			__atomic_add_fetch(&x->b_woken, 1, __ATOMIC_RELEASE);
		}
	}
	return NULL;
}

FIXTURE(exclusive) {
};

FIXTURE_SETUP(exclusive)
{
}

FIXTURE_TEARDOWN(exclusive)
{
}

TEST_F_TIMEOUT(exclusive, timed_out_waiter, XT_TIMEOUT)
{
	unsigned long secs = race_env("EPOLL_XT_SECS", XT_SECS_DEFAULT, 3600);
	__u64 one = 1, v, end, t, dl, lat_a = 0, lat_w = 0, late_max = 0;
	unsigned long rounds = 0, a_got = 0, b_got = 0;
	struct epoll_event ev;
	struct xt_ctx x = { 0 };
	pthread_t ta, tb;
	uint32_t seed = race_seed(7);
	long long off;
	char b_stat[64];
	int b, cpus;

	cpus = race_split_cpus(&x.a_cpu, &x.main_cpu);
	ASSERT_LE(0, cpus);
	if (cpus)
		SKIP(return, "needs two CPUs");
	x.efd = eventfd(0, EFD_NONBLOCK);
	x.ep1 = epoll_create1(0);
	x.ep2 = epoll_create1(0);
	ASSERT_LE(0, x.efd);
	ASSERT_LE(0, x.ep1);
	ASSERT_LE(0, x.ep2);
	/* ep1's entry first on the eventfd's queue: its callback runs first */
	ASSERT_EQ(0, race_epoll_add(x.ep1, x.efd, EPOLLIN | EPOLLEXCLUSIVE, 1));
	ASSERT_EQ(0, race_epoll_add(x.ep2, x.efd, EPOLLIN | EPOLLEXCLUSIVE, 2));
	ASSERT_EQ(0, pthread_create(&ta, NULL, xt_a, &x));
	ASSERT_EQ(0, pthread_create(&tb, NULL, xt_b, &x));
	while (!__atomic_load_n(&x.b_tid, __ATOMIC_ACQUIRE))
		usleep(100);
	snprintf(b_stat, sizeof(b_stat), "/proc/self/task/%d/stat", x.b_tid);

	end = race_now_ns() + secs * 1000000000ULL;
	while (!race_stopped() && race_now_ns() < end) {
		/* Nothing pending: the eventfd is 0, ep1's queue is empty. */
		while (epoll_wait(x.ep1, &ev, 1, 0) > 0)
			;
		b = load_int(&x.b_woken);
		rounds++;
		__atomic_store_n(&x.round, (int)rounds, __ATOMIC_RELEASE);
		while (!__atomic_load_n(&x.a_deadline, __ATOMIC_ACQUIRE))
			race_relax();
		/*
		 * A leaves ep1's queue about lat_a after its deadline, and a
		 * write reaches the callbacks about lat_w after it starts:
		 * sweep the write from lat_a - 2 lat_w to lat_a + lat_w / 2.
		 */
		off = (long long)lat_a - 2 * (long long)lat_w +
		      (long long)(race_rand(&seed) % (5 * lat_w / 2 + 1));
		dl = x.a_deadline;
		t = dl + off;
		while (race_now_ns() < t)
			race_relax();
		t = race_now_ns();
		ASSERT_EQ(sizeof(one), write(x.efd, &one, sizeof(one)));
		t = race_now_ns() - t;
		ASSERT_TRUE(race_wait_eq(&x.a_done, (int)rounds, RACE_NO_DEADLINE));
		__atomic_store_n(&x.a_deadline, 0, __ATOMIC_RELAXED);
		if (x.a_ret == 1) {
			/* Only a write that woke A on its CPU: B's runs on ours */
			lat_w = (7 * lat_w + t) / 8;
			a_got++;
			if (read(x.efd, &v, sizeof(v)) < 0)
				ASSERT_EQ(EAGAIN, errno);
			continue;
		}
		ASSERT_EQ(0, x.a_ret);
		lat_a = (7 * lat_a + (x.a_back - dl)) / 8;
		/* A timed out: the event must have gone to B. */
		t = race_now_ns();
		while (load_int(&x.b_woken) == b &&
		       (race_now_ns() < t + RACE_WAIT_MS * 1000000ULL ||
			!race_stat_sleeping(b_stat)) &&
		       race_now_ns() < t + RACE_START_MS * 1000000ULL)
			usleep(100);
		if (load_int(&x.b_woken) == b) {
			race_fail("round %lu: A timed out, B still asleep %d ms later%s",
				  rounds, RACE_WAIT_MS,
				  epoll_wait(x.ep1, &ev, 1, 0) > 0 ?
				  ", the event pending on ep1" : "");
			break;
		}
		b_got++;
		if (race_now_ns() - t > late_max)
			late_max = race_now_ns() - t;
	}
	__atomic_store_n(&x.stop, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&x.round, (int)rounds + 1, __ATOMIC_RELEASE);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	close(x.ep1);
	close(x.ep2);
	close(x.efd);
	ksft_print_msg("%lu rounds: A harvested %lu, B woken %lu (%llu us after A at most)\n",
		       rounds, a_got, b_got, late_max / 1000);
	ksft_print_msg("A left %llu us after its deadline, a write took %llu us\n",
		       lat_a / 1000, lat_w / 1000);
	ASSERT_EQ(0, race_failed) TH_LOG("%s", race_msg);
}

TEST_HARNESS_MAIN
