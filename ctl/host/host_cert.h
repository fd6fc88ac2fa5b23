/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The host agent's certificate files (docs/xdnat-host.md, "Certificate"): a
 * key made here once and kept, a PKCS#10 request for it, and what the
 * gateway's CA answers, checked and written where an IKE daemon reads it:
 *
 *   DIR/host.key  the host's private key, PEM (PKCS#8), mode 0600
 *   DIR/host.crt  its certificate: G and the ports the host holds
 *   DIR/ca.crt    the CA chain, signing CA first
 *   DIR/crl.pem   the CA's CRL
 *
 * Keys and requests are OpenSSL 3 EVP and X.509, no command line. The PAP
 * exchange itself (CERT, CRL) is the agent's; nothing here does I/O but the
 * files. Every file is replaced atomically (atomic_file.h).
 */
#ifndef XDNAT_HOST_CERT_H
#define XDNAT_HOST_CERT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include "pap/cert_profile.h"
#include "pap/pap.h"

#define HOST_CERT_SUBDIR	"cert"		/* default: --state-dir/cert */
#define HOST_CERT_KEY		"host.key"
#define HOST_CERT_CRT		"host.crt"
#define HOST_CERT_CHAIN		"ca.crt"
#define HOST_CERT_CRL		"crl.pem"
#define HOST_RSA_MIN_BITS	2048		/* the CA refuses less */
#define HOST_RSA_MAX_BITS	4096		/* more: seconds of keygen in the agent */

enum host_key_type {
	HOST_KEY_KEEP,		/* the key in DIR, else ECDSA P-256 */
	HOST_KEY_EC,		/* ECDSA P-256 */
	HOST_KEY_RSA,		/* RSA of rsa_bits */
};

struct host_key_spec {
	enum host_key_type type;
	uint32_t rsa_bits;
};

struct host_cert {
	char dir[PATH_MAX];	/* the files' directory; empty: none yet */
	char req_dir[PATH_MAX];	/* the last request's: dir once it succeeds */
	EVP_PKEY *key;		/* the key of the last request */
	bool key_new;		/* made for it, not in req_dir yet */
	bool have;		/* DIR/host.crt is ours and described below */
	char serial[2 * CERT_SERIAL_LEN + 1];
	int64_t not_before, not_after;
	int64_t obtained;	/* when it came (notBefore is backdated) */
	struct pap_port_range ports[PAP_MAX_RANGES];
	unsigned int n_ports;
	EVP_PKEY *issuer;	/* the signing CA's key, to check the CRL */
};

/* A PKCS#10 request for key, DER (free with OPENSSL_free); the subject is a
 * placeholder, the CA ignores it. 0 or -errno. */
int host_csr_der(EVP_PKEY *key, uint8_t **der, size_t *len);

/*
 * Start a request for the files in dir (created 0700 when missing): load
 * DIR/host.key, or make a key as ks asks (a key of another type than ks asks
 * is replaced); the request for it in *csr (OPENSSL_free). 0, or -errno
 * with a one-line reason in err (e.g. a key readable by others).
 */
int host_cert_request(struct host_cert *c, const char *dir, const struct host_key_spec *ks,
		      uint8_t **csr, size_t *csr_len, char *err, size_t errlen);

/*
 * Take a CERT reply: der[0] the certificate, der[1..n-1] the chain. It must
 * be for the requested key, signed by der[1], and name exactly the ports in
 * held; then host.key (when new), host.crt and ca.crt are written in the
 * request's directory, which becomes c->dir. 0, or -errno with the reason in
 * err (c unchanged but for the pending request).
 */
int host_cert_store(struct host_cert *c, const uint8_t *const *der, const uint16_t *lens,
		    unsigned int n, const struct pap_port_range *held, unsigned int n_held,
		    char *err, size_t errlen);

/* Take a CRL reply: signed by the chain's CA, written as c->dir/crl.pem. */
int host_cert_store_crl(struct host_cert *c, const uint8_t *der, size_t len, char *err,
			size_t errlen);

/* Time for a new certificate: none yet, it names other ports than held, or
 * less than a third of its life (from when it came to notAfter) is left. */
bool host_cert_due(const struct host_cert *c, const struct pap_port_range *held,
		   unsigned int n_held, int64_t now);

void host_cert_close(struct host_cert *c);

#endif
