/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Serving and asking on the agent's control socket. The framing is xdnatd's
 * (ctlsock.c serves it with its command table built in, xdnatctl.c asks in
 * its main), so both sides are written once more here around a callback.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include "host_ctl.h"

#define LINE_MAX_LEN	1024
/* `down` and `validate` wait for the gateway: PAP retries take seconds. */
#define CALL_TIMEOUT_S	60

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int host_ctl_serve(int lfd, host_ctl_fn fn, void *ctx)
{
	struct timeval tv = { .tv_sec = 1 };
	char line[LINE_MAX_LEN], err[512] = "";
	char *argv[HOST_CTL_MAX_ARGS + 1] = { 0 }, *save = NULL, *body = NULL;
	size_t off = 0, body_len = 0;
	int argc = 0, rc;
	ssize_t n;
	FILE *out;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return -errno;
	/* a silent client must not stall the renewals for long */
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
	for (char *tok = strtok_r(line, " \t\r\n", &save); tok;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (argc == HOST_CTL_MAX_ARGS) {
			argc = -1;
			break;
		}
		argv[argc++] = tok;
	}

	out = open_memstream(&body, &body_len);
	if (!out) {
		close(fd);
		return -ENOMEM;
	}
	if (argc <= 0) {
		snprintf(err, sizeof(err), argc ? "too many arguments" : "empty command");
		rc = -1;
	} else {
		rc = fn(ctx, argc, argv, out, err, sizeof(err));
	}
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

int host_ctl_call(const char *path, const char *line, FILE *out, char *err,
		  size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = CALL_TIMEOUT_S };
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
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (dprintf(fd, "%s\n", line) < 0) {
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
