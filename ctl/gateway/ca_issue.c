/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Issuing a host certificate (ca.h, docs/ca.md, "Host certificates"): the
 * CSR checked, the port blocks of G chosen, the certificate built and
 * signed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "gateway/ca_internal.h"

#define LEAF_CN_LEN	64		/* "<client_id>@<G>" */
/* "xdnat://" G "/ports/" then up to 16 of "65535-65535," */
#define LEAF_URI_LEN	(48 + PAP_MAX_RANGES * 12)

/* What a host certificate says. */
struct leaf {
	uint32_t client_id;
	uint32_t global;			/* G, network order */
	struct pap_port_range blocks[PAP_MAX_RANGES];	/* on G, ascending */
	unsigned int n_blocks;
	int64_t not_before, not_after;
};

#define RSA_MIN_BITS	2048
#define RSA_MAX_BITS	4096
#define RSA_EXPONENT	65537

/* RSA of 2048..4096 bits with e = 65537: a larger modulus or exponent makes
 * the signature check cost what a host chooses (an RSA-3072 key with a
 * 3072-bit e took 8 ms of the only thread). Read before any verification. */
static bool rsa_key_ok(EVP_PKEY *k)
{
	BIGNUM *e = NULL;
	int bits = EVP_PKEY_get_bits(k);
	bool ok;

	if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS ||
	    !EVP_PKEY_get_bn_param(k, "e", &e))
		return false;
	ok = BN_is_word(e, RSA_EXPONENT);
	BN_free(e);
	return ok;
}

/* ECDSA on P-256/P-384 (named curves only) and RSA as rsa_key_ok() says:
 * what strongSwan and every IKE peer take, nothing exotic. */
static bool csr_key_ok(EVP_PKEY *k)
{
	char name[64];
	size_t nl;
	int nid;

	if (EVP_PKEY_is_a(k, "RSA"))
		return rsa_key_ok(k);
	if (!EVP_PKEY_is_a(k, "EC") ||
	    !EVP_PKEY_get_group_name(k, name, sizeof(name), &nl))
		return false;
	nid = OBJ_sn2nid(name);
	if (nid == NID_undef)
		nid = EC_curve_nist2nid(name);
	return nid == NID_X9_62_prime256v1 || nid == NID_secp384r1;
}

/* The request: well-formed, an acceptable key, proof of possession.
 * Nothing else in it is used. 0 with it in *out, or -errno with *pap_err. */
static int csr_check(const uint8_t *csr_der, size_t csr_len, X509_REQ **out, int *pap_err)
{
	const unsigned char *p = csr_der;
	X509_REQ *req = NULL;
	EVP_PKEY *pub = NULL;
	int rc = -EBADMSG;

	*pap_err = PAP_E_BAD_CSR;
	if (!csr_der || !csr_len || csr_len > PAP_MAX_DER ||
	    !(req = d2i_X509_REQ(NULL, &p, (long)csr_len)) || p != csr_der + csr_len ||
	    !(pub = X509_REQ_get0_pubkey(req)))
		goto err;
	if (!csr_key_ok(pub)) {
		rc = -EPROTONOSUPPORT;
		*pap_err = PAP_E_BAD_KEY;
		goto err;
	}
	if (X509_REQ_verify(req, pub) != 1)
		goto err;
	*pap_err = PAP_E_INTERNAL;
	*out = req;
	return 0;
err:
	X509_REQ_free(req);
	return rc;
}

static int cmp_range(const void *a, const void *b)
{
	const struct pap_port_range *x = a, *y = b;

	return x->first != y->first ? (x->first < y->first ? -1 : 1) :
	       (x->last < y->last ? -1 : x->last > y->last);
}

static int add_san(X509 *x, uint32_t g, const char *uri)
{
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	GENERAL_NAME *ip = GENERAL_NAME_new(), *u = GENERAL_NAME_new();
	ASN1_OCTET_STRING *ipv = ASN1_OCTET_STRING_new();
	ASN1_IA5STRING *uv = ASN1_IA5STRING_new();
	int rc = -ENOMEM;

	if (!gens || !ip || !u || !ipv || !uv ||
	    !ASN1_OCTET_STRING_set(ipv, (const unsigned char *)&g, 4) ||
	    !ASN1_STRING_set(uv, uri, -1))
		goto out;
	GENERAL_NAME_set0_value(ip, GEN_IPADD, ipv);
	ipv = NULL;
	GENERAL_NAME_set0_value(u, GEN_URI, uv);
	uv = NULL;
	if (!sk_GENERAL_NAME_push(gens, ip))
		goto out;
	ip = NULL;
	if (!sk_GENERAL_NAME_push(gens, u))
		goto out;
	u = NULL;
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1)
		rc = 0;
out:
	ASN1_OCTET_STRING_free(ipv);
	ASN1_IA5STRING_free(uv);
	GENERAL_NAME_free(ip);
	GENERAL_NAME_free(u);
	GENERAL_NAMES_free(gens);
	return rc;
}

/* What the certificate binds: the blocks of ports on G (l->global), sorted.
 * 0, or -errno with *pap_err. */
static int leaf_blocks(struct leaf *l, const struct pap_port_range *ports,
		       unsigned int n_ports, int *pap_err)
{
	l->n_blocks = 0;
	for (unsigned int i = 0; i < n_ports && i < PAP_MAX_RANGES; i++) {
		if (ports[i].global != l->global)
			continue;
		if (ports[i].first > ports[i].last)
			return -EINVAL;
		l->blocks[l->n_blocks++] = ports[i];
	}
	if (!l->global || !l->n_blocks) {
		*pap_err = PAP_E_NO_PORTS;
		return -ENOENT;
	}
	qsort(l->blocks, l->n_blocks, sizeof(l->blocks[0]), cmp_range);
	return 0;
}

/* Never outlive the lease (ports are reused after it) nor any CA. 0, or
 * -EINVAL when that leaves nothing. */
static int leaf_validity(const struct ca *ca, struct leaf *l, uint64_t not_after_unix)
{
	int64_t now = time(NULL);

	l->not_after = not_after_unix > (uint64_t)INT64_MAX ? INT64_MAX :
		       (int64_t)not_after_unix;
	if (l->not_after > ca->not_after)
		l->not_after = ca->not_after;
	if (l->not_after <= now)
		return -EINVAL;
	l->not_before = now - CA_BACKDATE;
	return 0;
}

/* The subject's CN and the SAN URI naming G and its blocks. 0 or -EOVERFLOW. */
static int leaf_names(const struct leaf *l, char cn[LEAF_CN_LEN], char uri[LEAF_URI_LEN])
{
	char gs[INET_ADDRSTRLEN];
	size_t u;

	inet_ntop(AF_INET, &l->global, gs, sizeof(gs));
	snprintf(cn, LEAF_CN_LEN, "%" PRIu32 "@%s", l->client_id, gs);
	u = (size_t)snprintf(uri, LEAF_URI_LEN, "xdnat://%s/ports/", gs);
	for (unsigned int i = 0; i < l->n_blocks && u < LEAF_URI_LEN; i++)
		u += (size_t)snprintf(uri + u, LEAF_URI_LEN - u, "%s%u-%u", i ? "," : "",
				      l->blocks[i].first, l->blocks[i].last);
	/* cannot happen: sized for 16 blocks */
	return u < LEAF_URI_LEN ? 0 : -EOVERFLOW;
}

/* The CRL distribution point (RFC 5280 4.2.1.13): where peers fetch the
 * CRL over HTTP, as strongSwan does by itself. */
static int crl_dp_add(const struct ca *ca, X509 *x, X509 *cacert)
{
	char v[512];

	if (!ca->crl_url)
		return 0;
	if ((size_t)snprintf(v, sizeof(v), "URI:%s", ca->crl_url) >= sizeof(v))
		return -EOVERFLOW;
	return ca_ext_add(x, cacert, NID_crl_distribution_points, v);
}

/* The certificate l describes for key pub, signed by the CA: DER in *der
 * (OPENSSL_free) and its serial. 0 or -errno. */
static int leaf_sign(struct ca *ca, const struct leaf *l, EVP_PKEY *pub, uint8_t **der,
		     size_t *len, struct cert_serial *serial)
{
	char cn[LEAF_CN_LEN], uri[LEAF_URI_LEN];
	X509 *cacert = sk_X509_value(ca->chain, 0), *x = NULL;
	X509_NAME *subject = NULL;
	unsigned char *out = NULL;
	int n, rc;

	rc = leaf_names(l, cn, uri);
	if (rc)
		return rc;
	rc = -ENOMEM;
	subject = ca_name(cn);
	if (!subject)
		goto out;
	x = ca_cert_skeleton(subject, X509_get_subject_name(cacert), pub, l->not_before,
			     l->not_after, serial);
	if (!x)
		goto out;
	if (ca_ext_add(x, cacert, NID_basic_constraints, "critical,CA:FALSE") ||
	    ca_ext_add(x, cacert, NID_key_usage, "critical,digitalSignature") ||
	    ca_ext_add(x, cacert, NID_ext_key_usage, "ipsecIKE,serverAuth,clientAuth") ||
	    ca_ext_add(x, cacert, NID_subject_key_identifier, "hash") ||
	    (ca_ext_add(x, cacert, NID_authority_key_identifier, "keyid:always") &&
	     ca_ext_add(x, cacert, NID_authority_key_identifier, "issuer:always")) ||
	    add_san(x, l->global, uri) ||
	    cert_port_blocks_add(x, ca->port_blocks_oid, l->global, l->blocks, l->n_blocks) ||
	    crl_dp_add(ca, x, cacert))
		goto out;
	if (!X509_sign(x, ca->key, ca_sig_md(ca->key))) {
		rc = -EIO;
		goto out;
	}
	n = i2d_X509(x, &out);
	if (n <= 0)
		goto out;
	*der = out;
	*len = (size_t)n;
	rc = 0;
out:
	X509_NAME_free(subject);
	X509_free(x);
	return rc;
}

int ca_issue(struct ca *ca, const uint8_t *csr_der, size_t csr_len, uint32_t client_id,
	     uint32_t global_be, const struct pap_port_range *ports, unsigned int n_ports,
	     uint64_t not_after_unix, uint8_t **cert_der, size_t *cert_len,
	     struct cert_serial *serial_out, int *pap_err)
{
	struct leaf l = { .client_id = client_id, .global = global_be };
	struct cert_serial serial;
	X509_REQ *req = NULL;
	int dummy, rc;

	if (!pap_err)
		pap_err = &dummy;
	*pap_err = PAP_E_INTERNAL;
	if (!ca || (n_ports && !ports) || !cert_der || !cert_len)
		return -EINVAL;
	*cert_der = NULL;
	*cert_len = 0;

	/* the cheap refusals first: no ports, then the key (csr_check reads
	 * its size before it verifies the signature) */
	rc = leaf_blocks(&l, ports, n_ports, pap_err);
	if (!rc)
		rc = leaf_validity(ca, &l, not_after_unix);
	if (!rc)
		rc = csr_check(csr_der, csr_len, &req, pap_err);
	if (!rc)
		rc = leaf_sign(ca, &l, X509_REQ_get0_pubkey(req), cert_der, cert_len, &serial);
	if (!rc) {
		if (serial_out)
			*serial_out = serial;
		*pap_err = PAP_OK;
	}
	X509_REQ_free(req);
	ERR_clear_error();
	return rc;
}
