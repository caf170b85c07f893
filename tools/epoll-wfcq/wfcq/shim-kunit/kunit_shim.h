/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of KUnit and of the kernel APIs that
 * lib/tests/wfcqueue_kunit.c uses to build and run that file unchanged as
 * a userspace program: expectations and assertions report like KUnit,
 * kthreads are pthreads pinned to a CPU, jiffies count milliseconds. The
 * queue primitives come from ../shim/wfcq_shim.h. main() is in
 * kunit_shim.c.
 */
#ifndef KUNIT_SHIM_H
#define KUNIT_SHIM_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "../shim/wfcq_shim.h"

/* KUnit */
struct kunit {
	const char *name;
	int failures;
	jmp_buf abort;
};

struct kunit_case {
	void (*run_case)(struct kunit *test);
	const char *name;
};

struct kunit_suite {
	const char *name;
	struct kunit_case *test_cases;
};

#define KUNIT_CASE(fn)		{ .run_case = fn, .name = #fn }
/* Also exports the test file's count of WARN_ON_ONCE() hits. */
#define kunit_test_suite(suite)						\
	struct kunit_suite *kunit_shim_suite = &(suite);		\
	unsigned long kunit_shim_warnings(void)				\
	{								\
		return wfcq_shim_warnings;				\
	}								\
	unsigned long kunit_shim_warnings(void)

void kunit_shim_fail(struct kunit *test, bool fatal, const char *file,
		     int line, const char *what);

#define KUNIT_SHIM_CHECK(test, fatal, cond, what)			\
	do {								\
		if (!(cond))						\
			kunit_shim_fail(test, fatal, __FILE__, __LINE__, \
					what);				\
	} while (0)

#define KUNIT_FAIL(t, msg)	KUNIT_SHIM_CHECK(t, false, false, msg)
#define KUNIT_EXPECT_TRUE(t, c)	KUNIT_SHIM_CHECK(t, false, (c), #c)
#define KUNIT_EXPECT_FALSE(t, c)	KUNIT_SHIM_CHECK(t, false, !(c), "!" #c)
#define KUNIT_EXPECT_EQ(t, a, b)					\
	KUNIT_SHIM_CHECK(t, false, (long long)(a) == (long long)(b),	\
			 #a " == " #b)
#define KUNIT_EXPECT_PTR_EQ(t, a, b)					\
	KUNIT_SHIM_CHECK(t, false, (const void *)(a) == (const void *)(b), \
			 #a " == " #b)
#define KUNIT_EXPECT_NULL(t, p)	\
	KUNIT_SHIM_CHECK(t, false, (p) == NULL, #p " == NULL")
#define KUNIT_ASSERT_TRUE(t, c)	KUNIT_SHIM_CHECK(t, true, (c), #c)
#define KUNIT_ASSERT_FALSE(t, c)	KUNIT_SHIM_CHECK(t, true, !(c), "!" #c)
#define KUNIT_ASSERT_PTR_EQ(t, a, b)					\
	KUNIT_SHIM_CHECK(t, true, (const void *)(a) == (const void *)(b), \
			 #a " == " #b)
#define KUNIT_ASSERT_NULL(t, p)	\
	KUNIT_SHIM_CHECK(t, true, (p) == NULL, #p " == NULL")
#define KUNIT_ASSERT_NOT_NULL(t, p)	\
	KUNIT_SHIM_CHECK(t, true, (p) != NULL, #p " != NULL")
#define KUNIT_ASSERT_PTR_NE(t, a, b)					\
	KUNIT_SHIM_CHECK(t, true, (const void *)(a) != (const void *)(b), \
			 #a " != " #b)
#define KUNIT_ASSERT_EQ(t, a, b)					\
	KUNIT_SHIM_CHECK(t, true, (long long)(a) == (long long)(b),	\
			 #a " == " #b)

/* Ends the case like a fatal assertion, but as passed (KUnit: skipped). */
#define kunit_skip(test, fmt, ...)					\
	do {								\
		printf("    # %s: SKIP " fmt "\n", (test)->name,	\
		       ##__VA_ARGS__);					\
		longjmp((test)->abort, 1);				\
	} while (0)
#define kunit_err(test, fmt, ...)	\
	fprintf(stderr, "    # %s: " fmt, (test)->name, ##__VA_ARGS__)
#define kunit_info(test, fmt, ...)	\
	printf("    # %s: " fmt, (test)->name, ##__VA_ARGS__)

/* Allocation */
#define GFP_KERNEL			0
#define kunit_kzalloc(test, size, gfp)	calloc(1, (size))
#define kunit_kcalloc(test, n, size, gfp)	calloc((n), (size))
#define kvmalloc_array(n, size, gfp)	calloc((n), (size))
#define kvfree(p)			free(p)

/* Misc kernel */
#define ____cacheline_aligned_in_smp	__attribute__((__aligned__(64)))
#define max(a, b)			((a) > (b) ? (a) : (b))
#define IS_ERR(p)			((p) == NULL)
#define module_param(name, type, perm)
#define MODULE_PARM_DESC(name, desc)
#define MODULE_DESCRIPTION(desc)
#define MODULE_LICENSE(lic)

#define HZ				1000UL
#define jiffies				kunit_shim_jiffies()
#define time_after(a, b)		((long)((b) - (a)) < 0)
unsigned long kunit_shim_jiffies(void);

unsigned int num_online_cpus(void);
#define for_each_online_cpu(cpu)	\
	for ((cpu) = 0; (cpu) < num_online_cpus(); (cpu)++)

void cond_resched(void);

/* kthreads are pthreads */
struct task_struct;
struct task_struct *kthread_create_on_cpu(int (*fn)(void *data), void *data,
					  unsigned int cpu,
					  const char *namefmt);
void wake_up_process(struct task_struct *t);
int kthread_stop_put(struct task_struct *t);
#define get_task_struct(t)		((void)(t))

#endif /* KUNIT_SHIM_H */
