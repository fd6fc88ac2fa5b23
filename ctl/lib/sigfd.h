/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The daemons' signals as a file descriptor for their event loops. */
#ifndef XDNAT_SIGFD_H
#define XDNAT_SIGFD_H

/*
 * Block SIGTERM, SIGINT and SIGHUP and return a signalfd (CLOEXEC) that
 * reads them; SIGPIPE is ignored (a client that hangs up must not kill a
 * daemon). The fd, or -errno.
 */
int sigfd_open(void);

#endif
