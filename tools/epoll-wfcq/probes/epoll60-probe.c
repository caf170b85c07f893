// SPDX-License-Identifier: GPL-2.0
/*
 * epoll60-probe: the shape of upstream's epoll60 (ten edge-triggered
 * eventfds on one epoll, ten waiter threads, all ten written at once),
 * measured instead of asserted. epoll60 fails when a waiter has not come
 * back one second of wall time after the writes; this probe waits up to
 * EPOLL60_WAIT_S (default 30) seconds, and per round records how many
 * waiters were still out at one second, how many of those had their
 * event unread (pending), and when the last one came back. A waiter that
 * never comes back while an event is pending is a lost wakeup; one that
 * comes back late is a slow guest.
 *
 * Usage: epoll60-probe [ROUNDS]   (default 300, as epoll60)
 * Prints one line per round that was late, then a summary line:
 * "epoll60-probe: R rounds, L late at 1 s (max W waiters out, P pending),
 *  max T ms to the last waiter, X lost".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#define NR	10

static int epfd, evfd[NR];
static int ready, waiters, stop;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static void *waiter(void *arg)
{
	struct epoll_event e;
	uint64_t v;

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		__atomic_fetch_add(&ready, 1, __ATOMIC_ACQ_REL);
		while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) &&
		       !__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
			;
		__atomic_fetch_add(&waiters, 1, __ATOMIC_ACQ_REL);
		if (epoll_wait(epfd, &e, 1, -1) != 1) {
			perror("epoll_wait");
			exit(2);
		}
		if (read(e.data.fd, &v, sizeof(v)) != sizeof(v)) {
			fprintf(stderr, "read: no event on the fd reported\n");
			exit(2);
		}
		__atomic_fetch_sub(&waiters, 1, __ATOMIC_ACQ_REL);
	}
	return NULL;
}

/* Eventfds still holding their write: read each without consuming it. */
static int pending(void)
{
	struct epoll_event e;
	int i, n = 0, ep = epoll_create1(0);

	for (i = 0; i < NR; i++) {
		e.events = EPOLLIN;
		e.data.fd = evfd[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, evfd[i], &e);
	}
	n = epoll_wait(ep, (struct epoll_event[NR]){}, NR, 0);
	close(ep);
	return n;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 300;
	int wait_s = getenv("EPOLL60_WAIT_S") ? atoi(getenv("EPOLL60_WAIT_S")) : 30;
	int r, i, late = 0, lost = 0, max_out = 0, max_pend = 0;
	uint64_t one = 1, t0, t, max_ms = 0;
	pthread_t th[NR];
	struct epoll_event e;

	epfd = epoll_create1(0);
	for (i = 0; i < NR; i++) {
		evfd[i] = eventfd(0, EFD_NONBLOCK);
		e.events = EPOLLIN | EPOLLET;
		e.data.fd = evfd[i];
		if (evfd[i] < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, evfd[i], &e)) {
			perror("setup");
			return 2;
		}
	}
	for (i = 0; i < NR; i++)
		pthread_create(&th[i], NULL, waiter, NULL);

	for (r = 0; r < rounds; r++) {
		int out1 = -1, pend1 = 0;

		while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) != NR)
			;
		__atomic_fetch_sub(&ready, NR, __ATOMIC_ACQ_REL);
		while (__atomic_load_n(&waiters, __ATOMIC_ACQUIRE) != NR)
			;
		usleep(1000);
		for (i = 0; i < NR; i++)
			if (write(evfd[i], &one, sizeof(one)) != sizeof(one))
				return 2;
		t0 = now_ms();
		while ((i = __atomic_load_n(&waiters, __ATOMIC_ACQUIRE))) {
			t = now_ms();
			if (out1 < 0 && t >= t0 + 1000) {
				out1 = i;
				pend1 = pending();
			}
			if (t >= t0 + wait_s * 1000ULL)
				break;
			if (t >= t0 + 1000)
				usleep(1000);
		}
		t = now_ms() - t0;
		if (t > max_ms)
			max_ms = t;
		if (out1 > 0) {
			late++;
			if (out1 > max_out)
				max_out = out1;
			if (pend1 > max_pend)
				max_pend = pend1;
			printf("round %d: %d waiters out at 1 s, %d events pending; last back at %llu ms\n",
			       r, out1, pend1, (unsigned long long)t);
		}
		if (i) {
			lost++;
			printf("round %d: LOST: %d waiters asleep %d s after the writes, %d events pending\n",
			       r, i, wait_s, pending());
			break;
		}
	}
	printf("epoll60-probe: %d rounds, %d late at 1 s (max %d waiters out, %d pending), max %llu ms to the last waiter, %d lost\n",
	       r + (r < rounds), late, max_out, max_pend,
	       (unsigned long long)max_ms, lost);
	fflush(stdout);
	_exit(lost ? 1 : 0);
}
