/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The host agent's certificate files (ctl/host/host_cert.c) against a real
 * CA (ctl/gateway/ca*.c) in a mkdtemp directory, without PAP: the key is
 * made once and kept (0600), a reply is checked before anything is written
 * (our key, the CA sent with it, exactly our ports), the CRL must be the
 * CA's, and renewal is due when the ports change or a third of the life is
 * left.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "gateway/ca.h"
#include "gateway/host.h"
#include "host/host_cert.h"
#include "lib/log.h"
#include "test_tmpdir.h"

struct fx {
	char root[64], dir[128], err[512];
	struct ca *ca, *other;		/* our gateway's CA, and a stranger */
	struct host h;
	struct pap_port_range held;
	struct host_cert c;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char d[160];
	uint32_t g;

	log_setup("test", LOG_LVL_ERR, 0);
	strcpy(f->root, "/tmp/xdnat-test-hostcert-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->dir, sizeof(f->dir), "%s/cert", f->root);
	inet_pton(AF_INET, "198.51.100.1", &g);
	snprintf(d, sizeof(d), "%s/ca", f->root);
	assert_int_equal(ca_open(d, NULL, NULL, g, &f->ca, f->err, sizeof(f->err)), 0);
	snprintf(d, sizeof(d), "%s/other", f->root);
	assert_int_equal(ca_open(d, NULL, NULL, g, &f->other, f->err, sizeof(f->err)), 0);
	f->held = (struct pap_port_range){ .global = g, .first = 20000, .last = 20063 };
	f->h.client_id = 7;
	f->h.global = g;
	f->h.n_ports = 1;
	f->h.ports[0] = f->held;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	host_cert_close(&f->c);
	ca_close(f->ca);
	ca_close(f->other);
	tmpdir_remove(f->root);
	free(f);
	return 0;
}

static const char *path(const struct fx *f, const char *name)
{
	static char buf[2][256];
	static int n;
	char *b = buf[n++ & 1];

	snprintf(b, sizeof(buf[0]), "%s/%s", f->dir, name);
	return b;
}

static bool exists(const char *p)
{
	return !access(p, F_OK);
}

/* The CA's answer to csr for host h: leaf and chain, as a CERT reply has
 * them (the leaf in *leaf, OPENSSL_free). */
static void answer(struct ca *ca, const uint8_t *csr, size_t len, const struct host *h,
		   const uint8_t **der, uint16_t *lens, uint8_t **leaf)
{
	const uint8_t *chain[1];
	size_t clen[1], ll;
	int pe;

	assert_int_equal(ca_issue(ca, csr, len, h->client_id, h->global, h->ports, h->n_ports,
				  (uint64_t)time(NULL) + 300, leaf, &ll, NULL, &pe), 0);
	assert_int_equal(ca_chain_der(ca, chain, clen, 1), 1);
	der[0] = *leaf;
	lens[0] = (uint16_t)ll;
	der[1] = chain[0];
	lens[1] = (uint16_t)clen[0];
}

/* request + answer + store; 0 or the store's error. */
static int obtain(struct fx *f, const struct host_key_spec *ks, struct ca *ca,
		  const struct host *h)
{
	const uint8_t *der[2];
	uint16_t lens[2];
	uint8_t *csr, *leaf;
	size_t len;
	int rc;

	assert_int_equal(host_cert_request(&f->c, f->dir, ks, &csr, &len, f->err,
					   sizeof(f->err)), 0);
	answer(ca, csr, len, h, der, lens, &leaf);
	rc = host_cert_store(&f->c, der, lens, 2, &f->held, 1, f->err, sizeof(f->err));
	OPENSSL_free(leaf);
	OPENSSL_free(csr);
	return rc;
}

static char *slurp(const char *p)
{
	FILE *fp = fopen(p, "r");
	char *s = calloc(1, 65536);

	assert_non_null(fp);
	assert_non_null(s);
	assert_true(fread(s, 1, 65535, fp) > 0);
	fclose(fp);
	return s;
}

static void test_files_and_key_kept(void **state)
{
	static const struct host_key_spec keep = { HOST_KEY_KEEP, 0 };
	struct fx *f = *state;
	struct stat st;
	char *key1, *key2, *chain;
	size_t clen;
	int64_t now = time(NULL);

	assert_int_equal(obtain(f, &keep, f->ca, &f->h), 0);
	assert_true(f->c.have);
	assert_string_equal(f->c.dir, f->dir);
	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(path(f, HOST_CERT_KEY), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(exists(path(f, HOST_CERT_CRT)));
	/* ca.crt is the chain, as xdnatctl ca prints it */
	assert_int_equal(ca_chain_pem(f->ca, &chain, &clen), 0);
	key1 = slurp(path(f, HOST_CERT_CHAIN));
	assert_string_equal(key1, chain);
	free(key1);
	free(chain);
	assert_int_equal(strlen(f->c.serial), 32);
	assert_true(f->c.not_after > now && f->c.not_after <= now + 301);
	assert_int_equal(f->c.n_ports, 1);

	/* ECDSA P-256 by default; a second request keeps the very key. */
	key1 = slurp(path(f, HOST_CERT_KEY));
	assert_non_null(strstr(key1, "BEGIN PRIVATE KEY"));
	assert_true(EVP_PKEY_is_a(f->c.key, "EC"));
	assert_int_equal(obtain(f, &keep, f->ca, &f->h), 0);
	key2 = slurp(path(f, HOST_CERT_KEY));
	assert_string_equal(key1, key2);
	free(key1);
	free(key2);

	/* Due: not now; with other ports; with a third of the life left. */
	assert_false(host_cert_due(&f->c, &f->held, 1, now));
	f->held.last++;
	assert_true(host_cert_due(&f->c, &f->held, 1, now));
	f->held.last--;
	assert_true(host_cert_due(&f->c, &f->held, 1,
				  f->c.not_after - (f->c.not_after - f->c.obtained) / 3));
}

static void test_key_types(void **state)
{
	static const struct host_key_spec rsa = { HOST_KEY_RSA, 2048 };
	static const struct host_key_spec keep = { HOST_KEY_KEEP, 0 };
	static const struct host_key_spec ec = { HOST_KEY_EC, 0 };
	struct fx *f = *state;
	char *k1, *k2;

	assert_int_equal(obtain(f, &rsa, f->ca, &f->h), 0);
	assert_true(EVP_PKEY_is_a(f->c.key, "RSA"));
	assert_int_equal(EVP_PKEY_get_bits(f->c.key), 2048);
	k1 = slurp(path(f, HOST_CERT_KEY));
	assert_int_equal(obtain(f, &keep, f->ca, &f->h), 0);	/* kept */
	k2 = slurp(path(f, HOST_CERT_KEY));
	assert_string_equal(k1, k2);
	free(k2);
	assert_int_equal(obtain(f, &ec, f->ca, &f->h), 0);	/* replaced */
	assert_true(EVP_PKEY_is_a(f->c.key, "EC"));
	k2 = slurp(path(f, HOST_CERT_KEY));
	assert_string_not_equal(k1, k2);
	free(k1);
	free(k2);
}

/* Nothing is written unless the reply is ours, from the CA, for our ports. */
static void test_store_refuses(void **state)
{
	static const struct host_key_spec keep = { HOST_KEY_KEEP, 0 };
	struct fx *f = *state;
	struct host other_ports = f->h;
	const uint8_t *der[2];
	uint16_t lens[2];
	uint8_t *csr, *csr2, *leaf;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	size_t len, len2;

	/* Another host's ports. */
	other_ports.ports[0].first = 30000;
	other_ports.ports[0].last = 30063;
	assert_int_equal(obtain(f, &keep, f->ca, &other_ports), -EBADMSG);
	assert_non_null(strstr(f->err, "ports"));
	assert_false(f->c.have);
	assert_false(exists(path(f, HOST_CERT_CRT)));
	assert_false(exists(path(f, HOST_CERT_KEY)));	/* a new key waits for its cert */

	/* A certificate for someone else's key. */
	assert_int_equal(host_cert_request(&f->c, f->dir, &keep, &csr, &len, f->err,
					   sizeof(f->err)), 0);
	assert_int_equal(host_csr_der(k, &csr2, &len2), 0);
	answer(f->ca, csr2, len2, &f->h, der, lens, &leaf);
	assert_int_equal(host_cert_store(&f->c, der, lens, 2, &f->held, 1, f->err,
					 sizeof(f->err)), -EBADMSG);
	assert_non_null(strstr(f->err, "our key"));
	OPENSSL_free(leaf);

	/* Ours, from another CA, with our CA's certificate as its chain. */
	answer(f->other, csr, len, &f->h, der, lens, &leaf);
	{
		const uint8_t *ch[1];
		size_t cl[1];

		assert_int_equal(ca_chain_der(f->ca, ch, cl, 1), 1);
		der[1] = ch[0];
		lens[1] = (uint16_t)cl[0];
	}
	assert_int_equal(host_cert_store(&f->c, der, lens, 2, &f->held, 1, f->err,
					 sizeof(f->err)), -EBADMSG);
	assert_non_null(strstr(f->err, "not signed by the CA"));
	/* No chain at all; garbage. */
	assert_int_equal(host_cert_store(&f->c, der, lens, 1, &f->held, 1, f->err,
					 sizeof(f->err)), -EBADMSG);
	lens[0] = 10;
	assert_int_equal(host_cert_store(&f->c, der, lens, 2, &f->held, 1, f->err,
					 sizeof(f->err)), -EBADMSG);
	OPENSSL_free(leaf);
	assert_false(exists(path(f, HOST_CERT_CRT)));
	OPENSSL_free(csr);
	OPENSSL_free(csr2);
	EVP_PKEY_free(k);
}

static void test_crl(void **state)
{
	static const struct host_key_spec keep = { HOST_KEY_KEEP, 0 };
	struct fx *f = *state;
	uint8_t *der;
	size_t len;
	char *pem;

	assert_int_equal(ca_crl_der(f->ca, &der, &len), 0);
	assert_int_equal(host_cert_store_crl(&f->c, der, len, f->err, sizeof(f->err)), -EINVAL);
	assert_int_equal(obtain(f, &keep, f->ca, &f->h), 0);
	assert_int_equal(host_cert_store_crl(&f->c, der, len, f->err, sizeof(f->err)), 0);
	pem = slurp(path(f, HOST_CERT_CRL));
	assert_non_null(strstr(pem, "BEGIN X509 CRL"));
	free(pem);
	OPENSSL_free(der);
	/* Another CA's CRL is not written. */
	assert_int_equal(ca_crl_der(f->other, &der, &len), 0);
	assert_int_equal(host_cert_store_crl(&f->c, der, len, f->err, sizeof(f->err)),
			 -EBADMSG);
	assert_int_equal(host_cert_store_crl(&f->c, der, len - 1, f->err, sizeof(f->err)),
			 -EBADMSG);
	OPENSSL_free(der);
}

static void test_loose_key_refused(void **state)
{
	static const struct host_key_spec keep = { HOST_KEY_KEEP, 0 };
	struct fx *f = *state;
	uint8_t *csr;
	size_t len;

	assert_int_equal(obtain(f, &keep, f->ca, &f->h), 0);
	assert_int_equal(chmod(path(f, HOST_CERT_KEY), 0644), 0);
	assert_int_equal(host_cert_request(&f->c, f->dir, &keep, &csr, &len, f->err,
					   sizeof(f->err)), -EPERM);
	assert_non_null(strstr(f->err, "host.key"));
	assert_non_null(strstr(f->err, "chmod 600"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_files_and_key_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loose_key_refused, setup, teardown),
	};

	return cmocka_run_group_tests_name("host_cert", tests, NULL, NULL);
}
