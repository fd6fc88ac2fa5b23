/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The local certificate authority itself (ca.h, docs/ca.md): its key and
 * chain, our own CA made on the first start or the site's checked, and what
 * every certificate we sign shares. Issuing is ca_issue.c, the revocation
 * list ca_crl.c. All of the X.509 and cryptography is OpenSSL 3.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/atomic_file.h"
#include "lib/log.h"
#include "gateway/ca_internal.h"

#define CA_KEY_FILE	"ca.key"
#define CA_CRT_FILE	"ca.crt"
#define CA_DAYS		3652		/* own CA: ten years */

/* EdDSA signs the message itself; the others hash with a digest sized to
 * the key. */
const EVP_MD *ca_sig_md(EVP_PKEY *k)
{
	if (EVP_PKEY_is_a(k, "ED25519") || EVP_PKEY_is_a(k, "ED448"))
		return NULL;
	if (EVP_PKEY_is_a(k, "EC") && EVP_PKEY_get_bits(k) > 384)
		return EVP_sha512();
	if (EVP_PKEY_is_a(k, "EC") && EVP_PKEY_get_bits(k) > 256)
		return EVP_sha384();
	return EVP_sha256();
}

/* ---- what every certificate we sign shares --------------------------- */

/* One extension from its OpenSSL config string (e.g. "critical,CA:TRUE"). */
int ca_ext_add(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -EINVAL;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -ENOMEM;
}

/* Common part of both certificates we make: version, serial, names, times. */
X509 *ca_cert_skeleton(X509_NAME *subject, const X509_NAME *issuer, EVP_PKEY *pub,
		       int64_t not_before, int64_t not_after, struct cert_serial *serial)
{
	ASN1_INTEGER *sn = NULL;
	ASN1_TIME *nb = NULL, *na = NULL;
	X509 *x = X509_new();

	if (!x || cert_serial_random(serial))
		goto err;
	sn = cert_serial_asn1(serial);
	nb = ASN1_TIME_set(NULL, (time_t)not_before);
	na = ASN1_TIME_set(NULL, (time_t)not_after);
	if (!sn || !nb || !na || !X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_serialNumber(x, sn) || !X509_set_subject_name(x, subject) ||
	    !X509_set_issuer_name(x, issuer) || !X509_set1_notBefore(x, nb) ||
	    !X509_set1_notAfter(x, na) || !X509_set_pubkey(x, pub))
		goto err;
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
	return x;
err:
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
	X509_free(x);
	return NULL;
}

X509_NAME *ca_name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	if (n && X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
					    (const unsigned char *)"xdnat", -1, -1, 0) &&
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
				       (const unsigned char *)cn, -1, -1, 0))
		return n;
	X509_NAME_free(n);
	return NULL;
}

/* ---- our own CA, or the site's ------------------------------------------ */

static int load_chain(const char *path, STACK_OF(X509) **out, char *err, size_t errlen)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	const unsigned char *p;
	struct stat st;
	uint8_t *buf;
	X509 *x;
	size_t len;
	BIO *bio;
	int rc;

	if (!sk)
		return cert_fail(err, errlen, -ENOMEM, "%s: out of memory", path);
	rc = cert_file_read(path, &buf, &len, &st, err, errlen);
	if (rc) {
		sk_X509_free(sk);
		return rc;
	}
	bio = BIO_new_mem_buf(buf, (int)len);
	while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		if (sk_X509_num(sk) == CA_MAX_CHAIN || !sk_X509_push(sk, x)) {
			X509_free(x);
			rc = cert_fail(err, errlen, -E2BIG, "%s: more than %d certificates",
				       path, CA_MAX_CHAIN);
			goto out;
		}
	}
	BIO_free(bio);
	bio = NULL;
	/* PEM reading ends with "no start line"; anything else is a bad block. */
	if (sk_X509_num(sk) &&
	    ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
		rc = cert_fail(err, errlen, -EINVAL, "%s: certificate %d is corrupt: %s",
			       path, sk_X509_num(sk) + 1, cert_ossl_reason());
		goto out;
	}
	if (!sk_X509_num(sk)) {
		p = buf;
		x = d2i_X509(NULL, &p, (long)len);
		if (!x || p != buf + len || !sk_X509_push(sk, x)) {
			X509_free(x);
			rc = cert_fail(err, errlen, -EINVAL, "%s: no PEM or DER certificate", path);
			goto out;
		}
	}
	*out = sk;
	sk = NULL;
	ERR_clear_error();
out:
	BIO_free(bio);
	free(buf);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

static int write_pem_x509(const char *dir, const char *name, X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int rc = -ENOMEM;

	if (b && PEM_write_bio_X509(b, x)) {
		n = BIO_get_mem_data(b, &data);
		rc = atomic_write_file(dir, name, data, (size_t)n, 0644);
	}
	BIO_free(b);
	return rc;
}

/* The self-signed CA certificate of a CA we run ourselves. */
static X509 *make_ca_cert(EVP_PKEY *key, uint32_t global_be)
{
	char cn[65], label[64] = "";
	struct cert_serial serial;
	int64_t now = time(NULL);
	X509_NAME *name;
	X509 *x = NULL;

	if (global_be)
		inet_ntop(AF_INET, &global_be, label, sizeof(label));
	else if (gethostname(label, sizeof(label) - 1))
		strcpy(label, "gateway");
	label[sizeof(label) - 1] = 0;
	/* CN is at most 64 characters (X.520 ub-common-name). */
	snprintf(cn, sizeof(cn), "xdnat local CA %.49s", label);
	name = ca_name(cn);
	if (name)
		x = ca_cert_skeleton(name, name, key, now - CA_BACKDATE,
				     now + (int64_t)CA_DAYS * 86400, &serial);
	X509_NAME_free(name);
	if (!x)
		return NULL;
	/* pathlen:0: this CA certifies hosts, never another CA. */
	if (ca_ext_add(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    ca_ext_add(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    ca_ext_add(x, x, NID_subject_key_identifier, "hash") ||
	    !X509_sign(x, key, ca_sig_md(key))) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* What we require of any certificate we sign with. */
static int check_ca_cert(X509 *x, const char *path, char *err, size_t errlen)
{
	uint32_t flags = X509_get_extension_flags(x);

	if (flags & EXFLAG_INVALID)
		return cert_fail(err, errlen, -EINVAL, "%s: certificate has malformed extensions",
				 path);
	if (!(flags & EXFLAG_CA))
		return cert_fail(err, errlen, -EINVAL,
				 "%s: not a CA certificate (no basicConstraints CA:TRUE)", path);
	if ((flags & EXFLAG_KUSAGE) &&
	    (X509_get_key_usage(x) & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) !=
	    (KU_KEY_CERT_SIGN | KU_CRL_SIGN))
		return cert_fail(err, errlen, -EINVAL,
				 "%s: CA keyUsage lacks keyCertSign or cRLSign", path);
	return 0;
}

/* The whole chain: [0] a CA matching the key, each cert issued and signed by
 * the next, none expired. Also records the earliest notAfter. */
static int check_chain(struct ca *ca, const char *crt, const char *keyf, char *err,
		       size_t errlen)
{
	int64_t now = time(NULL);
	int i, n = sk_X509_num(ca->chain), rc;

	rc = check_ca_cert(sk_X509_value(ca->chain, 0), crt, err, errlen);
	if (rc)
		return rc;
	if (EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(ca->chain, 0)), ca->key) != 1)
		return cert_fail(err, errlen, -EINVAL,
				 "%s: private key does not match the CA certificate %s", keyf, crt);
	ca->not_after = INT64_MAX;
	for (i = 0; i < n; i++) {
		X509 *x = sk_X509_value(ca->chain, i);
		int64_t na = cert_time_unix(X509_get0_notAfter(x));

		if (na <= now)
			return cert_fail(err, errlen, -EKEYEXPIRED,
					 "%s: certificate %d has expired", crt, i + 1);
		if (na < ca->not_after)
			ca->not_after = na;
		if (i + 1 < n) {
			X509 *up = sk_X509_value(ca->chain, i + 1);

			if (X509_check_issued(up, x) != X509_V_OK ||
			    X509_verify(x, X509_get0_pubkey(up)) != 1)
				return cert_fail(err, errlen, -EINVAL,
						 "%s: certificate %d is not issued by certificate %d "
						 "(order: signing CA first, then its issuers)",
						 crt, i + 1, i + 2);
			rc = check_ca_cert(up, crt, err, errlen);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* ---- open / close ------------------------------------------------------- */

/* Our own CA in state_dir: load it, or create it on the first start. */
static int open_own(struct ca *ca, uint32_t global_be, char *keyf, char *crt,
		    char *err, size_t errlen)
{
	struct stat st;
	bool have_key = !stat(keyf, &st), have_crt = !stat(crt, &st);
	X509 *x;
	int rc;

	if (!have_key && have_crt)
		return cert_fail(err, errlen, -ENOENT,
				 "%s exists but %s does not: restore the key, or remove both "
				 "to create a new CA (hosts must then trust the new one)",
				 crt, keyf);
	if (have_key) {
		rc = cert_key_load(keyf, &ca->key, err, errlen);
		if (rc)
			return rc;
	} else {
		ca->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		if (!ca->key)
			return cert_fail(err, errlen, -EIO, "CA key generation failed: %s",
					 cert_ossl_reason());
		rc = cert_key_write(ca->dir, CA_KEY_FILE, ca->key);
		if (rc)
			return cert_fail(err, errlen, rc, "%s: %s", keyf, strerror(-rc));
	}
	if (have_crt)
		return load_chain(crt, &ca->chain, err, errlen);
	/* First start, or a crash between writing the key and the cert. */
	x = make_ca_cert(ca->key, global_be);
	if (!x)
		return cert_fail(err, errlen, -EIO, "creating the CA certificate failed: %s",
				 cert_ossl_reason());
	rc = write_pem_x509(ca->dir, CA_CRT_FILE, x);
	if (rc) {
		X509_free(x);
		return cert_fail(err, errlen, rc, "%s: %s", crt, strerror(-rc));
	}
	ca->chain = sk_X509_new_null();
	if (!ca->chain || !sk_X509_push(ca->chain, x)) {
		X509_free(x);
		return cert_fail(err, errlen, -ENOMEM, "out of memory");
	}
	log_info("CA: created %s and %s", keyf, crt);
	return 0;
}

int ca_open(const char *state_dir, const char *cert_file, const char *key_file,
	    uint32_t global_be, struct ca **out, char *err, size_t errlen)
{
	char keyf[PATH_MAX], crt[PATH_MAX];
	struct ca *ca;
	int rc;

	if (!state_dir || !out)
		return cert_fail(err, errlen, -EINVAL, "no CA state directory");
	if (!cert_file != !key_file)
		return cert_fail(err, errlen, -EINVAL, "--ca-cert and --ca-key go together");
	*out = NULL;
	if ((size_t)snprintf(keyf, sizeof(keyf), "%s/%s", state_dir, CA_KEY_FILE) >= sizeof(keyf) ||
	    (size_t)snprintf(crt, sizeof(crt), "%s/%s", state_dir, CA_CRT_FILE) >= sizeof(crt))
		return cert_fail(err, errlen, -ENAMETOOLONG, "%s: path too long", state_dir);
	rc = mkdir_p(state_dir, 0700);
	if (rc)
		return cert_fail(err, errlen, rc, "%s: %s", state_dir, strerror(-rc));
	ca = calloc(1, sizeof(*ca));
	if (!ca || !(ca->dir = strdup(state_dir))) {
		free(ca);
		return cert_fail(err, errlen, -ENOMEM, "out of memory");
	}
	if (cert_file) {
		rc = cert_key_load(key_file, &ca->key, err, errlen);
		if (!rc)
			rc = load_chain(cert_file, &ca->chain, err, errlen);
		if (!rc)
			rc = check_chain(ca, cert_file, key_file, err, errlen);
	} else {
		rc = open_own(ca, global_be, keyf, crt, err, errlen);
		if (!rc)
			rc = check_chain(ca, crt, keyf, err, errlen);
	}
	if (rc)
		goto err;
	ca->n_chain = (unsigned int)sk_X509_num(ca->chain);
	for (unsigned int i = 0; i < ca->n_chain; i++) {
		unsigned char *d = NULL;
		int n = i2d_X509(sk_X509_value(ca->chain, (int)i), &d);

		if (n <= 0) {
			rc = cert_fail(err, errlen, -ENOMEM, "out of memory");
			goto err;
		}
		ca->chain_der[i] = d;
		ca->chain_len[i] = (size_t)n;
	}
	rc = ca_crl_list_load(ca, err, errlen);
	if (!rc)
		rc = ca_crl_publish(ca, err, errlen);
	if (rc)
		goto err;
	*out = ca;
	return 0;
err:
	ca_close(ca);
	return rc;
}

void ca_close(struct ca *ca)
{
	if (!ca)
		return;
	for (unsigned int i = 0; i < ca->n_chain; i++)
		OPENSSL_free(ca->chain_der[i]);
	sk_X509_pop_free(ca->chain, X509_free);
	EVP_PKEY_free(ca->key);
	X509_CRL_free(ca->crl);
	free(ca->revoked);
	free(ca->dir);
	free(ca->crl_url);
	free(ca->port_blocks_oid);
	free(ca);
}

int ca_set_profile(struct ca *ca, const char *crl_url, const char *port_blocks_oid)
{
	char *url = crl_url && *crl_url ? strdup(crl_url) : NULL;
	char *oid = port_blocks_oid && *port_blocks_oid ? strdup(port_blocks_oid) : NULL;

	if ((crl_url && *crl_url && !url) || (port_blocks_oid && *port_blocks_oid && !oid)) {
		free(url);
		free(oid);
		return -ENOMEM;
	}
	free(ca->crl_url);
	free(ca->port_blocks_oid);
	ca->crl_url = url;
	ca->port_blocks_oid = oid;
	return 0;
}

/* ---- the chain ---------------------------------------------------------- */

int ca_chain_pem(struct ca *ca, char **pem, size_t *len)
{
	if (!ca || !pem || !len)
		return -EINVAL;
	return cert_pem_encode_chain("CERTIFICATE", (const uint8_t *const *)ca->chain_der,
				     ca->chain_len, ca->n_chain, pem, len);
}

int ca_chain_der(const struct ca *ca, const uint8_t **der, size_t *lens, unsigned int max)
{
	if (!ca || !der || !lens)
		return -EINVAL;
	if (ca->n_chain > max)
		return -ENOSPC;
	for (unsigned int i = 0; i < ca->n_chain; i++) {
		der[i] = ca->chain_der[i];
		lens[i] = ca->chain_len[i];
	}
	return (int)ca->n_chain;
}
