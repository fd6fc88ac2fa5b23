/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdnat-host's memory in --state-dir: the registration (client id, secret,
 * sequence numbers), the share it holds, the peers it validated and what
 * `up` changed on the host, so that a restarted agent resumes where the last
 * one stopped and `down` can undo everything without a running agent.
 *
 * DIR/state is a text file ("key value" lines, docs/xdnat-host.md; one
 * table in host_state.c says each key's kind, place and default), mode
 * 0600 because it holds the PAP secret, replaced atomically (temporary file,
 * fsync, rename, fsync of the directory). DIR/lock is flock()ed by the agent.
 */
#ifndef XDNAT_HOST_STATE_H
#define XDNAT_HOST_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>
#include "host/host_cmds.h"
#include "host/host_net.h"
#include "pap/pap.h"

#define HOST_STATE_FILE		"state"
#define HOST_STATE_MAX_PEERS	PAP_MAX_SAS

struct host_state {
	/* where: from `up`, needed again by `down` */
	uint32_t gateway;		/* Gi, network order */
	uint16_t pap_port;
	char dev[IF_NAMESIZE];
	uint32_t host_addr;		/* Hi, network order */
	uint32_t table;			/* routing table of the rule "from G" */

	/* the registration */
	uint32_t client_id;		/* 0: not registered */
	uint8_t secret[PAP_KEY_LEN];
	uint32_t seq, xid;		/* of the last request sent */
	uint32_t global;		/* G, network order */
	uint32_t lease;			/* seconds granted */
	uint64_t lease_expires;		/* unix seconds */

	/* the share */
	bool has_ports, has_spis;
	struct pap_port_range ports;
	struct pap_spi_range spis;
	uint16_t natt_port;		/* 0: none declared */
	unsigned int n_peers;
	struct pap_sa peers[HOST_STATE_MAX_PEERS];

	/* where the certificate files go (`cert --out`); empty: DIR/cert */
	char cert_dir[PATH_MAX];
	/* `xdnat-host strongswan`'s options, kept to rewrite the directory
	 * after each new certificate; swan.dir empty: none */
	struct swan_opts swan;

	/* what `up` changed on the host, for `down` */
	bool configured;		/* address, rule, route, tc were set up */
	bool clsact_created;		/* the clsact qdisc is ours to remove */
	int sysctl_prev[HOST_SYSCTL_MAX];	/* enum host_sysctl; -1: never changed */
	int tx_csum_prev;		/* --dev a veth: its TX checksum offload
					 * before `up` (1/0), -1: never changed */
};

void host_state_init(struct host_state *st);
/* 0, -ENOENT when DIR holds no state, -EBADMSG (err says where: an unknown
 * key, a bad value, a missing version, gateway or dev) or -errno. */
int host_state_load(const char *dir, struct host_state *st, char *err,
		    size_t errlen);
int host_state_save(const char *dir, const struct host_state *st);
/* Remove DIR/state (not the directory). 0 when there was none. */
int host_state_remove(const char *dir);

/* Peers: add (or keep) / remove one validated (peer, SPI range) entry. */
void host_state_add_peer(struct host_state *st, const struct pap_sa *sa);
void host_state_del_peer(struct host_state *st, const struct pap_sa *sa);

#endif
