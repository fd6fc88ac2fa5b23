/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A host on a veth (a container) behind an XDP gateway: the gateway forwards
 * the host's tunnelled packets as bytes, so their inner TCP/UDP checksum
 * must be complete when they leave. A veth leaves it unfinished while TX
 * checksum offload is on (lib/ethtool.h): `up` turns it off on --dev, `down`
 * puts back what was there. Any other driver is left alone: a real NIC
 * completes the checksum itself.
 */
#ifndef XDNAT_HOST_VETH_H
#define XDNAT_HOST_VETH_H

/*
 * When dev is a veth with TX checksum offload on, turn it off and say so.
 * *prev receives the setting found (1 on, 0 off) unless already >= 0 (the
 * first `up` remembers the original). Logs what failed. 0 or -errno.
 */
int host_veth_prepare(const char *dev, int *prev);
/* Put back prev (-1: never changed). Gone already is fine. 0 or -errno. */
int host_veth_restore(const char *dev, int prev);

#endif
