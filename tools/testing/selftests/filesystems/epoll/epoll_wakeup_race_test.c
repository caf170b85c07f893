// SPDX-License-Identifier: GPL-2.0
/*
 * EPOLLWAKEUP: wakeup sources of an epoll instance, seen through
 * /sys/class/wakeup, while events are queued, delivered and raced.
 *
 * With EPOLLWAKEUP (and CAP_BLOCK_SUSPEND) an epoll item gets a wakeup
 * source named after the watched file, and the instance one named
 * "eventpoll".  The promise checked here:
 *
 *   W1  from the moment an event is queued until the epoll_wait() that
 *       retrieves it, and for a level-triggered event as long as it
 *       stays ready, at least one of these sources is active;
 *   W2  once epoll_wait() found nothing pending, none of them is; and
 *       the same after EPOLL_CTL_MOD clearing EPOLLWAKEUP, EPOLL_CTL_DEL
 *       or close() of the epoll file with an event pending.
 *
 * An EPOLLET or EPOLLONESHOT event is done once delivered (epoll_ctl(2)
 * words "until the next epoll_wait()" for level-triggered items only, and
 * no kernel has kept those awake after delivery), so the tests expect no
 * active source then.
 *
 * A source is active when its active_time_ms is non-zero, which takes a
 * millisecond after activation: the tests sleep WS_SETTLE_US before they
 * look.  Activations are also seen in active_count and event_count.  The
 * tests read wakeup sources where users see them, in /sys/class/wakeup;
 * the epoll file's fdinfo must show nothing it did not always show.
 * Without /sys/class/wakeup (no CONFIG_PM_SLEEP) or without
 * CAP_BLOCK_SUSPEND these tests skip, except unprivileged_dropped, which
 * checks that EPOLLWAKEUP is silently dropped for an unprivileged caller.
 *
 * Iterations: EPOLL_RACE_ITERS / 10 + 1 rounds per race variant (101 by
 * default), bounded by EPOLL_RACE_SECS; see epoll_race.h.  The test
 * "many" runs WK_PRODUCERS writer threads on WK_FIFOS FIFOs.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "epoll_race.h"
#include "../../kselftest_harness.h"

#define WS_DIR		"/sys/class/wakeup"
#define WS_SETTLE_US	3000
#define WS_MAX		64
#define WK_FIFOS	8
#define WK_PRODUCERS	4
#define CAP_BLOCK_SUSPEND_BIT	36	/* linux/capability.h */

static int ws_read(const char *dir, const char *attr, char *buf, size_t len)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), WS_DIR "/%s/%s", dir, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

/*
 * Collect the wakeup sources called @name into @out (directory names),
 * return how many there are or -1 if /sys/class/wakeup is unreadable.
 */
static int ws_find(const char *name, char out[][32], int max)
{
	struct dirent *de;
	char buf[128];
	int n = 0;
	DIR *d;

	d = opendir(WS_DIR);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    ws_read(de->d_name, "name", buf, sizeof(buf)) ||
		    strcmp(buf, name))
			continue;
		if (n < max)
			snprintf(out[n], 32, "%.31s", de->d_name);
		n++;
	}
	closedir(d);
	return n;
}

/* active_time_ms of a source: 0 when inactive, -1 if it is gone. */
static long ws_active_ms(const char *dir)
{
	char buf[64];

	if (ws_read(dir, "active_time_ms", buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 10);
}

static bool ws_exists(const char *dir)
{
	return ws_active_ms(dir) >= 0;
}

/* One epoll instance watching one FIFO with EPOLLWAKEUP. */
struct wk {
	char fifo[128];
	int rfd;		/* the FIFO, O_RDWR | O_NONBLOCK */
	int epfd;
	char item_ws[32];	/* wakeup source of the epoll item */
	char ep_ws[32];		/* wakeup source of the instance */
};

static int wk_fifo(struct wk *w, int n)
{
	static const char * const dirs[] = { "/tmp", "/dev/shm", "." };
	const char *tmp = getenv("TMPDIR");
	unsigned int i;

	for (i = 0; i <= ARRAY_LEN(dirs); i++) {
		const char *dir = i ? dirs[i - 1] : tmp;

		if (!dir)
			continue;
		snprintf(w->fifo, sizeof(w->fifo), "%s/epoll_wk_%d_%d", dir,
			 getpid(), n);
		unlink(w->fifo);
		if (!mkfifo(w->fifo, 0600))
			break;
	}
	if (i > ARRAY_LEN(dirs))
		return -1;
	w->rfd = open(w->fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	/* The open FIFO keeps its name, which names the wakeup source. */
	unlink(w->fifo);
	return w->rfd < 0 ? -1 : 0;
}

static const char *wk_basename(struct wk *w)
{
	const char *p = strrchr(w->fifo, '/');

	return p ? p + 1 : w->fifo;
}

/*
 * Set up @w, registered with @events | EPOLLWAKEUP, and find its two
 * wakeup sources.  Returns 0, or a reason to skip in @why.
 */
static int wk_setup(struct wk *w, uint32_t events, const char **why)
{
	char before[WS_MAX][32], after[WS_MAX][32], found[2][32];
	int nb, na, i, j;

	memset(w, 0, sizeof(*w));
	w->rfd = -1;
	w->epfd = -1;
	*why = NULL;
	if (access(WS_DIR, R_OK)) {
		*why = WS_DIR " missing (CONFIG_PM_SLEEP=n?)";
		return -1;
	}
	if (wk_fifo(w, 0)) {
		*why = "cannot create a FIFO";
		return -1;
	}
	nb = ws_find("eventpoll", before, WS_MAX);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0 || nb < 0 || nb > WS_MAX)
		return -1;
	if (race_epoll_add(w->epfd, w->rfd, events | EPOLLWAKEUP, 1))
		return -1;
	if (ws_find(wk_basename(w), found, 2) != 1) {
		*why = "no wakeup source for the item (no CAP_BLOCK_SUSPEND?)";
		return -1;
	}
	snprintf(w->item_ws, sizeof(w->item_ws), "%s", found[0]);

	/* The instance's source is the "eventpoll" that just appeared. */
	na = ws_find("eventpoll", after, WS_MAX);
	if (na != nb + 1) {
		*why = "cannot tell this instance's wakeup source from others";
		return -1;
	}
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb; j++)
			if (!strcmp(after[i], before[j]))
				break;
		if (j == nb)
			snprintf(w->ep_ws, sizeof(w->ep_ws), "%.31s", after[i]);
	}
	return w->ep_ws[0] ? 0 : -1;
}

static void wk_teardown(struct wk *w)
{
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->rfd >= 0)
		close(w->rfd);
}

static int wk_write(struct wk *w)
{
	return write(w->rfd, "x", 1) == 1 ? 0 : -1;
}

/* Read the FIFO empty; returns the number of bytes read. */
static long wk_drain(struct wk *w)
{
	char buf[256];
	long total = 0;
	ssize_t n;

	while ((n = read(w->rfd, buf, sizeof(buf))) > 0)
		total += n;
	return total;
}

/* Has any wakeup source of the instance been active for a while? */
static bool wk_any_active(struct wk *w)
{
	return ws_active_ms(w->item_ws) > 0 || ws_active_ms(w->ep_ws) > 0;
}

static bool wk_all_inactive(struct wk *w)
{
	return !ws_active_ms(w->item_ws) && !ws_active_ms(w->ep_ws);
}

/* Does this process have CAP_BLOCK_SUSPEND in its effective set? */
static bool has_cap_block_suspend(void)
{
	unsigned long long eff = 0;
	char line[256];
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return eff & (1ULL << CAP_BLOCK_SUSPEND_BIT);
}

static uint32_t fdinfo_events(int epfd, int tfd)
{
	char path[64], line[256];
	unsigned int events;
	uint32_t ret = 0;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", epfd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "tfd: %d events: %x", &fd, &events) == 2 &&
		    fd == tfd)
			ret = events;
	fclose(f);
	return ret;
}

/*
 * The value of a "wakeup_pending: N" line in the epoll file's fdinfo, or
 * -1 without one: fdinfo must print what it always printed.
 */
static long fdinfo_ws_pending(int epfd)
{
	char path[64], line[256];
	long ret = -1, v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", epfd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "wakeup_pending: %ld", &v) == 1)
			ret = v;
	fclose(f);
	return ret;
}

static long ws_read_long(const char *dir, const char *attr)
{
	char buf[64];

	if (ws_read(dir, attr, buf, sizeof(buf)))
		return -1;
	return atol(buf);
}

FIXTURE(wakeup) {
	struct wk w;
};

FIXTURE_VARIANT(wakeup) {
	bool et;
};

FIXTURE_VARIANT_ADD(wakeup, lt) {
	.et = false,
};

FIXTURE_VARIANT_ADD(wakeup, et) {
	.et = true,
};

FIXTURE_SETUP(wakeup)
{
	const char *why;

	if (wk_setup(&self->w, EPOLLIN | (variant->et ? EPOLLET : 0), &why)) {
		int err = errno;

		wk_teardown(&self->w);
		if (why)
			SKIP(return, "%s", why);
		ASSERT_TRUE(false) TH_LOG("setup: %s", strerror(err));
	}
}

FIXTURE_TEARDOWN(wakeup)
{
	wk_teardown(&self->w);
}

static void wk_find_item_ws(struct __test_metadata *_metadata, struct wk *w)
{
	char found[2][32];

	ASSERT_EQ(1, ws_find(wk_basename(w), found, 2));
	snprintf(w->item_ws, sizeof(w->item_ws), "%s", found[0]);
}

/*
 * EPOLL_CTL_MOD gives EPOLLWAKEUP to a level-triggered item that is
 * queued already, delivered and still ready: from the next epoll_wait()
 * that returns it on, a source is active (W1), until a read and an empty
 * epoll_wait() (W2).
 */
TEST(wakeup_added_to_queued_lt)
{
	struct epoll_event ev;
	const char *why;
	struct wk w;
	int i;

	if (wk_setup(&w, EPOLLIN, &why)) {
		int err = errno;

		wk_teardown(&w);
		if (why)
			SKIP(return, "%s", why);
		ASSERT_TRUE(false) TH_LOG("setup: %s", strerror(err));
	}
	ASSERT_EQ(0, race_epoll_mod(w.epfd, w.rfd, EPOLLIN, 1));
	ASSERT_EQ(0, wk_write(&w));
	ASSERT_EQ(1, epoll_wait(w.epfd, &ev, 1, 0));
	ASSERT_EQ(0, race_epoll_mod(w.epfd, w.rfd, EPOLLIN | EPOLLWAKEUP, 1));
	ASSERT_EQ(1, ws_find(wk_basename(&w), &w.item_ws, 1));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(1, epoll_wait(w.epfd, &ev, 1, 0));
		usleep(WS_SETTLE_US);
		EXPECT_TRUE(wk_any_active(&w))
			TH_LOG("W1: call %d after the MOD, no active source", i);
	}
	ASSERT_EQ(1, wk_drain(&w));
	ASSERT_EQ(0, epoll_wait(w.epfd, &ev, 1, 0));
	usleep(WS_SETTLE_US);
	EXPECT_TRUE(wk_all_inactive(&w))
		TH_LOG("W2: nothing pending, a source is active");
	wk_teardown(&w);
}

/*
 * After EPOLL_CTL_MOD clearing EPOLLWAKEUP or EPOLL_CTL_DEL: the item's
 * source is gone and nothing of this instance stays active or pending (W2).
 */
static void wk_expect_dropped(struct __test_metadata *_metadata,
			      struct wk *w, const char *how)
{
	EXPECT_FALSE(ws_exists(w->item_ws));
	usleep(WS_SETTLE_US);
	EXPECT_EQ(0, ws_active_ms(w->ep_ws))
		TH_LOG("W2: %s, eventpoll source active", how);
}

/*
 * Step by step: queued event (W1), delivered level-triggered event still
 * ready (W1), nothing pending after a read and an empty epoll_wait()
 * (W2); and the item's source disappears with EPOLL_CTL_MOD clearing
 * EPOLLWAKEUP and with EPOLL_CTL_DEL, leaving no active source behind.
 */
TEST_F(wakeup, sources)
{
	struct wk *w = &self->w;
	struct epoll_event ev;
	char buf[64];
	long before;

	long events_before;

	EXPECT_NE(0, fdinfo_events(w->epfd, w->rfd) & EPOLLWAKEUP);
	EXPECT_EQ(-1, fdinfo_ws_pending(w->epfd))
		TH_LOG("fdinfo shows a line it did not show before");
	usleep(WS_SETTLE_US);
	ASSERT_TRUE(wk_all_inactive(w));
	ASSERT_EQ(0, ws_read(w->item_ws, "active_count", buf, sizeof(buf)));
	before = atol(buf);
	events_before = ws_read_long(w->item_ws, "event_count");
	ASSERT_LE(0, events_before);

	/*
	 * Queued: the item's source, named after the file, is active until
	 * epoll_wait(), and counts the event.
	 */
	ASSERT_EQ(0, wk_write(w));
	usleep(WS_SETTLE_US);
	EXPECT_LT(0, ws_active_ms(w->item_ws))
		TH_LOG("W1: queued event, no active source");
	ASSERT_EQ(0, ws_read(w->item_ws, "active_count", buf, sizeof(buf)));
	EXPECT_LT(before, atol(buf));
	EXPECT_LT(events_before, ws_read_long(w->item_ws, "event_count"));

	ASSERT_EQ(1, epoll_wait(w->epfd, &ev, 1, 0));
	if (!variant->et) {
		/*
		 * Delivered, still ready, re-queued: still active, and
		 * under the file's name, not only the instance's.
		 */
		usleep(WS_SETTLE_US);
		EXPECT_TRUE(wk_any_active(w))
			TH_LOG("W1: ready LT event, no active source");
		EXPECT_LT(0, ws_active_ms(w->item_ws))
			TH_LOG("ready LT event, the file's source is idle");
		ASSERT_EQ(1, epoll_wait(w->epfd, &ev, 1, 0));
		usleep(WS_SETTLE_US);
		EXPECT_TRUE(wk_any_active(w))
			TH_LOG("W1: ready LT event, second call, no active source");
	}
	ASSERT_EQ(1, wk_drain(w));
	ASSERT_EQ(0, epoll_wait(w->epfd, &ev, 1, 0));
	EXPECT_TRUE(wk_all_inactive(w))
		TH_LOG("W2: nothing pending, a source is active");

	/* EPOLL_CTL_MOD without EPOLLWAKEUP while an event is pending. */
	ASSERT_EQ(0, wk_write(w));
	usleep(WS_SETTLE_US);
	EXPECT_LT(0, ws_active_ms(w->item_ws));
	ASSERT_EQ(0, race_epoll_mod(w->epfd, w->rfd,
				    EPOLLIN | (variant->et ? EPOLLET : 0), 1));
	EXPECT_FALSE(ws_exists(w->item_ws));
	EXPECT_EQ(0, ws_active_ms(w->ep_ws));
	ASSERT_EQ(1, epoll_wait(w->epfd, &ev, 1, 0));
	EXPECT_EQ(0, ws_active_ms(w->ep_ws));
	ASSERT_EQ(1, wk_drain(w));
	/*
	 * Let a level-triggered item leave the ready list first: an item
	 * that is still queued when EPOLLWAKEUP is set again does not get
	 * its source activated by later events until it is re-queued.
	 */
	ASSERT_EQ(0, epoll_wait(w->epfd, &ev, 1, 0));

	/* EPOLLWAKEUP again, then EPOLL_CTL_DEL while an event is pending. */
	ASSERT_EQ(0, race_epoll_mod(w->epfd, w->rfd, EPOLLIN | EPOLLWAKEUP |
				    (variant->et ? EPOLLET : 0), 1));
	wk_find_item_ws(_metadata, w);
	ASSERT_EQ(0, wk_write(w));
	usleep(WS_SETTLE_US);
	EXPECT_LT(0, ws_active_ms(w->item_ws));
	ASSERT_EQ(0, epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->rfd, NULL));
	wk_expect_dropped(_metadata, w, "item deleted while pending");
	EXPECT_EQ(0, epoll_wait(w->epfd, &ev, 1, 0));
	EXPECT_EQ(0, ws_active_ms(w->ep_ws));
}

/*
 * Deliver an event, then end the promise each way epoll_ctl(2) lists
 * while it is in force: EPOLL_CTL_MOD clearing EPOLLWAKEUP, EPOLL_CTL_DEL,
 * close() of the epoll file.  A level-triggered event that is still
 * ready stays pending after its delivery (W1); after each of these
 * calls nothing of this instance may stay active (W2), whether the
 * event was queued, or delivered and still pending.
 */
static void wk_deliver(struct __test_metadata *_metadata, struct wk *w,
		       bool et)
{
	struct epoll_event ev;

	ASSERT_EQ(0, wk_write(w));
	usleep(WS_SETTLE_US);
	ASSERT_LT(0, ws_active_ms(w->item_ws))
		TH_LOG("W1: queued event, no active source");
	ASSERT_EQ(1, epoll_wait(w->epfd, &ev, 1, 0));
	usleep(WS_SETTLE_US);
	if (!et) {
		ASSERT_TRUE(wk_any_active(w))
			TH_LOG("W1: delivered LT event still ready, no active source");
	} else {
		/* Done once delivered, see the top of this file. */
		ASSERT_TRUE(wk_all_inactive(w))
			TH_LOG("W2: ET event delivered, a source is active");
	}
}

TEST_F(wakeup, released)
{
	uint32_t mode = EPOLLIN | (variant->et ? EPOLLET : 0);
	struct wk *w = &self->w;
	struct epoll_event ev;

	/* EPOLL_CTL_MOD clearing EPOLLWAKEUP after the delivery. */
	wk_deliver(_metadata, w, variant->et);
	ASSERT_EQ(0, race_epoll_mod(w->epfd, w->rfd, mode, 1));
	wk_expect_dropped(_metadata, w, "EPOLLWAKEUP cleared");
	/*
	 * The item is still ready: EPOLL_CTL_MOD re-polled it and queued it
	 * (ET too). Its delivery activates nothing now.
	 */
	EXPECT_EQ(1, epoll_wait(w->epfd, &ev, 1, 0));
	EXPECT_EQ(0, ws_active_ms(w->ep_ws));
	ASSERT_EQ(1, wk_drain(w));
	ASSERT_EQ(0, epoll_wait(w->epfd, &ev, 1, 0));

	/* EPOLL_CTL_DEL after the delivery. */
	ASSERT_EQ(0, race_epoll_mod(w->epfd, w->rfd, mode | EPOLLWAKEUP, 1));
	wk_find_item_ws(_metadata, w);
	wk_deliver(_metadata, w, variant->et);
	ASSERT_EQ(0, epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->rfd, NULL));
	wk_expect_dropped(_metadata, w, "item deleted");
	EXPECT_EQ(0, epoll_wait(w->epfd, &ev, 1, 0));
	ASSERT_EQ(1, wk_drain(w));

	/* close() of the epoll file after the delivery. */
	ASSERT_EQ(0, race_epoll_add(w->epfd, w->rfd, mode | EPOLLWAKEUP, 1));
	wk_find_item_ws(_metadata, w);
	wk_deliver(_metadata, w, variant->et);
	ASSERT_EQ(0, close(w->epfd));
	w->epfd = -1;
	EXPECT_FALSE(ws_exists(w->item_ws));
	EXPECT_FALSE(ws_exists(w->ep_ws));
}

/*
 * The race: a helper thread writes twice to the FIFO, the second write
 * timed into the epoll_wait() that the first one wakes up, so that the
 * second callback runs while that wait delivers the first event and
 * relaxes the sources.  Once both writes returned, an event that is
 * still pending (the next epoll_wait(.., 0) returns it) must have kept a
 * source active (W1); after reading the FIFO and an empty epoll_wait(),
 * every source must be inactive (W2).  A slow writer makes a round late,
 * not wrong: the test waits for it, and the first wait fails only if it
 * ran into RACE_WAIT_MS after the first write had returned.
 */
struct wr_ctx {
	struct wk *w;
	int go, wrote, quit;
	unsigned int d1, d2;
	uint64_t w1_ns;		/* when the first write returned */
};

static void *wr_writer(void *arg)
{
	struct wr_ctx *c = arg;
	int last = 0, g;

	while (!__atomic_load_n(&c->quit, __ATOMIC_ACQUIRE)) {
		g = __atomic_load_n(&c->go, __ATOMIC_ACQUIRE);
		if (g == last) {
			sched_yield();
			continue;
		}
		race_spin(c->d1);
		if (wk_write(c->w))
			race_fail("write: %s", strerror(errno));
		c->w1_ns = race_now_ns();
		race_spin(c->d2);
		if (wk_write(c->w))
			race_fail("write: %s", strerror(errno));
		/* Pairs with the acquire in race_wait_eq() by the test. */
		__atomic_store_n(&c->wrote, g, __ATOMIC_RELEASE);
		last = g;
	}
	return NULL;
}

TEST_F_TIMEOUT(wakeup, race, RACE_TIMEOUT)
{
	unsigned long it, rounds = race_iters() / 10 + 1;
	uint64_t deadline = race_deadline();
	uint32_t rnd = race_seed(7);
	struct wk *w = &self->w;
	long pending_checked = 0, late = 0;
	struct epoll_event ev;
	struct wr_ctx c = { .w = w };
	uint64_t t0;
	pthread_t tid;
	bool active;
	int n;

	ASSERT_EQ(0, pthread_create(&tid, NULL, wr_writer, &c));
	for (it = 1; it <= rounds && !race_stopped(); it++) {
		uint32_t r = race_rand(&rnd);

		if (race_now_ms() > deadline)
			break;
		c.d1 = r % 256;
		c.d2 = ((r >> 8) % 1024) << ((r >> 18) % 6);
		__atomic_store_n(&c.go, (int)it, __ATOMIC_RELEASE);
		race_spin((r >> 20) % 256);

		t0 = race_now_ns();
		n = epoll_wait(w->epfd, &ev, 1, RACE_WAIT_MS);
		ASSERT_LE(0, n);
		ASSERT_TRUE(race_wait_eq(&c.wrote, (int)it, RACE_NO_DEADLINE));
		if (!n) {
			/* Timed out: lost if the first write came in time. */
			ASSERT_LE(t0 + RACE_WAIT_MS * 1000000ULL, c.w1_ns)
				TH_LOG("round %lu: wakeup lost: write at %lld ms, timeout %d ms",
				       it, (long long)(c.w1_ns - t0) / 1000000,
				       RACE_WAIT_MS);
			late++;
			n = epoll_wait(w->epfd, &ev, 1, 0);
			ASSERT_EQ(1, n)
				TH_LOG("round %lu: writes done, no event", it);
		}
		usleep(WS_SETTLE_US);
		active = wk_any_active(w);
		n = epoll_wait(w->epfd, &ev, 1, 0);
		ASSERT_LE(0, n);
		if (n) {
			pending_checked++;
			ASSERT_TRUE(active)
				TH_LOG("W1: round %lu: event pending, no wakeup source active",
				       it);
		} else {
			/* Level-triggered with unread data is always ready. */
			ASSERT_TRUE(variant->et);
		}
		ASSERT_LT(0, wk_drain(w));
		ASSERT_EQ(0, epoll_wait(w->epfd, &ev, 1, 0));
		ASSERT_TRUE(wk_all_inactive(w))
			TH_LOG("W2: round %lu: nothing pending, a wakeup source active",
			       it);
	}
	__atomic_store_n(&c.quit, 1, __ATOMIC_RELEASE);
	pthread_join(tid, NULL);
	ASSERT_EQ(0, race_failed) TH_LOG("%s", race_msg);
	TH_LOG("%lu rounds, %ld with an event still pending, %ld with a late writer",
	       it - 1, pending_checked, late);
}

/*
 * Many producers on many EPOLLWAKEUP FIFOs, one consumer.  In each round
 * WK_PRODUCERS threads write to the WK_FIFOS FIFOs (each its own share)
 * at random moments while the consumer takes events a few at a time and
 * reads some of the data, so that callbacks race with deliveries,
 * re-queues and leftovers.  When the writers are done, a source must be
 * active if an event is still pending (W1); after the FIFOs are read
 * empty and an epoll_wait() found nothing, none may be, and the pending
 * count is zero (W2).  Every FIFO that was written to has seen its own
 * source count events: the per-item sources stay in use.
 */
struct many_ctx {
	struct wk *w;		/* WK_FIFOS of them; w[0] is the fixture's */
	int go, quit;
	int done[WK_PRODUCERS];
	unsigned int seed;
	long writes[WK_FIFOS];
};

struct many_arg {
	struct many_ctx *c;
	int id;
};

static void *many_writer(void *arg)
{
	struct many_arg *a = arg;
	struct many_ctx *c = a->c;
	uint32_t rnd = c->seed * 2654435761u + a->id;
	int last = 0, g, i, f;

	while (!__atomic_load_n(&c->quit, __ATOMIC_ACQUIRE)) {
		g = __atomic_load_n(&c->go, __ATOMIC_ACQUIRE);
		if (g == last) {
			sched_yield();
			continue;
		}
		for (i = 0; i < 6; i++) {
			uint32_t r = race_rand(&rnd);

			f = a->id + WK_PRODUCERS * (r % (WK_FIFOS / WK_PRODUCERS));
			race_spin((r >> 8) % 2048);
			if (wk_write(&c->w[f]))
				race_fail("write: %s", strerror(errno));
			__atomic_fetch_add(&c->writes[f], 1, __ATOMIC_RELAXED);
		}
		/* Pairs with the acquire in race_wait_eq() by the consumer. */
		__atomic_store_n(&c->done[a->id], g, __ATOMIC_RELEASE);
		last = g;
	}
	return NULL;
}

static bool many_any_active(struct wk *w)
{
	int i;

	if (ws_active_ms(w[0].ep_ws) > 0)
		return true;
	for (i = 0; i < WK_FIFOS; i++)
		if (ws_active_ms(w[i].item_ws) > 0)
			return true;
	return false;
}

static bool many_all_inactive(struct wk *w)
{
	int i;

	if (ws_active_ms(w[0].ep_ws))
		return false;
	for (i = 0; i < WK_FIFOS; i++)
		if (ws_active_ms(w[i].item_ws))
			return false;
	return true;
}

TEST_F_TIMEOUT(wakeup, many, RACE_TIMEOUT)
{
	unsigned long it, rounds = race_iters() / 10 + 1;
	uint32_t mode = EPOLLIN | (variant->et ? EPOLLET : 0);
	uint64_t deadline = race_deadline();
	struct many_arg args[WK_PRODUCERS];
	struct epoll_event ev[WK_FIFOS];
	struct wk w[WK_FIFOS];
	long pending_checked = 0, ev0[WK_FIFOS];
	struct many_ctx c = { .w = w, .seed = race_seed(11) };
	pthread_t tid[WK_PRODUCERS];
	uint32_t rnd = race_seed(13);
	int i, n, p;
	bool active;

	/* The fixture's item is FIFO 0; add WK_FIFOS - 1 more. */
	w[0] = self->w;
	self->w.rfd = -1;
	for (i = 1; i < WK_FIFOS; i++) {
		char found[2][32];

		memset(&w[i], 0, sizeof(w[i]));
		w[i].epfd = w[0].epfd;
		ASSERT_EQ(0, wk_fifo(&w[i], i + 2));
		ASSERT_EQ(0, race_epoll_add(w[0].epfd, w[i].rfd,
					    mode | EPOLLWAKEUP, i));
		ASSERT_EQ(1, ws_find(wk_basename(&w[i]), found, 2));
		snprintf(w[i].item_ws, sizeof(w[i].item_ws), "%s", found[0]);
		snprintf(w[i].ep_ws, sizeof(w[i].ep_ws), "%s", w[0].ep_ws);
	}
	for (i = 0; i < WK_FIFOS; i++) {
		ev0[i] = ws_read_long(w[i].item_ws, "event_count");
		ASSERT_LE(0, ev0[i]);
	}
	for (p = 0; p < WK_PRODUCERS; p++) {
		args[p].c = &c;
		args[p].id = p;
		ASSERT_EQ(0, pthread_create(&tid[p], NULL, many_writer,
					    &args[p]));
	}

	for (it = 1; it <= rounds && !race_stopped(); it++) {
		bool all_done;

		if (race_now_ms() > deadline)
			break;
		__atomic_store_n(&c.go, (int)it, __ATOMIC_RELEASE);
		/*
		 * Consume while the writers write: a few events per call,
		 * and read one byte of some of the FIFOs, so that items are
		 * left on the ready list, re-queued and queued again.
		 */
		do {
			all_done = true;
			for (p = 0; p < WK_PRODUCERS; p++)
				if (__atomic_load_n(&c.done[p],
						    __ATOMIC_ACQUIRE) != (int)it)
					all_done = false;
			n = epoll_wait(w[0].epfd, ev, 1 + race_rand(&rnd) % 3,
				       0);
			ASSERT_LE(0, n);
			for (i = 0; i < n; i++) {
				ssize_t r;
				char b;

				ASSERT_GT(WK_FIFOS, ev[i].data.u64);
				if (race_rand(&rnd) & 1)
					continue;
				r = read(w[ev[i].data.u64].rfd, &b, 1);
				ASSERT_TRUE(r == 1 || (r < 0 && errno == EAGAIN));
			}
		} while (!all_done);

		usleep(WS_SETTLE_US);
		active = many_any_active(w);
		n = epoll_wait(w[0].epfd, ev, WK_FIFOS, 0);
		ASSERT_LE(0, n);
		if (n) {
			pending_checked++;
			ASSERT_TRUE(active)
				TH_LOG("W1: round %lu: %d events pending, no wakeup source active",
				       it, n);
		}
		for (i = 0; i < WK_FIFOS; i++)
			wk_drain(&w[i]);
		/* LT: one more call drops the re-queued, now empty items. */
		ASSERT_EQ(0, epoll_wait(w[0].epfd, ev, WK_FIFOS, 0));
		ASSERT_TRUE(many_all_inactive(w))
			TH_LOG("W2: round %lu: nothing pending, a wakeup source active",
			       it);
	}
	__atomic_store_n(&c.quit, 1, __ATOMIC_RELEASE);
	for (p = 0; p < WK_PRODUCERS; p++)
		pthread_join(tid[p], NULL);
	ASSERT_EQ(0, race_failed) TH_LOG("%s", race_msg);
	for (i = 0; i < WK_FIFOS; i++) {
		if (!c.writes[i])
			continue;
		EXPECT_LT(ev0[i], ws_read_long(w[i].item_ws, "event_count"))
			TH_LOG("FIFO %d: %ld writes, its source counted no event",
			       i, c.writes[i]);
	}
	for (i = 1; i < WK_FIFOS; i++)
		close(w[i].rfd);
	self->w.rfd = w[0].rfd;
	TH_LOG("%lu rounds, %ld with events still pending", it - 1,
	       pending_checked);
}

/*
 * A fault while epoll_wait() copies the event out puts the event back:
 * it is still pending, so a source stays active (W1) until the
 * epoll_wait() that retrieves it, and none once it is read (W2).
 */
TEST_F(wakeup, efault_put_back)
{
	long page = sysconf(_SC_PAGESIZE);
	struct wk *w = &self->w;
	struct epoll_event ev;
	void *bad;

	bad = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(0, wk_write(w));
	ASSERT_EQ(-1, epoll_wait(w->epfd, bad, 1, 0));
	ASSERT_EQ(EFAULT, errno);
	usleep(WS_SETTLE_US);
	EXPECT_TRUE(wk_any_active(w))
		TH_LOG("W1: event put back after EFAULT, no active source");
	ASSERT_EQ(1, epoll_wait(w->epfd, &ev, 1, 0));
	ASSERT_EQ(1, wk_drain(w));
	ASSERT_EQ(0, epoll_wait(w->epfd, &ev, 1, 0));
	usleep(WS_SETTLE_US);
	EXPECT_TRUE(wk_all_inactive(w))
		TH_LOG("W2: nothing pending, a source is active");
	munmap(bad, page);
}

/*
 * poll(2) on the epoll file, as a parent epoll or an event library does
 * it, leaves a pending event's accounting as it was: the item's own
 * source stays active, and the instance's source is not activated.
 */
TEST_F(wakeup, poll_keeps_item_source)
{
	struct pollfd pfd = { .fd = self->w.epfd, .events = POLLIN };
	struct wk *w = &self->w;
	long item_ev, ep_ev;

	ASSERT_EQ(0, wk_write(w));
	usleep(WS_SETTLE_US);
	item_ev = ws_read_long(w->item_ws, "event_count");
	ep_ev = ws_read_long(w->ep_ws, "event_count");
	ASSERT_LT(0, item_ev);
	ASSERT_LE(0, ep_ev);
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	usleep(WS_SETTLE_US);
	EXPECT_EQ(ep_ev, ws_read_long(w->ep_ws, "event_count"))
		TH_LOG("poll(2) activated the eventpoll source");
	EXPECT_EQ(item_ev, ws_read_long(w->item_ws, "event_count"));
	EXPECT_LT(0, ws_active_ms(w->item_ws))
		TH_LOG("poll(2) relaxed the item's source, event pending");
	ASSERT_EQ(1, epoll_wait(w->epfd, &(struct epoll_event){}, 1, 0));
	ASSERT_EQ(1, wk_drain(w));
}

/*
 * Closing the instance with an event pending unregisters both sources.
 */
TEST_F(wakeup, close_pending)
{
	struct wk *w = &self->w;

	ASSERT_EQ(0, wk_write(w));
	usleep(WS_SETTLE_US);
	EXPECT_LT(0, ws_active_ms(w->item_ws));
	ASSERT_EQ(0, close(w->epfd));
	w->epfd = -1;
	EXPECT_FALSE(ws_exists(w->item_ws));
	EXPECT_FALSE(ws_exists(w->ep_ws));
}

/*
 * Without CAP_BLOCK_SUSPEND, EPOLLWAKEUP is dropped without an error: no
 * wakeup source, and the interest list does not show the flag.  Run as
 * root, the test first becomes nobody (65534).
 */
TEST(unprivileged_dropped)
{
	struct epoll_event ev;
	char found[2][32];
	struct wk w;

	memset(&w, 0, sizeof(w));
	w.epfd = -1;
	ASSERT_EQ(0, wk_fifo(&w, 1));
	if (!geteuid())
		ASSERT_EQ(0, setuid(65534));
	if (has_cap_block_suspend()) {
		wk_teardown(&w);
		SKIP(return, "still has CAP_BLOCK_SUSPEND");
	}
	w.epfd = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, w.epfd);
	ASSERT_EQ(0, race_epoll_add(w.epfd, w.rfd, EPOLLIN | EPOLLWAKEUP, 1));
	EXPECT_EQ(0, fdinfo_events(w.epfd, w.rfd) & EPOLLWAKEUP);
	EXPECT_EQ(EPOLLIN, fdinfo_events(w.epfd, w.rfd) & EPOLLIN);
	if (!access(WS_DIR, R_OK))
		EXPECT_EQ(0, ws_find(wk_basename(&w), found, 2));
	ASSERT_EQ(0, wk_write(&w));
	ASSERT_EQ(1, epoll_wait(w.epfd, &ev, 1, RACE_WAIT_MS));
	EXPECT_EQ(EPOLLIN, ev.events);
	EXPECT_EQ(-1, fdinfo_ws_pending(w.epfd))
		TH_LOG("an instance without EPOLLWAKEUP items shows a count");
	wk_teardown(&w);
}

TEST_HARNESS_MAIN
