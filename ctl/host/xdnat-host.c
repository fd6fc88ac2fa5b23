/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdnat-host — the host side of xdnat (docs/xdnat-host.md).
 *
 *   up          the agent: registers with the gateway over PAP, takes a share
 *               of its global address G, configures this host to send and
 *               receive as G through the tunnel, renews the lease
 *   status, validate, invalidate, cert, strongswan, down
 *               ask the running agent over its control socket; `down` works
 *               from the state directory alone when no agent runs
 *
 * This file only finds the command; its option table (host_cmds.h) parses
 * and checks the options, and host_agent.c does the work.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/ctlsock.h"
#include "host/host_agent.h"
#include "host/host_cmds.h"
#include "host/host_tc.h"
#include "lib/kfeat.h"
#include "lib/log.h"
#include "lib/version.h"

/* `down` and `validate` wait for the gateway: PAP retries take seconds. */
#define CALL_TIMEOUT_S	60

static const char *cmd = "";

static void usage(FILE *out)
{
	fprintf(out,
		"usage: xdnat-host COMMAND [OPTIONS]\n\n"
		"commands:\n"
		"  up --gateway Gi --dev IF [...]   register with the gateway, take a share of\n"
		"                                   its global address, configure this host,\n"
		"                                   stay and renew the lease\n"
		"  status [--json]                  what the running agent holds\n"
		"  validate PEER [--spi X ...]      the gateway may let IPsec from PEER in\n"
		"  invalidate PEER [--spi X ...]    ... no longer\n"
		"  cert [--out DIR] [--key-type ec|rsa] [--rsa-bits N]\n"
		"                                   a new certificate from the gateway's CA:\n"
		"                                   key, certificate, CA chain and CRL in DIR\n"
		"  strongswan --dir DIR [...]       a strongSwan configuration from this host's\n"
		"                                   ports, SPIs and certificate, kept current\n"
		"  down                             free the share at the gateway, undo the host\n"
		"                                   configuration, stop the agent\n\n"
		"options:\n"
		"  --check-kernel                   probe the kernel features the host tunnel\n"
		"                                   needs, print them, exit 0 or 1\n"
		"  --version                        print the version\n\n"
		"`xdnat-host COMMAND --help` lists a command's options;\n"
		"docs/xdnat-host.md has the rest.\n");
}

/* One-line usage error, exit status 2. */
static int __attribute__((format(printf, 1, 2))) bad(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xdnat-host%s%s: ", cmd[0] ? " " : "", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see xdnat-host %s%s--help)\n", cmd, cmd[0] ? " " : "");
	return 2;
}

/* The command's words to the agent, its answer to stdout; the exit status.
 * down_dir: `down` without an agent works from that state directory. */
static int call_agent(const char *sock, int argc, char **argv, const char *down_dir)
{
	char err[512];
	int rc;

	log_setup("xdnat-host", LOG_LVL_INFO, 0);
	rc = ctlsock_call(sock, argc, argv, CALL_TIMEOUT_S, stdout, err, sizeof(err));
	if (!rc)
		return 0;
	if (rc == -EPROTO) {
		fprintf(stderr, "xdnat-host %s: %s\n", cmd, err);
		return 1;
	}
	if (down_dir && (rc == -ENOENT || rc == -ECONNREFUSED))
		return host_agent_down_offline(down_dir, sock);
	fprintf(stderr, "xdnat-host %s: %s: %s (is `xdnat-host up` running?)\n", cmd, sock,
		rc == -EIO ? err : strerror(-rc));
	return 1;
}

/* Every command but up: the parsed options, written back as words (paths
 * absolute), go to the agent, which parses them with the same table. */
static int client(const struct host_cmd *c, const void *args)
{
	static char buf[CTLSOCK_REQ_MAX];
	const struct host_client_args *ca = args;
	char *argv[CTLSOCK_MAX_ARGS + 1];
	int argc = host_cmd_argv(c, args, buf, sizeof(buf), argv, CTLSOCK_MAX_ARGS + 1);

	if (argc < 0)
		return bad("options longer than %d bytes", CTLSOCK_REQ_MAX);
	return call_agent(ca->socket_path, argc, argv, c == &host_cmd_down ?
			  ((const struct host_down_args *)args)->state_dir : NULL);
}

int main(int argc, char **argv)
{
	const struct host_cmd *c;
	char err[512];
	void *args;
	int rc;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		version_print(stdout, "xdnat-host");
		return 0;
	}
	if (!strcmp(argv[1], "--check-kernel")) {
		struct kfeat_set k;

		log_setup("xdnat-host", LOG_LVL_INFO, 0);
		return host_tc_kernel_probe(&k) ? 1 : kfeat_report_table(&k, stdout);
	}
	c = host_cmd_find(argv[1]);
	if (!c)
		return bad("unknown command '%s' (up, status, validate, invalidate, cert, "
			   "strongswan, down)", argv[1]);
	cmd = c->name;
	args = calloc(1, c->size);
	if (!args)
		return 1;
	rc = host_cmd_parse(c, argc - 1, argv + 1, args, err, sizeof(err));
	if (rc == HOST_CMD_HELP) {
		host_cmd_help(c, stdout);
		rc = 0;
	} else if (rc) {
		rc = bad("%s", err);
	} else if (c == &host_cmd_up) {
		log_setup("xdnat-host", LOG_LVL_INFO, 0);
		rc = host_agent_up(args);
	} else {
		rc = client(c, args);
	}
	free(args);
	return rc;
}
