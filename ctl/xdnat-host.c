/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdnat-host — the host side of xdnat (docs/xdnat-host.md).
 *
 *   up          the agent: registers with the gateway over PAP, takes a share
 *               of its global address G, configures this host to send and
 *               receive as G through the tunnel, renews the lease
 *   status, validate, invalidate, cert, down
 *               ask the running agent over its control socket; `down` works
 *               from the state directory alone when no agent runs
 *
 * This file only parses the command line; host_agent.c does the work.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "ctlsock.h"
#include "host_agent.h"
#include "host_cert.h"
#include "host_net.h"
#include "log.h"
#include "pap.h"
#include "parse.h"

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
		"  down                             free the share at the gateway, undo the host\n"
		"                                   configuration, stop the agent\n\n"
		"`xdnat-host COMMAND --help` lists a command's options;\n"
		"docs/xdnat-host.md has the rest.\n");
}

static void usage_up(FILE *out)
{
	fprintf(out,
		"usage: xdnat-host up --gateway Gi --dev IF [OPTIONS]\n\n"
		"  --gateway ADDR           the gateway's internal address Gi (xdnatd --internal)\n"
		"  --dev IF                 the interface towards the gateway\n"
		"  --ports N                ports to ask for (default %d)\n"
		"  --spis N                 IPsec SPIs to ask for, 0 for none (default %d)\n"
		"  --natt-port-index K      port K of the block carries NAT-T (default %d;\n"
		"                           port 0 is the IKE port)\n"
		"  --lease SECONDS          lease to ask for (default: the gateway's)\n"
		"  --site-key FILE          the gateway's site key (16-64 bytes)\n"
		"  --pap-port N             the gateway's PAP port (default %d)\n"
		"  --table N                routing table for packets from G (default %d)\n"
		"  --state-dir DIR          registration and share (default %s)\n"
		"  --socket PATH            control socket (default %s)\n"
		"  --daemon                 detach once up, log to syslog\n"
		"  --help                   this text\n",
		HOST_DEFAULT_PORTS, HOST_DEFAULT_SPIS, HOST_DEFAULT_NATT_INDEX, PAP_DEFAULT_PORT,
		HOST_NET_TABLE, HOST_STATE_DIR, HOST_CTL_SOCKET);
}

static void usage_status(FILE *out)
{
	fprintf(out,
		"usage: xdnat-host status [--json] [--socket PATH]\n\n"
		"  --json                   one JSON document (keys in docs/xdnat-host.md)\n"
		"  --socket PATH            the agent's control socket (default %s)\n",
		HOST_CTL_SOCKET);
}

static void usage_peer(FILE *out)
{
	fprintf(out,
		"usage: xdnat-host %s PEER [--spi X ...] [--socket PATH]\n\n"
		"  PEER                     the external peer's IPv4 address\n"
		"  --spi X                  one of the host's SPIs (decimal or 0x...), up to %d\n"
		"                           times; none: all of them\n"
		"  --socket PATH            the agent's control socket (default %s)\n",
		cmd, PAP_MAX_RANGES, HOST_CTL_SOCKET);
}

static void usage_cert(FILE *out)
{
	fprintf(out,
		"usage: xdnat-host cert [--out DIR] [--key-type ec|rsa] [--rsa-bits N]\n"
		"                       [--socket PATH]\n\n"
		"  --out DIR                where the files go, from now on (default: the\n"
		"                           agent's --state-dir/cert): host.key (0600, made\n"
		"                           once and kept), host.crt, ca.crt (the CA chain),\n"
		"                           crl.pem\n"
		"  --key-type ec|rsa        a new key of this type unless DIR holds one: ECDSA\n"
		"                           P-256 (the default) or RSA\n"
		"  --rsa-bits N             RSA key size, %d..%d (default %d; implies rsa)\n"
		"  --socket PATH            the agent's control socket (default %s)\n\n"
		"The agent renews the certificate by itself when its ports change and when a\n"
		"third of the validity is left.\n",
		HOST_RSA_MIN_BITS, HOST_RSA_MAX_BITS, HOST_RSA_MIN_BITS, HOST_CTL_SOCKET);
}

static void usage_down(FILE *out)
{
	fprintf(out,
		"usage: xdnat-host down [--socket PATH] [--state-dir DIR]\n\n"
		"  --socket PATH            the agent's control socket (default %s)\n"
		"  --state-dir DIR          used when no agent answers (default %s)\n",
		HOST_CTL_SOCKET, HOST_STATE_DIR);
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

/* Absolute paths: --daemon changes to /, and status shows them. */
static int set_path(char *dst, size_t cap, const char *v)
{
	char cwd[PATH_MAX];
	int n;

	if (!*v)
		return -1;
	if (v[0] == '/')
		n = snprintf(dst, cap, "%s", v);
	else if (getcwd(cwd, sizeof(cwd)))
		n = snprintf(dst, cap, "%s/%s", cwd, v);
	else
		return -1;
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* getopt_long's complaint about argv[optind - 1], as a usage error. */
static int bad_option(int ch, char **argv)
{
	if (ch == ':')
		return bad("option '%s' needs a value", argv[optind - 1]);
	return bad("unknown option '%s'", argv[optind - 1]);
}

enum { O_GATEWAY = 256, O_DEV, O_PORTS, O_SPIS, O_NATT, O_LEASE, O_SITE_KEY,
       O_PAP_PORT, O_TABLE, O_STATE_DIR, O_SOCKET, O_DAEMON, O_JSON, O_SPI, O_HELP,
       O_OUT, O_KEY_TYPE, O_RSA_BITS };

static int cmd_up(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "gateway", required_argument, NULL, O_GATEWAY },
		{ "dev", required_argument, NULL, O_DEV },
		{ "ports", required_argument, NULL, O_PORTS },
		{ "spis", required_argument, NULL, O_SPIS },
		{ "natt-port-index", required_argument, NULL, O_NATT },
		{ "lease", required_argument, NULL, O_LEASE },
		{ "site-key", required_argument, NULL, O_SITE_KEY },
		{ "pap-port", required_argument, NULL, O_PAP_PORT },
		{ "table", required_argument, NULL, O_TABLE },
		{ "state-dir", required_argument, NULL, O_STATE_DIR },
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "daemon", no_argument, NULL, O_DAEMON },
		{ "help", no_argument, NULL, O_HELP },
		{ 0 },
	};
	static struct host_opts o;
	uint32_t v, gw;
	int ch;

	o = (struct host_opts){
		.ports = HOST_DEFAULT_PORTS, .spis = HOST_DEFAULT_SPIS,
		.natt_index = HOST_DEFAULT_NATT_INDEX, .pap_port = PAP_DEFAULT_PORT,
		.table = HOST_NET_TABLE,
	};
	set_path(o.state_dir, sizeof(o.state_dir), HOST_STATE_DIR);
	set_path(o.socket_path, sizeof(o.socket_path), HOST_CTL_SOCKET);
	while ((ch = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
		switch (ch) {
		case O_GATEWAY:
			if (inet_pton(AF_INET, optarg, &gw) != 1 || !gw)
				return bad("--gateway: '%s' is not an IPv4 address", optarg);
			snprintf(o.gateway, sizeof(o.gateway), "%s", optarg);
			break;
		case O_DEV:
			if (!*optarg || strlen(optarg) >= sizeof(o.dev))
				return bad("--dev: '%s' is not an interface name", optarg);
			strcpy(o.dev, optarg);
			break;
		case O_PORTS:
			if (parse_u32(optarg, 1, 65535, &o.ports))
				return bad("--ports: '%s' is not 1..65535", optarg);
			break;
		case O_SPIS:
			if (parse_u32(optarg, 0, 1u << 31, &o.spis))
				return bad("--spis: '%s' is not 0..2147483648", optarg);
			break;
		case O_NATT:
			if (parse_u32(optarg, 0, 65534, &o.natt_index))
				return bad("--natt-port-index: '%s' is not 0..65534", optarg);
			break;
		case O_LEASE:
			if (parse_u32(optarg, 1, UINT32_MAX, &o.lease))
				return bad("--lease: '%s' is not a number of seconds", optarg);
			break;
		case O_SITE_KEY:
			if (set_path(o.site_key_file, sizeof(o.site_key_file), optarg))
				return bad("--site-key: bad path '%s'", optarg);
			break;
		case O_PAP_PORT:
			if (parse_u32(optarg, 1, 65535, &v))
				return bad("--pap-port: '%s' is not 1..65535", optarg);
			o.pap_port = (uint16_t)v;
			break;
		case O_TABLE:
			/* 0 and 253-255 are the kernel's unspec/default/main/local */
			if (parse_u32(optarg, 1, UINT32_MAX, &o.table) ||
			    (o.table >= 253 && o.table <= 255))
				return bad("--table: '%s' is not a free table number", optarg);
			break;
		case O_STATE_DIR:
			if (set_path(o.state_dir, sizeof(o.state_dir), optarg))
				return bad("--state-dir: bad path '%s'", optarg);
			break;
		case O_SOCKET:
			if (set_path(o.socket_path, sizeof(o.socket_path), optarg))
				return bad("--socket: path '%s' too long", optarg);
			break;
		case O_DAEMON:
			o.daemon = true;
			break;
		case 'h':
		case O_HELP:
			usage_up(stdout);
			return 0;
		default:
			return bad_option(ch, argv);
		}
	}
	if (optind < argc)
		return bad("unexpected argument '%s'", argv[optind]);
	if (!o.gateway[0])
		return bad("--gateway is required");
	if (!o.dev[0])
		return bad("--dev is required");
	if (o.natt_index >= o.ports)
		return bad("--natt-port-index %u: only %u port(s) asked for", o.natt_index,
			   o.ports);
	log_setup("xdnat-host", LOG_LVL_INFO, 0);
	return host_agent_up(&o);
}

/* status, validate, invalidate, cert, down: one line to the agent. */
static int cmd_client(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "json", no_argument, NULL, O_JSON },
		{ "spi", required_argument, NULL, O_SPI },
		{ "state-dir", required_argument, NULL, O_STATE_DIR },
		{ "out", required_argument, NULL, O_OUT },
		{ "key-type", required_argument, NULL, O_KEY_TYPE },
		{ "rsa-bits", required_argument, NULL, O_RSA_BITS },
		{ "help", no_argument, NULL, O_HELP },
		{ 0 },
	};
	bool peer_cmd = !strcmp(cmd, "validate") || !strcmp(cmd, "invalidate");
	bool status = !strcmp(cmd, "status"), down = !strcmp(cmd, "down");
	bool cert = !strcmp(cmd, "cert");
	void (*help)(FILE *) = status ? usage_status : down ? usage_down :
			       cert ? usage_cert : usage_peer;
	char sock[108], dir[PATH_MAX], out_dir[PATH_MAX] = "", line[CTLSOCK_LINE_MAX], err[512];
	const char *key_type = NULL;
	uint32_t rsa_bits = 0;
	uint32_t spis[PAP_MAX_RANGES], gw;
	size_t off;
	int ch, rc, nspis = 0;
	bool json = false;

	set_path(sock, sizeof(sock), HOST_CTL_SOCKET);
	set_path(dir, sizeof(dir), HOST_STATE_DIR);
	off = (size_t)snprintf(line, sizeof(line), "%s", cmd);
	while ((ch = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
		switch (ch) {
		case O_SOCKET:
			if (set_path(sock, sizeof(sock), optarg))
				return bad("--socket: path '%s' too long", optarg);
			break;
		case O_JSON:
			if (!status)
				return bad("unknown option '--json'");
			json = true;
			break;
		case O_SPI:
			if (!peer_cmd)
				return bad("unknown option '--spi'");
			if (nspis == PAP_MAX_RANGES)
				return bad("at most %d --spi", PAP_MAX_RANGES);
			if (parse_u32(optarg, 256, UINT32_MAX, &spis[nspis++]))
				return bad("--spi: '%s' is not an SPI (256..4294967295)", optarg);
			break;
		case O_STATE_DIR:
			if (!down)
				return bad("unknown option '--state-dir'");
			if (set_path(dir, sizeof(dir), optarg))
				return bad("--state-dir: bad path '%s'", optarg);
			break;
		case O_OUT:
			if (!cert)
				return bad("unknown option '--out'");
			/* one word on the control socket's line */
			if (set_path(out_dir, sizeof(out_dir), optarg) ||
			    strpbrk(out_dir, " \t\r\n") || strlen(out_dir) > CTLSOCK_LINE_MAX - 100)
				return bad("--out: bad path '%s' (no spaces, under 900 bytes)",
					   optarg);
			break;
		case O_KEY_TYPE:
			if (!cert)
				return bad("unknown option '--key-type'");
			if (strcmp(optarg, "ec") && strcmp(optarg, "rsa"))
				return bad("--key-type: '%s' is not ec or rsa", optarg);
			key_type = optarg;
			break;
		case O_RSA_BITS:
			if (!cert)
				return bad("unknown option '--rsa-bits'");
			if (parse_u32(optarg, HOST_RSA_MIN_BITS, HOST_RSA_MAX_BITS, &rsa_bits))
				return bad("--rsa-bits: '%s' is not %d..%d", optarg,
					   HOST_RSA_MIN_BITS, HOST_RSA_MAX_BITS);
			break;
		case 'h':
		case O_HELP:
			help(stdout);
			return 0;
		default:
			return bad_option(ch, argv);
		}
	}
	if (peer_cmd) {
		if (optind != argc - 1)
			return bad(optind == argc ? "which peer?" : "one peer at a time");
		if (inet_pton(AF_INET, argv[optind], &gw) != 1)
			return bad("'%s' is not an IPv4 address", argv[optind]);
		off += (size_t)snprintf(line + off, sizeof(line) - off, " %s", argv[optind]);
		for (int i = 0; i < nspis; i++)
			off += (size_t)snprintf(line + off, sizeof(line) - off, " %u", spis[i]);
	} else if (optind < argc) {
		return bad("unexpected argument '%s'", argv[optind]);
	}
	if (key_type && rsa_bits && !strcmp(key_type, "ec"))
		return bad("--rsa-bits goes with --key-type rsa");
	if (out_dir[0])
		off += (size_t)snprintf(line + off, sizeof(line) - off, " --out %s", out_dir);
	if (key_type)
		off += (size_t)snprintf(line + off, sizeof(line) - off, " --key-type %s", key_type);
	if (rsa_bits)
		off += (size_t)snprintf(line + off, sizeof(line) - off, " --rsa-bits %u", rsa_bits);
	if (json)
		snprintf(line + off, sizeof(line) - off, " --json");

	log_setup("xdnat-host", LOG_LVL_INFO, 0);
	rc = ctlsock_call(sock, line, CALL_TIMEOUT_S, stdout, err, sizeof(err));
	if (!rc)
		return 0;
	if (rc == -EPROTO) {
		fprintf(stderr, "xdnat-host %s: %s\n", cmd, err);
		return 1;
	}
	if (down && (rc == -ENOENT || rc == -ECONNREFUSED))
		return host_agent_down_offline(dir, sock);
	fprintf(stderr, "xdnat-host %s: %s: %s (is `xdnat-host up` running?)\n", cmd, sock,
		rc == -EIO ? err : strerror(-rc));
	return 1;
}

int main(int argc, char **argv)
{
	static const char *const clients[] = { "status", "validate", "invalidate", "cert", "down" };

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	cmd = argv[1];
	opterr = 0;
	if (!strcmp(cmd, "up"))
		return cmd_up(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(clients) / sizeof(clients[0]); i++)
		if (!strcmp(cmd, clients[i]))
			return cmd_client(argc - 1, argv + 1);
	cmd = "";
	return bad("unknown command '%s' (up, status, validate, invalidate, cert, down)",
		   argv[1]);
}
