/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The control-socket transport (ctlsock.h): listening, serving one
 * connection around a handler, and the client's call. Both daemons and both
 * command-line tools speak through here; no command is known here.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include "lib/atomic_file.h"
#include "lib/ctlsock.h"

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The socket's directory (e.g. /run/xdnat), created when missing. */
static int mkdir_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	return mkdir_p(dir, 0755);
}

int ctlsock_listen(const char *path)
{
	return ctlsock_listen_group(path, (gid_t)-1);
}

int ctlsock_listen_group(const char *path, gid_t gid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, probe, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	err = mkdir_parent(path);
	if (err)
		return err;
	/* Someone answering there is another daemon: never steal its socket. */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		err = connect(probe, (struct sockaddr *)&sa, sizeof(sa));
		close(probe);
		if (!err)
			return -EADDRINUSE;
	}
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* group first, then its mode: never 0660 with the wrong group */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0600) ||
	    (gid != (gid_t)-1 && (chown(path, (uid_t)-1, gid) || chmod(path, 0660))) ||
	    listen(fd, 16)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Read exactly n bytes; fewer when the client stops or falls silent. */
static size_t read_full(int fd, char *p, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t r = read(fd, p + off, n - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	return off;
}

/* The request's words into argv (NULL-terminated). argc, or -1 with err. */
static int read_request(int fd, char *buf, char **argv, char *err, size_t errlen)
{
	uint32_t be_len, len;
	int argc = 0;

	if (read_full(fd, (char *)&be_len, sizeof(be_len)) != sizeof(be_len)) {
		snprintf(err, errlen, "no request");
		return -1;
	}
	len = ntohl(be_len);
	if (len > CTLSOCK_REQ_MAX) {
		snprintf(err, errlen, "request of %u bytes, at most %d", len, CTLSOCK_REQ_MAX);
		return -1;
	}
	if (read_full(fd, buf, len) != len) {
		snprintf(err, errlen, "request cut short");
		return -1;
	}
	if (len && buf[len - 1]) {
		snprintf(err, errlen, "malformed request");
		return -1;
	}
	for (size_t off = 0; off < len; off += strlen(buf + off) + 1) {
		if (argc == CTLSOCK_MAX_ARGS) {
			snprintf(err, errlen, "more than %d words", CTLSOCK_MAX_ARGS);
			return -1;
		}
		argv[argc++] = buf + off;
	}
	argv[argc] = NULL;
	return argc;
}

bool ctlsock_peer_in_group(const struct ctlsock_peer *peer, gid_t gid)
{
	if (peer->gid == gid)
		return true;
	for (unsigned int i = 0; i < peer->n_groups; i++)
		if (peer->groups[i] == gid)
			return true;
	return false;
}

/* The kernel's word on who is at the other end of fd. 0 or -errno. */
static int peer_of(int fd, struct ctlsock_peer *p)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	memset(p, 0, sizeof(*p));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return -errno;
	p->pid = cred.pid;
	p->uid = cred.uid;
	p->gid = cred.gid;
	/* more groups than fit: ERANGE, and the primary group alone counts */
	len = sizeof(p->groups);
	if (!getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, p->groups, &len))
		p->n_groups = len / sizeof(p->groups[0]);
	return 0;
}

int ctlsock_serve(int lfd, ctlsock_handler handler, void *ctx)
{
	return ctlsock_serve_auth(lfd, NULL, handler, ctx);
}

int ctlsock_serve_auth(int lfd, ctlsock_auth auth, ctlsock_handler handler, void *ctx)
{
	struct ctlsock_peer peer;
	struct timeval tv = { .tv_sec = 1 };
	char buf[CTLSOCK_REQ_MAX], err[512] = "";
	char *argv[CTLSOCK_MAX_ARGS + 1];
	char *body = NULL;
	size_t body_len = 0;
	FILE *out;
	int rc, argc, fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return -errno;
	/* A silent client must not stall the daemon's loop for long. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	argc = read_request(fd, buf, argv, err, sizeof(err));
	if (argc < 0) {
		dprintf(fd, "error: %s\n", err);
		close(fd);
		return 0;
	}

	if (auth && (peer_of(fd, &peer) || auth(ctx, &peer, argc, argv, err, sizeof(err)))) {
		dprintf(fd, "error: %s\n", err[0] ? err : "permission denied");
		close(fd);
		return 0;
	}
	out = open_memstream(&body, &body_len);
	if (!out) {
		close(fd);
		return -ENOMEM;
	}
	rc = handler(ctx, argc, argv, out, err, sizeof(err));
	fclose(out);
	if (rc) {
		dprintf(fd, "error: %s\n", err[0] ? err : "failed");
	} else {
		dprintf(fd, "ok\n");
		write_all(fd, body, body_len);
	}
	free(body);
	close(fd);
	return 0;
}

/* argv as the request: the length, then each word and its NUL. */
static int frame(int argc, char *const *argv, char *buf, size_t *len)
{
	size_t off = 4;
	uint32_t be;

	if (argc < 0 || argc > CTLSOCK_MAX_ARGS)
		return -E2BIG;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;

		if (n > CTLSOCK_REQ_MAX + 4 - off)
			return -E2BIG;
		memcpy(buf + off, argv[i], n);
		off += n;
	}
	be = htonl((uint32_t)(off - 4));
	memcpy(buf, &be, 4);
	*len = off;
	return 0;
}

int ctlsock_call(const char *path, int argc, char *const *argv, int timeout_s, FILE *out,
		 char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_s };
	char buf[4096], req[CTLSOCK_REQ_MAX + 4];
	size_t off = 0, req_len;
	int fd, status = 1;	/* 1: status line not read yet */
	ssize_t n;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	if (frame(argc, argv, req, &req_len)) {
		snprintf(err, errlen, "command longer than %d bytes or %d words",
			 CTLSOCK_REQ_MAX, CTLSOCK_MAX_ARGS);
		return -E2BIG;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = -errno;

		close(fd);
		return e;
	}
	if (timeout_s > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = write_all(fd, req, req_len);
	if (n) {
		snprintf(err, errlen, "sending to %s: %s", path, strerror((int)-n));
		close(fd);
		return -EIO;
	}
	shutdown(fd, SHUT_WR);

	/* the status line first, then the body streamed to out */
	while ((n = read(fd, buf + off, sizeof(buf) - 1 - off)) > 0) {
		char *nl;

		off += (size_t)n;
		buf[off] = 0;
		if (status == 1 && (nl = strchr(buf, '\n'))) {
			*nl = 0;
			if (!strcmp(buf, "ok")) {
				status = 0;
			} else {
				snprintf(err, errlen, "%s",
					 strncmp(buf, "error: ", 7) ? buf : buf + 7);
				status = -EPROTO;
			}
			off -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, off);
		}
		if (status == 0) {
			fwrite(buf, 1, off, out);
			off = 0;
		} else if (status < 0 || off == sizeof(buf) - 1) {
			break;
		}
	}
	if (n < 0 && status == 1)
		status = -errno;
	close(fd);
	if (status == 1) {
		snprintf(err, errlen, "no answer from %s", path);
		return -EIO;
	}
	return status;
}
