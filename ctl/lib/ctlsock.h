/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The control-socket transport of xdnatd and xdnat-host: a UNIX stream socket
 * where a client sends one command line ("hosts", "status --json", "free 7",
 * ...) and reads the answer: a status line ("ok" or "error: TEXT") followed by
 * the body, then EOF. This module knows the framing only; what a command
 * means is the handler's business (gw_commands.c, host_agent.c).
 */
#ifndef XDNAT_CTLSOCK_H
#define XDNAT_CTLSOCK_H

#include <stddef.h>
#include <stdio.h>

/* The longest command line served, newline included. */
#define CTLSOCK_LINE_MAX	1024

/*
 * Runs one command line as received (NUL-terminated, maybe ending in its
 * newline; the handler may split it in place). Returns 0 with the body written to out, or
 * non-zero with a one-line reason in err (the client gets "error: ERR").
 */
typedef int (*ctlsock_handler)(void *ctx, char *line, FILE *out, char *err,
			       size_t errlen);

/* Listen on path (its directory is created). -EADDRINUSE when a live daemon
 * already answers there; a stale socket file is replaced. Returns the fd. */
int ctlsock_listen(const char *path);

/* Serve one connection accepted on lfd: read its line (a silent client gets
 * a second), answer with handler's result. Returns 0 or -errno. */
int ctlsock_serve(int lfd, ctlsock_handler handler, void *ctx);

/*
 * Send line to the server at path and copy the body of the answer to out,
 * waiting up to timeout_s seconds for each read (0: no limit). Returns 0,
 * -EPROTO when the server answered an error (its text in err), -EIO when the
 * line could not be sent or no status line came back (err says which),
 * -ENOENT / -ECONNREFUSED when nothing listens there, or another -errno.
 */
int ctlsock_call(const char *path, const char *line, int timeout_s, FILE *out,
		 char *err, size_t errlen);

#endif
