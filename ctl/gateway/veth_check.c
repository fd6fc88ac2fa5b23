/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* veth_check.h: only logs and, in reach, fixes; never stops the daemon. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <net/if.h>
#include "gateway/veth_check.h"
#include "lib/ethtool.h"
#include "lib/log.h"

void veth_check(const char *ifname, const char *prog)
{
	char peer[IF_NAMESIZE];
	unsigned int peer_index;
	bool other_ns, on;
	int err = ethtool_is_veth(ifname);

	if (err <= 0)
		return;	/* a real NIC's senders complete their checksums */
	err = veth_peer(ifname, &peer_index, &other_ns, peer, sizeof(peer));
	if (err) {
		log_warn("%s is a veth (its peer unknown: %s): senders behind it must "
			 "have TX checksum offload off, %s forwards checksums as they arrive",
			 ifname, strerror(-err), prog);
		return;
	}
	if (other_ns || !peer[0]) {
		log_warn("%s is a veth, its peer ifindex %u in another network namespace: "
			 "senders there with TX checksum offload on reach %s with unfinished "
			 "TCP/UDP checksums, forwarded as they are and dropped by receivers; "
			 "turn it off there (ethtool -K IF tx off; xdnat-host does on hosts)",
			 ifname, peer_index, prog);
		return;
	}
	err = ethtool_get_tx_csum(peer, &on);
	if (!err && on)
		err = ethtool_set_tx_csum(peer, false);
	if (err)
		log_warn("%s is a veth: TX checksum offload of its peer %s: %s; %s forwards "
			 "its unfinished checksums as they are", ifname, peer, strerror(-err),
			 prog);
	else if (on)
		log_info("%s is a veth: TX checksum offload off on its peer %s, whose "
			 "frames %s forwards as they arrive", ifname, peer, prog);
}
