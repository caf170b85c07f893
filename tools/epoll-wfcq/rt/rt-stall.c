// SPDX-License-Identifier: GPL-2.0
/*
 * rt-stall: the PREEMPT_RT stall class of eventpoll and CFS bandwidth
 * control, as a guest program. With the rwlock of 5.1 to 6.17, a
 * producer throttled by cpu.max while it held the read side in
 * ep_poll_callback() kept the waiter's write_lock() in epoll_wait()
 * waiting (no priority inheritance to readers), and a timer callback in
 * ktimers/N then queued behind that writer: the three waited on each
 * other (Valentin Schneider's report, 2023; Jan Kiszka's reproducer,
 * 2025: an RT kernel, 2-4 vCPUs, epoll producers in a throttled cgroup
 * and a waiter harvesting them). Since 6.18 a throttled task leaves the
 * CPU only on its way back to user space, so what remains on 7.3 is a
 * producer preempted inside the callback (by a timer thread or by the
 * waiter): no waiter may then wait for it.
 *
 * The shape here:
 *   - RTS_PRODUCERS processes (default two per CPU), pinned round-robin,
 *     SCHED_OTHER, in a child cgroup capped by cpu.max = RTS_CPU_MAX
 *     (default "5000 50000", or "5000,50000" on a kernel command line: a
 *     tenth of one CPU for all of them, twenty throttling periods a
 *     second), each writing its eventfd
 *     (level-triggered) in a tight loop and a byte to its pipe
 *     (edge-triggered) every eighth write;
 *   - RTS_TIMERS timerfds (default one per CPU, armed on that CPU) firing
 *     every RTS_TIMER_US (5000) us: ep_poll_callback() from the timer
 *     softirq thread;
 *   - one waiter process outside the cgroup, SCHED_FIFO RTS_WAITER_PRIO
 *     (10; 0 for SCHED_OTHER), harvesting all of them from one epoll;
 *   - the main process, SCHED_FIFO above the waiter, watching.
 * It runs RTS_SECS (60) seconds, then stops the producers and waits for
 * the waiter to drain every write.
 *
 * It fails on outcomes, never on slowness alone:
 *   - the waiter harvests nothing while writes are pending, no timer
 *     expiry is harvested, or a producer writes nothing, for more than
 *     RTS_STALL_SECS;
 *   - a producer or the waiter stays in D state without a context switch
 *     for more than RTS_STALL_SECS;
 *   - a write is not harvested within RTS_STALL_SECS of the producers'
 *     stop;
 *   - the kernel logs an RCU stall, a hung task, a BUG, a WARNING, an
 *     Oops (read from /dev/kmsg while it runs);
 *   - the cgroup was never throttled (the scenario did not happen).
 * RTS_STALL_SECS defaults to 30, or 300 under TCG (the guest's CPU model
 * says "TCG"): a TCG vCPU on a busy host can stop for many seconds, while
 * a real stall of this class never ends. The longest wait with writes
 * pending is measured and printed, not failed.
 *
 * RTS_GUEST=1 (the harness's guests only) mounts cgroup2 on
 * /sys/fs/cgroup if none is mounted and sets the kernel's hung-task
 * timeout to RTS_STALL_SECS. RTS_CGROUP=0 runs without a cgroup (a host
 * smoke run; the throttling check is then skipped).
 *
 * Output: TAP, one test. Comment lines "# RTS ..." carry the facts:
 *   # RTS setup cpus=2 producers=4 timers=2 timer_us=5000 cpu.max=5000/50000 secs=60 stall_secs=300 waiter_prio=10 hung_task=300 rcu_stall=21 cgroup=..
 *   # RTS t=10 writes=.. harvested=.. pending=.. piped=.. drained=.. ticks=.. waits=.. gap_max_ms=.. dstate=.. periods=.. throttled=.. throttled_ms=..
 *   # RTS end secs=.. writes=.. (the same) dstate_max_s=.. kernel_reports=.. empty_reads=.. periods=.. throttled=.. throttled_ms=..
 *   ok 1 rt-stall ...   or   not ok 1 rt-stall: REASON
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXP 256
#define MAXT 64
#define CGNAME "rt-stall"

enum { K_EVENTFD = 1, K_PIPE, K_TIMER };

/* One cache line per producer: each counter has a single writer. */
struct prod {
	uint64_t written, piped;
	char pad[48];
};

struct shared {
	struct prod p[MAXP];
	uint64_t harvested, drained, ticks, waits, empty;
	/* Read by every producer at every write: a line of its own. */
	int go __attribute__((aligned(64))), stop, quit;
	char err[256] __attribute__((aligned(64)));
};

static struct shared *sh;

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (!v || !*v)
		return def;
	n = strtol(v, &end, 10);
	if (*end || n < 0) {
		printf("Bail out! rt-stall: %s=%s is not a number\n", name, v);
		exit(2);
	}
	return n;
}

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A child's error, for the monitor to print; then the child exits. */
static void child_die(const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(sh->err, sizeof(sh->err), "%s: %s", msg, strerror(e));
	_exit(1);
}

static int readfile(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY), n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	return n;
}

static int writefile(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

/* Configuration. */
static long secs, stall_secs, nprod, ntimer, timer_us, wprio, report_secs;
static int ncpu, cpus[MAXP], guest, use_cg;
static char cpu_max[64], cgdir[256], cgroot[200];

/* The fds, created before the fork so that every process has them. */
static int epfd, efd[MAXP], pipes[MAXP][2], tfd[MAXT];
static pid_t prod_pid[MAXP], wpid;

/* The first failure; the run ends there. */
static char fail_msg[512];
static int failed;

/* Record the first failure; true for that one. */
static int fail(const char *fmt, ...)
{
	va_list ap;

	if (failed++)
		return 0;
	va_start(ap, fmt);
	vsnprintf(fail_msg, sizeof(fail_msg), fmt, ap);
	va_end(ap);
	printf("# RTS FAIL %s\n", fail_msg);
	return 1;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void set_fifo(int prio)
{
	struct sched_param sp = { .sched_priority = prio };

	if (prio > 0 && sched_setscheduler(0, SCHED_FIFO, &sp))
		printf("# RTS note: SCHED_FIFO %d refused (%s), running SCHED_OTHER\n",
		       prio, strerror(errno));
}

static void producer(int i)
{
	uint64_t one = 1, w = 0, p = 0;
	char pid[32];

	pin(cpus[i % ncpu]);
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (use_cg) {
		char path[300];

		snprintf(path, sizeof(path), "%s/cgroup.procs", cgdir);
		if (writefile(path, pid))
			child_die("producer %d: joining %s", i, cgdir);
	}
	while (!LOAD(sh->go))
		usleep(1000);
	for (unsigned long n = 0; !LOAD(sh->stop); n++) {
		if (write(efd[i], &one, sizeof(one)) == sizeof(one))
			STORE(sh->p[i].written, ++w);
		else
			child_die("producer %d: eventfd write", i);
		if ((n & 7) == 7) {
			if (write(pipes[i][1], "x", 1) == 1)
				STORE(sh->p[i].piped, ++p);
			else if (errno != EAGAIN)
				child_die("producer %d: pipe write", i);
		}
	}
	_exit(0);
}

static void waiter(void)
{
	struct epoll_event ev[64];
	uint64_t h = 0, d = 0, t = 0, waits = 0, empty = 0, v;
	char buf[4096];

	set_fifo(wprio);
	for (;;) {
		int n = epoll_wait(epfd, ev, 64, 1000);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			child_die("waiter: epoll_wait");
		}
		for (int k = 0; k < n; k++) {
			int kind = ev[k].data.u64 >> 32, i = (uint32_t)ev[k].data.u64;
			ssize_t r;

			switch (kind) {
			case K_EVENTFD:
				if (read(efd[i], &v, sizeof(v)) == sizeof(v))
					h += v;
				else if (errno == EAGAIN)
					empty++;
				else
					child_die("waiter: eventfd read");
				break;
			case K_PIPE:
				/* Edge-triggered: read it empty. */
				while ((r = read(pipes[i][0], buf, sizeof(buf))) > 0)
					d += r;
				if (r < 0 && errno != EAGAIN)
					child_die("waiter: pipe read");
				break;
			case K_TIMER:
				if (read(tfd[i], &v, sizeof(v)) == sizeof(v))
					t += v;
				else if (errno == EAGAIN)
					empty++;
				else
					child_die("waiter: timerfd read");
				break;
			}
		}
		STORE(sh->harvested, h);
		STORE(sh->drained, d);
		STORE(sh->ticks, t);
		STORE(sh->waits, ++waits);
		STORE(sh->empty, empty);
		if (LOAD(sh->quit))
			_exit(0);
	}
}

static void add(int fd, uint32_t events, int kind, int i)
{
	struct epoll_event ev = { .events = events };

	ev.data.u64 = (uint64_t)kind << 32 | (uint32_t)i;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev)) {
		printf("Bail out! rt-stall: epoll_ctl(ADD): %s\n", strerror(errno));
		exit(2);
	}
}

/* The cgroup2 mount, mounting one on /sys/fs/cgroup in a guest. */
static int find_cgroup2(void)
{
	char line[512], dev[128], mnt[200], type[32];
	FILE *f;

	for (int pass = 0; pass < 2; pass++) {
		int busy = 0;

		f = fopen("/proc/self/mounts", "r");
		if (!f)
			return -1;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%127s %199s %31s", dev, mnt, type) != 3)
				continue;
			if (!strcmp(type, "cgroup2")) {
				snprintf(cgroot, sizeof(cgroot), "%s", mnt);
				fclose(f);
				return 0;
			}
			if (!strcmp(mnt, "/sys/fs/cgroup"))
				busy = 1;
		}
		fclose(f);
		if (pass || !guest || busy)
			return -1;
		mkdir("/sys/fs/cgroup", 0755);
		if (mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL))
			return -1;
	}
	return -1;
}

/* The child cgroup with its cpu.max, or why not. */
static const char *setup_cgroup(void)
{
	static char why[768];
	char path[300], buf[256];

	if (find_cgroup2())
		return "no cgroup2 mount (CONFIG_CGROUPS? RTS_GUEST=1 mounts one)";
	snprintf(path, sizeof(path), "%s/cgroup.controllers", cgroot);
	if (readfile(path, buf, sizeof(buf)) < 0 || !strstr(buf, "cpu"))
		return "no cpu controller in cgroup2 (CONFIG_CGROUP_SCHED, CONFIG_FAIR_GROUP_SCHED?)";
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", cgroot);
	if (writefile(path, "+cpu")) {
		snprintf(why, sizeof(why), "enabling +cpu in %s: %s", path, strerror(errno));
		return why;
	}
	snprintf(cgdir, sizeof(cgdir), "%s/%s", cgroot, CGNAME);
	if (mkdir(cgdir, 0755) && errno != EEXIST) {
		snprintf(why, sizeof(why), "mkdir %s: %s", cgdir, strerror(errno));
		return why;
	}
	snprintf(path, sizeof(path), "%s/cpu.max", cgdir);
	if (writefile(path, cpu_max)) {
		snprintf(why, sizeof(why), "writing '%s' to %s: %s (CONFIG_CFS_BANDWIDTH?)",
			 cpu_max, path, strerror(errno));
		return why;
	}
	return NULL;
}

struct cpustat {
	unsigned long long periods, throttled, throttled_us;
};

static void read_cpustat(struct cpustat *c)
{
	char path[300], buf[1024], *s;

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "%s/cpu.stat", cgdir);
	if (!use_cg || readfile(path, buf, sizeof(buf)) < 0)
		return;
	if ((s = strstr(buf, "nr_periods ")))
		c->periods = strtoull(s + 11, NULL, 10);
	if ((s = strstr(buf, "nr_throttled ")))
		c->throttled = strtoull(s + 13, NULL, 10);
	if ((s = strstr(buf, "throttled_usec ")))
		c->throttled_us = strtoull(s + 15, NULL, 10);
}

/* Kernel reports that fail the run, as /dev/kmsg prints them. */
static const char *const reports[] = {
	"self-detected stall", "detected stalls", "blocked for more than",
	"hung_task", "BUG:", "WARNING:", "Oops", "Kernel panic",
	"general protection fault", "soft lockup", "hard LOCKUP",
};
static int kmsg = -1, nreports;

static void scan_kmsg(void)
{
	char rec[8192];
	ssize_t n;

	while (kmsg >= 0) {
		n = read(kmsg, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: read on */
		if (n <= 0)
			return;
		rec[n] = 0;
		char *msg = strchr(rec, ';'), *nl;

		if (!msg)
			continue;
		msg++;
		if ((nl = strchr(msg, '\n')))
			*nl = 0;
		for (size_t i = 0; i < sizeof(reports) / sizeof(*reports); i++) {
			if (!strstr(msg, reports[i]))
				continue;
			if (nreports++ < 20)
				printf("# RTS KERNEL: %s\n", msg);
			fail("kernel report: %s", msg);
			break;
		}
	}
}

/* D state of one of our tasks, with the context switches it had then. */
struct dwatch {
	pid_t pid;
	const char *what;
	int idx;
	unsigned long long ctx;
	double since;		/* 0: not in D state */
};
static struct dwatch dw[MAXP + 1];
static int ndw;
static double dstate_max;

static int task_state(pid_t pid, char *state, unsigned long long *ctx)
{
	char path[64], buf[4096], *s;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (readfile(path, buf, sizeof(buf)) < 0)
		return -1;
	*state = (s = strstr(buf, "\nState:\t")) ? s[8] : '?';
	*ctx = 0;
	if ((s = strstr(buf, "\nvoluntary_ctxt_switches:")))
		*ctx += strtoull(s + 25, NULL, 10);
	if ((s = strstr(buf, "\nnonvoluntary_ctxt_switches:")))
		*ctx += strtoull(s + 28, NULL, 10);
	return 0;
}

static void show_task(pid_t pid, const char *what, int idx)
{
	char path[64], buf[4096];

	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	if (readfile(path, buf, sizeof(buf)) >= 0)
		printf("# RTS %s %d (pid %d) wchan %s\n", what, idx, pid, buf);
	snprintf(path, sizeof(path), "/proc/%d/stack", pid);
	if (readfile(path, buf, sizeof(buf)) >= 0)
		for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
			printf("# RTS   %s\n", l);
}

static int dstate_now;

static void watch_dstate(double t)
{
	dstate_now = 0;
	for (int i = 0; i < ndw; i++) {
		struct dwatch *d = &dw[i];
		unsigned long long ctx;
		char st;

		if (task_state(d->pid, &st, &ctx) || st != 'D') {
			d->since = 0;
			continue;
		}
		dstate_now++;
		if (!d->since || ctx != d->ctx)
			d->since = t, d->ctx = ctx;
		if (t - d->since > dstate_max)
			dstate_max = t - d->since;
		if (t - d->since > stall_secs) {
			if (fail("%s %d (pid %d) in D state for %.0f s without a context switch",
				 d->what, d->idx, d->pid, t - d->since))
				show_task(d->pid, d->what, d->idx);
		}
	}
}

/* Reap a child that ended before it was told to: its error fails the run. */
static void reap_early(void)
{
	int st;
	pid_t p;

	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		const char *err = sh->err[0] ? sh->err : "no message";

		fail("%s (pid %d) exited early, status %d: %s",
		     p == wpid ? "the waiter" : "a producer", p, st, err);
	}
}

struct totals {
	uint64_t w, p, h, d, t, waits;
};

static void totals(struct totals *s)
{
	memset(s, 0, sizeof(*s));
	/* Harvest first: a write counted after it can only add to pending. */
	s->h = LOAD(sh->harvested);
	s->d = LOAD(sh->drained);
	s->t = LOAD(sh->ticks);
	s->waits = LOAD(sh->waits);
	for (int i = 0; i < nprod; i++) {
		s->w += LOAD(sh->p[i].written);
		s->p += LOAD(sh->p[i].piped);
	}
}

/* A progress line ("t=") or the last one ("end secs="). */
static void progress(int last, double t, double gap_max)
{
	struct totals s;
	struct cpustat c;

	totals(&s);
	read_cpustat(&c);
	printf("# RTS %s%.0f writes=%llu harvested=%llu pending=%lld piped=%llu drained=%llu ticks=%llu waits=%llu gap_max_ms=%.0f ",
	       last ? "end secs=" : "t=", t,
	       (unsigned long long)s.w, (unsigned long long)s.h,
	       (long long)(s.w - s.h) + (long long)(s.p - s.d),
	       (unsigned long long)s.p, (unsigned long long)s.d,
	       (unsigned long long)s.t, (unsigned long long)s.waits, gap_max * 1000);
	if (last)
		printf("dstate_max_s=%.0f kernel_reports=%d empty_reads=%llu ", dstate_max,
		       nreports, (unsigned long long)LOAD(sh->empty));
	else
		printf("dstate=%d ", dstate_now);
	printf("periods=%llu throttled=%llu throttled_ms=%llu\n",
	       c.periods, c.throttled, c.throttled_us / 1000);
}

static void sleep_until(double t)
{
	struct timespec ts = { (time_t)t, (long)((t - (time_t)t) * 1e9) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Wait up to LIMIT seconds for CHILD to exit; 0 if it did. */
static int wait_exit(pid_t child, double limit)
{
	double end = now() + limit;
	int st;

	while (now() < end) {
		pid_t r = waitpid(child, &st, WNOHANG);

		if (r == child || (r < 0 && errno == ECHILD))
			return 0;
		usleep(20000);
	}
	return -1;
}

int main(void)
{
	char buf[4096], cpu_max_word[64], hung[32] = "absent", rcu[32] = "absent";
	const char *why;
	cpu_set_t all;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..1\n");

	secs = env_long("RTS_SECS", 60);
	guest = env_long("RTS_GUEST", 0) == 1;
	use_cg = env_long("RTS_CGROUP", 1) != 0;
	timer_us = env_long("RTS_TIMER_US", 5000);
	wprio = env_long("RTS_WAITER_PRIO", 10);
	snprintf(cpu_max, sizeof(cpu_max), "%s",
		 getenv("RTS_CPU_MAX") ? getenv("RTS_CPU_MAX") : "5000 50000");
	/* The guest's command line cannot carry a space: "5000,50000" too. */
	for (char *c = cpu_max; *c; c++)
		if (*c == ',')
			*c = ' ';
	snprintf(cpu_max_word, sizeof(cpu_max_word), "%s", cpu_max);
	for (char *c = cpu_max_word; *c; c++)
		if (*c == ' ')
			*c = '/';
	readfile("/proc/cpuinfo", buf, sizeof(buf));
	stall_secs = env_long("RTS_STALL_SECS", strstr(buf, "TCG") ? 300 : 30);
	report_secs = env_long("RTS_REPORT_SECS", secs <= 300 ? 10 : 60);
	if (!stall_secs || !timer_us || wprio > 89 || !report_secs) {
		printf("Bail out! rt-stall: RTS_STALL_SECS, RTS_TIMER_US, RTS_REPORT_SECS must be positive, RTS_WAITER_PRIO at most 89\n");
		return 2;
	}

	sched_getaffinity(0, sizeof(all), &all);
	for (int c = 0; c < CPU_SETSIZE && ncpu < MAXP; c++)
		if (CPU_ISSET(c, &all))
			cpus[ncpu++] = c;
	nprod = env_long("RTS_PRODUCERS", 2 * ncpu);
	ntimer = env_long("RTS_TIMERS", ncpu);
	if (!nprod || nprod > MAXP || ntimer > MAXT) {
		printf("Bail out! rt-stall: RTS_PRODUCERS 1..%d, RTS_TIMERS 0..%d\n", MAXP, MAXT);
		return 2;
	}

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		printf("Bail out! rt-stall: mmap: %s\n", strerror(errno));
		return 2;
	}
	if (use_cg && (why = setup_cgroup())) {
		printf("not ok 1 rt-stall: cgroup: %s\n", why);
		return 1;
	}

	/* The detectors this kernel has; a guest's hung-task timeout follows the bound. */
	if (guest) {
		snprintf(buf, sizeof(buf), "%ld", stall_secs);
		writefile("/proc/sys/kernel/hung_task_timeout_secs", buf);
	}
	readfile("/proc/sys/kernel/hung_task_timeout_secs", hung, sizeof(hung));
	readfile("/sys/module/rcupdate/parameters/rcu_cpu_stall_timeout", rcu, sizeof(rcu));
	printf("# RTS setup cpus=%d producers=%ld timers=%ld timer_us=%ld cpu.max=%s secs=%ld stall_secs=%ld waiter_prio=%ld hung_task=%s rcu_stall=%s cgroup=%s\n",
	       ncpu, nprod, ntimer, timer_us, use_cg ? cpu_max_word : "none", secs,
	       stall_secs, wprio, hung, rcu, use_cg ? cgdir : "none");

	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg >= 0)
		lseek(kmsg, 0, SEEK_END);	/* this run's messages only */
	else
		printf("# RTS note: /dev/kmsg: %s; kernel reports not watched\n", strerror(errno));

	epfd = epoll_create1(0);
	if (epfd < 0) {
		printf("Bail out! rt-stall: epoll_create1: %s\n", strerror(errno));
		return 2;
	}
	for (int i = 0; i < nprod; i++) {
		efd[i] = eventfd(0, EFD_NONBLOCK);
		if (efd[i] < 0 || pipe2(pipes[i], O_NONBLOCK)) {
			printf("Bail out! rt-stall: eventfd/pipe2: %s\n", strerror(errno));
			return 2;
		}
		add(efd[i], EPOLLIN, K_EVENTFD, i);
		add(pipes[i][0], EPOLLIN | EPOLLET, K_PIPE, i);
	}
	for (int i = 0; i < ntimer; i++) {
		struct itimerspec its = {
			.it_interval = { timer_us / 1000000, timer_us % 1000000 * 1000 },
			.it_value = { timer_us / 1000000, timer_us % 1000000 * 1000 },
		};

		tfd[i] = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
		if (tfd[i] < 0) {
			printf("Bail out! rt-stall: timerfd_create: %s\n", strerror(errno));
			return 2;
		}
		add(tfd[i], EPOLLIN, K_TIMER, i);
		/* Armed on that CPU, so each CPU's timer thread runs a callback. */
		pin(cpus[i % ncpu]);
		timerfd_settime(tfd[i], 0, &its, NULL);
	}
	sched_setaffinity(0, sizeof(all), &all);

	/* Children write nothing to stdout: a stuck one must not hold init's pipe. */
	int null = open("/dev/null", O_RDWR);

	for (int i = 0; i <= nprod; i++) {
		pid_t p = fork();

		if (p < 0) {
			printf("Bail out! rt-stall: fork: %s\n", strerror(errno));
			sh->go = sh->stop = sh->quit = 1;
			return 2;
		}
		if (!p) {
			dup2(null, 1);
			dup2(null, 2);
			if (i == nprod)
				waiter();
			producer(i);
		}
		dw[ndw].pid = p;
		dw[ndw].what = i == nprod ? "waiter" : "producer";
		dw[ndw++].idx = i == nprod ? 0 : i;
		if (i == nprod)
			wpid = p;
		else
			prod_pid[i] = p;
	}
	/* Above the waiter, so that a waiter that spins cannot hide it. */
	set_fifo(wprio ? wprio + 10 : 0);

	double t0 = now(), tick = 0.25, next = t0 + report_secs, gap_max = 0;
	double last_h, last_t, last_pw[MAXP];
	struct totals s, prev;
	uint64_t pw[MAXP];

	STORE(sh->go, 1);
	totals(&prev);
	last_h = last_t = t0;
	for (int i = 0; i < nprod; i++)
		last_pw[i] = t0, pw[i] = 0;
	for (double t = t0 + tick; !failed; t += tick) {
		int stopping = t - t0 >= secs;

		sleep_until(t);
		totals(&s);
		int64_t pending = (int64_t)(s.w - s.h) + (int64_t)(s.p - s.d);

		if (s.h != prev.h || s.d != prev.d || pending <= 0)
			last_h = t;
		else if (t - last_h > gap_max)
			gap_max = t - last_h;
		if (s.t != prev.t || !ntimer)
			last_t = t;
		for (int i = 0; i < nprod; i++) {
			uint64_t v = LOAD(sh->p[i].written);

			if (v != pw[i])
				pw[i] = v, last_pw[i] = t;
			if (t - last_pw[i] > stall_secs && !stopping) {
				if (fail("producer %d wrote nothing for %.0f s", i, t - last_pw[i]))
					show_task(prod_pid[i], "producer", i);
			}
		}
		prev = s;
		reap_early();
		scan_kmsg();
		watch_dstate(t);
		if (t - last_h > stall_secs) {
			if (fail("the waiter harvested nothing for %.0f s with %lld writes pending",
				 t - last_h, (long long)pending))
				show_task(wpid, "waiter", 0);
		}
		if (t - last_t > stall_secs) {
			if (fail("no timer expiry harvested for %.0f s", t - last_t))
				show_task(wpid, "waiter", 0);
		}
		if (t >= next) {
			progress(0, t - t0, gap_max);
			next += report_secs;
		}
		if (stopping)
			break;
	}

	/* Stop the producers; every write must then be harvested. */
	STORE(sh->stop, 1);
	for (int i = 0; i < nprod && !failed; i++)
		if (wait_exit(prod_pid[i], stall_secs))
			fail("producer %d did not exit within %ld s", i, stall_secs);
	double end = now() + stall_secs;

	while (!failed) {
		totals(&s);
		if (s.h == s.w && s.d == s.p)
			break;
		if (now() > end) {
			if (fail("%llu eventfd writes and %llu pipe bytes never harvested",
				 (unsigned long long)(s.w - s.h), (unsigned long long)(s.p - s.d)))
				show_task(wpid, "waiter", 0);
			break;
		}
		usleep(50000);
	}
	STORE(sh->quit, 1);
	if (!failed && wait_exit(wpid, stall_secs))
		fail("the waiter did not exit within %ld s", stall_secs);
	scan_kmsg();
	double elapsed = now() - t0;
	struct cpustat c;

	read_cpustat(&c);
	if (!failed && use_cg && !c.throttled)
		fail("the cgroup was never throttled (nr_periods %llu): the scenario did not happen",
		     c.periods);
	progress(1, elapsed, gap_max);

	/* Whatever is left, stuck or not, must not keep the guest up. */
	for (int i = 0; i < nprod; i++)
		kill(prod_pid[i], SIGKILL);
	kill(wpid, SIGKILL);
	for (int i = 0; i < nprod; i++)
		if (wait_exit(prod_pid[i], 5))
			printf("# RTS producer %d (pid %d) survived SIGKILL\n", i, prod_pid[i]);
	if (wait_exit(wpid, 5))
		printf("# RTS the waiter (pid %d) survived SIGKILL\n", wpid);
	else if (use_cg)
		rmdir(cgdir);

	if (failed) {
		printf("not ok 1 rt-stall: %s\n", fail_msg);
		return 1;
	}
	totals(&s);
	printf("ok 1 rt-stall: %.0f s, %llu writes and %llu timer expiries harvested, longest wait with writes pending %.2f s, throttled %llu of %llu periods\n",
	       elapsed, (unsigned long long)s.w, (unsigned long long)s.t, gap_max,
	       c.throttled, c.periods);
	return 0;
}
