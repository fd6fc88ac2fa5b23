/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The control-socket transport of xdnatd and xdnat-host: a UNIX stream socket
 * where a client sends one command as its words (argv: "hosts", "--json";
 * "free", "7"), and reads the answer: a status line ("ok" or "error: TEXT")
 * followed by the body, then EOF. The request is a 4-byte length (network
 * order) and that many bytes of NUL-terminated words, so a word may hold any
 * character but NUL and nobody splits a line again. This module knows the
 * framing only; what a command means is the handler's business
 * (gw_commands.c, host_ctl.c).
 */
#ifndef XDNAT_CTLSOCK_H
#define XDNAT_CTLSOCK_H

#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* The longest request served (its words with their NULs), and the most
 * words in one. */
#define CTLSOCK_REQ_MAX		8192
#define CTLSOCK_MAX_ARGS	64

/*
 * Runs one command as received: argc words, argv[argc] is NULL (argc may be
 * 0). Returns 0 with the body written to out, or non-zero with a one-line
 * reason in err (the client gets "error: ERR").
 */
typedef int (*ctlsock_handler)(void *ctx, int argc, char **argv, FILE *out, char *err,
			       size_t errlen);

/* Listen on path (its directory is created). -EADDRINUSE when a live daemon
 * already answers there; a stale socket file is replaced. Returns the fd. */
int ctlsock_listen(const char *path);
/* The same, the socket mode 0660 and its group gid, so that the group's
 * members may connect ((gid_t)-1: 0600, as ctlsock_listen()). */
int ctlsock_listen_group(const char *path, gid_t gid);

/* Who is calling, from the kernel (SO_PEERCRED, SO_PEERGROUPS). */
#define CTLSOCK_MAX_GROUPS	64
struct ctlsock_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	unsigned int n_groups;		/* supplementary groups, at most the max */
	gid_t groups[CTLSOCK_MAX_GROUPS];
};

/* peer's primary or supplementary groups include gid. */
bool ctlsock_peer_in_group(const struct ctlsock_peer *peer, gid_t gid);

/*
 * May peer run the command argc/argv? 0, or non-zero with a one-line
 * reason in err (the client gets "error: ERR" and the handler never runs).
 */
typedef int (*ctlsock_auth)(void *ctx, const struct ctlsock_peer *peer, int argc,
			    char **argv, char *err, size_t errlen);

/* Serve one connection accepted on lfd: read its request (a silent client
 * gets a second), answer with handler's result, or with an error when the
 * request is cut short, too long or malformed. Returns 0 or -errno. */
int ctlsock_serve(int lfd, ctlsock_handler handler, void *ctx);
/* ctlsock_serve(), asking auth first (NULL: everyone who can connect). */
int ctlsock_serve_auth(int lfd, ctlsock_auth auth, ctlsock_handler handler, void *ctx);

/*
 * Send the argc words of argv to the server at path and copy the body of the
 * answer to out, waiting up to timeout_s seconds for each read (0: no limit).
 * Returns 0, -EPROTO when the server answered an error (its text in err),
 * -EIO when the request could not be sent or no status line came back (err
 * says which), -E2BIG when the words exceed CTLSOCK_REQ_MAX or
 * CTLSOCK_MAX_ARGS, -ENOENT / -ECONNREFUSED when nothing listens there, or
 * another -errno.
 */
int ctlsock_call(const char *path, int argc, char *const *argv, int timeout_s, FILE *out,
		 char *err, size_t errlen);

#endif
