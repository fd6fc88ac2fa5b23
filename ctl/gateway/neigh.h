/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The hosts' MACs on the internal NIC, as the kernel resolved them, for
 * gw_ext's fast path (the MAC in each of a host's map values). Read with
 * rtnetlink: one RTM_GETNEIGH dump of the NIC's IPv4 neighbour table per
 * refresh. A host without a usable entry gets an RTM_NEWNEIGH with NTF_USE:
 * the kernel resolves it (ARP) as if a packet were waiting for it. Nothing
 * else: which MAC goes into which map is mapsync.c's business.
 */
#ifndef XDNAT_NEIGH_H
#define XDNAT_NEIGH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct neigh;

/* For the NIC ifindex. 0 or -errno. */
int neigh_open(unsigned int ifindex, struct neigh **out);
void neigh_close(struct neigh *n);

/*
 * One refresh: read the NIC's neighbour table, then ask the kernel to
 * resolve each of the count addresses (be) that has no usable MAC, or only
 * a stale one (XDP traffic never confirms a neighbour; the kernel confirms
 * a stale entry with a unicast probe). An address asked for at the previous
 * refresh and still without a usable MAC counts as a failure. Returns how
 * many addresses without a MAC were asked for the first time (worth a
 * refresh soon), or -errno (the table could not be read: the previous one
 * is kept).
 */
int neigh_refresh(struct neigh *n, const uint32_t *addrs, size_t count);
/* addr's (be) MAC in the table last read: true, or false when it has none
 * usable (no entry, incomplete, failed). */
bool neigh_mac(const struct neigh *n, uint32_t addr, uint8_t mac[6]);
/* Resolutions asked for that had not succeeded by the next refresh. */
uint64_t neigh_failures(const struct neigh *n);

#endif
