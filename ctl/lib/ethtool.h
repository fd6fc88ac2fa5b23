/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The little of ethtool the programs need, over SIOCETHTOOL (no `ethtool`
 * binary): is an interface a veth, its TX checksum offload, its peer.
 *
 * Why: a veth leaves a locally made TCP/UDP checksum unfinished
 * (CHECKSUM_PARTIAL) for the receiver to trust. XDP on the receiving side
 * sees only bytes, and forwards the half-made checksum to a peer that drops
 * the packet. With TX checksum offload off, the sender's stack completes it.
 */
#ifndef XDNAT_ETHTOOL_H
#define XDNAT_ETHTOOL_H

#include <stdbool.h>
#include <stddef.h>

/* The interface's driver name ("veth", "mlx5_core"). 0 or -errno. */
int ethtool_driver(const char *ifname, char *buf, size_t len);
/* 1: a veth, 0: another driver, or -errno. */
int ethtool_is_veth(const char *ifname);
/* 0 or -errno. */
int ethtool_get_tx_csum(const char *ifname, bool *on);
int ethtool_set_tx_csum(const char *ifname, bool on);

/*
 * A veth's other end: its ifindex, and whether it lives in another network
 * namespace (then *name is empty: that index means nothing here). 0 or
 * -errno.
 */
int veth_peer(const char *ifname, unsigned int *ifindex, bool *other_ns, char *name,
	      size_t namelen);

#endif
