/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The host agent's control socket (--socket, default HOST_CTL_SOCKET), the
 * same framing as xdnatd's (ctlsock.h): the client writes one command line
 * ("status --json", "validate 203.0.113.10 4096", "down"), the agent answers
 * "ok" or "error: TEXT" on the first line, then the body, then EOF. The
 * listening side is ctlsock_listen(); this is the serving and the asking.
 */
#ifndef XDNAT_HOST_CTL_H
#define XDNAT_HOST_CTL_H

#include <stddef.h>
#include <stdio.h>

#define HOST_CTL_SOCKET		"/run/xdnat/host.sock"
#define HOST_CTL_MAX_ARGS	40

/* Runs one command: 0 with the body written to out, or -1 with err set. */
typedef int (*host_ctl_fn)(void *ctx, int argc, char **argv, FILE *out,
			   char *err, size_t errlen);

/* Accept one connection on lfd, read its line, answer with fn's result. */
int host_ctl_serve(int lfd, host_ctl_fn fn, void *ctx);

/*
 * Ask the agent at path. Returns 0 with the body copied to out, -EPROTO when
 * the agent answered an error (its text in err), -ENOENT / -ECONNREFUSED when
 * no agent listens there, or another -errno.
 */
int host_ctl_call(const char *path, const char *line, FILE *out, char *err,
		  size_t errlen);

#endif
