/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* sd_notify(3) for the daemons (notify.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-daemon.h>
#include "lib/log.h"
#include "lib/notify.h"

static void notify(const char *state)
{
	int rc = sd_notify(0, state);

	/* 0: no NOTIFY_SOCKET, nobody listens; that is not an error. */
	if (rc < 0)
		log_warn("sd_notify %s: %s", state, strerror(-rc));
}

void notify_ready(void)
{
	notify("READY=1");
}

void notify_reloading(void)
{
	struct timespec ts;
	char msg[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ull +
		 (unsigned long long)ts.tv_nsec / 1000);
	notify(msg);
}

void notify_stopping(void)
{
	notify("STOPPING=1");
}

uint64_t notify_watchdog_usec(void)
{
	uint64_t usec = 0;

	return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}

void notify_watchdog(void)
{
	notify("WATCHDOG=1");
}
