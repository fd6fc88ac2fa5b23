/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Inside the CA (ca.h): the struct its three files share. ca.c opens the CA
 * and builds the parts of a certificate both kinds we sign have; ca_issue.c
 * issues host certificates; ca_crl.c keeps the revocation list.
 */
#ifndef XDNAT_CA_INTERNAL_H
#define XDNAT_CA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "gateway/ca.h"
#include "pap/cert_profile.h"

#define CA_MAX_CHAIN	8
#define CA_BACKDATE	60		/* notBefore/thisUpdate: tolerate skew */
#define CA_CRL_LIFE	86400		/* nextUpdate = thisUpdate + 1 day */

struct ca_revoked {
	struct cert_serial serial;
	int64_t when;
	int64_t expires;		/* the certificate's notAfter at most; 0: unknown */
	bool spent;			/* listed on a CRL issued after expires */
};

struct ca {
	char *dir;
	EVP_PKEY *key;
	STACK_OF(X509) *chain;		/* [0] signs; then its issuers */
	uint8_t *chain_der[CA_MAX_CHAIN];
	size_t chain_len[CA_MAX_CHAIN];
	unsigned int n_chain;
	int64_t not_after;		/* earliest notAfter in the chain */

	struct ca_revoked *revoked;
	size_t n_revoked, cap_revoked;
	uint64_t crl_number;		/* of the last CRL signed */
	X509_CRL *crl;
	int64_t crl_time;		/* when it was signed */

	/* What host certificates carry (ca_set_profile); NULL: the defaults */
	char *crl_url;			/* the CRL distribution point; NULL: none */
	char *port_blocks_oid;
};

/* ---- ca.c: what every certificate and CRL we sign shares ---------------- */

/* The digest to sign with key k (NULL for EdDSA). */
const EVP_MD *ca_sig_md(EVP_PKEY *k);
/* O=xdnat, CN=cn; X509_NAME_free it. */
X509_NAME *ca_name(const char *cn);
/* Version 3, a fresh random serial (into *serial), names, times and key;
 * no extensions yet. NULL on failure. */
X509 *ca_cert_skeleton(X509_NAME *subject, const X509_NAME *issuer, EVP_PKEY *pub,
		       int64_t not_before, int64_t not_after, struct cert_serial *serial);
/* One extension from its OpenSSL config string (e.g. "critical,CA:TRUE").
 * 0 or -errno. */
int ca_ext_add(X509 *x, X509 *issuer, int nid, const char *value);

/* ---- ca_crl.c ----------------------------------------------------------- */

/* Read state_dir/crl.list (none yet: an empty list). 0, or -errno with the
 * reason in err: a damaged list must not silently un-revoke anything. */
int ca_crl_list_load(struct ca *ca, char *err, size_t errlen);

#endif
