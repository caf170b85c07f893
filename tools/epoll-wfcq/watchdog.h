/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Force-included into the selftests when the guest runs under TCG, which
 * is ten to fifty times slower than hardware: the kselftest harness arms
 * its per-test watchdog with alarm(), and only that watchdog is stretched.
 * The tests' own deadlines and assertions are untouched.
 */
#include <unistd.h>
#define alarm(seconds) alarm((seconds) * EPW_WATCHDOG_SCALE)
