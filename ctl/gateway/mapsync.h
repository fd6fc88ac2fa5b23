/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The map sync: keeps the share maps of bpf/maps.h (hosts, ports, SPI
 * blocks, SAs) equal to the gateway's host table, once in full at start
 * (reconcile), then one host change at a time through the gw_hooks, and
 * one host MAC change at a time (mapsync_update_macs): every entry of a host
 * carries its MAC. It only sees map file descriptors: dataplane.c loads the
 * maps and binds them here.
 */
#ifndef XDNAT_MAPSYNC_H
#define XDNAT_MAPSYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gateway/gateway.h"

/* The maps that mirror the host table (and the NIC map, reconciled alike). */
enum mapsync_map {
	MAPSYNC_HOSTS,
	MAPSYNC_PORTS,
	MAPSYNC_SPIBLK,
	MAPSYNC_SA,
	MAPSYNC_TX,
	MAPSYNC_N
};

/* The tables the programs learn, whose values open with the struct
 * xdnat_owner of the host they point at: echo ids, fragments, the SAs hosts
 * send on. Their entries go with their host (issue 13, finding 16). */
enum mapsync_learned {
	MAPSYNC_L_ICMP_IDS,
	MAPSYNC_L_FRAGS,
	MAPSYNC_L_IPSEC_OUT,
	MAPSYNC_L_N
};

/* The MAC of host address addr (be) on the internal NIC, as last resolved:
 * true with mac set, false when there is none (yet). */
typedef bool (*mapsync_mac_fn)(void *ctx, uint32_t addr, uint8_t mac[6]);

struct mapsync_mac;

struct mapsync {
	int fd[MAPSYNC_N];		/* the loader's: mapsync never closes them */
	uint32_t max_entries[MAPSYNC_N];
	uint32_t tx_ifindex[2];		/* what xdnat_tx must hold: ext, int NIC */
	uint64_t errors;		/* failed updates + entries that did not fit */
	mapsync_mac_fn mac_of;		/* the hosts' MACs now; NULL: all zero */
	void *mac_ctx;
	struct mapsync_mac *macs;	/* per client id, the MAC its entries carry */
	size_t n_macs, cap_macs;
	int learned_fd[MAPSYNC_L_N];
	bool learned_bound[MAPSYNC_L_N];	/* tests may bind none */
	uint32_t learned_ksize[MAPSYNC_L_N], learned_vsize[MAPSYNC_L_N];
	uint64_t learned_removed;	/* entries removed with their host */
};

/* Map m's name in the BPF objects. */
const char *mapsync_name(enum mapsync_map m);
/* Use fd as map m, after checking its key and value sizes are those the
 * entries are built with (common/xdnat.h): -EPROTO, logged, if not. */
int mapsync_bind(struct mapsync *ms, enum mapsync_map m, int fd, uint32_t key_size,
		 uint32_t val_size, uint32_t max_entries);
/* Learned map l's name in the BPF objects. */
const char *mapsync_learned_name(enum mapsync_learned l);
/* Use fd as learned map l (its value must open with a struct xdnat_owner):
 * -EPROTO, logged, if its value is shorter. */
int mapsync_bind_learned(struct mapsync *ms, enum mapsync_learned l, int fd, uint32_t key_size,
			 uint32_t val_size);
/* Make the maps equal to g's host table (and xdnat_tx to tx_ifindex), in
 * place (no clearing: the programs keep forwarding); learned entries of
 * hosts not in g (or not at that address) removed. 0 or -errno. */
int mapsync_reconcile(struct mapsync *ms, const struct gw *g);
/* Ask mac_of for every host of g; rewrite all the entries (hosts, ports, SPI
 * granules, SAs) of each host whose MAC is not the one they carry: first
 * resolution, lost, NIC replaced. *hosts: how many. 0 or -ENOMEM. */
int mapsync_update_macs(struct mapsync *ms, const struct gw *g, size_t *hosts);
/* Hooks that keep the maps in step with every later host change. */
struct gw_hooks mapsync_hooks(struct mapsync *ms);
uint64_t mapsync_errors(const struct mapsync *ms);
/* Frees what mapsync allocated (not the maps). */
void mapsync_release(struct mapsync *ms);

#endif
