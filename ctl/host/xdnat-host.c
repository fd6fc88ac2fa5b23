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
#include "lib/ctlsock.h"
#include "host/host_agent.h"
#include "host/host_cert.h"
#include "host/host_net.h"
#include "lib/log.h"
#include "pap/pap.h"
#include "lib/parse.h"
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
		"`xdnat-host COMMAND --help` lists a command's options,\n"
		"`xdnat-host --version` prints the version;\n"
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

static void usage_strongswan(FILE *out)
{
	fprintf(out,
		"usage: xdnat-host strongswan --dir DIR [OPTIONS]\n\n"
		"  --dir DIR                write strongswan.conf, swanctl/ (credentials and a\n"
		"                           connection from G) and updown.sh there\n"
		"  --peer ADDR              the connection initiates to ADDR (default: a\n"
		"                           responder for any peer)\n"
		"  --peer-port N            the peer's IKE port (default 500)\n"
		"  --peer-id ID             the peer's identity, no blanks (default: any the\n"
		"                           CAs vouch for)\n"
		"  --peer-ca FILE           a CA of the peers, PEM (up to 8 times)\n"
		"  --narrow                 traffic selectors = this host's TCP and UDP ports of\n"
		"                           G (needed when a peer has SAs with two hosts)\n"
		"  --esp auto|kernel|libipsec\n"
		"                           charon's ESP: kernel-netlink or kernel-libipsec\n"
		"                           (default auto: probes the kernel)\n"
		"  --socket PATH            the agent's control socket (default %s)\n\n"
		"The agent rewrites DIR after each new certificate and CRL, and runs\n"
		"`swanctl --load-all` when a charon serves DIR (docs/strongswan.md).\n",
		HOST_CTL_SOCKET);
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
       O_OUT, O_KEY_TYPE, O_RSA_BITS, O_DIR, O_PEER, O_PEER_PORT, O_PEER_ID, O_PEER_CA,
       O_NARROW, O_ESP };

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

/* One line to the agent, its answer to stdout; the exit status. down_dir:
 * `down` without an agent works from that state directory. */
static int call_agent(const char *sock, const char *line, const char *down_dir)
{
	char err[512];
	int rc;

	log_setup("xdnat-host", LOG_LVL_INFO, 0);
	rc = ctlsock_call(sock, line, CALL_TIMEOUT_S, stdout, err, sizeof(err));
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

/* One word on the control socket's line: no blanks, and room to spare. */
static bool one_word(const char *v)
{
	return *v && !strpbrk(v, " \t\r\n") && strlen(v) < 900;
}

/* strongswan --dir DIR [...]: the words go to the agent, which holds the share. */
static int cmd_strongswan(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "dir", required_argument, NULL, O_DIR },
		{ "peer", required_argument, NULL, O_PEER },
		{ "peer-port", required_argument, NULL, O_PEER_PORT },
		{ "peer-id", required_argument, NULL, O_PEER_ID },
		{ "peer-ca", required_argument, NULL, O_PEER_CA },
		{ "narrow", no_argument, NULL, O_NARROW },
		{ "esp", required_argument, NULL, O_ESP },
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "help", no_argument, NULL, O_HELP },
		{ 0 },
	};
	char sock[108], path[PATH_MAX], line[CTLSOCK_LINE_MAX];
	size_t off;
	bool have_dir = false;
	uint32_t v;
	int ch, n;

	set_path(sock, sizeof(sock), HOST_CTL_SOCKET);
	off = (size_t)snprintf(line, sizeof(line), "strongswan");
	while ((ch = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
		const char *word = NULL, *val = optarg;

		switch (ch) {
		case O_DIR:
		case O_PEER_CA:
			if (set_path(path, sizeof(path), optarg) || !one_word(path))
				return bad("%s: bad path '%s' (no spaces, under 900 bytes)",
					   argv[optind - 1], optarg);
			word = ch == O_DIR ? "--dir" : "--peer-ca";
			val = path;
			have_dir |= ch == O_DIR;
			break;
		case O_PEER:
			if (!one_word(optarg))
				return bad("--peer: '%s' is not an address or host name", optarg);
			word = "--peer";
			break;
		case O_PEER_PORT:
			if (parse_u32(optarg, 1, 65535, &v))
				return bad("--peer-port: '%s' is not 1..65535", optarg);
			word = "--peer-port";
			break;
		case O_PEER_ID:
			if (!one_word(optarg))
				return bad("--peer-id: '%s' has blanks (write a DN as "
					   "\"O=x,CN=y\")", optarg);
			word = "--peer-id";
			break;
		case O_NARROW:
			word = "--narrow";
			val = NULL;
			break;
		case O_ESP:
			if (strcmp(optarg, "auto") && strcmp(optarg, "kernel") &&
			    strcmp(optarg, "libipsec"))
				return bad("--esp: '%s' is not auto, kernel or libipsec", optarg);
			word = "--esp";
			break;
		case O_SOCKET:
			if (set_path(sock, sizeof(sock), optarg))
				return bad("--socket: path '%s' too long", optarg);
			continue;
		case 'h':
		case O_HELP:
			usage_strongswan(stdout);
			return 0;
		default:
			return bad_option(ch, argv);
		}
		n = snprintf(line + off, sizeof(line) - off, " %s%s%s", word, val ? " " : "",
			     val ? val : "");
		if (n < 0 || (size_t)n >= sizeof(line) - off)
			return bad("too many options");
		off += (size_t)n;
	}
	if (optind < argc)
		return bad("unexpected argument '%s'", argv[optind]);
	if (!have_dir)
		return bad("--dir DIR is required");
	return call_agent(sock, line, NULL);
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
	char sock[108], dir[PATH_MAX], out_dir[PATH_MAX] = "", line[CTLSOCK_LINE_MAX];
	const char *key_type = NULL;
	uint32_t rsa_bits = 0;
	uint32_t spis[PAP_MAX_RANGES], gw;
	size_t off;
	int ch, nspis = 0;
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

	return call_agent(sock, line, down ? dir : NULL);
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
	if (!strcmp(argv[1], "--version")) {
		version_print(stdout, "xdnat-host");
		return 0;
	}
	cmd = argv[1];
	opterr = 0;
	if (!strcmp(cmd, "up"))
		return cmd_up(argc - 1, argv + 1);
	if (!strcmp(cmd, "strongswan"))
		return cmd_strongswan(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(clients) / sizeof(clients[0]); i++)
		if (!strcmp(cmd, clients[i]))
			return cmd_client(argc - 1, argv + 1);
	cmd = "";
	return bad("unknown command '%s' (up, status, validate, invalidate, cert, "
		   "strongswan, down)",
		   argv[1]);
}
