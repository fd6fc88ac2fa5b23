/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdnatd's NICs as veths (the gateway in a container, or hosts and peers
 * as containers on the same machine). Its XDP programs see only what
 * arrives on a NIC; a frame sent from behind a veth with TX checksum
 * offload on arrives with an unfinished TCP/UDP checksum (lib/ethtool.h)
 * and is forwarded as it is. The gateway's own stack is no such sender: it
 * never transmits into its own XDP (XDP is on receive; traffic to G stays
 * on lo), so its own NICs' TX setting is not the problem.
 *
 * The senders are behind the veth's peer. In xdnatd's network namespace
 * the peer is turned to complete checksums itself; in another one it is
 * out of reach, and xdnatd says so once, naming it.
 */
#ifndef XDNAT_VETH_CHECK_H
#define XDNAT_VETH_CHECK_H

/* prog: the program on ifname ("gw_ext", "gw_int"), for the message. */
void veth_check(const char *ifname, const char *prog);

#endif
