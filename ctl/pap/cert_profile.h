/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The certificate profile gateway and host both speak (docs/ca.md): the
 * portBlocks extension that binds G and its ports to a key, certificate
 * serials, PEM, and private key files kept the way the CA keeps its own.
 * The gateway's CA (gateway/ca.h) writes certificates with it; the host
 * agent (host/host_cert.h) reads them back. OpenSSL 3 does the ASN.1.
 */
#ifndef XDNAT_CERT_PROFILE_H
#define XDNAT_CERT_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "pap/pap.h"

/*
 * OID of the port-blocks extension: a UUID-based OID under 2.25 (ITU-T
 * X.667, RFC 9562), which needs no registration. The UUID is the name-based
 * (version 5, SHA-1) UUID of "urn:xdnat:x509:portBlocks" in the URL
 * namespace, e982993a-c0a8-54a7-8fd3-3664026d6d5e (docs/ca.md). xdnatd
 * --port-blocks-oid issues another; the host agent reads this one.
 */
#define CERT_OID_PORT_BLOCKS	"2.25.310388229473022331704350473149991447902"
#define CERT_MAX_OID		128	/* dotted text */

#define CERT_SERIAL_LEN		16

/* A certificate serial number: 128 bits, big-endian, top bit clear. */
struct cert_serial {
	uint8_t b[CERT_SERIAL_LEN];
};

/* ---- errors ------------------------------------------------------------- */

/* For error paths around OpenSSL calls: the printf-style reason into err
 * (when err and errlen), OpenSSL's error queue cleared; returns rc. */
int cert_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Reason of the last OpenSSL error, for the one-line messages. */
const char *cert_ossl_reason(void);

/* ---- files -------------------------------------------------------------- */

/* A whole regular file of at most 1 MiB (a key, a certificate chain) into a
 * malloc'd, NUL-terminated *buf; *st gets its fstat. 0 or -errno with a
 * one-line reason naming the file in err. Free with
 * OPENSSL_clear_free(buf, len + 1) when it may hold a key. */
int cert_file_read(const char *path, uint8_t **buf, size_t *len, struct stat *st,
		   char *err, size_t errlen);

/*
 * A private key file as the CA keeps its own (the host agent keeps its key
 * the same way): load refuses a file readable by group or others, anything
 * but a regular file, and encrypted keys; PEM or DER. 0 or -errno with a
 * one-line reason naming the file in err. write: PEM (PKCS#8) as dir/name,
 * mode 0600, atomically. 0 or -errno.
 */
int cert_key_load(const char *path, EVP_PKEY **out, char *err, size_t errlen);
int cert_key_write(const char *dir, const char *name, EVP_PKEY *key);

/* ---- PEM ---------------------------------------------------------------- */

/* DER as one PEM block with label ("CERTIFICATE", "X509 CRL"): a malloc'd
 * NUL-terminated string. 0 or -errno. */
int cert_pem_encode(const char *label, const uint8_t *der, size_t len, char **pem,
		    size_t *pem_len);
/* n DER blocks (n >= 1) as n concatenated PEM blocks with label: a chain
 * file. 0 or -errno. */
int cert_pem_encode_chain(const char *label, const uint8_t *const *der, const size_t *lens,
			  unsigned int n, char **pem, size_t *pem_len);

/* ---- reading a certificate ---------------------------------------------- */

/* A DER certificate with nothing after it, or NULL (X509_free it). */
X509 *cert_parse(const uint8_t *der, size_t len);
/* An ASN.1 time as unix seconds; -1 when absent or unreadable. */
int64_t cert_time_unix(const ASN1_TIME *t);

/*
 * Read the portBlocks extension of a DER certificate. *n is the capacity of
 * ports on entry and the number of blocks on return; *global_be gets the
 * first block's G. 0, -ENOENT (no extension), -EBADMSG (malformed) or
 * -ENOSPC (*n set to the number needed).
 */
int cert_read_ports(const uint8_t *der, size_t len, uint32_t *global_be,
		    struct pap_port_range *ports, unsigned int *n);
/* The same for the extension under oid (dotted text). */
int cert_read_ports_oid(const uint8_t *der, size_t len, const char *oid,
			uint32_t *global_be, struct pap_port_range *ports, unsigned int *n);
/* True when oid is a dotted OID OpenSSL takes (an --port-blocks-oid). */
bool cert_oid_valid(const char *oid);
/* Validity of a DER certificate, unix seconds. 0 or -EBADMSG. */
int cert_read_validity(const uint8_t *der, size_t len, int64_t *not_before,
		       int64_t *not_after);
/* Serial of a DER certificate (e.g. one to revoke). 0, -EBADMSG, or
 * -ERANGE (negative or over 128 bits: not one of ours). */
int cert_read_serial(const uint8_t *der, size_t len, struct cert_serial *out);

/* ---- writing a certificate ---------------------------------------------- */

/* Add the portBlocks extension (not critical) under oid (NULL: the
 * default) naming blocks r[0..n-1] of G, in that order. 0 or -ENOMEM. */
int cert_port_blocks_add(X509 *x, const char *oid, uint32_t global_be,
			 const struct pap_port_range *r, unsigned int n);

/* ---- serials ------------------------------------------------------------ */

/* A fresh random serial, never zero. 0 or -EIO. */
int cert_serial_random(struct cert_serial *s);
/* As an ASN.1 INTEGER (ASN1_INTEGER_free it), or NULL. */
ASN1_INTEGER *cert_serial_asn1(const struct cert_serial *s);
/* Serial as 32 lowercase hex digits / parsed back (1..32 hex digits,
 * optional 0x, colons allowed). parse returns 0 or -EINVAL. */
void cert_serial_hex(const struct cert_serial *s, char out[2 * CERT_SERIAL_LEN + 1]);
int cert_serial_parse(const char *s, struct cert_serial *out);

#endif
