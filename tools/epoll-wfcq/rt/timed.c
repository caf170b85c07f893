// SPDX-License-Identifier: GPL-2.0
/*
 * timed PROGRAM [ARG...]: run PROGRAM and print its exit status and the
 * CLOCK_MONOTONIC nanoseconds it took, as "TIMED ns=N rc=R PROGRAM". Under
 * QEMU with -icount shift=0 a guest nanosecond is one guest instruction.
 */
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec a, b;
	int st, rc;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: timed PROGRAM [ARG...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (!pid) {
		execv(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0) {
		perror("waitpid");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	printf("TIMED ns=%lld rc=%d %s\n",
	       (long long)(b.tv_sec - a.tv_sec) * 1000000000LL +
	       (b.tv_nsec - a.tv_nsec), rc, argv[1]);
	return rc;
}
