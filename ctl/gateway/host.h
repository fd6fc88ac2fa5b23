/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the gateway knows about one registered host: its identity, secret,
 * lease, share of the global address (ports, SPIs) and its established-SA
 * table entries (US 7,028,335: external peers it validated). This struct is what
 * the state store persists and what the map sync mirrors into BPF maps.
 */
#ifndef XDNAT_HOST_H
#define XDNAT_HOST_H

#include <stdint.h>
#include <stdbool.h>
#include "pap/pap.h"

#define HOST_MAX_RANGES	PAP_MAX_RANGES	/* port blocks, and SPI blocks, per host */
#define HOST_MAX_SAS	PAP_MAX_SAS	/* validated (peer, SPI range) entries */
#define HOST_SERIAL_LEN	16		/* a certificate serial (CERT_SERIAL_LEN) */

struct host {
	uint32_t client_id;		/* never 0, never reused */
	uint32_t addr;			/* Hi, network order: source of REGISTER */
	uint32_t global;		/* G this share belongs to, network order */
	uint8_t secret[PAP_KEY_LEN];	/* HMAC key for every request after REGISTER */
	uint8_t host_pub[PAP_KEY_LEN];	/* host's X25519 key: spots a retransmitted REGISTER */
	uint64_t lease_expires;		/* unix seconds */
	uint32_t lease_secs;		/* granted lease length */

	/* Replay and retransmission: the last accepted request. */
	uint32_t last_seq, last_xid;
	uint8_t last_mac[PAP_MAC_LEN];	/* its AUTH value (zero for REGISTER) */
	uint16_t reply_len;
	uint8_t *reply;			/* its reply, resent verbatim; malloc'd */

	uint16_t natt_port;		/* held port carrying ESP-in-UDP, 0 = none */
	uint16_t mtu_told;		/* EXT_MTU last sent to it, 0: none yet (not saved) */
	/* The certificate the CA issued for this share (big-endian serial, all
	 * zero: none), revoked when the share changes or goes. */
	uint8_t cert_serial[HOST_SERIAL_LEN];
	uint64_t cert_expires;		/* its notAfter at most, unix seconds */
	uint8_t n_ports, n_spis, n_sas;
	struct pap_port_range ports[HOST_MAX_RANGES];
	struct pap_spi_range spis[HOST_MAX_RANGES];
	struct pap_sa sas[HOST_MAX_SAS];
};

/* Total ports / SPIs held. */
uint32_t host_port_total(const struct host *h);
uint64_t host_spi_total(const struct host *h);
/* Index of the held block containing [first,last] entirely, or -1. */
int host_find_ports(const struct host *h, uint16_t first, uint16_t last);
int host_find_spis(const struct host *h, uint32_t first, uint32_t last);
/* Deep copy (reply included) / release of the malloc'd parts. */
int host_copy(struct host *dst, const struct host *src);
void host_release(struct host *h);
int host_set_reply(struct host *h, const uint8_t *buf, uint16_t len);

#endif
