/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The CA's revocation list (ca.h, docs/ca.md, "Revocation and the CRL"):
 * crl.list is the record, crl.pem the CRL signed from it.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/atomic_file.h"
#include "lib/log.h"
#include "gateway/ca_internal.h"

#define CA_CRL_LIST	"crl.list"
#define CA_CRL_PEM	"crl.pem"
#define CA_LIST_MAGIC	"# xdnat crl.list v1"

/* Room for one more entry on the list. 0 or -ENOMEM. */
static int revoked_reserve(struct ca *ca)
{
	size_t cap;
	void *p;

	if (ca->n_revoked < ca->cap_revoked)
		return 0;
	cap = ca->cap_revoked ? 2 * ca->cap_revoked : 64;
	p = realloc(ca->revoked, cap * sizeof(*ca->revoked));
	if (!p)
		return -ENOMEM;
	ca->revoked = p;
	ca->cap_revoked = cap;
	return 0;
}

int ca_crl_list_load(struct ca *ca, char *err, size_t errlen)
{
	char path[PATH_MAX], line[128];
	unsigned int lineno = 0;
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", ca->dir, CA_CRL_LIST);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 :
		       cert_fail(err, errlen, -errno, "%s: %s", path, strerror(errno));
	while (!rc && fgets(line, sizeof(line), f)) {
		struct ca_revoked r = { .expires = 0 };
		char hex[40];
		int64_t when;
		uint64_t num;
		int n;

		lineno++;
		if (lineno == 1) {
			if (strncmp(line, CA_LIST_MAGIC "\n", sizeof(CA_LIST_MAGIC)))
				rc = -EINVAL;
			continue;
		}
		if (lineno == 2) {
			if (sscanf(line, "number %" SCNu64, &num) == 1)
				ca->crl_number = num;
			else
				rc = -EINVAL;
			continue;
		}
		n = sscanf(line, "%39s %" SCNd64 " %" SCNd64, hex, &when, &r.expires);
		if (n < 2 || r.expires < 0 || cert_serial_parse(hex, &r.serial)) {
			rc = -EINVAL;
			continue;
		}
		rc = revoked_reserve(ca);
		if (rc)
			continue;
		r.when = when;
		ca->revoked[ca->n_revoked++] = r;
	}
	fclose(f);
	/* A damaged list must not silently un-revoke anything. */
	if (rc || lineno < 2)
		return cert_fail(err, errlen, rc ? rc : -EINVAL,
				 "%s:%u: damaged revocation list; fix or restore it", path, lineno);
	return 0;
}

static int crl_list_save(struct ca *ca, uint64_t number)
{
	size_t cap = 64 + ca->n_revoked * 80, n;
	char *buf = malloc(cap), hex[2 * CERT_SERIAL_LEN + 1];
	int rc;

	if (!buf)
		return -ENOMEM;
	n = (size_t)snprintf(buf, cap, CA_LIST_MAGIC "\nnumber %" PRIu64 "\n", number);
	for (size_t i = 0; i < ca->n_revoked; i++) {
		cert_serial_hex(&ca->revoked[i].serial, hex);
		if (ca->revoked[i].expires)
			n += (size_t)snprintf(buf + n, cap - n, "%s %" PRId64 " %" PRId64 "\n",
					      hex, ca->revoked[i].when, ca->revoked[i].expires);
		else
			n += (size_t)snprintf(buf + n, cap - n, "%s %" PRId64 "\n", hex,
					      ca->revoked[i].when);
	}
	rc = atomic_write_file(ca->dir, CA_CRL_LIST, buf, n, 0644);
	free(buf);
	return rc;
}

static X509_CRL *crl_build(struct ca *ca, uint64_t number, int64_t now)
{
	X509 *cacert = sk_X509_value(ca->chain, 0);
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = NULL;
	ASN1_INTEGER *num = NULL;
	X509_EXTENSION *akid;
	X509V3_CTX ctx;

	if (!crl || !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(cacert)))
		goto err;
	t = ASN1_TIME_set(NULL, (time_t)(now - CA_BACKDATE));
	if (!t || !X509_CRL_set1_lastUpdate(crl, t) ||
	    !ASN1_TIME_set(t, (time_t)(now - CA_BACKDATE + CA_CRL_LIFE)) ||
	    !X509_CRL_set1_nextUpdate(crl, t))
		goto err;
	for (size_t i = 0; i < ca->n_revoked; i++) {
		X509_REVOKED *rv = X509_REVOKED_new();
		ASN1_INTEGER *sn = cert_serial_asn1(&ca->revoked[i].serial);

		if (!rv || !sn || !ASN1_TIME_set(t, (time_t)ca->revoked[i].when) ||
		    !X509_REVOKED_set_serialNumber(rv, sn) ||
		    !X509_REVOKED_set_revocationDate(rv, t) || !X509_CRL_add0_revoked(crl, rv)) {
			X509_REVOKED_free(rv);
			ASN1_INTEGER_free(sn);
			goto err;
		}
		ASN1_INTEGER_free(sn);
	}
	X509_CRL_sort(crl);
	num = ASN1_INTEGER_new();
	if (!num || !ASN1_INTEGER_set_uint64(num, number) ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1)
		goto err;
	X509V3_set_ctx(&ctx, cacert, NULL, NULL, crl, 0);
	akid = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid");
	if (akid) {
		int ok = X509_CRL_add_ext(crl, akid, -1);

		X509_EXTENSION_free(akid);
		if (!ok)
			goto err;
	}
	if (!X509_CRL_sign(crl, ca->key, ca_sig_md(ca->key)))
		goto err;
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(num);
	return crl;
err:
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(num);
	X509_CRL_free(crl);
	return NULL;
}

/* Entries of expired certificates that a CRL issued after the expiry has
 * listed are done with (RFC 5280, 3.3): without this, every renewal would
 * grow the CRL for ever. */
static void crl_prune(struct ca *ca)
{
	size_t n = 0;

	for (size_t i = 0; i < ca->n_revoked; i++)
		if (!ca->revoked[i].spent)
			ca->revoked[n++] = ca->revoked[i];
	ca->n_revoked = n;
}

/* Sign, persist the list (with the new number) and write crl.pem. The list
 * goes first: once it is on disk the number is spent and the revocations
 * stand, even if crl.pem cannot be written. *listed says whether it got that
 * far. */
static int crl_publish(struct ca *ca, bool *listed, char *err, size_t errlen)
{
	uint64_t number = ca->crl_number + 1;
	int64_t now = time(NULL);
	X509_CRL *crl;
	char *data;
	BIO *b;
	long n;
	int rc;

	*listed = false;
	crl_prune(ca);
	crl = crl_build(ca, number, now);
	if (!crl)
		return cert_fail(err, errlen, -EIO, "signing the CRL failed: %s",
				 cert_ossl_reason());
	rc = crl_list_save(ca, number);
	if (rc) {
		X509_CRL_free(crl);
		return cert_fail(err, errlen, rc, "%s/%s: %s", ca->dir, CA_CRL_LIST, strerror(-rc));
	}
	*listed = true;
	ca->crl_number = number;
	b = BIO_new(BIO_s_mem());
	rc = -ENOMEM;
	if (b && PEM_write_bio_X509_CRL(b, crl)) {
		n = BIO_get_mem_data(b, &data);
		rc = atomic_write_file(ca->dir, CA_CRL_PEM, data, (size_t)n, 0644);
	}
	BIO_free(b);
	/* The new CRL is the current one even if crl.pem lags: it is what we
	 * would publish, and ca_crl_der() serves it. */
	X509_CRL_free(ca->crl);
	ca->crl = crl;
	ca->crl_time = now;
	for (size_t i = 0; i < ca->n_revoked; i++)
		if (ca->revoked[i].expires && ca->revoked[i].expires < now - CA_BACKDATE)
			ca->revoked[i].spent = true;
	if (rc)
		return cert_fail(err, errlen, rc, "%s/%s: %s", ca->dir, CA_CRL_PEM, strerror(-rc));
	return 0;
}

int ca_crl_publish(struct ca *ca, char *err, size_t errlen)
{
	bool listed;

	if (!ca)
		return -EINVAL;
	return crl_publish(ca, &listed, err, errlen);
}

int ca_revoke(struct ca *ca, const struct cert_serial *serial, time_t when, char *err,
	      size_t errlen)
{
	return ca_revoke_until(ca, serial, when, 0, err, errlen);
}

int ca_revoke_until(struct ca *ca, const struct cert_serial *serial, time_t when,
		    time_t expires, char *err, size_t errlen)
{
	bool listed;
	int rc;

	if (!ca || !serial)
		return cert_fail(err, errlen, -EINVAL, "no CA or serial");
	for (size_t i = 0; i < ca->n_revoked; i++)
		if (!memcmp(&ca->revoked[i].serial, serial, sizeof(*serial)))
			return 0;
	if (revoked_reserve(ca))
		return cert_fail(err, errlen, -ENOMEM, "out of memory");
	ca->revoked[ca->n_revoked] = (struct ca_revoked){
		.serial = *serial,
		.when = when ? (int64_t)when : (int64_t)time(NULL),
		.expires = expires > 0 ? (int64_t)expires : 0,
	};
	ca->n_revoked++;
	rc = crl_publish(ca, &listed, err, errlen);
	if (rc && !listed)
		ca->n_revoked--;	/* not on disk: not revoked (still last: new, not spent) */
	return rc;
}

size_t ca_revoked_count(const struct ca *ca)
{
	return ca ? ca->n_revoked : 0;
}

int ca_crl_der(struct ca *ca, uint8_t **der, size_t *len)
{
	unsigned char *out = NULL;
	int64_t now = time(NULL);
	int n;

	if (!ca || !der || !len)
		return -EINVAL;
	if (!ca->crl || now - ca->crl_time >= CA_CRL_LIFE / 2) {
		char err[256];
		bool listed;
		int rc = crl_publish(ca, &listed, err, sizeof(err));

		if (rc && !ca->crl)
			return rc;
		if (rc)
			log_warn("CA: %s", err);
	}
	n = i2d_X509_CRL(ca->crl, &out);
	if (n <= 0)
		return -ENOMEM;
	*der = out;
	*len = (size_t)n;
	return 0;
}
