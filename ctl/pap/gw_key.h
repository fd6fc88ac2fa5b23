/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The gateway's long-term Ed25519 signing key (GW_SIG in REGISTER_REPLY,
 * docs/pap.md) as files: xdnatd keeps gateway.key (PKCS#8 PEM, 0600) and
 * gateway.pub (SubjectPublicKeyInfo PEM) in its state directory; a host is
 * given gateway.pub (xdnat-host up --gateway-key FILE) or pins the first key
 * it sees in its own state directory (trust on first use).
 */
#ifndef XDNAT_PAP_GW_KEY_H
#define XDNAT_PAP_GW_KEY_H

#include <stddef.h>
#include <stdint.h>
#include "pap/pap.h"

#define PAP_GW_KEY_FILE		"gateway.key"
#define PAP_GW_PUB_FILE		"gateway.pub"
#define PAP_GW_FPR_LEN		(2 * 16 + 1)	/* hex of SHA-256's first 16 bytes */

/* dir/gateway.key, made (with gateway.pub) when missing. 0 or -errno with
 * err set. */
int pap_gw_key_open(const char *dir, uint8_t seed[PAP_SIG_KEY_LEN],
		    uint8_t pub[PAP_SIG_KEY_LEN], char *err, size_t errlen);
/* An Ed25519 public key in PEM (SubjectPublicKeyInfo). 0, -ENOENT or
 * -EINVAL / -errno with err set. */
int pap_gw_pub_read(const char *path, uint8_t pub[PAP_SIG_KEY_LEN], char *err,
		    size_t errlen);
/* dir/name := pub in PEM, atomically. 0 or -errno. */
int pap_gw_pub_write(const char *dir, const char *name, const uint8_t pub[PAP_SIG_KEY_LEN]);
/* A short fingerprint for logs and errors: hex of SHA-256(pub)[0..16). */
void pap_gw_fingerprint(const uint8_t pub[PAP_SIG_KEY_LEN], char out[PAP_GW_FPR_LEN]);

#endif
