/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * swan_conf: ctl/host_swan.c from the command line, for the interop tests
 * until `xdnat-host strongswan --dir DIR` exists (it takes the share from the
 * agent; this takes it from flags). Built by tests/interop/swan.sh with the
 * two sources it needs:
 *
 *   swan_conf --dir DIR --global G --ike-port N --natt-port N --spis FIRST-LAST
 *             --key F --cert F --ca F [--crl F] [--peer-ca F]... [--peer ADDR]
 *             [--peer-port N] [--peer-id ID] --xdnat-host PATH [--socket PATH]
 *             [--kernel-esp] [--ts-ports FIRST-LAST]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "host_swan.h"

static unsigned long num(const char *s, unsigned long max, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > max) {
		fprintf(stderr, "swan_conf: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "global", required_argument, NULL, 'g' },
		{ "ike-port", required_argument, NULL, 'i' },
		{ "natt-port", required_argument, NULL, 'n' },
		{ "spis", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "cert", required_argument, NULL, 'c' },
		{ "ca", required_argument, NULL, 'a' },
		{ "peer-ca", required_argument, NULL, 'A' },
		{ "crl", required_argument, NULL, 'R' },
		{ "peer", required_argument, NULL, 'p' },
		{ "peer-port", required_argument, NULL, 'P' },
		{ "peer-id", required_argument, NULL, 'I' },
		{ "xdnat-host", required_argument, NULL, 'x' },
		{ "socket", required_argument, NULL, 'S' },
		{ "kernel-esp", no_argument, NULL, 'E' },
		{ "ts-ports", required_argument, NULL, 'T' },
		{}
	};
	const char *peer_cas[SWAN_MAX_PEER_CAS + 2] = {};
	struct swan_params p = {};
	const char *dir = NULL;
	unsigned int n_cas = 0;
	char err[512] = "";
	char *dash;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'g':
			if (inet_pton(AF_INET, optarg, &p.global) != 1) {
				fprintf(stderr, "swan_conf: bad --global '%s'\n", optarg);
				return 2;
			}
			break;
		case 'i': p.ike_port = (uint16_t)num(optarg, 65535, "--ike-port"); break;
		case 'n': p.natt_port = (uint16_t)num(optarg, 65535, "--natt-port"); break;
		case 's':
			dash = strchr(optarg, '-');
			if (!dash) {
				fprintf(stderr, "swan_conf: --spis FIRST-LAST\n");
				return 2;
			}
			*dash = 0;
			p.spi_min = (uint32_t)num(optarg, 0xffffffffUL, "--spis");
			p.spi_max = (uint32_t)num(dash + 1, 0xffffffffUL, "--spis");
			break;
		case 'k': p.key_path = optarg; break;
		case 'c': p.cert_path = optarg; break;
		case 'a': p.ca_path = optarg; break;
		case 'R': p.crl_path = optarg; break;
		case 'A':
			if (n_cas > SWAN_MAX_PEER_CAS) {
				fprintf(stderr, "swan_conf: too many --peer-ca\n");
				return 2;
			}
			peer_cas[n_cas++] = optarg;
			break;
		case 'p': p.peer = optarg; break;
		case 'P': p.peer_port = (uint16_t)num(optarg, 65535, "--peer-port"); break;
		case 'I': p.peer_id = optarg; break;
		case 'x': p.xdnat_host_path = optarg; break;
		case 'S': p.agent_socket = optarg; break;
		case 'E': p.kernel_has_esp = true; break;
		case 'T':
			dash = strchr(optarg, '-');
			if (!dash) {
				fprintf(stderr, "swan_conf: --ts-ports FIRST-LAST\n");
				return 2;
			}
			*dash = 0;
			p.ts_port_first = (uint16_t)num(optarg, 65535, "--ts-ports");
			p.ts_port_last = (uint16_t)num(dash + 1, 65535, "--ts-ports");
			break;
		default: return 2;
		}
	}
	if (optind != argc || !dir) {
		fprintf(stderr, "swan_conf: --dir DIR is needed, and no other arguments\n");
		return 2;
	}
	p.peer_ca_paths = n_cas ? peer_cas : NULL;
	if (swan_write(dir, &p, err, sizeof(err))) {
		fprintf(stderr, "swan_conf: %s\n", err);
		return 1;
	}
	return 0;
}
