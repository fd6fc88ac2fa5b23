/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The control socket: a UNIX stream socket where xdnatctl sends one command
 * line ("hosts", "sa --json", "free 7", ...) and reads the answer: a status
 * line ("ok" or "error: TEXT") followed by the body, then EOF.
 */
#ifndef XDNAT_CTLSOCK_H
#define XDNAT_CTLSOCK_H

#include "gateway.h"

struct dataplane;

/* Listen on path (its directory is created). -EADDRINUSE when a live daemon
 * already answers there; a stale socket file is replaced. Returns the fd. */
int ctlsock_listen(const char *path);
/* Serve one connection accepted on lfd; dp is NULL without a data plane.
 * Returns 0 or -errno. */
int ctlsock_serve(int lfd, struct gw *g, struct dataplane *dp);

#endif
