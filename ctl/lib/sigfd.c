/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The daemons' signals as a file descriptor (sigfd.h). */
#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include "lib/sigfd.h"

int sigfd_open(void)
{
	sigset_t sigs;
	int fd;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}
