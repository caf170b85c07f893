// SPDX-License-Identifier: GPL-2.0
/*
 * epw-stuck [-n SAMPLES] [-i SECONDS] [-I IDLE] [-L LONG] [-m] [-e] [-T] [-D]:
 * find tasks that make no progress while they should.
 *
 * Stranded waiter: a task asleep (state S) in epoll_wait/epoll_pwait/
 * epoll_pwait2 on an epoll instance that has a level-triggered item whose
 * file is ready for the item's events, in every one of SAMPLES samples
 * taken SECONDS apart (a candidate starts at the first sample only), with
 * its context-switch counts unchanged (it never ran in between), its
 * wchan in epoll when the kernel names one, and, besides, either
 *  (b) the guest's CPUs were idle for IDLE seconds (-I, default 5, summed
 *      over the CPUs, /proc/stat) since its first sample, or
 *  (d) it has been so for LONG seconds (-L, default 60), busy or not.
 * Why not the window alone: most files become ready first and wake their
 * waiters after, outside any lock and with preemption enabled (a unix
 * socket's sendmsg queues the skb, unlocks, then calls sk_data_ready; a
 * pipe unlocks its mutex before the wakeup). A writer preempted in that
 * window leaves the fd ready and the epoll sleeper asleep until it runs
 * again; on a TCG guest starved by a loaded host, with a hundred runnable
 * tasks (the burst), that is seconds. Such a writer is runnable, so while
 * it waits no CPU is idle: once CPUs have idled IDLE seconds, no writer
 * can still be on its way; and none is preempted for a whole minute. A
 * candidate that has neither yet is printed once as "@@EPW note busy" and
 * failed later if it still holds when one of them does.
 *
 * History: until 2026-12-08 a candidate could start at any sample, so a
 * task seen at the last sample alone was reported ("for 10s" was just
 * (SAMPLES-1)*SECONDS). One snapshot reads the task's state before it
 * polls the fd, so a task that this very fd woke in between (weston's
 * 60 Hz repaint timerfd, a client's socket) looked stranded: that was
 * every "weston ... timerfd" and "socket" finding of the first boots, on
 * the base as on the series.
 *
 * Readiness is read without touching the epoll instance: each item's
 * file is duplicated with pidfd_getfd() and poll()ed with a zero timeout
 * (no wait-queue entry is added). Left out, because "ready" does not mean
 * "must wake" for them: edge-triggered and EPOLLEXCLUSIVE items, disarmed
 * one-shot items, nested epoll files, and signalfds (poll() reads the
 * caller's signals).
 *
 * D state: with -D, a task in state D in every sample with its
 * context-switch counts unchanged (off by default: under TCG a parent
 * waits in D for seconds while its vfork child execs; the guest relies
 * on the kernel's hung-task detector instead).
 *
 * Prints one "@@EPW FAIL ..." line per finding and exits 1 if there was
 * one. -m repeats forever (the monitor); findings already printed are
 * not printed again. -e counts edge-triggered items too: a task asleep on
 * an ET item it did not drain is then "stranded", which is how the
 * harness tests the detector itself: -T runs a child that sleeps so, and
 * exits 0 only if the detector reports it.
 *
 * Evidence, printed with each finding and after it (it fails nothing
 * more): the sleeper's wchan; for a timerfd or an eventfd, its count
 * (fdinfo "ticks" or "eventfd-count") at the first and the last sample,
 * so that a timer that fired again and again while the task slept shows;
 * and, from the monitor, an "@@EPW note ended" line once the
 * task runs again, with how long it had slept at least and whether the
 * fd was still ready.
 *
 * Then, for a finding, it tells a lost event from a lost wakeup: it
 * poll()s a duplicate of the sleeper's epoll fd once (the "kick"), which
 * re-polls the items on the epoll's ready list: POLLIN means a ready item
 * is queued and the sleeper was not woken; 0 means no ready item is
 * queued, so the event never reached the ready list. Either kernel wakes
 * the epoll's sleepers at the end of such a poll if items stay queued,
 * so the sleeper may run right after (the "ended" line says).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAXT 4096
#define EPET (1u << 31)
#define EPEXCL (1u << 28)
#define EPONESHOT (1u << 30)

struct cand {
	int pid, tid, epfd, tfd;	/* tfd -1: D state */
	unsigned long long ctx;
	int seen;			/* samples in a row */
	long long cnt0, cnt;		/* timerfd/eventfd count: first, last sample; -1: none */
	long t0;			/* monotonic seconds of the first sample */
	int over;			/* monitor: it ran again or left */
	int failed, kicked;		/* done[]: reported as FAIL; poll()ed its epoll fd */
	unsigned long long idle0;	/* guest idle ticks at the first sample */
	char comm[32], what[160], wchan[40];
};

/* -e: count edge-triggered items too (the detector's self-test). */
static int et_too;
/* -D: report D-state tasks too. */
static int dstate;
/* -I: guest idle seconds that rule (b) needs; ticks of /proc/stat now. */
static int idle_min = 5;
/* -L: or asleep so for this long, busy or not (no writer is preempted that long). */
static int long_min = 60;
static unsigned long long idle_cur;
static struct cand c[MAXT];
static int nc;
/* Findings already printed (the monitor prints each once). */
static struct cand done[256];
static int ndone;

static int readfile(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

/* Idle and iowait ticks of all CPUs (/proc/stat). */
static unsigned long long idle_ticks(void)
{
	char b[512];
	unsigned long long v[5] = { 0 };

	if (readfile("/proc/stat", b, sizeof(b)) < 0 ||
	    sscanf(b, "cpu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4]) != 5)
		return 0;
	return v[3] + v[4];
}

static long now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* The count of timerfd or eventfd TFD of PID (fdinfo), or -1. */
static long long fdcount(int pid, int tfd)
{
	char p[64], b[1024], *s;

	snprintf(p, sizeof(p), "/proc/%d/fdinfo/%d", pid, tfd);
	if (readfile(p, b, sizeof(b)) < 0)
		return -1;
	if ((s = strstr(b, "\nticks:")))
		return strtoll(s + 7, NULL, 10);
	if ((s = strstr(b, "eventfd-count:")))
		return strtoll(s + 14, NULL, 16);
	return -1;
}

static unsigned long long ctxsw(int pid, int tid)
{
	char p[64], b[4096], *s;
	unsigned long long v = 0;

	snprintf(p, sizeof(p), "/proc/%d/task/%d/status", pid, tid);
	if (readfile(p, b, sizeof(b)) < 0)
		return 0;
	for (s = b; (s = strstr(s, "ctxt_switches:")); s++)
		v += strtoull(s + 14, NULL, 10);
	return v;
}

/* The first ready level-triggered item of epoll EPFD of PID, or -1. */
static int ready_item(int pid, int epfd, char *what, size_t wl)
{
	char p[64], b[65536], link[128], *l;
	int pidfd, ret = -1;

	snprintf(p, sizeof(p), "/proc/%d/fdinfo/%d", pid, epfd);
	if (readfile(p, b, sizeof(b)) < 0)
		return -1;
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -1;
	for (l = strstr(b, "tfd:"); l && ret < 0; l = strstr(l + 1, "tfd:")) {
		int tfd, fd, n;
		unsigned int ev;
		unsigned long ino;
		struct pollfd pf;
		struct stat st;
		char *s;

		if (sscanf(l, "tfd: %d events: %x", &tfd, &ev) != 2)
			continue;
		s = strstr(l, "ino:");
		if (!s || sscanf(s, "ino:%lx", &ino) != 1)
			continue;
		if ((ev & (EPEXCL | (et_too ? 0 : EPET))) || !(ev & 0xffff))
			continue;
		snprintf(p, sizeof(p), "/proc/%d/fd/%d", pid, tfd);
		n = readlink(p, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = 0;
		if (strstr(link, "[eventpoll]") || strstr(link, "[signalfd]"))
			continue;
		fd = syscall(SYS_pidfd_getfd, pidfd, tfd, 0);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && st.st_ino == ino) {
			pf.fd = fd;
			pf.events = ev & 0xffff;
			if (poll(&pf, 1, 0) == 1 &&
			    (pf.revents & (pf.events | POLLERR | POLLHUP))) {
				snprintf(what, wl, "fd %d (%.80s) events 0x%x revents 0x%x",
					 tfd, link, ev, pf.revents);
				ret = tfd;
			}
		}
		close(fd);
	}
	close(pidfd);
	return ret;
}

static struct cand *find(int tid, int epfd, int tfd)
{
	for (int i = 0; i < nc; i++)
		if (c[i].tid == tid && c[i].epfd == epfd && c[i].tfd == tfd)
			return &c[i];
	return NULL;
}

/* The same sleep of the same task on the same ready item. */
static int same(const struct cand *a, const struct cand *b)
{
	return a->tid == b->tid && a->epfd == b->epfd && a->tfd == b->tfd &&
	       a->ctx == b->ctx;
}

/* One sample: bump the candidates seen again unchanged, drop the rest. */
static void sample(int round)
{
	DIR *pd = opendir("/proc"), *td;
	struct dirent *pe, *te;
	int self = getpid();

	if (!pd)
		return;
	idle_cur = idle_ticks();
	while ((pe = readdir(pd))) {
		int pid = atoi(pe->d_name);
		char p[64];

		if (pid <= 0 || pid == self)
			continue;
		snprintf(p, sizeof(p), "/proc/%d/task", pid);
		td = opendir(p);
		if (!td)
			continue;
		while ((te = readdir(td))) {
			int tid = atoi(te->d_name), epfd = -1, tfd = -1, nr;
			char b[512], comm[32] = "?", st = 0, what[160] = "";
			unsigned long long ctx;
			struct cand *k;
			char *s;

			if (tid <= 0)
				continue;
			snprintf(p, sizeof(p), "/proc/%d/task/%d/stat", pid, tid);
			if (readfile(p, b, sizeof(b)) < 0)
				continue;
			s = strrchr(b, ')');
			if (!s)
				continue;
			st = s[2];
			sscanf(strchr(b, '(') + 1, "%31[^)]", comm);
			if (st == 'S') {
				snprintf(p, sizeof(p), "/proc/%d/task/%d/syscall", pid, tid);
				if (readfile(p, b, sizeof(b)) < 0 ||
				    sscanf(b, "%d %i", &nr, &epfd) != 2 ||
				    (nr != SYS_epoll_wait && nr != SYS_epoll_pwait &&
				     nr != SYS_epoll_pwait2))
					continue;
				tfd = ready_item(pid, epfd, what, sizeof(what));
				if (tfd < 0)
					continue;
			} else if (st != 'D' || !dstate) {
				continue;
			} else {
				snprintf(p, sizeof(p), "/proc/%d/task/%d/wchan", pid, tid);
				if (readfile(p, b, sizeof(b)) >= 0)
					snprintf(what, sizeof(what), "D state in %.80s", b);
			}
			ctx = ctxsw(pid, tid);
			k = find(tid, epfd, tfd);
			if (k && k->ctx == ctx && k->seen == round) {
				k->seen++;
				if (tfd >= 0)
					k->cnt = fdcount(pid, tfd);
				continue;
			}
			/*
			 * A candidate starts at the first sample only: one that
			 * starts later cannot be seen in all of them. (Until
			 * 2026-12-08 a task found at the last sample alone was
			 * reported: one snapshot, in which the state is read
			 * before the fd is polled, so a task woken in between by
			 * that very fd looked stranded.)
			 */
			if (round > 0) {
				if (k)
					k->seen = -1;
				continue;
			}
			if (!k) {
				if (nc == MAXT)
					continue;
				k = &c[nc++];
			}
			k->pid = pid, k->tid = tid, k->epfd = epfd, k->tfd = tfd;
			k->ctx = ctx, k->seen = round + 1;
			k->cnt0 = k->cnt = tfd >= 0 ? fdcount(pid, tfd) : -1;
			k->t0 = now_s(), k->over = 0, k->failed = 0, k->kicked = 0;
			k->idle0 = idle_cur;
			memcpy(k->comm, comm, sizeof(comm));
			memcpy(k->what, what, sizeof(what));
			snprintf(p, sizeof(p), "/proc/%d/task/%d/wchan", pid, tid);
			if (readfile(p, k->wchan, sizeof(k->wchan)) < 0)
				strcpy(k->wchan, "?");
		}
		closedir(td);
	}
	closedir(pd);
	/* Forget those that moved, ran, or left. */
	for (int i = 0; i < nc; i++)
		if (c[i].seen != round + 1)
			c[i] = c[--nc], i--;
}

/*
 * The monitor: a reported sleeper that ran again (its context-switch
 * count moved) or left ends its episode; say when, and whether the fd was
 * still ready then.
 */
static void episodes(void)
{
	char p[64], b[512], what[160];

	for (int i = 0; i < ndone; i++) {
		struct cand *d = &done[i];
		unsigned long long ctx;
		int gone;

		if (d->over || d->tfd < 0)
			continue;
		snprintf(p, sizeof(p), "/proc/%d/task/%d/stat", d->pid, d->tid);
		gone = readfile(p, b, sizeof(b)) < 0;
		ctx = gone ? 0 : ctxsw(d->pid, d->tid);
		if (!gone && ctx == d->ctx)
			continue;
		what[0] = 0;
		if (gone)
			printf("@@EPW note ended: %s[%d/%d] left after >= %lds\n",
			       d->comm, d->pid, d->tid, now_s() - d->t0);
		else
			printf("@@EPW note ended: %s[%d/%d] ran again after >= %lds asleep, fd %d %s, count %lld\n",
			       d->comm, d->pid, d->tid, now_s() - d->t0, d->tfd,
			       ready_item(d->pid, d->epfd, what, sizeof(what)) == d->tfd ?
			       "still ready" : "no longer the first ready item",
			       fdcount(d->pid, d->tfd));
		d->over = 1;
	}
}

/* poll() a duplicate of epoll fd EPFD of PID once: its revents, or -1. */
static int kick(int pid, int epfd)
{
	int pidfd = syscall(SYS_pidfd_open, pid, 0), fd, r = -1;
	struct pollfd pf;

	if (pidfd < 0)
		return -1;
	fd = syscall(SYS_pidfd_getfd, pidfd, epfd, 0);
	close(pidfd);
	if (fd < 0)
		return -1;
	pf.fd = fd;
	pf.events = POLLIN;
	if (poll(&pf, 1, 0) >= 0)
		r = pf.revents;
	close(fd);
	return r;
}

/* A child asleep in epoll_wait on an edge-triggered eventfd it did not read. */
static int et_sleeper(void)
{
	int e = eventfd(0, 0), ep = epoll_create1(0), pid;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	unsigned long long one = 1;

	pid = fork();
	if (pid) {
		/* Sample only once it sleeps: candidates start at the first sample. */
		char p[64], b[512], *s;

		char q[64];
		int nr;

		/* Its first epoll_wait() returns at once: S in one is the second. */
		snprintf(p, sizeof(p), "/proc/%d/stat", pid);
		snprintf(q, sizeof(q), "/proc/%d/syscall", pid);
		for (int i = 0; i < 600; i++, usleep(100000))
			if (readfile(p, b, sizeof(b)) > 0 && (s = strrchr(b, ')')) &&
			    s[2] == 'S' && readfile(q, b, sizeof(b)) > 0 &&
			    sscanf(b, "%d", &nr) == 1 &&
			    (nr == SYS_epoll_wait || nr == SYS_epoll_pwait))
				break;
		return pid;
	}
	epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev);
	if (write(e, &one, 8) != 8 || epoll_wait(ep, &ev, 1, -1) != 1)
		_exit(1);
	_exit(epoll_wait(ep, &ev, 1, 60000));
}

int main(int argc, char **argv)
{
	int n = 3, iv = 5, mon = 0, found = 0, test = 0, o, nprev = 0;
	static struct cand prev[MAXT];

	while ((o = getopt(argc, argv, "n:i:I:L:meTD")) != -1) {
		if (o == 'n')
			n = atoi(optarg);
		else if (o == 'i')
			iv = atoi(optarg);
		else if (o == 'I')
			idle_min = atoi(optarg);
		else if (o == 'L')
			long_min = atoi(optarg);
		else if (o == 'm')
			mon = 1;
		else if (o == 'e')
			et_too = 1;
		else if (o == 'D')
			dstate = 1;
		else if (o == 'T')
			test = et_sleeper(), et_too = 1, idle_min = 0;
		else
			return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	do {
		/* Carry a candidate's start over from the window before. */
		nprev = nc;
		memcpy(prev, c, nc * sizeof(*c));
		nc = 0;
		for (int r = 0; r < n; r++) {
			if (r)
				sleep(iv);
			sample(r);
			if (mon)
				episodes();
		}
		for (int i = 0, j; i < nc; i++) {
			struct cand *k = &c[i], *d = NULL;
			double idle;
			int r, fail;

			for (j = 0; j < nprev; j++)
				if (same(&prev[j], k)) {
					k->t0 = prev[j].t0, k->idle0 = prev[j].idle0;
					k->cnt0 = prev[j].cnt0;
					break;
				}
			for (j = 0; j < ndone; j++)
				if (same(&done[j], k))
					d = &done[j];
			if (d && d->failed)
				continue;
			if (k->tfd < 0) {
				if (!d && ndone < 256) {
					done[ndone] = *k;
					done[ndone++].failed = 1;
				}
				found = 1;
				printf("@@EPW FAIL D state: %s[%d/%d] for %ds, %s\n",
				       k->comm, k->pid, k->tid, (n - 1) * iv, k->what);
				continue;
			}
			idle = (double)(idle_cur - k->idle0) / sysconf(_SC_CLK_TCK);
			fail = idle >= idle_min || now_s() - k->t0 >= long_min;
			if (!d) {
				if (ndone == 256)
					continue;
				d = &done[ndone++];
				*d = *k;
			} else if (!fail) {
				continue;	/* noted already; not yet failed */
			}
			printf("@@EPW %s: %s[%d/%d] asleep in epoll_wait(%d) for %lds, %s, wchan %s, count %lld->%lld, guest idle %.1fs\n",
			       fail ? "FAIL stranded" : "note busy",
			       k->comm, k->pid, k->tid, k->epfd, now_s() - k->t0,
			       k->what, k->wchan, k->cnt0, k->cnt, idle);
			if (!fail)
				continue;
			d->failed = 1;
			found = 1;
			if (test)
				continue;
			/* Diagnosis only, once the finding stands: it may wake the sleeper. */
			r = kick(k->pid, k->epfd);
			printf("@@EPW note kick: %s[%d/%d] poll() of its epoll fd %d: %d (%s)\n",
			       k->comm, k->pid, k->tid, k->epfd, r,
			       r < 0 ? "failed" : r & POLLIN ?
			       "a ready item is queued: the sleeper was not woken" :
			       "no ready item is queued: the event has not reached the ready list");
		}
		if (mon)
			sleep(iv);
	} while (mon);
	if (test) {
		kill(test, SIGKILL);
		for (int i = 0; i < nc; i++)
			if (c[i].pid == test)
				return 0;
		return 1;
	}
	return found;
}
