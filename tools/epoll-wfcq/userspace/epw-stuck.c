// SPDX-License-Identifier: GPL-2.0
/*
 * epw-stuck [-n SAMPLES] [-i SECONDS] [-m] [-e] [-T] [-D]: find tasks that make no
 * progress while they should.
 *
 * Stranded waiter: a task asleep (state S) in epoll_wait/epoll_pwait/
 * epoll_pwait2 on an epoll instance that has a level-triggered item whose
 * file is ready for the item's events, in every one of SAMPLES samples
 * taken SECONDS apart, with its context-switch counts unchanged (it never
 * ran in between). A woken task is runnable (state R) at once, whatever
 * the host's load, so "S, not run for the whole window, an event pending
 * all along" is a lost wakeup and not a slow one.
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
#include <unistd.h>

#define MAXT 4096
#define EPET (1u << 31)
#define EPEXCL (1u << 28)
#define EPONESHOT (1u << 30)

struct cand {
	int pid, tid, epfd, tfd;	/* tfd -1: D state */
	unsigned long long ctx;
	int seen;			/* samples in a row */
	char comm[32], what[160];
};

/* -e: count edge-triggered items too (the detector's self-test). */
static int et_too;
/* -D: report D-state tasks too. */
static int dstate;
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

/* One sample: bump the candidates seen again unchanged, drop the rest. */
static void sample(int round)
{
	DIR *pd = opendir("/proc"), *td;
	struct dirent *pe, *te;
	int self = getpid();

	if (!pd)
		return;
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
				continue;
			}
			if (!k) {
				if (nc == MAXT)
					continue;
				k = &c[nc++];
			}
			k->pid = pid, k->tid = tid, k->epfd = epfd, k->tfd = tfd;
			k->ctx = ctx, k->seen = round + 1;
			memcpy(k->comm, comm, sizeof(comm));
			memcpy(k->what, what, sizeof(what));
		}
		closedir(td);
	}
	closedir(pd);
	/* Forget those that moved, ran, or left. */
	for (int i = 0; i < nc; i++)
		if (c[i].seen != round + 1)
			c[i] = c[--nc], i--;
}

/* A child asleep in epoll_wait on an edge-triggered eventfd it did not read. */
static int et_sleeper(void)
{
	int e = eventfd(0, 0), ep = epoll_create1(0), pid;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	unsigned long long one = 1;

	pid = fork();
	if (pid)
		return pid;
	epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev);
	if (write(e, &one, 8) != 8 || epoll_wait(ep, &ev, 1, -1) != 1)
		_exit(1);
	_exit(epoll_wait(ep, &ev, 1, 60000));
}

int main(int argc, char **argv)
{
	int n = 3, iv = 5, mon = 0, found = 0, test = 0, o;

	while ((o = getopt(argc, argv, "n:i:meTD")) != -1) {
		if (o == 'n')
			n = atoi(optarg);
		else if (o == 'i')
			iv = atoi(optarg);
		else if (o == 'm')
			mon = 1;
		else if (o == 'e')
			et_too = 1;
		else if (o == 'D')
			dstate = 1;
		else if (o == 'T')
			test = et_sleeper(), et_too = 1;
		else
			return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	do {
		nc = 0;
		for (int r = 0; r < n; r++) {
			if (r)
				sleep(iv);
			sample(r);
		}
		for (int i = 0, j; i < nc; i++) {
			for (j = 0; j < ndone; j++)
				if (done[j].tid == c[i].tid && done[j].epfd == c[i].epfd &&
				    done[j].tfd == c[i].tfd && done[j].ctx == c[i].ctx)
					break;
			if (j < ndone)
				continue;
			if (ndone < 256)
				done[ndone++] = c[i];
			found = 1;
			if (c[i].tfd >= 0)
				printf("@@EPW FAIL stranded: %s[%d/%d] asleep in epoll_wait(%d) for %ds, %s\n",
				       c[i].comm, c[i].pid, c[i].tid, c[i].epfd,
				       (n - 1) * iv, c[i].what);
			else
				printf("@@EPW FAIL D state: %s[%d/%d] for %ds, %s\n",
				       c[i].comm, c[i].pid, c[i].tid, (n - 1) * iv, c[i].what);
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
