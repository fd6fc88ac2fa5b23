/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The certificate profile (cert_profile.h, docs/ca.md). All of the X.509,
 * ASN.1 and cryptography is OpenSSL 3; this file only says what the
 * portBlocks extension and a serial look like, and keeps key files.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "lib/atomic_file.h"
#include "pap/cert_profile.h"

#define CERT_MAX_FILE	(1 << 20)	/* no key or chain file is bigger */

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

/* ---- errors ------------------------------------------------------------- */

int cert_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
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

const char *cert_ossl_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());

	return r ? r : "unknown error";
}

/* ---- files -------------------------------------------------------------- */

int cert_file_read(const char *path, uint8_t **buf, size_t *len, struct stat *st,
		   char *err, size_t errlen)
{
	size_t n = 0;
	uint8_t *b;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int rc = -errno;

		return cert_fail(err, errlen, rc, "%s: %s", path, strerror(-rc));
	}
	if (fstat(fd, st)) {
		int rc = -errno;

		close(fd);
		return cert_fail(err, errlen, rc, "%s: %s", path, strerror(-rc));
	}
	if (!S_ISREG(st->st_mode) || st->st_size > CERT_MAX_FILE) {
		close(fd);
		return cert_fail(err, errlen, -EINVAL, "%s: not a regular file under 1 MiB", path);
	}
	b = malloc((size_t)st->st_size + 1);
	if (!b) {
		close(fd);
		return cert_fail(err, errlen, -ENOMEM, "%s: out of memory", path);
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
		return cert_fail(err, errlen, -EIO, "%s: short read", path);
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

int cert_key_load(const char *path, EVP_PKEY **out, char *err, size_t errlen)
{
	const unsigned char *p;
	EVP_PKEY *key = NULL;
	struct stat st;
	uint8_t *buf;
	size_t len;
	BIO *bio;
	int rc;

	rc = cert_file_read(path, &buf, &len, &st, err, errlen);
	if (rc)
		return rc;
	/* The key signs (every host certificate, or IKE): nobody else may
	 * read it. */
	if (st.st_mode & 077) {
		OPENSSL_clear_free(buf, len + 1);
		return cert_fail(err, errlen, -EPERM,
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
		return cert_fail(err, errlen, -EINVAL,
				 "%s: not a PEM or DER private key (encrypted keys are not supported)",
				 path);
	*out = key;
	ERR_clear_error();
	return 0;
}

/* PEM (PKCS#8) through a fresh temp file created 0600, fsync, rename. */
int cert_key_write(const char *dir, const char *name, EVP_PKEY *key)
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

/* ---- PEM ---------------------------------------------------------------- */

int cert_pem_encode_chain(const char *label, const uint8_t *const *der, const size_t *lens,
			  unsigned int n, char **pem, size_t *pem_len)
{
	char *data, *s;
	long dl;
	BIO *b;
	int rc = -ENOMEM;

	if (!label || !der || !lens || !n || !pem || !pem_len)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++)
		if (!der[i] || !lens[i] || lens[i] > INT_MAX)
			return -EINVAL;
	b = BIO_new(BIO_s_mem());
	for (unsigned int i = 0; b && i < n; i++)
		if (PEM_write_bio(b, label, "", der[i], (long)lens[i]) <= 0)
			goto out;
	if (!b)
		goto out;
	dl = BIO_get_mem_data(b, &data);
	s = malloc((size_t)dl + 1);
	if (!s)
		goto out;
	memcpy(s, data, (size_t)dl);
	s[dl] = 0;
	*pem = s;
	*pem_len = (size_t)dl;
	rc = 0;
out:
	BIO_free(b);
	return rc;
}

int cert_pem_encode(const char *label, const uint8_t *der, size_t len, char **pem,
		    size_t *pem_len)
{
	return cert_pem_encode_chain(label, &der, &len, 1, pem, pem_len);
}

/* ---- reading a certificate ---------------------------------------------- */

X509 *cert_parse(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x;

	if (!der || len > LONG_MAX)
		return NULL;
	x = d2i_X509(NULL, &p, (long)len);
	if (x && p != der + len) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

int64_t cert_time_unix(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return -1;
	return (int64_t)timegm(&tm);
}

int cert_read_ports(const uint8_t *der, size_t len, uint32_t *global_be,
		    struct pap_port_range *ports, unsigned int *n)
{
	return cert_read_ports_oid(der, len, CERT_OID_PORT_BLOCKS, global_be, ports, n);
}

bool cert_oid_valid(const char *oid)
{
	ASN1_OBJECT *obj = oid && *oid ? OBJ_txt2obj(oid, 1) : NULL;
	bool ok = obj != NULL;

	ASN1_OBJECT_free(obj);
	ERR_clear_error();
	return ok;
}

int cert_read_ports_oid(const uint8_t *der, size_t len, const char *oid,
			uint32_t *global_be, struct pap_port_range *ports, unsigned int *n)
{
	XDNAT_PORT_BLOCKS *sk = NULL;
	ASN1_OBJECT *obj = NULL;
	const ASN1_OCTET_STRING *data;
	const unsigned char *q;
	X509 *x = NULL;
	int idx, cnt, rc = -EBADMSG;

	if (!der || !n || (*n && !ports) || len > LONG_MAX)
		return -EINVAL;
	x = cert_parse(der, len);
	obj = OBJ_txt2obj(oid ? oid : CERT_OID_PORT_BLOCKS, 1);
	if (!obj) {
		rc = -ENOMEM;
		goto out;
	}
	if (!x)
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

static int serial_from_asn1(const ASN1_INTEGER *ai, struct cert_serial *s)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(ai, NULL);
	int rc = -EINVAL;

	if (bn && !BN_is_negative(bn) && BN_bn2binpad(bn, s->b, sizeof(s->b)) == sizeof(s->b))
		rc = 0;
	BN_free(bn);
	return rc;
}

int cert_read_serial(const uint8_t *der, size_t len, struct cert_serial *out)
{
	X509 *x;
	int rc = -EBADMSG;

	if (!der || !out || len > LONG_MAX)
		return -EINVAL;
	x = cert_parse(der, len);
	if (x)
		rc = serial_from_asn1(X509_get0_serialNumber(x), out) ? -ERANGE : 0;
	X509_free(x);
	ERR_clear_error();
	return rc;
}

int cert_read_validity(const uint8_t *der, size_t len, int64_t *not_before,
		       int64_t *not_after)
{
	int rc = -EBADMSG;
	X509 *x;

	if (!der || !not_before || !not_after || len > LONG_MAX)
		return -EINVAL;
	x = cert_parse(der, len);
	if (x) {
		*not_before = cert_time_unix(X509_get0_notBefore(x));
		*not_after = cert_time_unix(X509_get0_notAfter(x));
		if (*not_before >= 0 && *not_after >= 0)
			rc = 0;
	}
	X509_free(x);
	ERR_clear_error();
	return rc;
}

/* ---- writing a certificate ---------------------------------------------- */

int cert_port_blocks_add(X509 *x, const char *oid, uint32_t global_be,
			 const struct pap_port_range *r, unsigned int n)
{
	XDNAT_PORT_BLOCKS *sk = sk_XDNAT_PORT_BLOCK_new_null();
	ASN1_OBJECT *obj = OBJ_txt2obj(oid ? oid : CERT_OID_PORT_BLOCKS, 1);
	ASN1_OCTET_STRING *oct = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	unsigned char *der = NULL;
	int len, rc = -ENOMEM;

	if (!sk || !obj || !oct)
		goto out;
	for (unsigned int i = 0; i < n; i++) {
		XDNAT_PORT_BLOCK *b = XDNAT_PORT_BLOCK_new();

		if (!b || !ASN1_OCTET_STRING_set(b->global, (const unsigned char *)&global_be, 4) ||
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

/* ---- serials ------------------------------------------------------------ */

int cert_serial_random(struct cert_serial *s)
{
	static const struct cert_serial zero;

	do {
		if (RAND_bytes(s->b, sizeof(s->b)) != 1)
			return -EIO;
		s->b[0] &= 0x7f;	/* a positive INTEGER of at most 16 octets */
	} while (!memcmp(s, &zero, sizeof(zero)));
	return 0;
}

ASN1_INTEGER *cert_serial_asn1(const struct cert_serial *s)
{
	BIGNUM *bn = BN_bin2bn(s->b, sizeof(s->b), NULL);
	ASN1_INTEGER *ai = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;

	BN_free(bn);
	return ai;
}

void cert_serial_hex(const struct cert_serial *s, char out[2 * CERT_SERIAL_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < CERT_SERIAL_LEN; i++) {
		out[2 * i] = hex[s->b[i] >> 4];
		out[2 * i + 1] = hex[s->b[i] & 15];
	}
	out[2 * CERT_SERIAL_LEN] = 0;
}

int cert_serial_parse(const char *s, struct cert_serial *out)
{
	char digits[2 * CERT_SERIAL_LEN];
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

		out->b[CERT_SERIAL_LEN - 1 - i / 2] |= (uint8_t)(v << (4 * (i & 1)));
	}
	return 0;
}
