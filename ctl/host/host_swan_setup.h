/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `xdnat-host strongswan`: from what the agent holds to a strongSwan
 * directory (host_swan.h writes it), and keeping it current.
 *
 * The agent runs it with the options of the command (struct swan_opts,
 * read by host_cmds.h's table from --dir DIR and the words below) and its
 * share: G, the port block (port 0 is charon's IKE
 * port), the NAT-T port it declared with PAP NATT, the SPI block, and its
 * certificate directory (host_cert.h). The agent keeps the words and runs it
 * again after every new certificate or CRL, so the copies in DIR never go
 * stale; when a charon answers on DIR's vici socket, `swanctl --load-all`
 * makes it use them.
 *
 *   --dir DIR          where (absolute)
 *   --peer ADDR        a connection that initiates to ADDR (else a responder)
 *   --peer-port N      its IKE port (500)
 *   --peer-id ID       its identity (no spaces; default: any the CAs vouch for)
 *   --peer-ca FILE     a CA of the peers (absolute; up to SWAN_MAX_PEER_CAS)
 *   --narrow           traffic selectors = G's TCP and UDP ports of this host
 *   --esp auto|kernel|libipsec
 *                      charon's kernel interface; auto probes (esp_probe.h)
 */
#ifndef XDNAT_HOST_SWAN_SETUP_H
#define XDNAT_HOST_SWAN_SETUP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "host/host_cmds.h"
#include "pap/pap.h"

struct swan_share {
	uint32_t global;		/* G, network order */
	struct pap_port_range ports;	/* the block; ports.first is the IKE port */
	uint16_t natt_port;		/* 0: none declared */
	bool has_spis;
	struct pap_spi_range spis;
	const char *cert_dir;		/* host.key, host.crt, ca.crt, crl.pem */
	bool have_cert;
	const char *agent_socket;	/* for updown.sh's xdnat-host calls */
};

/* Reloading: charon did not answer on DIR's vici socket (not running). */
#define SWAN_NOT_RUNNING	1

/*
 * Write w->dir for sh as w asks, and reload the charon that serves it if one
 * does. What was done goes to out (may be NULL). 0, or -errno with a
 * one-line reason in err (no SPIs, no certificate, a value host_swan
 * refuses, a file that cannot be written, swanctl failing).
 */
int swan_setup(const struct swan_opts *w, const struct swan_share *sh, FILE *out, char *err,
	       size_t errlen);

#endif
