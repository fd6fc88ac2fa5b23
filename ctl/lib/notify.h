/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The service manager's notification protocol (sd_notify(3), libsystemd):
 * readiness, reload, stop and the watchdog. Each call does nothing when
 * NOTIFY_SOCKET is unset, so the daemon calls them unconditionally.
 */
#ifndef XDNAT_LIB_NOTIFY_H
#define XDNAT_LIB_NOTIFY_H

#include <stdint.h>

void notify_ready(void);
/* RELOADING=1 with MONOTONIC_USEC (systemd's Type=notify-reload wants it). */
void notify_reloading(void);
void notify_stopping(void);
/* The watchdog's interval in microseconds (WATCHDOG_USEC for this
 * process), 0 when the service manager expects no keep-alive. */
uint64_t notify_watchdog_usec(void);
void notify_watchdog(void);

#endif
