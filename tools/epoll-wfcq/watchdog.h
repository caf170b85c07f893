/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Force-included into the selftests when the guest runs under TCG, which
 * is ten to fifty times slower than hardware: only the kselftest
 * harness's per-test watchdog is stretched, EPW_WATCHDOG_SCALE times.
 * The harness waits for a test with poll() on the test's pidfd (and older
 * harnesses arm alarm()); a poll() on anything but a pidfd, and every
 * deadline and assertion of the tests, is untouched.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static inline int epw_poll(struct pollfd *fds, nfds_t n, int ms)
{
	char path[64], link[32];
	ssize_t len;

	if (n == 1 && ms > 0) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0].fd);
		len = readlink(path, link, sizeof(link) - 1);
		if (len > 0) {
			link[len] = '\0';
			if (!strcmp(link, "anon_inode:[pidfd]"))
				ms *= EPW_WATCHDOG_SCALE;
		}
	}
	return (poll)(fds, n, ms);
}

#define poll(fds, n, ms) epw_poll(fds, n, ms)
#define alarm(seconds) alarm((seconds) * EPW_WATCHDOG_SCALE)
