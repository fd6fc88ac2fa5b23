/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The host agent's key, request and certificate files (host_cert.h). What
 * the gateway sends back is checked before it is written: an IKE daemon will
 * present it as the host's identity, so it must be for our key, from the CA
 * of the chain beside it, and name exactly the ports we hold.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lib/atomic_file.h"
#include "host/host_cert.h"

/* ---- the key and the request --------------------------------------------- */

static bool key_fits(EVP_PKEY *k, const struct host_key_spec *ks)
{
	char group[64];
	size_t gl;

	switch (ks->type) {
	case HOST_KEY_EC:
		return EVP_PKEY_is_a(k, "EC") &&
		       EVP_PKEY_get_group_name(k, group, sizeof(group), &gl) &&
		       (!strcmp(group, "prime256v1") || !strcmp(group, "P-256"));
	case HOST_KEY_RSA:
		return EVP_PKEY_is_a(k, "RSA") &&
		       (uint32_t)EVP_PKEY_get_bits(k) == ks->rsa_bits;
	default:
		return true;
	}
}

static EVP_PKEY *key_make(const struct host_key_spec *ks)
{
	if (ks->type == HOST_KEY_RSA)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)ks->rsa_bits);
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

int host_csr_der(EVP_PKEY *key, uint8_t **der, size_t *len)
{
	/* EdDSA signs the message itself: no digest. */
	const EVP_MD *md = EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448") ?
			   NULL : EVP_sha256();
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	unsigned char *out = NULL;
	int n = 0;

	/* The CA ignores the subject; this one only says what made it. */
	if (req && name &&
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				       (const unsigned char *)"xdnat-host", -1, -1, 0) &&
	    X509_REQ_set_version(req, X509_REQ_VERSION_1) &&
	    X509_REQ_set_subject_name(req, name) && X509_REQ_set_pubkey(req, key) &&
	    X509_REQ_sign(req, key, md) > 0)
		n = i2d_X509_REQ(req, &out);
	X509_NAME_free(name);
	X509_REQ_free(req);
	ERR_clear_error();
	if (n <= 0)
		return -EIO;
	*der = out;
	*len = (size_t)n;
	return 0;
}

int host_cert_request(struct host_cert *c, const char *dir, const struct host_key_spec *ks,
		      uint8_t **csr, size_t *csr_len, char *err, size_t errlen)
{
	char path[PATH_MAX];
	EVP_PKEY *key = NULL;
	bool fresh = false;
	int rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, HOST_CERT_KEY) >= sizeof(path))
		return cert_fail(err, errlen, -ENAMETOOLONG, "%s: path too long", dir);
	rc = mkdir_p(dir, 0700);
	if (rc)
		return cert_fail(err, errlen, rc, "%s: %s", dir, strerror(-rc));
	snprintf(c->req_dir, sizeof(c->req_dir), "%s", dir);
	EVP_PKEY_free(c->key);
	c->key = NULL;
	c->key_new = false;

	rc = cert_key_load(path, &key, err, errlen);
	if (rc && rc != -ENOENT)
		return rc;
	if (key && !key_fits(key, ks)) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	if (!key) {
		key = key_make(ks);
		if (!key)
			return cert_fail(err, errlen, -EIO, "generating a key for %s failed", path);
		fresh = true;
	}
	rc = host_csr_der(key, csr, csr_len);
	if (rc) {
		EVP_PKEY_free(key);
		return cert_fail(err, errlen, rc, "signing the certificate request failed");
	}
	/* A new key reaches DIR only with its certificate (host_cert_store). */
	c->key = key;
	c->key_new = fresh;
	return 0;
}

/* ---- what the CA answers -------------------------------------------------- */

/* The same blocks, in any order (a host holds each block once). */
static bool same_ports(const struct pap_port_range *a, unsigned int na,
		       const struct pap_port_range *b, unsigned int nb)
{
	if (na != nb)
		return false;
	for (unsigned int i = 0; i < na; i++) {
		bool found = false;

		for (unsigned int j = 0; j < nb && !found; j++)
			found = a[i].global == b[j].global && a[i].first == b[j].first &&
				a[i].last == b[j].last;
		if (!found)
			return false;
	}
	return true;
}

/* DER blocks as concatenated PEM, written as DIR/name. */
static int write_pem(const char *dir, const char *name, const char *label,
		     const uint8_t *const *der, const size_t *lens, unsigned int n)
{
	char *pem;
	size_t len;
	int rc;

	rc = cert_pem_encode_chain(label, der, lens, n, &pem, &len);
	if (rc)
		return rc;
	rc = atomic_write_file(dir, name, pem, len, 0644);
	free(pem);
	return rc;
}

int host_cert_store(struct host_cert *c, const uint8_t *const *der, const uint16_t *lens,
		    unsigned int n, const struct pap_port_range *held, unsigned int n_held,
		    char *err, size_t errlen)
{
	struct pap_port_range ports[PAP_MAX_RANGES];
	unsigned int np = PAP_MAX_RANGES;
	const uint8_t *chain[4];
	size_t clen[4];
	struct cert_serial serial;
	int64_t nb, na;
	X509 *leaf = NULL, *ca = NULL;
	uint32_t g;
	int rc;

	if (!c->key || !c->req_dir[0])
		return cert_fail(err, errlen, -EINVAL, "no certificate was requested");
	if (n < 2 || n > 4)
		return cert_fail(err, errlen, -EBADMSG,
				 "the gateway sent %u certificate(s), not one and its CA chain", n);
	leaf = cert_parse(der[0], lens[0]);
	ca = cert_parse(der[1], lens[1]);
	rc = -EBADMSG;
	if (!leaf || !ca) {
		cert_fail(err, errlen, rc, "the gateway sent a certificate that does not parse");
		goto out;
	}
	if (X509_check_private_key(leaf, c->key) != 1) {
		cert_fail(err, errlen, rc, "the certificate is not for our key");
		goto out;
	}
	if (X509_verify(leaf, X509_get0_pubkey(ca)) != 1) {
		cert_fail(err, errlen, rc, "the certificate is not signed by the CA sent with it");
		goto out;
	}
	if (cert_read_ports(der[0], lens[0], &g, ports, &np) ||
	    !same_ports(ports, np, held, n_held)) {
		cert_fail(err, errlen, rc,
			  "the certificate does not name exactly the ports we hold");
		goto out;
	}
	if (cert_read_serial(der[0], lens[0], &serial) ||
	    cert_read_validity(der[0], lens[0], &nb, &na)) {
		cert_fail(err, errlen, rc, "the certificate has no usable serial or validity");
		goto out;
	}

	/* The key first: a crash between the two leaves a key without its
	 * certificate, which the next renewal mends, never the reverse. */
	if (c->key_new) {
		rc = cert_key_write(c->req_dir, HOST_CERT_KEY, c->key);
		if (rc) {
			cert_fail(err, errlen, rc, "%s/%s: %s", c->req_dir, HOST_CERT_KEY,
				  strerror(-rc));
			goto out;
		}
		c->key_new = false;
	}
	for (unsigned int i = 0; i < n; i++) {
		chain[i] = der[i];
		clen[i] = lens[i];
	}
	rc = write_pem(c->req_dir, HOST_CERT_CRT, "CERTIFICATE", chain, clen, 1);
	if (rc) {
		cert_fail(err, errlen, rc, "%s/%s: %s", c->req_dir, HOST_CERT_CRT, strerror(-rc));
		goto out;
	}
	rc = write_pem(c->req_dir, HOST_CERT_CHAIN, "CERTIFICATE", chain + 1, clen + 1, n - 1);
	if (rc) {
		cert_fail(err, errlen, rc, "%s/%s: %s", c->req_dir, HOST_CERT_CHAIN, strerror(-rc));
		goto out;
	}

	memcpy(c->dir, c->req_dir, sizeof(c->dir));
	c->have = true;
	cert_serial_hex(&serial, c->serial);
	c->not_before = nb;
	c->not_after = na;
	c->obtained = (int64_t)time(NULL);
	memcpy(c->ports, ports, np * sizeof(ports[0]));
	c->n_ports = np;
	EVP_PKEY_free(c->issuer);
	c->issuer = X509_get_pubkey(ca);
	rc = 0;
out:
	X509_free(leaf);
	X509_free(ca);
	ERR_clear_error();
	return rc;
}

int host_cert_store_crl(struct host_cert *c, const uint8_t *der, size_t len, char *err,
			size_t errlen)
{
	const unsigned char *p = der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
	int rc;

	if (!c->have) {
		X509_CRL_free(crl);
		return cert_fail(err, errlen, -EINVAL, "a CRL, but no certificate yet");
	}
	if (!crl || p != der + len) {
		X509_CRL_free(crl);
		return cert_fail(err, errlen, -EBADMSG,
				 "the gateway sent a CRL that does not parse");
	}
	/* Peers will trust what the IKE daemon reads here: only the CA's. */
	rc = c->issuer && X509_CRL_verify(crl, c->issuer) == 1 ? 0 : -EBADMSG;
	X509_CRL_free(crl);
	if (rc)
		return cert_fail(err, errlen, rc, "the CRL is not signed by the CA");
	rc = write_pem(c->dir, HOST_CERT_CRL, "X509 CRL", &der, &len, 1);
	if (rc)
		return cert_fail(err, errlen, rc, "%s/%s: %s", c->dir, HOST_CERT_CRL,
				 strerror(-rc));
	ERR_clear_error();
	return 0;
}

bool host_cert_due(const struct host_cert *c, const struct pap_port_range *held,
		   unsigned int n_held, int64_t now)
{
	return !c->have || !same_ports(c->ports, c->n_ports, held, n_held) ||
	       now >= c->not_after - (c->not_after - c->obtained) / 3;
}

void host_cert_close(struct host_cert *c)
{
	EVP_PKEY_free(c->key);
	EVP_PKEY_free(c->issuer);
	memset(c, 0, sizeof(*c));
}
