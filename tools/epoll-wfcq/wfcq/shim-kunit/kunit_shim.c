// SPDX-License-Identifier: GPL-2.0
/*
 * Runner for a KUnit suite built in userspace with kunit_shim.h: runs
 * every case, prints KTAP-like lines, exits non-zero if any case failed
 * or any WARN_ON_ONCE() fired.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "kunit_shim.h"

extern struct kunit_suite *kunit_shim_suite;
unsigned long kunit_shim_warnings(void);

void kunit_shim_fail(struct kunit *test, bool fatal, const char *file,
		     int line, const char *what)
{
	test->failures++;
	fprintf(stderr, "    # %s: %s:%d: %s failed: %s\n", test->name,
		file, line, fatal ? "ASSERTION" : "EXPECTATION", what);
	if (fatal)
		longjmp(test->abort, 1);
}

unsigned long kunit_shim_jiffies(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000UL + ts.tv_nsec / 1000000;
}

unsigned int num_online_cpus(void)
{
	const char *env = getenv("KUNIT_SHIM_CPUS");
	long n = env ? atol(env) : sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? n : 1;
}

void cond_resched(void)
{
	sched_yield();
}

struct task_struct {
	pthread_t thread;
	int (*fn)(void *data);
	void *data;
	unsigned int cpu;
	int started;
	int ret;
};

static void *kthread_shim(void *arg)
{
	struct task_struct *t = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(t->cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	while (!__atomic_load_n(&t->started, __ATOMIC_ACQUIRE))
		sched_yield();
	if (t->started > 0)
		t->ret = t->fn(t->data);
	return NULL;
}

struct task_struct *kthread_create_on_cpu(int (*fn)(void *data), void *data,
					  unsigned int cpu,
					  const char *namefmt)
{
	struct task_struct *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->fn = fn;
	t->data = data;
	t->cpu = cpu;
	if (pthread_create(&t->thread, NULL, kthread_shim, t)) {
		free(t);
		return NULL;
	}
	return t;
}

void wake_up_process(struct task_struct *t)
{
	__atomic_store_n(&t->started, 1, __ATOMIC_RELEASE);
}

/* Like kthread_stop() on a thread that was never woken: it does not run. */
int kthread_stop_put(struct task_struct *t)
{
	int ret;

	if (!__atomic_load_n(&t->started, __ATOMIC_ACQUIRE))
		__atomic_store_n(&t->started, -1, __ATOMIC_RELEASE);
	pthread_join(t->thread, NULL);
	ret = t->ret;
	free(t);
	return ret;
}

int main(void)
{
	struct kunit_suite *s = kunit_shim_suite;
	struct kunit_case *c;
	/* volatile: live across the longjmp() of a failed assertion */
	volatile int n = 0, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (c = s->test_cases; c->run_case; c++)
		n++;
	printf("KTAP version 1\n1..1\n    # Subtest: %s\n    1..%d\n",
	       s->name, n);
	n = 0;
	for (c = s->test_cases; c->run_case; c++) {
		struct kunit test = { .name = c->name };

		if (!setjmp(test.abort))
			c->run_case(&test);
		printf("    %sok %d %s\n", test.failures ? "not " : "", ++n,
		       c->name);
		if (test.failures)
			failed++;
	}
	if (kunit_shim_warnings()) {
		printf("    # %lu WARN_ON_ONCE() hit(s)\n", kunit_shim_warnings());
		failed++;
	}
	printf("%sok 1 %s\n", failed ? "not " : "", s->name);
	return failed ? 1 : 0;
}
