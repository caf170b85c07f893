// SPDX-License-Identifier: GPL-2.0
/*
 * rt-noise: the shape of the PREEMPT_RT regression report ("osnoise:
 * eventpoll: Replace rwlock with spinlock causes ~50us noise spikes on
 * isolated PREEMPT_RT cores"), as a guest program.
 *
 * One producer per isolated CPU (CPUs 1..N-1, or the CPUs of
 * /sys/devices/system/cpu/isolated), each writing its own eventfd; one
 * consumer on CPU 0 harvesting all of them from one epoll. Per phase
 * and per producer CPU it counts the reschedule IPIs (RES in
 * /proc/interrupts) and the producer's context switches, and checks that
 * every write was harvested (a lost event fails the run). Then it times
 * epoll_ctl(EPOLL_CTL_ADD) while the producers run, and, where perf
 * events exist, replaces the producer threads by a cpu-clock sampling
 * perf event per isolated CPU (the report's own workload) while the
 * osnoise tracer runs on those CPUs.
 *
 * Phases (RTN_PHASES, comma-separated; default all, in this order):
 *   et_sleep     edge-triggered, SCHED_FIFO producers, consumer asleep
 *                in epoll_wait()
 *   et_poll      the same, the consumer polling (epoll_wait timeout 0)
 *   paced        edge-triggered, SCHED_FIFO, a pause every RTN_PACE writes
 *   paced_lt     the same, level-triggered
 *   paced_other  paced, SCHED_OTHER producers
 *   et_other     et_sleep with SCHED_OTHER producers
 *   ctl          et_sleep while another thread on CPU 0 adds
 *                RTN_CTL_FDS eventfds to the epoll, RTN_CTL_ROUNDS times
 *   idle         no producers: osnoise's floor (only with osnoise)
 *   perf         a cpu-clock perf event per producer CPU, sampling every
 *                RTN_PERF_PERIOD_US, for RTN_PERF_MS; osnoise on those CPUs
 *
 * Environment (the guest's init gets NAME=value words of the kernel
 * command line as its environment):
 *   RTN_WRITES (200000) writes per producer per phase
 *   RTN_PACE (4) writes per burst and RTN_PAUSE_US (20) the busy pause
 *     between bursts of the paced phases
 *   RTN_PRIO (50) SCHED_FIFO priority of the producers; RTN_FIFO=0 runs
 *     every phase with SCHED_OTHER producers (for a host smoke run)
 *   RTN_WAIT_MS (2000) the consumer's epoll_wait() timeout; once the
 *     producers are done, a timeout with an fd still holding a count is
 *     a lost event
 *   RTN_CTL_FDS (16), RTN_CTL_ROUNDS (3)
 *   RTN_PERF_MS (3000), RTN_PERF_PERIOD_US (100)
 *   RTN_OSNOISE_PERIOD_US (100000): osnoise period and runtime
 *   RTN_GUEST=1: this is the measurement guest: mount tracefs, lift RT
 *     throttling (sched_rt_runtime_us = -1), run osnoise. Never set it on
 *     a host.
 *
 * Output, one line per fact, all starting with "RTN ":
 *   RTN cpus online=4 consumer=0 producers=1,2,3 isolated=1-3 nohz_full=1-3
 *   RTN phase=et_sleep cpu=1 res=.. nvcsw=.. nivcsw=.. writes=.. harvested=.. cal=.. iwi=.. policy=fifo
 *   RTN phase=et_sleep consumer cpu=0 res=.. waits=.. empty=.. ms=..
 *   RTN phase=perf cpu=1 res=.. samples=.. wakeups=.. cal=.. iwi=..
 *   RTN phase=perf consumer cpu=0 res=.. ms=.. max_sample_rate=..
 *   RTN osnoise phase=perf cpu=1 max_us=.. avail=.. noise_us=.. runtime_us=.. hw=.. nmi=.. irq=.. sirq=.. thread=.. periods=..
 *   RTN ctl n=48 median_us=.. max_us=.. min_us=..
 *   RTN lockstat phase=et_sleep contentions=.. sites=..
 *   RTN lockstat phase=et_sleep site=FUNC<CALLER count=..
 *   RTN done lost=0
 * A lost event prints "RTN LOST ..." and the exit status is 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAXCPU 64
#define TRACING "/sys/kernel/tracing"

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (!v || !*v)
		return def;
	n = strtol(v, &end, 10);
	if (*end || n < 0) {
		fprintf(stderr, "rt-noise: %s=%s is not a number\n", name, v);
		exit(2);
	}
	return n;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stdout, "rt-noise: ");
	vfprintf(stdout, fmt, ap);
	fprintf(stdout, ": %s\n", strerror(errno));
	va_end(ap);
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void spin_us(long us)
{
	uint64_t end = now_ns() + (uint64_t)us * 1000;

	while (now_ns() < end)
		__builtin_ia32_pause();
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity(cpu %d)", cpu);
}

/* Configuration. */
static long writes, pace, pause_us, prio, wait_ms, ctl_fds, ctl_rounds;
static long perf_ms, perf_period_us, osn_period_us;
static int fifo_ok, guest;
static int ncpu_online, nprod, prod_cpu[MAXCPU];
static int share_cpu;	/* a producer shares CPU 0 with the consumer */
static int lost;

/* Per-CPU interrupt counts from /proc/interrupts. */
struct irqs {
	long res[MAXCPU], cal[MAXCPU], iwi[MAXCPU];
};

static void read_irqs(struct irqs *s)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[4096];
	int col2cpu[MAXCPU], ncol = 0;

	memset(s, 0, sizeof(*s));
	if (!f)
		die("/proc/interrupts");
	if (fgets(line, sizeof(line), f)) {
		char *p = line;
		int cpu, n;

		while (sscanf(p, " CPU%d%n", &cpu, &n) == 1 && ncol < MAXCPU) {
			col2cpu[ncol++] = cpu < MAXCPU ? cpu : 0;
			p += n;
		}
	}
	while (fgets(line, sizeof(line), f)) {
		char name[16], *p;
		long *dst;
		int i, n;

		if (sscanf(line, " %15[^:]:%n", name, &n) != 1)
			continue;
		if (!strcmp(name, "RES"))
			dst = s->res;
		else if (!strcmp(name, "CAL"))
			dst = s->cal;
		else if (!strcmp(name, "IWI"))
			dst = s->iwi;
		else
			continue;
		p = line + n;
		for (i = 0; i < ncol; i++) {
			long v;

			if (sscanf(p, " %ld%n", &v, &n) != 1)
				break;
			dst[col2cpu[i]] = v;
			p += n;
		}
	}
	fclose(f);
}

static void read_csw(long *nv, long *niv)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/status",
		 (long)syscall(SYS_gettid));
	*nv = *niv = -1;
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "voluntary_ctxt_switches: %ld", nv);
		sscanf(line, "nonvoluntary_ctxt_switches: %ld", niv);
	}
	fclose(f);
}

/* The phase being run, shared with the producer threads. */
struct phase {
	const char *name;
	int et, poll, paced, fifo, ctl;
};

struct producer {
	pthread_t thr;
	int cpu, fd, fifo, paced;
	long nvcsw, nivcsw, written, harvested;
	const char *policy;
	int ready, done;	/* atomic */
};

static struct producer prod[MAXCPU];
static int go, release;	/* atomic */

static void wait_flag(int *flag)
{
	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		if (share_cpu)
			sched_yield();
		else
			__builtin_ia32_pause();
	}
}

static void *producer_main(void *arg)
{
	struct producer *p = arg;
	struct sched_param sp = { .sched_priority = (int)prio };
	long nv0, niv0, nv1, niv1, i;
	uint64_t one = 1;

	pin(p->cpu);
	p->policy = "other";
	if (p->fifo && fifo_ok) {
		if (sched_setscheduler(0, SCHED_FIFO, &sp) == 0)
			p->policy = "fifo";
		else
			p->policy = "other(fifo refused)";
	} else if (p->fifo) {
		p->policy = "other(RTN_FIFO=0)";
	}
	__atomic_store_n(&p->ready, 1, __ATOMIC_RELEASE);
	wait_flag(&go);
	read_csw(&nv0, &niv0);
	for (i = 0; i < writes; i++) {
		if (write(p->fd, &one, sizeof(one)) != sizeof(one))
			die("eventfd write on cpu %d", p->cpu);
		if (p->paced && (i + 1) % pace == 0)
			spin_us(pause_us);
	}
	read_csw(&nv1, &niv1);
	p->written = i;
	p->nvcsw = nv1 - nv0;
	p->nivcsw = niv1 - niv0;
	__atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
	/* Stay until the counts are taken: a thread's exit is noise too. */
	wait_flag(&release);
	return NULL;
}

/* ctl: time EPOLL_CTL_ADD of fresh eventfds while the producers run. */
static int ctl_ep;
static long ctl_us[4096];
static int ctl_n;

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

static void *ctl_main(void *arg)
{
	int fds[256], r, i;

	(void)arg;
	pin(0);
	for (r = 0; r < ctl_rounds; r++) {
		for (i = 0; i < ctl_fds; i++) {
			struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
			uint64_t t0;

			fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
			if (fds[i] < 0)
				die("eventfd");
			ev.data.u32 = 1000 + i;
			t0 = now_ns();
			if (epoll_ctl(ctl_ep, EPOLL_CTL_ADD, fds[i], &ev))
				die("epoll_ctl ADD");
			if (ctl_n < (int)(sizeof(ctl_us) / sizeof(ctl_us[0])))
				ctl_us[ctl_n++] = (long)((now_ns() - t0) / 1000);
		}
		for (i = 0; i < ctl_fds; i++) {
			epoll_ctl(ctl_ep, EPOLL_CTL_DEL, fds[i], NULL);
			close(fds[i]);
		}
	}
	return NULL;
}

/* The consumer: harvest until every write of every producer is read. */
static void run_phase(const struct phase *ph)
{
	struct epoll_event evs[64];
	struct irqs a, b;
	pthread_t ctl_thr;
	pthread_attr_t attr;
	cpu_set_t set;
	long waits = 0, empty = 0, total = 0, got = 0;
	int ep, i, alldone = 0, ctl_running = 0;
	uint64_t t0, ms, progress;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	__atomic_store_n(&go, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&release, 0, __ATOMIC_RELAXED);
	for (i = 0; i < nprod; i++) {
		struct producer *p = &prod[i];
		struct epoll_event ev = { .events = EPOLLIN | (ph->et ? EPOLLET : 0) };

		memset(p, 0, sizeof(*p));
		p->cpu = prod_cpu[i];
		p->fifo = ph->fifo;
		p->paced = ph->paced;
		p->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (p->fd < 0)
			die("eventfd");
		ev.data.u32 = i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, p->fd, &ev))
			die("epoll_ctl ADD");
		/* Start it on its CPU: no migration, no wait for CPU 0. */
		CPU_ZERO(&set);
		CPU_SET(p->cpu, &set);
		pthread_attr_init(&attr);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		if (pthread_create(&p->thr, &attr, producer_main, p))
			die("pthread_create");
		pthread_attr_destroy(&attr);
		total += writes;
	}
	for (i = 0; i < nprod; i++)
		wait_flag(&prod[i].ready);
	read_irqs(&a);
	t0 = progress = now_ns();
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	if (ph->ctl) {
		ctl_ep = ep;
		if (pthread_create(&ctl_thr, NULL, ctl_main, NULL))
			die("pthread_create");
		ctl_running = 1;
	}
	while (got < total) {
		int n = epoll_wait(ep, evs, 64, ph->poll ? 0 : (int)wait_ms);

		waits++;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("epoll_wait");
		if (n == 0)
			empty++;
		for (int k = 0; k < n; k++) {
			uint64_t v;
			unsigned int id = evs[k].data.u32;

			if (id >= (unsigned int)nprod)
				continue;	/* a ctl fd, never written */
			if (read(prod[id].fd, &v, sizeof(v)) == sizeof(v)) {
				prod[id].harvested += v;
				got += v;
				progress = now_ns();
			}
		}
		if (n <= 0 && alldone && got < total &&
		    now_ns() - progress >= (uint64_t)wait_ms * 1000000) {
			/* The producers are done and epoll reported nothing
			 * for RTN_WAIT_MS: an fd still holding a count is a
			 * lost event. */
			for (i = 0; i < nprod; i++) {
				uint64_t v;

				if (read(prod[i].fd, &v, sizeof(v)) == sizeof(v)) {
					printf("RTN LOST phase=%s cpu=%d count=%llu not reported in %ld ms\n",
					       ph->name, prod[i].cpu,
					       (unsigned long long)v, wait_ms);
					prod[i].harvested += v;
					got += v;
					lost = 1;
				}
			}
			if (got < total)
				break;
		}
		if (!alldone) {
			alldone = 1;
			for (i = 0; i < nprod; i++)
				alldone &= __atomic_load_n(&prod[i].done, __ATOMIC_ACQUIRE);
		}
	}
	for (i = 0; i < nprod; i++)
		wait_flag(&prod[i].done);
	ms = (now_ns() - t0) / 1000000;
	read_irqs(&b);
	__atomic_store_n(&release, 1, __ATOMIC_RELEASE);
	for (i = 0; i < nprod; i++) {
		struct producer *p = &prod[i];
		int c = p->cpu;

		pthread_join(p->thr, NULL);
		printf("RTN phase=%s cpu=%d res=%ld nvcsw=%ld nivcsw=%ld writes=%ld harvested=%ld cal=%ld iwi=%ld policy=%s\n",
		       ph->name, c, b.res[c] - a.res[c], p->nvcsw, p->nivcsw,
		       p->written, p->harvested, b.cal[c] - a.cal[c],
		       b.iwi[c] - a.iwi[c], p->policy);
		if (p->harvested != p->written) {
			printf("RTN LOST phase=%s cpu=%d written=%ld harvested=%ld\n",
			       ph->name, c, p->written, p->harvested);
			lost = 1;
		}
		close(p->fd);
	}
	printf("RTN phase=%s consumer cpu=0 res=%ld waits=%ld empty=%ld ms=%llu\n",
	       ph->name, b.res[0] - a.res[0], waits, empty,
	       (unsigned long long)ms);
	if (ctl_running) {
		pthread_join(ctl_thr, NULL);
		qsort(ctl_us, ctl_n, sizeof(ctl_us[0]), cmp_long);
		if (ctl_n)
			printf("RTN ctl n=%d median_us=%ld max_us=%ld min_us=%ld\n",
			       ctl_n, ctl_us[ctl_n / 2], ctl_us[ctl_n - 1], ctl_us[0]);
	}
	close(ep);
	fflush(stdout);
}

/* osnoise through tracefs. */
static int osnoise_ok;

static int put(const char *file, const char *val)
{
	char path[256];
	int fd, ok;

	snprintf(path, sizeof(path), TRACING "/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

static void osnoise_setup(void)
{
	struct stat st;
	char cpus[256] = "", v[32];
	int i, n = 0;

	if (!guest)
		return;
	mount("tracefs", TRACING, "tracefs", 0, NULL);	/* may be there */
	if (stat(TRACING "/osnoise", &st)) {
		printf("RTN osnoise unavailable (no " TRACING "/osnoise)\n");
		return;
	}
	for (i = 0; i < nprod; i++)
		n += snprintf(cpus + n, sizeof(cpus) - n, "%s%d", i ? "," : "",
			      prod_cpu[i]);
	snprintf(v, sizeof(v), "%ld", osn_period_us);
	if (put("tracing_on", "0") || put("current_tracer", "nop") ||
	    put("osnoise/cpus", cpus) || put("osnoise/period_us", v) ||
	    put("osnoise/runtime_us", v) || put("buffer_size_kb", "1024")) {
		printf("RTN osnoise unavailable (cannot configure it)\n");
		return;
	}
	osnoise_ok = 1;
}

static void osnoise_start(void)
{
	put("trace", "");
	put("current_tracer", "osnoise");
	put("tracing_on", "1");
}

/*
 * Stop the tracer and summarise its per-period lines, which read
 * "TASK-PID [CPU] FLAGS TIMESTAMP: RUNTIME NOISE %AVAIL MAX HW NMI IRQ SIRQ THREAD"
 * (times in us).
 */
static void osnoise_stop(const char *phase)
{
	struct {
		double runtime, noise;
		long max, hw, nmi, irq, sirq, thread, periods;
	} s[MAXCPU];
	char line[1024];
	FILE *f;
	int i;

	put("tracing_on", "0");
	memset(s, 0, sizeof(s));
	f = fopen(TRACING "/trace", "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '['), *q;
		double rt, noise, avail;
		long max, hw, nmi, irq, sirq, thr;
		int cpu;

		if (line[0] == '#' || !p || sscanf(p, "[%d]", &cpu) != 1 ||
		    cpu < 0 || cpu >= MAXCPU)
			continue;
		q = strstr(p, ": ");
		if (!q || sscanf(q + 2, "%lf %lf %lf %ld %ld %ld %ld %ld %ld",
				 &rt, &noise, &avail, &max, &hw, &nmi, &irq,
				 &sirq, &thr) != 9)
			continue;
		s[cpu].runtime += rt;
		s[cpu].noise += noise;
		if (max > s[cpu].max)
			s[cpu].max = max;
		s[cpu].hw += hw;
		s[cpu].nmi += nmi;
		s[cpu].irq += irq;
		s[cpu].sirq += sirq;
		s[cpu].thread += thr;
		s[cpu].periods++;
	}
	if (f)
		fclose(f);
	put("current_tracer", "nop");
	for (i = 0; i < nprod; i++) {
		int c = prod_cpu[i];
		double avail = s[c].runtime > 0 ?
			100.0 * (1.0 - s[c].noise / s[c].runtime) : 0;

		printf("RTN osnoise phase=%s cpu=%d max_us=%ld avail=%.5f noise_us=%.0f runtime_us=%.0f hw=%ld nmi=%ld irq=%ld sirq=%ld thread=%ld periods=%ld\n",
		       phase, c, s[c].max, avail, s[c].noise, s[c].runtime,
		       s[c].hw, s[c].nmi, s[c].irq, s[c].sirq, s[c].thread,
		       s[c].periods);
	}
	fflush(stdout);
}

/*
 * Which locks the phase contended, and from where: a hist trigger on
 * lock:contention_begin keyed by the stack. Each distinct stack's first
 * two frames outside the locking code name the site.
 */
#define LOCKHIST "events/lock/contention_begin/trigger"
#define LOCKTRIG "hist:keys=common_stacktrace:vals=hitcount:size=4096"
static int lockstat_ok;

static void lockstat_start(void)
{
	if (!guest)
		return;
	put(LOCKHIST, "!" LOCKTRIG);	/* a trigger left from the last phase */
	lockstat_ok = !put(LOCKHIST, LOCKTRIG);
	if (!lockstat_ok)
		printf("RTN lockstat unavailable (no hist trigger on lock:contention_begin)\n");
}

static int lock_internal(const char *fn)
{
	static const char *const pfx[] = {
		"rt_spin", "__rt_spin", "rtlock", "rt_mutex", "__rt_mutex",
		"rwbase", "_raw_spin", "raw_spin", "queued_spin", "do_raw_spin",
		"native_queued", "__pv_queued", "mutex_lock", "__mutex_lock",
		"rt_read", "rt_write", "__ww_mutex", "trace_contention",
	};

	for (size_t i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++)
		if (!strncmp(fn, pfx[i], strlen(pfx[i])))
			return 1;
	return 0;
}

static void lockstat_stop(const char *phase)
{
	static struct site { char site[160]; long n; } tab[64];
	struct site tmp;
	char line[512], site[160] = "";
	int ntab = 0, nfr = 0, i, j;
	long total = 0;
	FILE *f;

	if (!lockstat_ok)
		return;
	f = fopen(TRACING "/events/lock/contention_begin/hist", "r");
	while (f && fgets(line, sizeof(line), f)) {
		char fn[128];
		long n;

		if (strstr(line, "common_stacktrace:")) {
			site[0] = 0;
			nfr = 0;
		} else if (sscanf(line, " } hitcount: %ld", &n) == 1) {
			total += n;
			for (i = 0; i < ntab && strcmp(tab[i].site, site); i++)
				;
			if (i == ntab && ntab < 64)
				snprintf(tab[ntab++].site, sizeof(tab[0].site), "%s",
					 site[0] ? site : "?");
			if (i < 64)
				tab[i].n += n;
		} else if (nfr < 2 && sscanf(line, " %127[^+ \n]", fn) == 1 &&
			   strchr(line, '+') && !lock_internal(fn)) {
			size_t l = strlen(site);

			snprintf(site + l, sizeof(site) - l, "%s%s", nfr ? "<" : "", fn);
			nfr++;
		}
	}
	if (f)
		fclose(f);
	put(LOCKHIST, "!" LOCKTRIG);
	for (i = 0; i < ntab; i++)	/* most contended first */
		for (j = i + 1; j < ntab; j++)
			if (tab[j].n > tab[i].n) {
				tmp = tab[i];
				tab[i] = tab[j];
				tab[j] = tmp;
			}
	printf("RTN lockstat phase=%s contentions=%ld sites=%d\n", phase, total, ntab);
	for (i = 0; i < ntab && i < 8; i++)
		printf("RTN lockstat phase=%s site=%s count=%ld\n", phase, tab[i].site, tab[i].n);
}

/* idle: osnoise with nothing of ours on the producer CPUs. */
static void run_idle(void)
{
	if (!osnoise_ok) {
		printf("RTN phase=idle skipped (no osnoise)\n");
		return;
	}
	osnoise_start();
	usleep(perf_ms * 1000);
	osnoise_stop("idle");
}

static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = 0;
	if (f) {
		if (!fgets(buf, (int)len, f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
	if (!buf[0])
		snprintf(buf, len, "none");
}

/* perf: one cpu-clock sampling event per producer CPU, one epoll. */
static void run_perf(void)
{
	struct perf_event_attr attr;
	struct perf_event_mmap_page *pg[MAXCPU];
	struct epoll_event evs[64];
	struct irqs a, b;
	long wakeups[MAXCPU] = { 0 };
	uint64_t head0[MAXCPU], end;
	size_t len = 9 * (size_t)sysconf(_SC_PAGESIZE);
	char rate[32];
	int fd[MAXCPU], ep, i;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_CPU_CLOCK;
	attr.sample_period = (uint64_t)perf_period_us * 1000;
	attr.sample_type = 0;	/* a sample is its 8-byte header */
	attr.wakeup_events = 1;
	attr.disabled = 1;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	for (i = 0; i < nprod; i++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLET };

		fd[i] = syscall(SYS_perf_event_open, &attr, -1, prod_cpu[i], -1,
				PERF_FLAG_FD_CLOEXEC);
		if (fd[i] < 0) {
			printf("RTN phase=perf skipped (perf_event_open on cpu %d: %s)\n",
			       prod_cpu[i], strerror(errno));
			while (i--)
				close(fd[i]);
			close(ep);
			return;
		}
		/* Read-only: the buffer overwrites, and wakes every sample. */
		pg[i] = mmap(NULL, len, PROT_READ, MAP_SHARED, fd[i], 0);
		if (pg[i] == MAP_FAILED)
			die("perf mmap");
		ev.data.u32 = i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd[i], &ev))
			die("epoll_ctl ADD perf");
	}
	if (osnoise_ok)
		osnoise_start();
	read_irqs(&a);
	for (i = 0; i < nprod; i++) {
		head0[i] = __atomic_load_n(&pg[i]->data_head, __ATOMIC_ACQUIRE);
		ioctl(fd[i], PERF_EVENT_IOC_ENABLE, 0);
	}
	end = now_ns() + (uint64_t)perf_ms * 1000000;
	while (now_ns() < end) {
		int n = epoll_wait(ep, evs, 64, 100);

		for (int k = 0; k < n; k++)
			wakeups[evs[k].data.u32]++;
	}
	for (i = 0; i < nprod; i++)
		ioctl(fd[i], PERF_EVENT_IOC_DISABLE, 0);
	read_irqs(&b);
	if (osnoise_ok)
		osnoise_stop("perf");
	for (i = 0; i < nprod; i++) {
		int c = prod_cpu[i];
		uint64_t h = __atomic_load_n(&pg[i]->data_head, __ATOMIC_ACQUIRE);

		printf("RTN phase=perf cpu=%d res=%ld samples=%llu wakeups=%ld cal=%ld iwi=%ld\n",
		       c, b.res[c] - a.res[c],
		       (unsigned long long)((h - head0[i]) / 8), wakeups[i],
		       b.cal[c] - a.cal[c], b.iwi[c] - a.iwi[c]);
		munmap(pg[i], len);
		close(fd[i]);
	}
	/* Throttled samples are not counted; a lowered rate says so. */
	read_line("/proc/sys/kernel/perf_event_max_sample_rate", rate,
		  sizeof(rate));
	printf("RTN phase=perf consumer cpu=0 res=%ld ms=%ld max_sample_rate=%s\n",
	       b.res[0] - a.res[0], perf_ms, rate);
	close(ep);
	fflush(stdout);
}

/* Parse a CPU list ("1-3,5") into cpus[]; returns the count. */
static int parse_cpulist(const char *s, int *cpus)
{
	int n = 0, a, b, k;

	while (*s && sscanf(s, "%d%n", &a, &k) == 1) {
		s += k;
		b = a;
		if (*s == '-' && sscanf(s + 1, "%d%n", &b, &k) == 1)
			s += 1 + k;
		for (; a <= b && n < MAXCPU; a++)
			if (a > 0 && a < MAXCPU)
				cpus[n++] = a;
		if (*s == ',')
			s++;
		else
			break;
	}
	return n;
}

static const struct phase phases[] = {
	{ "et_sleep", 1, 0, 0, 1, 0 },
	{ "et_poll", 1, 1, 0, 1, 0 },
	{ "paced", 1, 0, 1, 1, 0 },
	{ "paced_lt", 0, 0, 1, 1, 0 },
	{ "paced_other", 1, 0, 1, 0, 0 },
	{ "et_other", 1, 0, 0, 0, 0 },
	{ "ctl", 1, 0, 0, 1, 1 },
};

static int wanted(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	if (!list || !*list)
		return 1;
	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return 1;
		p += n;
	}
	return 0;
}

int main(void)
{
	const char *only = getenv("RTN_PHASES");
	char iso[256], nohz[256];
	cpu_set_t set;
	size_t k;
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	writes = env_long("RTN_WRITES", 200000);
	pace = env_long("RTN_PACE", 4);
	pause_us = env_long("RTN_PAUSE_US", 20);
	prio = env_long("RTN_PRIO", 50);
	wait_ms = env_long("RTN_WAIT_MS", 2000);
	ctl_fds = env_long("RTN_CTL_FDS", 16);
	ctl_rounds = env_long("RTN_CTL_ROUNDS", 3);
	perf_ms = env_long("RTN_PERF_MS", 3000);
	perf_period_us = env_long("RTN_PERF_PERIOD_US", 100);
	osn_period_us = env_long("RTN_OSNOISE_PERIOD_US", 100000);
	fifo_ok = env_long("RTN_FIFO", 1) != 0;
	guest = env_long("RTN_GUEST", 0) != 0;
	if (pace < 1 || ctl_fds < 1 || ctl_fds > 256 || perf_period_us < 1 ||
	    writes < 1) {
		fprintf(stdout, "rt-noise: bad RTN_PACE, RTN_CTL_FDS, RTN_PERF_PERIOD_US or RTN_WRITES\n");
		return 2;
	}

	/* The producer CPUs: the isolated ones, else every CPU but 0. */
	ncpu_online = (int)sysconf(_SC_NPROCESSORS_ONLN);
	read_line("/sys/devices/system/cpu/isolated", iso, sizeof(iso));
	read_line("/sys/devices/system/cpu/nohz_full", nohz, sizeof(nohz));
	nprod = strcmp(iso, "none") ? parse_cpulist(iso, prod_cpu) : 0;
	if (!nprod) {
		if (sched_getaffinity(0, sizeof(set), &set))
			die("sched_getaffinity");
		for (i = 1; i < MAXCPU; i++)
			if (CPU_ISSET(i, &set))
				prod_cpu[nprod++] = i;
	}
	if (!nprod) {
		prod_cpu[nprod++] = 0;
		share_cpu = 1;
	}
	printf("RTN cpus online=%d consumer=0 producers=", ncpu_online);
	for (i = 0; i < nprod; i++)
		printf("%s%d", i ? "," : "", prod_cpu[i]);
	printf(" isolated=%s nohz_full=%s\n", iso, nohz);
	if (nprod < 3)
		printf("# rt-noise: only %d producer CPU(s) (the measurement wants 3 isolated vCPUs of 4): using what there is\n",
		       nprod);
	if (share_cpu)
		printf("# rt-noise: one CPU: the producer shares CPU 0 with the consumer\n");
	printf("# rt-noise: writes=%ld pace=%ld pause_us=%ld prio=%ld fifo=%d wait_ms=%ld ctl=%ldx%ld perf_ms=%ld perf_period_us=%ld guest=%d\n",
	       writes, pace, pause_us, prio, fifo_ok, wait_ms, ctl_fds,
	       ctl_rounds, perf_ms, perf_period_us, guest);

	if (guest) {
		int fd = open("/proc/sys/kernel/sched_rt_runtime_us", O_WRONLY);

		/* SCHED_FIFO producers run flat out: no RT throttling. */
		if (fd < 0 || write(fd, "-1", 2) != 2)
			printf("# rt-noise: could not lift RT throttling\n");
		if (fd >= 0)
			close(fd);
	}
	pin(0);
	osnoise_setup();

	for (k = 0; k < sizeof(phases) / sizeof(phases[0]); k++)
		if (wanted(only, phases[k].name)) {
			lockstat_start();
			run_phase(&phases[k]);
			lockstat_stop(phases[k].name);
		}
	if (wanted(only, "idle") && osnoise_ok)
		run_idle();
	if (wanted(only, "perf"))
		run_perf();
	printf("RTN done lost=%d\n", lost);
	return lost ? 1 : 0;
}
