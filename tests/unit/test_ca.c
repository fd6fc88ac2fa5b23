/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Unit tests for the local CA (ctl/gateway/ca*.c) and the certificate
 * profile it writes (ctl/pap/cert_profile.c): creating and reloading the CA,
 * the issued certificate's profile (checked with OpenSSL in C and with the
 * openssl command line, as an external peer would), refusing bad CSRs and
 * bad CA files, revocation and the CRL, and a site-provided intermediate CA.
 * Every test works in its own mkdtemp directory, removed by the teardown.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "gateway/ca.h"
#include "gateway/host.h"
#include "lib/log.h"
#include "test_tmpdir.h"

#define G_STR		"198.51.100.1"
#define CLIENT_ID	7

struct fx {
	char root[64];
	char dir[PATH_MAX];	/* the CA's state_dir */
	char err[512];
	struct ca *ca;
	uint32_t g;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	if (tmpdir_make(f->root, sizeof(f->root), "/tmp/xdnat-test-ca-XXXXXX",
			f->dir, sizeof(f->dir), "state")) {
		free(f);
		return -1;
	}
	inet_pton(AF_INET, G_STR, &f->g);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ca_close(f->ca);
	tmpdir_remove(f->root);
	free(f);
	return 0;
}

/* A path under the test root (tmpdir_path). */
static const char *rpath(const struct fx *f, const char *name)
{
	return tmpdir_path(f->root, name);
}

static const char *spath(const struct fx *f, const char *name)
{
	static char bufs[4][PATH_MAX + 64];
	static unsigned int next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof(bufs[0]), "%s/%s", f->dir, name);
	return b;
}

static void open_own(struct fx *f)
{
	int rc = ca_open(f->dir, NULL, NULL, f->g, &f->ca, f->err, sizeof(f->err));

	if (rc)
		fail_msg("ca_open: %d %s", rc, f->err);
}

static void reopen_own(struct fx *f)
{
	ca_close(f->ca);
	f->ca = NULL;
	open_own(f);
}

/* The whole file; the test fails when it cannot be read. */
static uint8_t *read_all(const char *path, size_t *len)
{
	uint8_t *p = tmpdir_read_file(path, len);

	assert_non_null(p);
	return p;
}

static void write_all(const char *path, const void *p, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* Run a shell command; its exit status, output (stdout+stderr) in out. */
static int run(char *out, size_t outlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int run(char *out, size_t outlen, const char *fmt, ...)
{
	char cmd[4096];
	size_t n = 0;
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd) - 8, fmt, ap);
	va_end(ap);
	strcat(cmd, " 2>&1");
	p = popen(cmd, "r");
	assert_non_null(p);
	while (n + 1 < outlen && fgets(out + n, (int)(outlen - n), p))
		n += strlen(out + n);
	out[n] = 0;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- keys, CSRs, certificates ------------------------------------------ */

static EVP_PKEY *gen_ec(const char *curve)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);

	assert_non_null(k);
	return k;
}

static EVP_PKEY *gen_rsa(size_t bits)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits);

	assert_non_null(k);
	return k;
}

static EVP_PKEY *gen_dsa(int bits)
{
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "DSA", NULL), *kc;
	EVP_PKEY *params = NULL, *k = NULL;

	assert_non_null(pc);
	assert_int_equal(EVP_PKEY_paramgen_init(pc), 1);
	assert_int_equal(EVP_PKEY_CTX_set_dsa_paramgen_bits(pc, bits), 1);
	assert_int_equal(EVP_PKEY_paramgen(pc, &params), 1);
	kc = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL);
	assert_non_null(kc);
	assert_int_equal(EVP_PKEY_keygen_init(kc), 1);
	assert_int_equal(EVP_PKEY_keygen(kc, &k), 1);
	EVP_PKEY_CTX_free(kc);
	EVP_PKEY_CTX_free(pc);
	EVP_PKEY_free(params);
	return k;
}

/* A PKCS#10 request; san and ask_ca add extension requests the CA must
 * ignore. */
static uint8_t *make_csr(EVP_PKEY *k, const char *cn, const char *san, int ask_ca,
			 size_t *len)
{
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	unsigned char *der = NULL;
	X509V3_CTX ctx;
	int n;

	assert_non_null(req);
	assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					       (const unsigned char *)cn, -1, -1, 0));
	assert_true(X509_REQ_set_subject_name(req, name));
	assert_true(X509_REQ_set_pubkey(req, k));
	X509V3_set_ctx(&ctx, NULL, NULL, req, NULL, 0);
	if (san)
		sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, &ctx,
						NID_subject_alt_name, san));
	if (ask_ca)
		sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, &ctx,
						NID_basic_constraints, "critical,CA:TRUE"));
	if (sk_X509_EXTENSION_num(exts))
		assert_true(X509_REQ_add_extensions(req, exts));
	assert_true(X509_REQ_sign(req, k, EVP_PKEY_is_a(k, "ED25519") ? NULL : EVP_sha256()) > 0);
	n = i2d_X509_REQ(req, &der);
	assert_true(n > 0);
	*len = (size_t)n;
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return der;
}

static void host_init(struct host *h, uint32_t g)
{
	memset(h, 0, sizeof(*h));
	h->client_id = CLIENT_ID;
	h->global = g;
	h->n_ports = 2;
	/* Given out of order: the certificate lists them ascending. */
	h->ports[0] = (struct pap_port_range){ .global = g, .first = 4096, .last = 4351 };
	h->ports[1] = (struct pap_port_range){ .global = g, .first = 1024, .last = 2047 };
}

/* ca_issue() for h's blocks of its G, as xdnatd asks for a host. */
static int issue_for(struct ca *ca, const uint8_t *csr, size_t csr_len, const struct host *h,
		     uint64_t not_after, uint8_t **der, size_t *len, struct cert_serial *serial,
		     int *pe)
{
	return ca_issue(ca, csr, csr_len, h->client_id, h->global, h->ports, h->n_ports,
			not_after, der, len, serial, pe);
}

/* Issue for a fresh P-256 key; returns the DER certificate. */
static uint8_t *issue(struct fx *f, const struct host *h, uint64_t not_after,
		      size_t *len, struct cert_serial *serial)
{
	EVP_PKEY *k = gen_ec("P-256");
	size_t csr_len;
	uint8_t *csr = make_csr(k, "host", NULL, 0, &csr_len), *der = NULL;
	int pe = -1, rc;

	rc = issue_for(f->ca, csr, csr_len, h, not_after, &der, len, serial, &pe);
	assert_int_equal(rc, 0);
	assert_int_equal(pe, PAP_OK);
	assert_non_null(der);
	OPENSSL_free(csr);
	EVP_PKEY_free(k);
	return der;
}

static X509 *x509(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	assert_non_null(x);
	return x;
}

static void write_cert_pem(const char *path, const uint8_t *der, size_t len)
{
	X509 *x = x509(der, len);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_true(PEM_write_X509(fp, x));
	fclose(fp);
	X509_free(x);
}

static void fingerprint(const struct ca *ca, uint8_t md[32])
{
	const uint8_t *der[8];
	size_t lens[8];
	unsigned int mdlen;

	assert_int_equal(ca_chain_der(ca, der, lens, 8), 1);
	assert_true(EVP_Digest(der[0], lens[0], md, &mdlen, EVP_sha256(), NULL));
}

/* The certificate as a verifier in C sees it: 1 when it chains to trusted
 * (extra as untrusted intermediates), with the CRL when given. */
static int verify_c(X509 *trusted, X509 *extra, X509 *leaf, X509_CRL *crl, int purpose)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	int ok;

	assert_true(X509_STORE_add_cert(st, trusted));
	if (extra)
		sk_X509_push(untrusted, extra);
	if (crl) {
		assert_true(X509_STORE_add_crl(st, crl));
		X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
	}
	assert_true(X509_STORE_CTX_init(ctx, st, leaf, untrusted));
	if (purpose)
		X509_STORE_CTX_set_purpose(ctx, purpose);
	ok = X509_verify_cert(ctx);
	if (ok != 1)
		print_message("verify: %s\n",
			      X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	X509_STORE_free(st);
	return ok;
}

/* A CA certificate made outside xdnat (the site's PKI), signed by issuer
 * (NULL: self-signed). is_ca 0 makes an end-entity certificate instead. */
static X509 *site_cert(EVP_PKEY *k, const char *cn, X509 *issuer, EVP_PKEY *ikey, int is_ca)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	static long serial = 1000;

	assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
					       (const unsigned char *)cn, -1, -1, 0));
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
				is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, is_ca ?
				"critical,keyCertSign,cRLSign" : "critical,digitalSignature");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier, "hash");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	assert_true(X509_sign(x, issuer ? ikey : k, EVP_sha256()) > 0);
	X509_NAME_free(n);
	return x;
}

static void write_key_pem(const char *path, EVP_PKEY *k, mode_t mode)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;

	assert_true(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL));
	n = BIO_get_mem_data(b, &data);
	write_all(path, data, (size_t)n, mode);
	BIO_free(b);
}

static void write_x509s(const char *path, X509 *a, X509 *b)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_true(PEM_write_X509(fp, a));
	if (b)
		assert_true(PEM_write_X509(fp, b));
	fclose(fp);
}

static char *subject_cn(X509 *x)
{
	static char buf[256];

	buf[0] = 0;
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof(buf));
	return buf;
}

/* ---- tests --------------------------------------------------------------- */

static void test_first_start_creates_ca(void **state)
{
	struct fx *f = *state;
	struct stat st;
	size_t len;
	uint8_t *pem;
	X509 *x;
	BIO *b;

	open_own(f);
	assert_int_equal(stat(spath(f, "ca.key"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(spath(f, "ca.crt"), &st), 0);
	assert_int_equal(stat(spath(f, "crl.pem"), &st), 0);
	assert_int_equal(stat(spath(f, "ca.key.tmp"), &st), -1);

	pem = read_all(spath(f, "ca.crt"), &len);
	b = BIO_new_mem_buf(pem, (int)len);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	assert_non_null(x);
	assert_string_equal(subject_cn(x), "xdnat local CA " G_STR);
	assert_int_equal(X509_check_issued(x, x), X509_V_OK);
	assert_true(X509_get_extension_flags(x) & EXFLAG_CA);
	assert_int_equal(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_non_null(X509_get0_subject_key_id(x));
	/* basicConstraints and keyUsage are critical. */
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(x,
			 X509_get_ext_by_NID(x, NID_basic_constraints, -1))), 1);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(x,
			 X509_get_ext_by_NID(x, NID_key_usage, -1))), 1);
	/* Ten years, give or take a leap day and the backdating. */
	{
		int days, secs;

		assert_true(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
					   X509_get0_notAfter(x)));
		assert_true(days >= 3650 && days <= 3653);
	}
	assert_true(EVP_PKEY_is_a(X509_get0_pubkey(x), "EC"));
	assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(x)), 256);
	X509_free(x);
	BIO_free(b);
	free(pem);
}

static void test_restart_loads_same_ca(void **state)
{
	struct fx *f = *state;
	uint8_t a[32], b[32], *k1, *k2;
	size_t l1, l2;

	open_own(f);
	fingerprint(f->ca, a);
	k1 = read_all(spath(f, "ca.key"), &l1);
	reopen_own(f);
	fingerprint(f->ca, b);
	assert_memory_equal(a, b, 32);
	k2 = read_all(spath(f, "ca.key"), &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(k1, k2, l1);
	free(k1);
	free(k2);
}

static void test_crash_between_key_and_cert(void **state)
{
	struct fx *f = *state;
	uint8_t *k1, *k2;
	size_t l1, l2;
	int rc;

	/* Key written, cert not: the cert is made again for the same key. */
	open_own(f);
	k1 = read_all(spath(f, "ca.key"), &l1);
	ca_close(f->ca);
	f->ca = NULL;
	assert_int_equal(unlink(spath(f, "ca.crt")), 0);
	open_own(f);
	k2 = read_all(spath(f, "ca.key"), &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(k1, k2, l1);

	/* A cert without its key is never replaced by a new CA. */
	ca_close(f->ca);
	f->ca = NULL;
	assert_int_equal(unlink(spath(f, "ca.key")), 0);
	rc = ca_open(f->dir, NULL, NULL, f->g, &f->ca, f->err, sizeof(f->err));
	assert_int_equal(rc, -ENOENT);
	assert_null(f->ca);
	assert_non_null(strstr(f->err, "ca.key"));
	free(k1);
	free(k2);
}

static void test_issue_two_blocks(void **state)
{
	struct fx *f = *state;
	struct pap_port_range got[HOST_MAX_RANGES];
	char out[4096], uri[128];
	unsigned int n = HOST_MAX_RANGES;
	GENERAL_NAMES *san;
	struct cert_serial serial, s2;
	const uint8_t *cd[4];
	size_t cl[4], len;
	struct host h;
	uint32_t g = 0;
	int crit, nip = 0, nuri = 0;
	uint8_t *der;
	X509 *x, *cax;
	EXTENDED_KEY_USAGE *eku;

	open_own(f);
	host_init(&h, f->g);
	der = issue(f, &h, (uint64_t)time(NULL) + 3600, &len, &serial);
	x = x509(der, len);

	/* Subject: CN=<client_id>@<G>, O=xdnat. */
	assert_string_equal(subject_cn(x), "7@" G_STR);
	{
		char o[64];

		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_organizationName,
					  o, sizeof(o));
		assert_string_equal(o, "xdnat");
	}

	/* SAN: exactly IP:G and the ports URI. */
	san = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	assert_non_null(san);
	assert_int_equal(sk_GENERAL_NAME_num(san), 2);
	for (int i = 0; i < sk_GENERAL_NAME_num(san); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(san, i);

		if (gn->type == GEN_IPADD) {
			assert_int_equal(ASN1_STRING_length(gn->d.iPAddress), 4);
			assert_memory_equal(ASN1_STRING_get0_data(gn->d.iPAddress), &f->g, 4);
			nip++;
		} else if (gn->type == GEN_URI) {
			snprintf(uri, sizeof(uri), "%.*s",
				 ASN1_STRING_length(gn->d.uniformResourceIdentifier),
				 ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier));
			assert_string_equal(uri, "xdnat://" G_STR "/ports/1024-2047,4096-4351");
			nuri++;
		}
	}
	assert_int_equal(nip, 1);
	assert_int_equal(nuri, 1);
	GENERAL_NAMES_free(san);

	/* The private extension parses back to exactly the host's blocks. */
	assert_int_equal(cert_read_ports(der, len, &g, got, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(g, f->g);
	assert_int_equal(got[0].global, f->g);
	assert_int_equal(got[0].first, 1024);
	assert_int_equal(got[0].last, 2047);
	assert_int_equal(got[1].global, f->g);
	assert_int_equal(got[1].first, 4096);
	assert_int_equal(got[1].last, 4351);
	{
		ASN1_OBJECT *obj = OBJ_txt2obj(CERT_OID_PORT_BLOCKS, 1);
		int idx = X509_get_ext_by_OBJ(x, obj, -1);

		assert_true(idx >= 0);
		assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(x, idx)), 0);
		ASN1_OBJECT_free(obj);
	}

	/* Key usage, EKU, not a CA, key ids, serial. */
	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(x,
			 X509_get_ext_by_NID(x, NID_key_usage, -1))), 1);
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	assert_non_null(eku);
	assert_int_equal(sk_ASN1_OBJECT_num(eku), 3);
	assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)), NID_ipsec_IKE);
	assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 1)), NID_server_auth);
	assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 2)), NID_client_auth);
	EXTENDED_KEY_USAGE_free(eku);
	assert_false(X509_get_extension_flags(x) & EXFLAG_CA);
	assert_int_equal(ca_chain_der(f->ca, cd, cl, 4), 1);
	cax = x509(cd[0], cl[0]);
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
					       X509_get0_subject_key_id(cax)), 0);
	assert_int_equal(cert_read_serial(der, len, &s2), 0);
	assert_memory_equal(&s2, &serial, sizeof(s2));
	assert_int_equal(serial.b[0] & 0x80, 0);

	/* Verifies in C (also for the TLS purposes its EKU names)... */
	assert_int_equal(verify_c(cax, NULL, x, NULL, 0), 1);
	assert_int_equal(verify_c(cax, NULL, x, NULL, X509_PURPOSE_SSL_CLIENT), 1);
	assert_int_equal(verify_c(cax, NULL, x, NULL, X509_PURPOSE_SSL_SERVER), 1);

	/* ...and with the openssl command line, against the published ca.crt. */
	write_cert_pem(rpath(f, "cert.pem"), der, len);
	assert_int_equal(run(out, sizeof(out), "openssl verify -CAfile %s %s",
			     spath(f, "ca.crt"), rpath(f, "cert.pem")), 0);
	assert_non_null(strstr(out, ": OK"));
	/* A peer with another CA store must not accept it. */
	{
		struct fx other = *f;

		snprintf(other.dir, sizeof(other.dir), "%s/other", f->root);
		other.ca = NULL;
		open_own(&other);
		assert_int_not_equal(run(out, sizeof(out), "openssl verify -CAfile %s %s",
					 spath(&other, "ca.crt"), rpath(f, "cert.pem")), 0);
		ca_close(other.ca);
	}
	X509_free(cax);
	X509_free(x);
	OPENSSL_free(der);
}

static void test_validity_clamped(void **state)
{
	struct fx *f = *state;
	int64_t now = time(NULL);
	const uint8_t *cd[4];
	size_t cl[4], len;
	struct host h;
	uint8_t *der, *csr;
	size_t csr_len;
	EVP_PKEY *k;
	X509 *x, *cax;
	int pe, d, s;

	open_own(f);
	host_init(&h, f->g);
	assert_int_equal(ca_chain_der(f->ca, cd, cl, 4), 1);
	cax = x509(cd[0], cl[0]);

	/* The lease ends first: notAfter is the lease end, notBefore now - 60 s. */
	der = issue(f, &h, (uint64_t)(now + 7200), &len, NULL);
	x = x509(der, len);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notAfter(x), (time_t)(now + 7200)), 0);
	assert_true(ASN1_TIME_diff(&d, &s, X509_get0_notBefore(x), X509_get0_notAfter(x)));
	assert_int_equal(d, 0);
	assert_true(s >= 7200 + 60 && s <= 7200 + 62);
	X509_free(x);
	OPENSSL_free(der);

	/* The CA ends first: notAfter is the CA's. */
	der = issue(f, &h, UINT64_MAX, &len, NULL);
	x = x509(der, len);
	assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(cax)), 0);
	X509_free(x);
	OPENSSL_free(der);

	/* A lease already over: nothing issued. */
	k = gen_ec("P-256");
	csr = make_csr(k, "h", NULL, 0, &csr_len);
	der = NULL;
	assert_int_equal(issue_for(f->ca, csr, csr_len, &h, (uint64_t)(now - 1), &der,
				   &len, NULL, &pe), -EINVAL);
	assert_int_equal(pe, PAP_E_INTERNAL);
	assert_null(der);
	OPENSSL_free(csr);
	EVP_PKEY_free(k);
	X509_free(cax);
}

static int cmp_serial(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct cert_serial));
}

static void test_serials_unique(void **state)
{
	struct fx *f = *state;
	struct cert_serial s[100], back;
	EVP_PKEY *k = gen_ec("P-256");
	size_t csr_len, len;
	uint8_t *csr = make_csr(k, "h", NULL, 0, &csr_len), *der;
	struct host h;
	int pe;

	open_own(f);
	host_init(&h, f->g);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(issue_for(f->ca, csr, csr_len, &h, UINT64_MAX, &der, &len,
					   &s[i], &pe), 0);
		assert_int_equal(cert_read_serial(der, len, &back), 0);
		assert_memory_equal(&back, &s[i], sizeof(back));
		assert_int_equal(s[i].b[0] & 0x80, 0);	/* positive */
		OPENSSL_free(der);
	}
	qsort(s, 100, sizeof(s[0]), cmp_serial);
	for (int i = 1; i < 100; i++)
		assert_int_not_equal(memcmp(&s[i - 1], &s[i], sizeof(s[0])), 0);
	OPENSSL_free(csr);
	EVP_PKEY_free(k);
}

static void expect_refused(struct fx *f, const uint8_t *csr, size_t len, int rc_want,
			   int pe_want)
{
	struct host h;
	uint8_t *der = (uint8_t *)"x";
	size_t dlen = 1;
	int pe = -1;

	host_init(&h, f->g);
	assert_int_equal(issue_for(f->ca, csr, len, &h, UINT64_MAX, &der, &dlen, NULL, &pe),
			 rc_want);
	assert_int_equal(pe, pe_want);
	assert_null(der);
	assert_int_equal(dlen, 0);
}

static void test_bad_csr(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *k = gen_ec("P-256");
	uint8_t garbage[300], *csr, *big;
	size_t len;

	open_own(f);
	csr = make_csr(k, "h", NULL, 0, &len);

	/* Flip a byte of the signature (the last bytes of the DER). */
	csr[len - 1] ^= 0x01;
	expect_refused(f, csr, len, -EBADMSG, PAP_E_BAD_CSR);
	csr[len - 1] ^= 0x01;

	/* Flip a byte of the signed part (the public key). */
	csr[len / 2] ^= 0x40;
	expect_refused(f, csr, len, -EBADMSG, PAP_E_BAD_CSR);
	csr[len / 2] ^= 0x40;

	/* Truncated, trailing bytes, empty, garbage. */
	expect_refused(f, csr, len - 1, -EBADMSG, PAP_E_BAD_CSR);
	big = malloc(len + 1);
	memcpy(big, csr, len);
	big[len] = 0;
	expect_refused(f, big, len + 1, -EBADMSG, PAP_E_BAD_CSR);
	expect_refused(f, csr, 0, -EBADMSG, PAP_E_BAD_CSR);
	expect_refused(f, NULL, 0, -EBADMSG, PAP_E_BAD_CSR);
	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (uint8_t)(i * 37 + 11);
	expect_refused(f, garbage, sizeof(garbage), -EBADMSG, PAP_E_BAD_CSR);
	garbage[0] = 0x30;	/* looks like a SEQUENCE, is not a request */
	garbage[1] = 0x82;
	expect_refused(f, garbage, sizeof(garbage), -EBADMSG, PAP_E_BAD_CSR);

	/* The original still works. */
	{
		struct host h;
		uint8_t *der;
		size_t dl;
		int pe;

		host_init(&h, f->g);
		assert_int_equal(issue_for(f->ca, csr, len, &h, UINT64_MAX, &der, &dl,
					   NULL, &pe), 0);
		OPENSSL_free(der);
	}
	free(big);
	OPENSSL_free(csr);
	EVP_PKEY_free(k);
}

static void test_key_types(void **state)
{
	struct fx *f = *state;
	struct {
		const char *what;
		EVP_PKEY *k;
		int ok;
	} c[] = {
		{ "DSA-2048", gen_dsa(2048), 0 },
		{ "RSA-1024", gen_rsa(1024), 0 },
		{ "RSA-2047", gen_rsa(2047), 0 },
		{ "P-521", gen_ec("P-521"), 0 },
		{ "secp256k1", gen_ec("secp256k1"), 0 },
		{ "Ed25519", EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), 0 },
		{ "RSA-2048", gen_rsa(2048), 1 },
		{ "P-256", gen_ec("P-256"), 1 },
		{ "P-384", gen_ec("P-384"), 1 },
	};
	struct host h;

	open_own(f);
	host_init(&h, f->g);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		size_t len, dl;
		uint8_t *csr, *der = NULL;
		int pe = -1, rc;

		assert_non_null(c[i].k);
		csr = make_csr(c[i].k, "h", NULL, 0, &len);
		rc = issue_for(f->ca, csr, len, &h, UINT64_MAX, &der, &dl, NULL, &pe);
		print_message("  %-9s -> %d (pap %d)\n", c[i].what, rc, pe);
		if (c[i].ok) {
			assert_int_equal(rc, 0);
			assert_int_equal(pe, PAP_OK);
			X509 *x = x509(der, dl);

			assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), c[i].k), 1);
			X509_free(x);
		} else {
			assert_int_equal(rc, -EPROTONOSUPPORT);
			assert_int_equal(pe, PAP_E_BAD_KEY);
			assert_null(der);
		}
		OPENSSL_free(der);
		OPENSSL_free(csr);
		EVP_PKEY_free(c[i].k);
	}
}

static void test_csr_names_ignored(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *k = gen_ec("P-256");
	size_t len, dl;
	uint8_t *csr = make_csr(k, "evil", "IP:203.0.113.66,DNS:evil.example,"
				"URI:xdnat://203.0.113.66/ports/1-65535", 1, &len), *der;
	char out[4096];
	struct host h;
	X509 *x;
	BIO *b = BIO_new(BIO_s_mem());
	char *text;
	long n;
	int pe;

	open_own(f);
	host_init(&h, f->g);
	assert_int_equal(issue_for(f->ca, csr, len, &h, UINT64_MAX, &der, &dl, NULL, &pe), 0);
	x = x509(der, dl);
	assert_string_equal(subject_cn(x), "7@" G_STR);
	assert_false(X509_get_extension_flags(x) & EXFLAG_CA);
	assert_true(X509_print(b, x));
	n = BIO_get_mem_data(b, &text);
	snprintf(out, sizeof(out), "%.*s", (int)(n < 4095 ? n : 4095), text);
	assert_null(strstr(out, "evil"));
	assert_null(strstr(out, "203.0.113.66"));
	assert_null(strstr(out, "1-65535"));
	assert_non_null(strstr(out, "IP Address:" G_STR));
	BIO_free(b);
	X509_free(x);
	OPENSSL_free(der);
	OPENSSL_free(csr);
	EVP_PKEY_free(k);
}

static void test_no_ports(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *k = gen_ec("P-256");
	size_t len, dl;
	uint8_t *csr = make_csr(k, "h", NULL, 0, &len), *der = NULL;
	struct pap_port_range got[4];
	unsigned int n = 4;
	struct host h;
	uint32_t other, g;
	int pe;

	open_own(f);
	host_init(&h, f->g);
	h.n_ports = 0;
	assert_int_equal(issue_for(f->ca, csr, len, &h, UINT64_MAX, &der, &dl, NULL, &pe),
			 -ENOENT);
	assert_int_equal(pe, PAP_E_NO_PORTS);
	/* No G: nothing to bind the blocks to. */
	host_init(&h, f->g);
	assert_int_equal(ca_issue(f->ca, csr, len, CLIENT_ID, 0, h.ports, h.n_ports, UINT64_MAX,
				  &der, &dl, NULL, &pe), -ENOENT);
	assert_int_equal(pe, PAP_E_NO_PORTS);
	assert_null(der);

	/* Only blocks of the G asked for count. */
	host_init(&h, f->g);
	inet_pton(AF_INET, "198.51.100.2", &other);
	h.ports[0].global = other;
	assert_int_equal(issue_for(f->ca, csr, len, &h, UINT64_MAX, &der, &dl, NULL, &pe), 0);
	assert_int_equal(cert_read_ports(der, dl, &g, got, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(g, f->g);
	assert_int_equal(got[0].first, 1024);
	OPENSSL_free(der);
	n = 4;
	assert_int_equal(ca_issue(f->ca, csr, len, h.client_id, other, h.ports, h.n_ports,
				  UINT64_MAX, &der, &dl, NULL, &pe), 0);
	assert_int_equal(cert_read_ports(der, dl, &g, got, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(g, other);
	assert_int_equal(got[0].first, 4096);
	OPENSSL_free(der);
	OPENSSL_free(csr);
	EVP_PKEY_free(k);
}

static X509_CRL *crl_now(struct ca *ca)
{
	uint8_t *der;
	size_t len;
	const unsigned char *p;
	X509_CRL *crl;

	assert_int_equal(ca_crl_der(ca, &der, &len), 0);
	p = der;
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	assert_non_null(crl);
	OPENSSL_free(der);
	return crl;
}

static long crl_number(X509_CRL *crl)
{
	ASN1_INTEGER *n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	long v;

	assert_non_null(n);
	v = ASN1_INTEGER_get(n);
	ASN1_INTEGER_free(n);
	return v;
}

static int crl_has(X509_CRL *crl, const uint8_t *cert, size_t len)
{
	X509 *x = x509(cert, len);
	X509_REVOKED *rv;
	int r = X509_CRL_get0_by_serial(crl, &rv, X509_get0_serialNumber(x));

	X509_free(x);
	return r == 1;
}

static void test_revoke_crl(void **state)
{
	struct fx *f = *state;
	struct cert_serial s1, s2;
	size_t l1, l2;
	struct host h;
	uint8_t *c1, *c2;
	char out[4096];
	X509_CRL *crl;
	X509 *x1, *x2, *cax;
	const uint8_t *cd[4];
	size_t cl[4];
	long num0;
	time_t when = time(NULL) - 5;

	open_own(f);
	host_init(&h, f->g);
	c1 = issue(f, &h, UINT64_MAX, &l1, &s1);
	c2 = issue(f, &h, UINT64_MAX, &l2, &s2);
	write_cert_pem(rpath(f, "c1.pem"), c1, l1);
	write_cert_pem(rpath(f, "c2.pem"), c2, l2);

	/* Empty CRL at start: both verify with CRL checking. */
	crl = crl_now(f->ca);
	num0 = crl_number(crl);
	assert_true(num0 >= 1);
	assert_null(X509_CRL_get_REVOKED(crl) ? sk_X509_REVOKED_value(
		X509_CRL_get_REVOKED(crl), 0) : NULL);
	X509_CRL_free(crl);
	assert_int_equal(run(out, sizeof(out),
			     "openssl verify -crl_check -CRLfile %s -CAfile %s %s",
			     spath(f, "crl.pem"), spath(f, "ca.crt"), rpath(f, "c1.pem")), 0);

	assert_int_equal(ca_revoke(f->ca, &s1, when, f->err, sizeof(f->err)), 0);
	assert_int_equal(ca_revoke(f->ca, &s1, 0, f->err, sizeof(f->err)), 0); /* twice */
	crl = crl_now(f->ca);
	assert_true(crl_has(crl, c1, l1));
	assert_false(crl_has(crl, c2, l2));
	assert_true(crl_number(crl) > num0);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 1);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_REVOKED_get0_revocationDate(
		sk_X509_REVOKED_value(X509_CRL_get_REVOKED(crl), 0)), when), 0);
	{
		int d, s;

		assert_true(ASN1_TIME_diff(&d, &s, X509_CRL_get0_lastUpdate(crl),
					   X509_CRL_get0_nextUpdate(crl)));
		assert_int_equal(d, 1);
		assert_int_equal(s, 0);
	}

	/* In C... */
	assert_int_equal(ca_chain_der(f->ca, cd, cl, 4), 1);
	cax = x509(cd[0], cl[0]);
	x1 = x509(c1, l1);
	x2 = x509(c2, l2);
	assert_int_equal(verify_c(cax, NULL, x1, crl, 0), 0);
	assert_int_equal(verify_c(cax, NULL, x2, crl, 0), 1);

	/* ...and with the openssl command line, from the published crl.pem. */
	assert_int_not_equal(run(out, sizeof(out),
				 "openssl verify -crl_check -CRLfile %s -CAfile %s %s",
				 spath(f, "crl.pem"), spath(f, "ca.crt"), rpath(f, "c1.pem")), 0);
	assert_non_null(strstr(out, "revoked"));
	assert_int_equal(run(out, sizeof(out),
			     "openssl verify -crl_check -CRLfile %s -CAfile %s %s",
			     spath(f, "crl.pem"), spath(f, "ca.crt"), rpath(f, "c2.pem")), 0);
	assert_int_equal(run(out, sizeof(out), "openssl crl -in %s -noout -CAfile %s",
			     spath(f, "crl.pem"), spath(f, "ca.crt")), 0);
	assert_non_null(strstr(out, "verify OK"));
	X509_CRL_free(crl);

	/* After a restart the serial is still revoked, the number still grows. */
	reopen_own(f);
	crl = crl_now(f->ca);
	assert_true(crl_has(crl, c1, l1));
	assert_true(crl_number(crl) > num0 + 1);
	assert_int_equal(ca_revoke(f->ca, &s2, 0, f->err, sizeof(f->err)), 0);
	X509_CRL_free(crl);
	crl = crl_now(f->ca);
	assert_true(crl_has(crl, c1, l1));
	assert_true(crl_has(crl, c2, l2));
	assert_int_equal(verify_c(cax, NULL, x2, crl, 0), 0);
	X509_CRL_free(crl);

	/* A damaged list stops the CA rather than forgetting revocations. */
	ca_close(f->ca);
	f->ca = NULL;
	write_all(spath(f, "crl.list"), "# xdnat crl.list v1\nnumber 9\nzz 1\n", 34, 0644);
	assert_int_equal(ca_open(f->dir, NULL, NULL, f->g, &f->ca, f->err, sizeof(f->err)),
			 -EINVAL);
	assert_non_null(strstr(f->err, "crl.list"));

	X509_free(cax);
	X509_free(x1);
	X509_free(x2);
	OPENSSL_free(c1);
	OPENSSL_free(c2);
}

/* An entry whose certificate has expired leaves the CRL once a CRL issued
 * after the expiry has listed it; one without an expiry stays for ever. */
static void test_revoke_until_prunes(void **state)
{
	struct fx *f = *state;
	struct cert_serial s1, s2, s3;
	size_t l1, l2, l3, len;
	time_t now = time(NULL);
	uint8_t *c1, *c2, *c3, *list;
	struct host h;
	X509_CRL *crl;

	open_own(f);
	host_init(&h, f->g);
	c1 = issue(f, &h, UINT64_MAX, &l1, &s1);
	c2 = issue(f, &h, UINT64_MAX, &l2, &s2);
	c3 = issue(f, &h, UINT64_MAX, &l3, &s3);

	/* c1 expired two minutes ago: listed on one CRL issued after that... */
	assert_int_equal(ca_revoke_until(f->ca, &s1, 0, now - 120, f->err, sizeof(f->err)), 0);
	crl = crl_now(f->ca);
	assert_true(crl_has(crl, c1, l1));
	X509_CRL_free(crl);
	assert_int_equal(ca_revoked_count(f->ca), 1);

	/* ...and gone from the next one. c2 expires in an hour, c3: unknown. */
	assert_int_equal(ca_revoke_until(f->ca, &s2, 0, now + 3600, f->err, sizeof(f->err)), 0);
	assert_int_equal(ca_revoke(f->ca, &s3, 0, f->err, sizeof(f->err)), 0);
	assert_int_equal(ca_crl_publish(f->ca, f->err, sizeof(f->err)), 0);
	crl = crl_now(f->ca);
	assert_false(crl_has(crl, c1, l1));
	assert_true(crl_has(crl, c2, l2));
	assert_true(crl_has(crl, c3, l3));
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 2);
	X509_CRL_free(crl);
	assert_int_equal(ca_revoked_count(f->ca), 2);

	/* The expiry is kept across a restart. */
	reopen_own(f);
	assert_int_equal(ca_revoked_count(f->ca), 2);
	crl = crl_now(f->ca);
	assert_true(crl_has(crl, c2, l2));
	X509_CRL_free(crl);
	list = read_all(spath(f, "crl.list"), &len);
	{
		char hex[2 * CERT_SERIAL_LEN + 1], line[96];

		cert_serial_hex(&s2, hex);
		snprintf(line, sizeof(line), "%s ", hex);
		assert_non_null(strstr((char *)list, line));
		snprintf(line, sizeof(line), " %lld\n", (long long)(now + 3600));
		assert_non_null(strstr((char *)list, line));
	}
	free(list);
	OPENSSL_free(c1);
	OPENSSL_free(c2);
	OPENSSL_free(c3);
}

/* DER to PEM, as xdnatctl crl and the host agent write them. */
static void test_pem_encode(void **state)
{
	struct fx *f = *state;
	const uint8_t *cd[4];
	size_t cl[4], len;
	char *pem, *chain;
	size_t clen;

	open_own(f);
	assert_int_equal(ca_chain_der(f->ca, cd, cl, 4), 1);
	assert_int_equal(cert_pem_encode("CERTIFICATE", cd[0], cl[0], &pem, &len), 0);
	assert_int_equal(ca_chain_pem(f->ca, &chain, &clen), 0);
	assert_int_equal(len, clen);
	assert_string_equal(pem, chain);
	assert_int_equal(strlen(pem), len);
	free(pem);
	free(chain);
	assert_int_equal(cert_pem_encode("X509 CRL", NULL, 0, &pem, &len), -EINVAL);
}

static void test_revoke_write_failure(void **state)
{
	struct fx *f = *state;
	struct cert_serial s1, s2;
	size_t l1, l2;
	struct host h;
	uint8_t *c1, *c2;
	X509_CRL *crl;

	open_own(f);
	host_init(&h, f->g);
	c1 = issue(f, &h, UINT64_MAX, &l1, &s1);
	c2 = issue(f, &h, UINT64_MAX, &l2, &s2);

	/* crl.list cannot be written (its temp name is taken by a directory):
	 * the revocation fails and leaves no trace. */
	assert_int_equal(mkdir(spath(f, "crl.list.tmp"), 0700), 0);
	assert_int_equal(ca_revoke(f->ca, &s1, 0, f->err, sizeof(f->err)), -EISDIR);
	assert_non_null(strstr(f->err, "crl.list"));
	assert_int_equal(rmdir(spath(f, "crl.list.tmp")), 0);
	crl = crl_now(f->ca);
	assert_false(crl_has(crl, c1, l1));
	X509_CRL_free(crl);

	/* crl.list written, crl.pem not: reported, but the serial is revoked
	 * (it is on disk) and served in DER. */
	assert_int_equal(mkdir(spath(f, "crl.pem.tmp"), 0700), 0);
	assert_int_equal(ca_revoke(f->ca, &s2, 0, f->err, sizeof(f->err)), -EISDIR);
	assert_non_null(strstr(f->err, "crl.pem"));
	assert_int_equal(rmdir(spath(f, "crl.pem.tmp")), 0);
	crl = crl_now(f->ca);
	assert_false(crl_has(crl, c1, l1));
	assert_true(crl_has(crl, c2, l2));
	X509_CRL_free(crl);
	reopen_own(f);
	crl = crl_now(f->ca);
	assert_false(crl_has(crl, c1, l1));
	assert_true(crl_has(crl, c2, l2));
	X509_CRL_free(crl);
	OPENSSL_free(c1);
	OPENSSL_free(c2);
}

static void test_loose_key_perms(void **state)
{
	struct fx *f = *state;
	int rc;

	open_own(f);
	ca_close(f->ca);
	f->ca = NULL;
	assert_int_equal(chmod(spath(f, "ca.key"), 0644), 0);
	rc = ca_open(f->dir, NULL, NULL, f->g, &f->ca, f->err, sizeof(f->err));
	assert_int_equal(rc, -EPERM);
	assert_null(f->ca);
	assert_non_null(strstr(f->err, spath(f, "ca.key")));
	assert_non_null(strstr(f->err, "0644"));
	assert_int_equal(chmod(spath(f, "ca.key"), 0640), 0);
	assert_int_equal(ca_open(f->dir, NULL, NULL, f->g, &f->ca, f->err, sizeof(f->err)),
			 -EPERM);

	/* The same for a site-provided key. */
	assert_int_equal(ca_open(rpath(f, "s"), spath(f, "ca.crt"), spath(f, "ca.key"), 0,
				 &f->ca, f->err, sizeof(f->err)), -EPERM);
	assert_non_null(strstr(f->err, spath(f, "ca.key")));

	assert_int_equal(chmod(spath(f, "ca.key"), 0600), 0);
	open_own(f);
}

static void test_key_mismatch(void **state)
{
	struct fx *f = *state;
	struct fx other = *f;
	uint8_t *k;
	size_t len;
	int rc;

	snprintf(other.dir, sizeof(other.dir), "%s/other", f->root);
	other.ca = NULL;
	open_own(&other);
	ca_close(other.ca);
	open_own(f);
	ca_close(f->ca);
	f->ca = NULL;

	/* Site files: A's certificate with B's key. */
	rc = ca_open(rpath(f, "s"), spath(f, "ca.crt"), spath(&other, "ca.key"), 0,
		     &f->ca, f->err, sizeof(f->err));
	assert_int_equal(rc, -EINVAL);
	assert_null(f->ca);
	assert_non_null(strstr(f->err, "does not match"));
	assert_non_null(strstr(f->err, spath(&other, "ca.key")));

	/* Own files: B's key copied over A's. */
	k = read_all(spath(&other, "ca.key"), &len);
	write_all(spath(f, "ca.key"), k, len, 0600);
	rc = ca_open(f->dir, NULL, NULL, f->g, &f->ca, f->err, sizeof(f->err));
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(f->err, "does not match"));
	free(k);

	/* One of the two flags alone. */
	assert_int_equal(ca_open(f->dir, spath(f, "ca.crt"), NULL, 0, &f->ca, f->err,
				 sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, "--ca-key"));
}

static void test_not_a_ca(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *k = gen_ec("P-256"), *rk = gen_ec("P-256");
	X509 *root = site_cert(rk, "root", NULL, NULL, 1);
	X509 *leaf = site_cert(k, "leaf", root, rk, 0);
	size_t len, dl;
	uint8_t *csr = make_csr(k, "h", NULL, 0, &len), *der;
	struct host h;
	int pe;

	/* An end-entity certificate of another PKI. */
	write_x509s(rpath(f, "leaf.pem"), leaf, NULL);
	write_key_pem(rpath(f, "leaf.key"), k, 0600);
	assert_int_equal(ca_open(f->dir, rpath(f, "leaf.pem"), rpath(f, "leaf.key"), 0,
				 &f->ca, f->err, sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, "not a CA"));
	assert_non_null(strstr(f->err, rpath(f, "leaf.pem")));

	/* A certificate we issued ourselves, with its key. */
	open_own(f);
	host_init(&h, f->g);
	assert_int_equal(issue_for(f->ca, csr, len, &h, UINT64_MAX, &der, &dl, NULL, &pe), 0);
	write_cert_pem(rpath(f, "issued.pem"), der, dl);
	ca_close(f->ca);
	f->ca = NULL;
	assert_int_equal(ca_open(rpath(f, "s"), rpath(f, "issued.pem"), rpath(f, "leaf.key"),
				 0, &f->ca, f->err, sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, "not a CA"));

	OPENSSL_free(der);
	OPENSSL_free(csr);
	X509_free(leaf);
	X509_free(root);
	EVP_PKEY_free(k);
	EVP_PKEY_free(rk);
}

static void test_garbage_files(void **state)
{
	struct fx *f = *state;
	static const char junk[] = "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n"
				   "-----END CERTIFICATE-----\n";
	uint8_t *crt, *half;
	size_t len;

	open_own(f);
	ca_close(f->ca);
	f->ca = NULL;

	/* Missing files. */
	assert_int_equal(ca_open(rpath(f, "s"), rpath(f, "nope.pem"), spath(f, "ca.key"), 0,
				 &f->ca, f->err, sizeof(f->err)), -ENOENT);
	assert_non_null(strstr(f->err, rpath(f, "nope.pem")));
	assert_int_equal(ca_open(rpath(f, "s"), spath(f, "ca.crt"), rpath(f, "nope.key"), 0,
				 &f->ca, f->err, sizeof(f->err)), -ENOENT);
	assert_non_null(strstr(f->err, rpath(f, "nope.key")));

	/* Garbage certificate, garbage key, a directory. */
	write_all(rpath(f, "junk.pem"), junk, sizeof(junk) - 1, 0644);
	assert_int_equal(ca_open(rpath(f, "s"), rpath(f, "junk.pem"), spath(f, "ca.key"), 0,
				 &f->ca, f->err, sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, rpath(f, "junk.pem")));
	write_all(rpath(f, "junk.key"), junk, sizeof(junk) - 1, 0600);
	assert_int_equal(ca_open(rpath(f, "s"), spath(f, "ca.crt"), rpath(f, "junk.key"), 0,
				 &f->ca, f->err, sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, rpath(f, "junk.key")));
	assert_int_equal(ca_open(rpath(f, "s"), f->dir, spath(f, "ca.key"), 0,
				 &f->ca, f->err, sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, f->dir));

	/* Own ca.crt cut in half: refused, never silently replaced. */
	crt = read_all(spath(f, "ca.crt"), &len);
	half = malloc(len / 2);
	memcpy(half, crt, len / 2);
	write_all(spath(f, "ca.crt"), half, len / 2, 0644);
	assert_int_equal(ca_open(f->dir, NULL, NULL, f->g, &f->ca, f->err, sizeof(f->err)),
			 -EINVAL);
	assert_non_null(strstr(f->err, spath(f, "ca.crt")));
	assert_null(f->ca);
	/* A good certificate followed by a corrupt one. */
	write_all(spath(f, "ca.crt"), crt, len, 0644);
	{
		char *two = malloc(len + sizeof(junk));

		memcpy(two, crt, len);
		memcpy(two + len, junk, sizeof(junk));
		write_all(spath(f, "ca.crt"), two, len + sizeof(junk) - 1, 0644);
		free(two);
	}
	assert_int_equal(ca_open(f->dir, NULL, NULL, f->g, &f->ca, f->err, sizeof(f->err)),
			 -EINVAL);
	assert_non_null(strstr(f->err, "certificate 2"));
	write_all(spath(f, "ca.crt"), crt, len, 0644);
	open_own(f);
	free(half);
	free(crt);
}

static void test_site_intermediate(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *rk = gen_ec("P-384"), *ik = gen_ec("P-256");
	X509 *root = site_cert(rk, "Site Root CA", NULL, NULL, 1);
	X509 *inter = site_cert(ik, "Site xdnat Intermediate", root, rk, 1);
	const uint8_t *cd[4];
	size_t cl[4], plen, len;
	char *pem, out[4096], *second;
	struct host h;
	uint8_t *der;
	X509 *x, *c0, *c1;
	X509_CRL *crl;
	BIO *b;

	write_x509s(rpath(f, "root.pem"), root, NULL);
	write_x509s(rpath(f, "intermediate.pem"), inter, NULL);
	write_x509s(rpath(f, "chain.pem"), inter, root);
	write_key_pem(rpath(f, "inter.key"), ik, 0600);

	/* Wrong order (root first) is refused: root does not match the key. */
	write_x509s(rpath(f, "rev.pem"), root, inter);
	assert_int_equal(ca_open(f->dir, rpath(f, "rev.pem"), rpath(f, "inter.key"), 0,
				 &f->ca, f->err, sizeof(f->err)), -EINVAL);

	assert_int_equal(ca_open(f->dir, rpath(f, "chain.pem"), rpath(f, "inter.key"), 0,
				 &f->ca, f->err, sizeof(f->err)), 0);
	/* No own CA files are made when the site gives one. */
	assert_int_equal(access(spath(f, "ca.key"), F_OK), -1);
	assert_int_equal(access(spath(f, "crl.pem"), F_OK), 0);

	/* The chain is served leaf-CA first, in PEM and in DER. */
	assert_int_equal(ca_chain_der(f->ca, cd, cl, 1), -ENOSPC);
	assert_int_equal(ca_chain_der(f->ca, cd, cl, 4), 2);
	c0 = x509(cd[0], cl[0]);
	c1 = x509(cd[1], cl[1]);
	assert_int_equal(X509_cmp(c0, inter), 0);
	assert_int_equal(X509_cmp(c1, root), 0);
	assert_int_equal(ca_chain_pem(f->ca, &pem, &plen), 0);
	assert_int_equal(strlen(pem), plen);
	b = BIO_new_mem_buf(pem, (int)plen);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	assert_int_equal(X509_cmp(x, inter), 0);
	X509_free(x);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	assert_int_equal(X509_cmp(x, root), 0);
	X509_free(x);
	BIO_free(b);
	second = strstr(pem + 1, "-----BEGIN CERTIFICATE-----");
	assert_non_null(second);
	assert_null(strstr(second + 1, "-----BEGIN CERTIFICATE-----"));

	/* An issued cert chains to the root through the intermediate. */
	host_init(&h, f->g);
	der = issue(f, &h, UINT64_MAX, &len, NULL);
	x = x509(der, len);
	assert_int_equal(X509_check_issued(inter, x), X509_V_OK);
	assert_int_equal(verify_c(root, inter, x, NULL, 0), 1);
	write_cert_pem(rpath(f, "cert.pem"), der, len);
	assert_int_equal(run(out, sizeof(out),
			     "openssl verify -CAfile %s -untrusted %s %s", rpath(f, "root.pem"),
			     rpath(f, "intermediate.pem"), rpath(f, "cert.pem")), 0);
	assert_non_null(strstr(out, ": OK"));
	/* Not with the root alone. */
	assert_int_not_equal(run(out, sizeof(out), "openssl verify -CAfile %s %s",
				 rpath(f, "root.pem"), rpath(f, "cert.pem")), 0);
	/* The intermediate signs the CRL. */
	crl = crl_now(f->ca);
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(inter)), 1);
	X509_CRL_free(crl);

	/* Reopening with the same files gives the same CA. */
	ca_close(f->ca);
	f->ca = NULL;
	assert_int_equal(ca_open(f->dir, rpath(f, "chain.pem"), rpath(f, "inter.key"), 0,
				 &f->ca, f->err, sizeof(f->err)), 0);

	free(pem);
	OPENSSL_free(der);
	X509_free(x);
	X509_free(c0);
	X509_free(c1);
	X509_free(root);
	X509_free(inter);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
}

static void test_cert_ports_errors(void **state)
{
	struct fx *f = *state;
	struct pap_port_range got[HOST_MAX_RANGES];
	const uint8_t *cd[4];
	size_t cl[4], len;
	unsigned int n;
	struct host h;
	uint8_t *der;
	uint32_t g;

	open_own(f);
	host_init(&h, f->g);
	h.n_ports = HOST_MAX_RANGES;
	for (unsigned int i = 0; i < HOST_MAX_RANGES; i++)
		h.ports[i] = (struct pap_port_range){ .global = f->g,
			.first = (uint16_t)(60000 - 1000 * i), .last = (uint16_t)(60099 - 1000 * i) };
	der = issue(f, &h, UINT64_MAX, &len, NULL);

	/* All sixteen, ascending. */
	n = HOST_MAX_RANGES;
	assert_int_equal(cert_read_ports(der, len, &g, got, &n), 0);
	assert_int_equal(n, HOST_MAX_RANGES);
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(got[i].first, 45000 + 1000 * i);
		assert_int_equal(got[i].last, 45099 + 1000 * i);
	}

	/* Too small a buffer: the count needed. */
	n = 3;
	assert_int_equal(cert_read_ports(der, len, &g, got, &n), -ENOSPC);
	assert_int_equal(n, HOST_MAX_RANGES);

	/* No extension (the CA certificate), damaged DER, bad arguments. */
	assert_int_equal(ca_chain_der(f->ca, cd, cl, 4), 1);
	n = HOST_MAX_RANGES;
	assert_int_equal(cert_read_ports(cd[0], cl[0], &g, got, &n), -ENOENT);
	assert_int_equal(cert_read_ports(der, len - 1, &g, got, &n), -EBADMSG);
	assert_int_equal(cert_read_ports(der, len, &g, NULL, &n), -EINVAL);
	OPENSSL_free(der);
}

static void test_serial_text(void **state)
{
	struct cert_serial s, t;
	char hex[2 * CERT_SERIAL_LEN + 1];

	(void)state;
	for (int i = 0; i < CERT_SERIAL_LEN; i++)
		s.b[i] = (uint8_t)(0x7f - 7 * i);
	cert_serial_hex(&s, hex);
	assert_int_equal(strlen(hex), 32);
	assert_int_equal(cert_serial_parse(hex, &t), 0);
	assert_memory_equal(&s, &t, sizeof(s));
	assert_int_equal(cert_serial_parse("0x01:02", &t), 0);
	assert_int_equal(t.b[15], 2);
	assert_int_equal(t.b[14], 1);
	assert_int_equal(t.b[13], 0);
	assert_int_equal(cert_serial_parse("abc", &t), 0);
	assert_int_equal(t.b[15], 0xbc);
	assert_int_equal(t.b[14], 0x0a);
	assert_int_equal(cert_serial_parse("", &t), -EINVAL);
	assert_int_equal(cert_serial_parse("xyz", &t), -EINVAL);
	assert_int_equal(cert_serial_parse("000000000000000000000000000000001", &t), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serial_text),
		cmocka_unit_test_setup_teardown(test_first_start_creates_ca, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_loads_same_ca, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_between_key_and_cert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_issue_two_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validity_clamped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serials_unique, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_csr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csr_names_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_crl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_until_prunes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pem_encode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_write_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loose_key_perms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_ca, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_site_intermediate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_ports_errors, setup, teardown),
	};

	log_set_level(LOG_LVL_WARN);	/* "created CA" on every test is noise */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
