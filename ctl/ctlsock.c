/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include "ctlsock.h"
#include "dataplane.h"
#include "log.h"
#include "views.h"

static int mkdir_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(dir, 0755) && errno != EEXIST ? -errno : 0;
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

static int stats(struct gw *g, struct dataplane *dp, bool json, FILE *out, char *err,
		 size_t errlen)
{
	struct dataplane_stats ds;
	int rc = dp ? dataplane_read_stats(dp, &ds) : 0;

	if (rc) {
		snprintf(err, errlen, "stats: reading the data-plane counters: %s",
			 strerror(-rc));
		return -1;
	}
	view_stats(out, g, dp ? &ds : NULL, json);
	return 0;
}

/* Runs one command into out; returns 0 or writes an error text into err. */
static int run(struct gw *g, struct dataplane *dp, char *line, FILE *out, char *err,
	       size_t errlen)
{
	char *argv[4] = { 0 }, *save = NULL;
	int argc = 0;
	bool json = false;

	for (char *tok = strtok_r(line, " \t\r\n", &save); tok;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (!strcmp(tok, "--json"))
			json = true;
		else if (argc < 3)
			argv[argc++] = tok;
	}
	if (!argc) {
		snprintf(err, errlen, "empty command");
		return -1;
	}
	if (!strcmp(argv[0], "hosts")) {
		view_hosts(out, g, json);
	} else if (!strcmp(argv[0], "sa")) {
		view_sas(out, g, json);
	} else if (!strcmp(argv[0], "stats")) {
		return stats(g, dp, json, out, err, errlen);
	} else if (!strcmp(argv[0], "free") && argc == 2) {
		char *end;
		unsigned long id = strtoul(argv[1], &end, 10);
		int rc;

		if (*end || !id || id > UINT32_MAX) {
			snprintf(err, errlen, "free: '%s' is not a client id", argv[1]);
			return -1;
		}
		rc = gw_drop_host(g, (uint32_t)id);
		if (!rc)
			rc = gw_commit(g);
		if (rc == -ENOENT) {
			snprintf(err, errlen, "free: no host %lu", id);
			return -1;
		}
		if (rc) {
			snprintf(err, errlen, "free: could not persist the change: %s",
				 strerror(-rc));
			return -1;
		}
		fprintf(out, json ? "{\"freed\":%lu}\n" : "host %lu freed\n", id);
	} else if (!strcmp(argv[0], "ca")) {
		snprintf(err, errlen, "the local certificate authority is not built yet");
		return -1;
	} else {
		snprintf(err, errlen, "unknown command '%s' (hosts, sa, stats, free ID, ca)",
			 argv[0]);
		return -1;
	}
	return 0;
}

int ctlsock_serve(int lfd, struct gw *g, struct dataplane *dp)
{
	struct timeval tv = { .tv_sec = 1 };
	char line[256], err[256] = "";
	char *body = NULL;
	size_t body_len = 0, off = 0;
	ssize_t n;
	FILE *out;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return -errno;
	/* A silent client must not stall the PAP loop for long. */
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
	if (run(g, dp, line, out, err, sizeof(err))) {
		fclose(out);
		dprintf(fd, "error: %s\n", err);
	} else {
		fclose(out);
		dprintf(fd, "ok\n");
		for (off = 0; off < body_len; off += (size_t)n) {
			n = write(fd, body + off, body_len - off);
			if (n <= 0)
				break;
		}
	}
	free(body);
	close(fd);
	return 0;
}
