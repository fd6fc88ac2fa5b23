/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdnatctl — inspect and administer a running xdnatd over its control socket.
 * The daemon renders tables and JSON; this tool passes the command and prints
 * the answer, exiting 1 when the daemon reports an error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: xdnatctl [--socket PATH] [--json] COMMAND\n\n"
		"commands:\n"
		"  hosts        registered hosts, their leases, ports and SPIs\n"
		"  sa           the established-SA table (validated external peers)\n"
		"  stats        counters\n"
		"  free CLIENT  free everything a host holds and forget it\n"
		"  ca           the CA certificate chain for external peers\n\n"
		"--json prints JSON with the keys documented in docs/xdnatctl.md.\n"
		"The socket defaults to /run/xdnat/xdnatd.sock.\n");
}

int main(int argc, char **argv)
{
	const char *path = "/run/xdnat/xdnatd.sock";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char cmd[256] = "", buf[4096];
	size_t off = 0;
	int fd, status = -1;
	ssize_t n;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--socket")) {
			if (++i == argc) {
				fprintf(stderr, "xdnatctl: --socket needs a path\n");
				return 2;
			}
			path = argv[i];
			continue;
		}
		if (a[0] == '-' && strcmp(a, "--json")) {
			fprintf(stderr, "xdnatctl: unknown option '%s' (see --help)\n", a);
			return 2;
		}
		off += (size_t)snprintf(cmd + off, sizeof(cmd) - off, "%s%s", off ? " " : "", a);
		if (off >= sizeof(cmd) - 1) {
			fprintf(stderr, "xdnatctl: command too long\n");
			return 2;
		}
	}
	if (!off || !strcmp(cmd, "--json")) {
		usage(stderr);
		return 2;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "xdnatctl: socket path too long\n");
		return 2;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "xdnatctl: %s: %s (is xdnatd running?)\n", path,
			strerror(errno));
		return 1;
	}
	dprintf(fd, "%s\n", cmd);
	shutdown(fd, SHUT_WR);

	/* First line is the status; the rest is the body. */
	off = 0;
	while ((n = read(fd, buf + off, sizeof(buf) - 1 - off)) > 0) {
		char *nl;

		off += (size_t)n;
		buf[off] = 0;
		if (status < 0 && (nl = strchr(buf, '\n'))) {
			*nl = 0;
			if (!strcmp(buf, "ok")) {
				status = 0;
			} else {
				fprintf(stderr, "xdnatctl: %s\n",
					strncmp(buf, "error: ", 7) ? buf : buf + 7);
				status = 1;
			}
			off -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, off);
		}
		if (status >= 0) {
			fwrite(buf, 1, off, status ? stderr : stdout);
			off = 0;
		}
	}
	close(fd);
	if (status < 0) {
		fprintf(stderr, "xdnatctl: no answer from %s\n", path);
		return 1;
	}
	return status;
}
