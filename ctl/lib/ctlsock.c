/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The control-socket transport (ctlsock.h): listening, serving one
 * connection around a handler, and the client's call. Both daemons and both
 * command-line tools speak through here; no command is known here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0600) ||
	    listen(fd, 16)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int ctlsock_serve(int lfd, ctlsock_handler handler, void *ctx)
{
	struct timeval tv = { .tv_sec = 1 };
	char line[CTLSOCK_LINE_MAX], err[512] = "";
	char *body = NULL;
	size_t off = 0, body_len = 0;
	ssize_t n;
	FILE *out;
	int rc, fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return -errno;
	/* A silent client must not stall the daemon's loop for long. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (off < sizeof(line) - 1) {
		n = read(fd, line + off, sizeof(line) - 1 - off);
		if (n <= 0)
			break;
		off += (size_t)n;
		if (memchr(line, '\n', off))
			break;
	}
	line[off] = 0;

	out = open_memstream(&body, &body_len);
	if (!out) {
		close(fd);
		return -ENOMEM;
	}
	rc = handler(ctx, line, out, err, sizeof(err));
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

int ctlsock_call(const char *path, const char *line, int timeout_s, FILE *out,
		 char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_s };
	char buf[4096];
	size_t off = 0;
	int fd, status = 1;	/* 1: status line not read yet */
	ssize_t n;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
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
	if (dprintf(fd, "%s\n", line) < 0) {
		snprintf(err, errlen, "sending to %s: %s", path, strerror(errno));
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
