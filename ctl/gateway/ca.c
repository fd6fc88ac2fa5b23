/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The local certificate authority (ca.h, docs/ca.md). All of the X.509,
 * ASN.1 and cryptography is OpenSSL 3; this file only decides what goes into
 * a certificate and keeps the CA's files.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/atomic_file.h"
#include "gateway/ca.h"
#include "lib/log.h"

#define CA_KEY_FILE	"ca.key"
#define CA_CRT_FILE	"ca.crt"
#define CA_CRL_LIST	"crl.list"
#define CA_CRL_PEM	"crl.pem"
#define CA_LIST_MAGIC	"# xdnat crl.list v1"

#define CA_MAX_FILE	(1 << 20)	/* no key or chain file is bigger */
#define CA_MAX_CHAIN	8
#define CA_DAYS		3652		/* own CA: ten years */
#define CA_BACKDATE	60		/* notBefore/thisUpdate: tolerate skew */
#define CA_CRL_LIFE	86400		/* nextUpdate = thisUpdate + 1 day */

/*
 * The portBlocks extension (docs/ca.md):
 *   PortBlocks ::= SEQUENCE OF PortBlock
 *   PortBlock  ::= SEQUENCE { global OCTET STRING (SIZE (4)),
 *                             first INTEGER (0..65535), last INTEGER (0..65535) }
 * declared with OpenSSL's templates, so i2d/d2i are OpenSSL's.
 */
typedef struct xdnat_port_block_st {
	ASN1_OCTET_STRING *global;
	ASN1_INTEGER *first;
	ASN1_INTEGER *last;
} XDNAT_PORT_BLOCK;

ASN1_SEQUENCE(XDNAT_PORT_BLOCK) = {
	ASN1_SIMPLE(XDNAT_PORT_BLOCK, global, ASN1_OCTET_STRING),
	ASN1_SIMPLE(XDNAT_PORT_BLOCK, first, ASN1_INTEGER),
	ASN1_SIMPLE(XDNAT_PORT_BLOCK, last, ASN1_INTEGER),
} static_ASN1_SEQUENCE_END(XDNAT_PORT_BLOCK)

IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(XDNAT_PORT_BLOCK)

DEFINE_STACK_OF(XDNAT_PORT_BLOCK)
typedef STACK_OF(XDNAT_PORT_BLOCK) XDNAT_PORT_BLOCKS;

ASN1_ITEM_TEMPLATE(XDNAT_PORT_BLOCKS) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, XDNAT_PORT_BLOCKS, XDNAT_PORT_BLOCK)
static_ASN1_ITEM_TEMPLATE_END(XDNAT_PORT_BLOCKS)

struct ca_revoked {
	struct ca_serial serial;
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
};

int ca_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	ERR_clear_error();
	return rc;
}

/* Reason of the last OpenSSL error, for the one-line messages. */
static const char *ossl_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());

	return r ? r : "unknown error";
}

static int64_t asn1_time_unix(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return -1;
	return (int64_t)timegm(&tm);
}

/* EdDSA signs the message itself; the others hash with a digest sized to
 * the key. */
static const EVP_MD *sig_md(EVP_PKEY *k)
{
	if (EVP_PKEY_is_a(k, "ED25519") || EVP_PKEY_is_a(k, "ED448"))
		return NULL;
	if (EVP_PKEY_is_a(k, "EC") && EVP_PKEY_get_bits(k) > 384)
		return EVP_sha512();
	if (EVP_PKEY_is_a(k, "EC") && EVP_PKEY_get_bits(k) > 256)
		return EVP_sha384();
	return EVP_sha256();
}

/* ---- files --------------------------------------------------------------- */

/* Read a whole regular file; *st gets its fstat (for the mode check). */
static int read_file(const char *path, uint8_t **buf, size_t *len, struct stat *st,
		     char *err, size_t errlen)
{
	size_t n = 0;
	uint8_t *b;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int rc = -errno;

		return ca_fail(err, errlen, rc, "%s: %s", path, strerror(-rc));
	}
	if (fstat(fd, st)) {
		int rc = -errno;

		close(fd);
		return ca_fail(err, errlen, rc, "%s: %s", path, strerror(-rc));
	}
	if (!S_ISREG(st->st_mode) || st->st_size > CA_MAX_FILE) {
		close(fd);
		return ca_fail(err, errlen, -EINVAL, "%s: not a regular file under 1 MiB", path);
	}
	b = malloc((size_t)st->st_size + 1);
	if (!b) {
		close(fd);
		return ca_fail(err, errlen, -ENOMEM, "%s: out of memory", path);
	}
	while (n < (size_t)st->st_size) {
		ssize_t r = read(fd, b + n, (size_t)st->st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n != (size_t)st->st_size) {
		OPENSSL_clear_free(b, (size_t)st->st_size + 1);
		return ca_fail(err, errlen, -EIO, "%s: short read", path);
	}
	b[n] = 0;
	*buf = b;
	*len = n;
	return 0;
}

/* Never prompt for a passphrase: a daemon has no terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int ca_key_load(const char *path, EVP_PKEY **out, char *err, size_t errlen)
{
	const unsigned char *p;
	EVP_PKEY *key = NULL;
	struct stat st;
	uint8_t *buf;
	size_t len;
	BIO *bio;
	int rc;

	rc = read_file(path, &buf, &len, &st, err, errlen);
	if (rc)
		return rc;
	/* The key signs every host certificate: nobody else may read it. */
	if (st.st_mode & 077) {
		OPENSSL_clear_free(buf, len + 1);
		return ca_fail(err, errlen, -EPERM,
			       "%s: private key is readable by group/others (mode %04o); chmod 600 it",
			       path, (unsigned int)(st.st_mode & 07777));
	}
	bio = BIO_new_mem_buf(buf, (int)len);
	if (bio) {
		key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
		BIO_free(bio);
	}
	if (!key) {
		p = buf;
		key = d2i_AutoPrivateKey(NULL, &p, (long)len);
	}
	OPENSSL_clear_free(buf, len + 1);
	if (!key)
		return ca_fail(err, errlen, -EINVAL,
			       "%s: not a PEM or DER private key (encrypted keys are not supported)",
			       path);
	*out = key;
	ERR_clear_error();
	return 0;
}

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
		return ca_fail(err, errlen, -ENOMEM, "%s: out of memory", path);
	rc = read_file(path, &buf, &len, &st, err, errlen);
	if (rc) {
		sk_X509_free(sk);
		return rc;
	}
	bio = BIO_new_mem_buf(buf, (int)len);
	while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		if (sk_X509_num(sk) == CA_MAX_CHAIN || !sk_X509_push(sk, x)) {
			X509_free(x);
			rc = ca_fail(err, errlen, -E2BIG, "%s: more than %d certificates",
				     path, CA_MAX_CHAIN);
			goto out;
		}
	}
	BIO_free(bio);
	bio = NULL;
	/* PEM reading ends with "no start line"; anything else is a bad block. */
	if (sk_X509_num(sk) &&
	    ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
		rc = ca_fail(err, errlen, -EINVAL, "%s: certificate %d is corrupt: %s",
			     path, sk_X509_num(sk) + 1, ossl_reason());
		goto out;
	}
	if (!sk_X509_num(sk)) {
		p = buf;
		x = d2i_X509(NULL, &p, (long)len);
		if (!x || p != buf + len || !sk_X509_push(sk, x)) {
			X509_free(x);
			rc = ca_fail(err, errlen, -EINVAL, "%s: no PEM or DER certificate", path);
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

/* PEM (PKCS#8) through a fresh temp file created 0600, fsync, rename. */
int ca_key_write(const char *dir, const char *name, EVP_PKEY *key)
{
	BIO *b = BIO_new(BIO_s_secmem());
	char *data;
	int rc = -ENOMEM;
	long n;

	if (b && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)) {
		n = BIO_get_mem_data(b, &data);
		rc = atomic_write_file(dir, name, data, (size_t)n, 0600);
	}
	BIO_free(b);
	return rc;
}

/* ---- certificates ------------------------------------------------------- */

/* One extension from its OpenSSL config string (e.g. "critical,CA:TRUE"). */
static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
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

static int serial_random(struct ca_serial *s)
{
	static const struct ca_serial zero;

	do {
		if (RAND_bytes(s->b, sizeof(s->b)) != 1)
			return -EIO;
		s->b[0] &= 0x7f;	/* a positive INTEGER of at most 16 octets */
	} while (!memcmp(s, &zero, sizeof(zero)));
	return 0;
}

static ASN1_INTEGER *serial_asn1(const struct ca_serial *s)
{
	BIGNUM *bn = BN_bin2bn(s->b, sizeof(s->b), NULL);
	ASN1_INTEGER *ai = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;

	BN_free(bn);
	return ai;
}

static int serial_from_asn1(const ASN1_INTEGER *ai, struct ca_serial *s)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(ai, NULL);
	int rc = -EINVAL;

	if (bn && !BN_is_negative(bn) && BN_bn2binpad(bn, s->b, sizeof(s->b)) == sizeof(s->b))
		rc = 0;
	BN_free(bn);
	return rc;
}

/* Common part of both certificates we make: version, serial, names, times. */
static X509 *cert_skeleton(X509_NAME *subject, const X509_NAME *issuer, EVP_PKEY *pub,
			   int64_t not_before, int64_t not_after, struct ca_serial *serial)
{
	ASN1_INTEGER *sn = NULL;
	ASN1_TIME *nb = NULL, *na = NULL;
	X509 *x = X509_new();

	if (!x || serial_random(serial))
		goto err;
	sn = serial_asn1(serial);
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

static X509_NAME *make_name(const char *cn)
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

/* The self-signed CA certificate of a CA we run ourselves. */
static X509 *make_ca_cert(EVP_PKEY *key, uint32_t global_be)
{
	char cn[65], label[64] = "";
	struct ca_serial serial;
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
	name = make_name(cn);
	if (name)
		x = cert_skeleton(name, name, key, now - CA_BACKDATE,
				  now + (int64_t)CA_DAYS * 86400, &serial);
	X509_NAME_free(name);
	if (!x)
		return NULL;
	/* pathlen:0: this CA certifies hosts, never another CA. */
	if (add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    add_ext(x, x, NID_subject_key_identifier, "hash") ||
	    !X509_sign(x, key, sig_md(key))) {
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
		return ca_fail(err, errlen, -EINVAL, "%s: certificate has malformed extensions",
			       path);
	if (!(flags & EXFLAG_CA))
		return ca_fail(err, errlen, -EINVAL,
			       "%s: not a CA certificate (no basicConstraints CA:TRUE)", path);
	if ((flags & EXFLAG_KUSAGE) &&
	    (X509_get_key_usage(x) & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) !=
	    (KU_KEY_CERT_SIGN | KU_CRL_SIGN))
		return ca_fail(err, errlen, -EINVAL,
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
		return ca_fail(err, errlen, -EINVAL,
			       "%s: private key does not match the CA certificate %s", keyf, crt);
	ca->not_after = INT64_MAX;
	for (i = 0; i < n; i++) {
		X509 *x = sk_X509_value(ca->chain, i);
		int64_t na = asn1_time_unix(X509_get0_notAfter(x));

		if (na <= now)
			return ca_fail(err, errlen, -EKEYEXPIRED,
				       "%s: certificate %d has expired", crt, i + 1);
		if (na < ca->not_after)
			ca->not_after = na;
		if (i + 1 < n) {
			X509 *up = sk_X509_value(ca->chain, i + 1);

			if (X509_check_issued(up, x) != X509_V_OK ||
			    X509_verify(x, X509_get0_pubkey(up)) != 1)
				return ca_fail(err, errlen, -EINVAL,
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

/* ---- CRL ---------------------------------------------------------------- */

static int crl_list_load(struct ca *ca, char *err, size_t errlen)
{
	char path[PATH_MAX], line[128];
	unsigned int lineno = 0;
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", ca->dir, CA_CRL_LIST);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 :
		       ca_fail(err, errlen, -errno, "%s: %s", path, strerror(errno));
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
		if (n < 2 || r.expires < 0 || ca_serial_parse(hex, &r.serial)) {
			rc = -EINVAL;
			continue;
		}
		if (ca->n_revoked == ca->cap_revoked) {
			size_t cap = ca->cap_revoked ? 2 * ca->cap_revoked : 64;
			void *p = realloc(ca->revoked, cap * sizeof(*ca->revoked));

			if (!p) {
				rc = -ENOMEM;
				continue;
			}
			ca->revoked = p;
			ca->cap_revoked = cap;
		}
		r.when = when;
		ca->revoked[ca->n_revoked++] = r;
	}
	fclose(f);
	/* A damaged list must not silently un-revoke anything. */
	if (rc || lineno < 2)
		return ca_fail(err, errlen, rc ? rc : -EINVAL,
			       "%s:%u: damaged revocation list; fix or restore it", path, lineno);
	return 0;
}

static int crl_list_save(struct ca *ca, uint64_t number)
{
	size_t cap = 64 + ca->n_revoked * 80, n;
	char *buf = malloc(cap), hex[2 * CA_SERIAL_LEN + 1];
	int rc;

	if (!buf)
		return -ENOMEM;
	n = (size_t)snprintf(buf, cap, CA_LIST_MAGIC "\nnumber %" PRIu64 "\n", number);
	for (size_t i = 0; i < ca->n_revoked; i++) {
		ca_serial_hex(&ca->revoked[i].serial, hex);
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
		ASN1_INTEGER *sn = serial_asn1(&ca->revoked[i].serial);

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
	if (!X509_CRL_sign(crl, ca->key, sig_md(ca->key)))
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
		return ca_fail(err, errlen, -EIO, "signing the CRL failed: %s", ossl_reason());
	rc = crl_list_save(ca, number);
	if (rc) {
		X509_CRL_free(crl);
		return ca_fail(err, errlen, rc, "%s/%s: %s", ca->dir, CA_CRL_LIST, strerror(-rc));
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
		return ca_fail(err, errlen, rc, "%s/%s: %s", ca->dir, CA_CRL_PEM, strerror(-rc));
	return 0;
}

int ca_crl_publish(struct ca *ca, char *err, size_t errlen)
{
	bool listed;

	if (!ca)
		return -EINVAL;
	return crl_publish(ca, &listed, err, errlen);
}

int ca_revoke(struct ca *ca, const struct ca_serial *serial, time_t when, char *err,
	      size_t errlen)
{
	return ca_revoke_until(ca, serial, when, 0, err, errlen);
}

int ca_revoke_until(struct ca *ca, const struct ca_serial *serial, time_t when,
		    time_t expires, char *err, size_t errlen)
{
	bool listed;
	int rc;

	if (!ca || !serial)
		return ca_fail(err, errlen, -EINVAL, "no CA or serial");
	for (size_t i = 0; i < ca->n_revoked; i++)
		if (!memcmp(&ca->revoked[i].serial, serial, sizeof(*serial)))
			return 0;
	if (ca->n_revoked == ca->cap_revoked) {
		size_t cap = ca->cap_revoked ? 2 * ca->cap_revoked : 64;
		void *p = realloc(ca->revoked, cap * sizeof(*ca->revoked));

		if (!p)
			return ca_fail(err, errlen, -ENOMEM, "out of memory");
		ca->revoked = p;
		ca->cap_revoked = cap;
	}
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
		return ca_fail(err, errlen, -ENOENT,
			       "%s exists but %s does not: restore the key, or remove both "
			       "to create a new CA (hosts must then trust the new one)", crt, keyf);
	if (have_key) {
		rc = ca_key_load(keyf, &ca->key, err, errlen);
		if (rc)
			return rc;
	} else {
		ca->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		if (!ca->key)
			return ca_fail(err, errlen, -EIO, "CA key generation failed: %s",
				       ossl_reason());
		rc = ca_key_write(ca->dir, CA_KEY_FILE, ca->key);
		if (rc)
			return ca_fail(err, errlen, rc, "%s: %s", keyf, strerror(-rc));
	}
	if (have_crt)
		return load_chain(crt, &ca->chain, err, errlen);
	/* First start, or a crash between writing the key and the cert. */
	x = make_ca_cert(ca->key, global_be);
	if (!x)
		return ca_fail(err, errlen, -EIO, "creating the CA certificate failed: %s",
			       ossl_reason());
	rc = write_pem_x509(ca->dir, CA_CRT_FILE, x);
	if (rc) {
		X509_free(x);
		return ca_fail(err, errlen, rc, "%s: %s", crt, strerror(-rc));
	}
	ca->chain = sk_X509_new_null();
	if (!ca->chain || !sk_X509_push(ca->chain, x)) {
		X509_free(x);
		return ca_fail(err, errlen, -ENOMEM, "out of memory");
	}
	log_info("CA: created %s and %s", keyf, crt);
	return 0;
}

int ca_open(const char *state_dir, const char *cert_file, const char *key_file,
	    uint32_t global_be, struct ca **out, char *err, size_t errlen)
{
	char keyf[PATH_MAX], crt[PATH_MAX];
	struct ca *ca;
	bool listed;
	int rc;

	if (!state_dir || !out)
		return ca_fail(err, errlen, -EINVAL, "no CA state directory");
	if (!cert_file != !key_file)
		return ca_fail(err, errlen, -EINVAL, "--ca-cert and --ca-key go together");
	*out = NULL;
	if ((size_t)snprintf(keyf, sizeof(keyf), "%s/%s", state_dir, CA_KEY_FILE) >= sizeof(keyf) ||
	    (size_t)snprintf(crt, sizeof(crt), "%s/%s", state_dir, CA_CRT_FILE) >= sizeof(crt))
		return ca_fail(err, errlen, -ENAMETOOLONG, "%s: path too long", state_dir);
	rc = mkdir_p(state_dir, 0700);
	if (rc)
		return ca_fail(err, errlen, rc, "%s: %s", state_dir, strerror(-rc));
	ca = calloc(1, sizeof(*ca));
	if (!ca || !(ca->dir = strdup(state_dir))) {
		free(ca);
		return ca_fail(err, errlen, -ENOMEM, "out of memory");
	}
	if (cert_file) {
		rc = ca_key_load(key_file, &ca->key, err, errlen);
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
			rc = ca_fail(err, errlen, -ENOMEM, "out of memory");
			goto err;
		}
		ca->chain_der[i] = d;
		ca->chain_len[i] = (size_t)n;
	}
	rc = crl_list_load(ca, err, errlen);
	if (!rc)
		rc = crl_publish(ca, &listed, err, errlen);
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
	free(ca);
}

/* ---- issuing ------------------------------------------------------------ */

/* ECDSA on P-256/P-384 (named curves only) and RSA of 2048 bits or more:
 * what strongSwan and every IKE peer take, nothing exotic. */
static bool csr_key_ok(EVP_PKEY *k)
{
	char name[64];
	size_t nl;
	int nid;

	if (EVP_PKEY_is_a(k, "RSA"))
		return EVP_PKEY_get_bits(k) >= 2048;
	if (!EVP_PKEY_is_a(k, "EC") ||
	    !EVP_PKEY_get_group_name(k, name, sizeof(name), &nl))
		return false;
	nid = OBJ_sn2nid(name);
	if (nid == NID_undef)
		nid = EC_curve_nist2nid(name);
	return nid == NID_X9_62_prime256v1 || nid == NID_secp384r1;
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

static int add_port_blocks(X509 *x, uint32_t g, const struct pap_port_range *r,
			   unsigned int n)
{
	XDNAT_PORT_BLOCKS *sk = sk_XDNAT_PORT_BLOCK_new_null();
	ASN1_OBJECT *obj = OBJ_txt2obj(CA_OID_PORT_BLOCKS, 1);
	ASN1_OCTET_STRING *oct = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	unsigned char *der = NULL;
	int len, rc = -ENOMEM;

	if (!sk || !obj || !oct)
		goto out;
	for (unsigned int i = 0; i < n; i++) {
		XDNAT_PORT_BLOCK *b = XDNAT_PORT_BLOCK_new();

		if (!b || !ASN1_OCTET_STRING_set(b->global, (const unsigned char *)&g, 4) ||
		    !ASN1_INTEGER_set(b->first, r[i].first) ||
		    !ASN1_INTEGER_set(b->last, r[i].last) ||
		    !sk_XDNAT_PORT_BLOCK_push(sk, b)) {
			XDNAT_PORT_BLOCK_free(b);
			goto out;
		}
	}
	len = ASN1_item_i2d((ASN1_VALUE *)sk, &der, ASN1_ITEM_rptr(XDNAT_PORT_BLOCKS));
	if (len <= 0 || !ASN1_OCTET_STRING_set(oct, der, len))
		goto out;
	/* Not critical: peers that do not know it still accept the cert and
	 * can read the same facts from the SAN URI. */
	ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, oct);
	if (ext && X509_add_ext(x, ext, -1))
		rc = 0;
out:
	X509_EXTENSION_free(ext);
	OPENSSL_free(der);
	ASN1_OCTET_STRING_free(oct);
	ASN1_OBJECT_free(obj);
	if (sk)
		ASN1_item_free((ASN1_VALUE *)sk, ASN1_ITEM_rptr(XDNAT_PORT_BLOCKS));
	return rc;
}

int ca_issue(struct ca *ca, const uint8_t *csr_der, size_t csr_len,
	     const struct host *h, uint32_t global_be, uint64_t not_after_unix,
	     uint8_t **cert_der, size_t *cert_len, struct ca_serial *serial_out,
	     int *pap_err)
{
	struct pap_port_range r[HOST_MAX_RANGES];
	/* "xdnat://" G "/ports/" then up to 16 of "65535-65535," */
	char gs[INET_ADDRSTRLEN], cn[64], uri[48 + HOST_MAX_RANGES * 12];
	const unsigned char *p = csr_der;
	int64_t now = time(NULL), na;
	X509 *cacert, *x = NULL;
	X509_NAME *subject = NULL;
	struct ca_serial serial;
	X509_REQ *req = NULL;
	unsigned char *out = NULL;
	unsigned int n = 0;
	EVP_PKEY *pub;
	int dummy, len, rc;
	size_t u;

	if (!pap_err)
		pap_err = &dummy;
	*pap_err = PAP_E_INTERNAL;
	if (!ca || !h || !cert_der || !cert_len)
		return -EINVAL;
	*cert_der = NULL;
	*cert_len = 0;

	/* The request: well-formed, an acceptable key, proof of possession.
	 * Nothing else in it is used. */
	if (!csr_der || !csr_len || csr_len > PAP_MAX_DER ||
	    !(req = d2i_X509_REQ(NULL, &p, (long)csr_len)) || p != csr_der + csr_len ||
	    !(pub = X509_REQ_get0_pubkey(req))) {
		rc = -EBADMSG;
		*pap_err = PAP_E_BAD_CSR;
		goto out;
	}
	if (!csr_key_ok(pub)) {
		rc = -EPROTONOSUPPORT;
		*pap_err = PAP_E_BAD_KEY;
		goto out;
	}
	if (X509_REQ_verify(req, pub) != 1) {
		rc = -EBADMSG;
		*pap_err = PAP_E_BAD_CSR;
		goto out;
	}

	/* What the certificate binds: G and the host's blocks of G. */
	if (!global_be)
		global_be = h->global;
	for (unsigned int i = 0; i < h->n_ports && i < HOST_MAX_RANGES; i++) {
		if (h->ports[i].global != global_be)
			continue;
		if (h->ports[i].first > h->ports[i].last) {
			rc = -EINVAL;
			goto out;
		}
		r[n++] = h->ports[i];
	}
	if (!global_be || !n) {
		rc = -ENOENT;
		*pap_err = PAP_E_NO_PORTS;
		goto out;
	}
	qsort(r, n, sizeof(r[0]), cmp_range);
	inet_ntop(AF_INET, &global_be, gs, sizeof(gs));
	snprintf(cn, sizeof(cn), "%" PRIu32 "@%s", h->client_id, gs);
	u = (size_t)snprintf(uri, sizeof(uri), "xdnat://%s/ports/", gs);
	for (unsigned int i = 0; i < n && u < sizeof(uri); i++)
		u += (size_t)snprintf(uri + u, sizeof(uri) - u, "%s%u-%u", i ? "," : "",
				      r[i].first, r[i].last);
	if (u >= sizeof(uri)) {		/* cannot happen: sized for 16 blocks */
		rc = -EOVERFLOW;
		goto out;
	}

	/* Never outlive the lease (ports are reused after it) nor any CA. */
	na = not_after_unix > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)not_after_unix;
	if (na > ca->not_after)
		na = ca->not_after;
	if (na <= now) {
		rc = -EINVAL;
		goto out;
	}

	cacert = sk_X509_value(ca->chain, 0);
	rc = -ENOMEM;
	subject = make_name(cn);
	if (!subject)
		goto out;
	x = cert_skeleton(subject, X509_get_subject_name(cacert), pub, now - CA_BACKDATE,
			  na, &serial);
	if (!x)
		goto out;
	if (add_ext(x, cacert, NID_basic_constraints, "critical,CA:FALSE") ||
	    add_ext(x, cacert, NID_key_usage, "critical,digitalSignature") ||
	    add_ext(x, cacert, NID_ext_key_usage, "ipsecIKE,serverAuth,clientAuth") ||
	    add_ext(x, cacert, NID_subject_key_identifier, "hash") ||
	    (add_ext(x, cacert, NID_authority_key_identifier, "keyid:always") &&
	     add_ext(x, cacert, NID_authority_key_identifier, "issuer:always")) ||
	    add_san(x, global_be, uri) || add_port_blocks(x, global_be, r, n))
		goto out;
	if (!X509_sign(x, ca->key, sig_md(ca->key))) {
		rc = -EIO;
		goto out;
	}
	len = i2d_X509(x, &out);
	if (len <= 0)
		goto out;
	*cert_der = out;
	*cert_len = (size_t)len;
	if (serial_out)
		*serial_out = serial;
	*pap_err = PAP_OK;
	rc = 0;
out:
	X509_NAME_free(subject);
	X509_free(x);
	X509_REQ_free(req);
	ERR_clear_error();
	return rc;
}

/* ---- chain and parsing helpers ------------------------------------------ */

/* The contents of memory BIO b as a malloc'd NUL-terminated string. 0 or
 * -ENOMEM. */
static int bio_take_string(BIO *b, char **out, size_t *len)
{
	char *data, *s;
	long n = BIO_get_mem_data(b, &data);

	s = malloc((size_t)n + 1);
	if (!s)
		return -ENOMEM;
	memcpy(s, data, (size_t)n);
	s[n] = 0;
	*out = s;
	*len = (size_t)n;
	return 0;
}

int ca_chain_pem(struct ca *ca, char **pem, size_t *len)
{
	BIO *b;
	int rc = -ENOMEM;

	if (!ca || !pem || !len)
		return -EINVAL;
	b = BIO_new(BIO_s_mem());
	for (int i = 0; b && i < sk_X509_num(ca->chain); i++)
		if (!PEM_write_bio_X509(b, sk_X509_value(ca->chain, i)))
			goto out;
	if (!b)
		goto out;
	rc = bio_take_string(b, pem, len);
out:
	BIO_free(b);
	return rc;
}

int ca_pem_encode(const char *label, const uint8_t *der, size_t len, char **pem,
		  size_t *pem_len)
{
	BIO *b;
	int rc = -ENOMEM;

	if (!label || !der || !len || len > INT_MAX || !pem || !pem_len)
		return -EINVAL;
	b = BIO_new(BIO_s_mem());
	if (!b || PEM_write_bio(b, label, "", der, (long)len) <= 0)
		goto out;
	rc = bio_take_string(b, pem, pem_len);
out:
	BIO_free(b);
	return rc;
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

int ca_cert_ports(const uint8_t *der, size_t len, uint32_t *global_be,
		  struct pap_port_range *ports, unsigned int *n)
{
	const unsigned char *p = der, *q;
	XDNAT_PORT_BLOCKS *sk = NULL;
	ASN1_OBJECT *obj = NULL;
	const ASN1_OCTET_STRING *data;
	X509 *x = NULL;
	int idx, cnt, rc = -EBADMSG;

	if (!der || !n || (*n && !ports) || len > LONG_MAX)
		return -EINVAL;
	x = d2i_X509(NULL, &p, (long)len);
	obj = OBJ_txt2obj(CA_OID_PORT_BLOCKS, 1);
	if (!obj) {
		rc = -ENOMEM;
		goto out;
	}
	if (!x || p != der + len)
		goto out;
	idx = X509_get_ext_by_OBJ(x, obj, -1);
	if (idx < 0) {
		rc = -ENOENT;
		goto out;
	}
	if (X509_get_ext_by_OBJ(x, obj, idx) >= 0)
		goto out;		/* twice: which one would be true? */
	data = X509_EXTENSION_get_data(X509_get_ext(x, idx));
	q = ASN1_STRING_get0_data(data);
	sk = (XDNAT_PORT_BLOCKS *)ASN1_item_d2i(NULL, &q, ASN1_STRING_length(data),
						ASN1_ITEM_rptr(XDNAT_PORT_BLOCKS));
	if (!sk || q != ASN1_STRING_get0_data(data) + ASN1_STRING_length(data))
		goto out;
	cnt = sk_XDNAT_PORT_BLOCK_num(sk);
	if ((unsigned int)cnt > *n) {
		*n = (unsigned int)cnt;
		rc = -ENOSPC;
		goto out;
	}
	for (int i = 0; i < cnt; i++) {
		XDNAT_PORT_BLOCK *b = sk_XDNAT_PORT_BLOCK_value(sk, i);
		int64_t f, l;

		if (ASN1_STRING_length(b->global) != 4 ||
		    !ASN1_INTEGER_get_int64(&f, b->first) ||
		    !ASN1_INTEGER_get_int64(&l, b->last) ||
		    f < 0 || l > 65535 || f > l)
			goto out;
		memcpy(&ports[i].global, ASN1_STRING_get0_data(b->global), 4);
		ports[i].first = (uint16_t)f;
		ports[i].last = (uint16_t)l;
	}
	if (global_be)
		*global_be = cnt ? ports[0].global : 0;
	*n = (unsigned int)cnt;
	rc = 0;
out:
	if (sk)
		ASN1_item_free((ASN1_VALUE *)sk, ASN1_ITEM_rptr(XDNAT_PORT_BLOCKS));
	ASN1_OBJECT_free(obj);
	X509_free(x);
	ERR_clear_error();
	return rc;
}

int ca_cert_serial(const uint8_t *der, size_t len, struct ca_serial *out)
{
	const unsigned char *p = der;
	X509 *x;
	int rc = -EBADMSG;

	if (!der || !out || len > LONG_MAX)
		return -EINVAL;
	x = d2i_X509(NULL, &p, (long)len);
	if (x && p == der + len)
		rc = serial_from_asn1(X509_get0_serialNumber(x), out) ? -ERANGE : 0;
	X509_free(x);
	ERR_clear_error();
	return rc;
}

int ca_cert_validity(const uint8_t *der, size_t len, int64_t *not_before,
		     int64_t *not_after)
{
	const unsigned char *p = der;
	int rc = -EBADMSG;
	X509 *x;

	if (!der || !not_before || !not_after || len > LONG_MAX)
		return -EINVAL;
	x = d2i_X509(NULL, &p, (long)len);
	if (x && p == der + len) {
		*not_before = asn1_time_unix(X509_get0_notBefore(x));
		*not_after = asn1_time_unix(X509_get0_notAfter(x));
		if (*not_before >= 0 && *not_after >= 0)
			rc = 0;
	}
	X509_free(x);
	ERR_clear_error();
	return rc;
}

void ca_serial_hex(const struct ca_serial *s, char out[2 * CA_SERIAL_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < CA_SERIAL_LEN; i++) {
		out[2 * i] = hex[s->b[i] >> 4];
		out[2 * i + 1] = hex[s->b[i] & 15];
	}
	out[2 * CA_SERIAL_LEN] = 0;
}

int ca_serial_parse(const char *s, struct ca_serial *out)
{
	char digits[2 * CA_SERIAL_LEN];
	size_t nd = 0;

	if (!s || !out)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s; s++) {
		if (*s == ':')
			continue;
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		      (*s >= 'A' && *s <= 'F')) || nd == sizeof(digits))
			return -EINVAL;
		digits[nd++] = *s;
	}
	if (!nd)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < nd; i++) {
		char c = digits[nd - 1 - i];
		unsigned int v = c <= '9' ? (unsigned int)(c - '0') :
				 (unsigned int)((c | 0x20) - 'a' + 10);

		out->b[CA_SERIAL_LEN - 1 - i / 2] |= (uint8_t)(v << (4 * (i & 1)));
	}
	return 0;
}
