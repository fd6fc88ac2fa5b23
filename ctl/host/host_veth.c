/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* host_veth.h over lib/ethtool.h. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <net/if.h>
#include "host/host_veth.h"
#include "lib/ethtool.h"
#include "lib/log.h"

int host_veth_prepare(const char *dev, int *prev)
{
	bool on;
	int err = ethtool_is_veth(dev);

	if (err <= 0) {
		if (err)
			log_err("%s: driver info: %s", dev, strerror(-err));
		return err;
	}
	err = ethtool_get_tx_csum(dev, &on);
	if (err) {
		log_err("%s: reading TX checksum offload: %s", dev, strerror(-err));
		return err;
	}
	if (*prev < 0)
		*prev = on;
	if (!on)
		return 0;
	err = ethtool_set_tx_csum(dev, false);
	if (err) {
		log_err("%s: turning TX checksum offload off: %s", dev, strerror(-err));
		return err;
	}
	log_info("%s is a veth: TX checksum offload off (the gateway's XDP forwards "
		 "checksums as they leave; `down` turns it back on)", dev);
	return 0;
}

int host_veth_restore(const char *dev, int prev)
{
	int err;

	if (prev < 0 || !if_nametoindex(dev))
		return 0;
	err = ethtool_set_tx_csum(dev, prev);
	if (err)
		log_err("%s: restoring TX checksum offload %s: %s", dev, prev ? "on" : "off",
			strerror(-err));
	return err;
}
