/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace stand-ins for the kernel primitives that
 * include/linux/wfcqueue.h uses, so that the kernel header itself is
 * compiled and tested in userspace. The header's #include <linux/...>
 * lines resolve to the one-line files next to this one.
 *
 * Every shared access maps to a GCC __atomic builtin, so ThreadSanitizer
 * sees real atomics:
 *
 * - xchg() and cmpxchg() are fully ordered in the kernel: SEQ_CST
 *   read-modify-writes (a failed cmpxchg() is relaxed, as in the kernel,
 *   which gives no ordering on failure).
 * - READ_ONCE() is an ACQUIRE load and WRITE_ONCE() a RELEASE store. The
 *   kernel promises less (a volatile access; READ_ONCE() orders later
 *   loads through an address dependency), but C11 has no dependency
 *   ordering (consume is promoted to acquire) and TSan ignores fences, so
 *   the header's "xchg() then WRITE_ONCE() of the link" (a release by
 *   way of the full barrier) can only be expressed to TSan this way. In
 *   wfcqueue.h every WRITE_ONCE() that publishes a node follows an
 *   xchg(), so the strengthening matches what the kernel guarantees
 *   there; it would hide a missing barrier only on a weakly ordered CPU,
 *   which the userspace tests do not claim to cover (the KUnit suite
 *   runs there).
 * - preempt_disable()/preempt_enable() are compiler barriers: userspace
 *   threads can be preempted anywhere, which only makes the consumer's
 *   wait longer, never incorrect.
 */
#ifndef WFCQ_SHIM_H
#define WFCQ_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* IS_ENABLED(CONFIG_FOO): 1 if CONFIG_FOO is defined to 1, else 0. */
#define __shim_arg_placeholder_1	0,
#define __shim_second(ignored, val, ...)	val
#define __shim_is_defined(x)		___shim_is_defined(x)
#define ___shim_is_defined(val)	\
	____shim_is_defined(__shim_arg_placeholder_##val)
#define ____shim_is_defined(arg1_or_junk)	\
	__shim_second(arg1_or_junk 1, 0)
#ifndef IS_ENABLED
#define IS_ENABLED(option)		__shim_is_defined(option)
#endif

#ifndef __always_inline
#define __always_inline			inline __attribute__((__always_inline__))
#endif
#define likely(x)			__builtin_expect(!!(x), 1)
#define unlikely(x)			__builtin_expect(!!(x), 0)
#define barrier()			__asm__ __volatile__("" ::: "memory")

#ifndef container_of
#define container_of(ptr, type, member)					\
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif

#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define WRITE_ONCE(x, val)	__atomic_store_n(&(x), (val), __ATOMIC_RELEASE)

#define xchg(ptr, val)	__atomic_exchange_n((ptr), (val), __ATOMIC_SEQ_CST)

#define cmpxchg(ptr, old, new)						\
({									\
	__typeof__(*(ptr)) __shim_old = (old);				\
	__atomic_compare_exchange_n((ptr), &__shim_old, (new), false,	\
				    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED); \
	__shim_old;							\
})

#define smp_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define smp_wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)
#define smp_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define smp_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax()		__builtin_ia32_pause()
#else
#define cpu_relax()		barrier()
#endif

#define preempt_disable()	barrier()
#define preempt_enable()	barrier()

/* Number of WARN_ON_ONCE() conditions that were true, for the tests. */
static unsigned long wfcq_shim_warnings __attribute__((unused));

#define WARN_ON_ONCE(cond)						\
({									\
	static bool __shim_warned;					\
	bool __shim_c = !!(cond);					\
									\
	if (unlikely(__shim_c)) {					\
		__atomic_fetch_add(&wfcq_shim_warnings, 1,		\
				   __ATOMIC_RELAXED);			\
		if (!__atomic_exchange_n(&__shim_warned, true,		\
					 __ATOMIC_RELAXED))		\
			fprintf(stderr, "WARNING: %s:%d: %s\n",		\
				__FILE__, __LINE__, #cond);		\
	}								\
	__shim_c;							\
})

#endif /* WFCQ_SHIM_H */
