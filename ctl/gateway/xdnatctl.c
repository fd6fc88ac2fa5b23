/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdnatctl — inspect and administer a running xdnatd over its control socket.
 * The daemon renders tables and JSON; this tool passes the command and prints
 * the answer, exiting 1 when the daemon reports an error. who and log
 * export read the allocation log themselves, with no daemon asked; when no
 * daemon answers, stats, hosts, sa and ports are read from the pinned maps
 * (offline.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>
#include "gateway/alloc_log.h"
#include "gateway/offline.h"
#include "lib/ctlsock.h"
#include "lib/version.h"
#include "xdnat.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: xdnatctl [--socket PATH] [--alloc-log FILE] [--bpffs DIR] [--json] COMMAND\n\n"
		"commands:\n"
		"  hosts [--global G]\n"
		"               registered hosts (of G of the pool), their leases, ports, SPIs\n"
		"  sa           the established-SA table (validated external peers)\n"
		"  stats        counters, and hosts, free ports and SPIs per global address\n"
		"  free CLIENT  free everything a host holds and forget it\n"
		"  ca           the CA certificate chain (PEM) for external peers to trust\n"
		"  crl          the CA's certificate revocation list (PEM)\n"
		"  state dump   the daemon's state as JSON (hosts, shares, leases, SAs,\n"
		"               certificate serials, meta; never the secrets)\n"
		"  state backup DIR\n"
		"               a consistent copy of the state directory in DIR, written\n"
		"               by the running daemon (restore: docs/xdnatd.md)\n"
		"  token issue [--uses N] [--ttl SECONDS] [--lease-hint SECONDS]\n"
		"               a new enrolment token for xdnat-host up --token, printed once\n"
		"  token list | token revoke ID\n"
		"               the live tokens (no secrets) / withdraw one\n"
		"  who G PORT [--at TIME] | who G --spi SPI [--at TIME]\n"
		"               which client and host held that port (SPI) of G at TIME\n"
		"               (default now), from the allocation log, no daemon needed\n"
		"  log export [--since TIME] [--until TIME]\n"
		"               the allocation log's lines (JSON lines), oldest first\n"
		"  ports        (offline only) the ports of G each host owns, as ranges\n\n"
		"When xdnatd does not answer, stats, hosts, sa and ports read the maps\n"
		"pinned in --bpffs DIR (default " XDNAT_BPFFS_DEFAULT ") instead, and say so.\n"
		"TIME: 2026-12-02T14:03:00Z (RFC 3339), 2026-12-02, @UNIXSECONDS or now.\n"
		"--json prints JSON with the keys documented in docs/xdnatctl.md;\n"
		"--version prints the version.\n"
		"The socket defaults to /run/xdnat/xdnatd.sock, the allocation log\n"
		"(--alloc-log, as xdnatd's) to /var/lib/xdnat/alloc.log.\n");
}

/* state backup DIR: the daemon runs elsewhere (in /): DIR made absolute. */
static int absolute_backup_dir(char **cmd, int n, char *buf, size_t len)
{
	char cwd[PATH_MAX];
	int w[3], k = 0;

	for (int i = 0; i < n && k < 3; i++)
		if (strcmp(cmd[i], "--json"))
			w[k++] = i;
	if (k < 3 || strcmp(cmd[w[0]], "state") || strcmp(cmd[w[1]], "backup") ||
	    cmd[w[2]][0] == '/')
		return 0;
	if (!getcwd(cwd, sizeof(cwd)) ||
	    (size_t)snprintf(buf, len, "%s/%s", cwd, cmd[w[2]]) >= len) {
		fprintf(stderr, "xdnatctl: state backup: path too long\n");
		return -1;
	}
	cmd[w[2]] = buf;
	return 0;
}

/* No daemon: the pinned maps, with a notice on stderr saying so. */
static int offline(const char *path, const char *bpffs, int why, int n, char **cmd)
{
	char what[128], err[512], *body = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&body, &len);
	int rc;

	if (!out) {
		fprintf(stderr, "xdnatctl: out of memory\n");
		return 1;
	}
	rc = offline_command(bpffs, n, cmd, out, what, sizeof(what), err, sizeof(err));
	fclose(out);
	fprintf(stderr, "xdnatctl: xdnatd is not answering on %s (%s): reading the maps "
		"pinned in %s offline (%s)\n", path, strerror(-why), bpffs, what);
	if (rc)
		fprintf(stderr, "xdnatctl: %s\n", err);
	else
		fwrite(body, 1, len, stdout);
	free(body);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *path = "/run/xdnat/xdnatd.sock", *alog = "/var/lib/xdnat/" ALLOC_LOG_NAME;
	const char *bpffs = XDNAT_BPFFS_DEFAULT;
	char *cmd[CTLSOCK_MAX_ARGS], err[512], dir[PATH_MAX];
	int rc, n = 0;
	bool words = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--version")) {
			version_print(stdout, "xdnatctl");
			return 0;
		}
		if (!words && (!strcmp(a, "--socket") || !strcmp(a, "--alloc-log") ||
			       !strcmp(a, "--bpffs"))) {
			if (++i == argc) {
				fprintf(stderr, "xdnatctl: %s needs a path\n", a);
				return 2;
			}
			*(a[2] == 's' ? &path : a[2] == 'a' ? &alog : &bpffs) = argv[i];
			continue;
		}
		/* after the command, options are the command's (token issue --uses) */
		if (a[0] == '-' && strcmp(a, "--json") && !words) {
			fprintf(stderr, "xdnatctl: unknown option '%s' (see --help)\n", a);
			return 2;
		}
		if (n == CTLSOCK_MAX_ARGS) {
			fprintf(stderr, "xdnatctl: command too long\n");
			return 2;
		}
		words |= strcmp(a, "--json") != 0;
		cmd[n++] = argv[i];
	}
	if (!words) {
		usage(stderr);
		return 2;
	}
	/* the allocation log is read here, offline */
	for (int i = 0; i < n; i++)
		if (strcmp(cmd[i], "--json")) {
			if (!strcmp(cmd[i], "who") || !strcmp(cmd[i], "log"))
				return alloc_log_cmd(n, cmd, alog, stdout, stderr);
			break;
		}
	if (absolute_backup_dir(cmd, n, dir, sizeof(dir)))
		return 2;
	rc = ctlsock_call(path, n, cmd, 0, stdout, err, sizeof(err));
	if ((rc == -ENOENT || rc == -ECONNREFUSED) && offline_supported(n, cmd))
		return offline(path, bpffs, rc, n, cmd);
	if (rc == -ENAMETOOLONG) {
		fprintf(stderr, "xdnatctl: socket path too long\n");
		return 2;
	}
	if (rc == -EPROTO || rc == -EIO || rc == -E2BIG)
		fprintf(stderr, "xdnatctl: %s\n", err);
	else if (rc)
		fprintf(stderr, "xdnatctl: %s: %s (is xdnatd running?)\n", path,
			strerror(-rc));
	return rc ? 1 : 0;
}
