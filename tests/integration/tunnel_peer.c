/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tunnel_peer — the far end of a host tunnel for the namespace tests, with
 * no gateway data plane: attaches host_tunnel (ctl/host_tc.c, the very code
 * xdnat-host uses) on DEV with the roles turned around, so that the gateway
 * namespace strips what a host tunnels to it and tunnels back what it sends
 * from LOCAL-GLOBAL. test_host_agent.sh pushes TCP through both ends to see
 * TSO/GSO survive the encapsulation.
 *
 *   tunnel_peer DEV GLOBAL LOCAL REMOTE   attach (inner address GLOBAL,
 *                                         outer LOCAL <-> REMOTE), then exit:
 *                                         the filters stay
 *   tunnel_peer DEV                       detach
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include "host/host_tc.h"
#include "lib/log.h"

int main(int argc, char **argv)
{
	struct xdnat_host_cfg cfg;
	struct host_tc tc = { 0 };
	int ifindex = argc > 1 ? (int)if_nametoindex(argv[1]) : 0;
	bool created;
	int rc;

	log_setup("tunnel_peer", LOG_LVL_INFO, 0);
	if ((argc != 2 && argc != 5) || !ifindex) {
		fprintf(stderr, "usage: tunnel_peer DEV [GLOBAL LOCAL REMOTE]\n");
		return 2;
	}
	if (argc == 2)
		return host_tc_detach(ifindex, true) ? 1 : 0;
	if (inet_pton(AF_INET, argv[2], &cfg.global) != 1 ||
	    inet_pton(AF_INET, argv[3], &cfg.host_addr) != 1 ||
	    inet_pton(AF_INET, argv[4], &cfg.gw_addr) != 1) {
		fprintf(stderr, "tunnel_peer: addresses must be IPv4\n");
		return 2;
	}
	rc = host_tc_attach(&tc, ifindex, &cfg, &created);
	host_tc_close(&tc);
	return rc ? 1 : 0;
}
