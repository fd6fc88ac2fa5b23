/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ctl/gateway/crl_http.c, the CRL distribution point, on loopback with a
 * real CA in a temporary directory, driven the way xdnatd drives it (its
 * epoll fd polled, crl_http_run() when ready): /crl.der is the CA's current
 * CRL byte for byte, /crl.pem the same in PEM; anything but GET/HEAD of
 * those is refused; a fifth connection from one address is closed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>
#include "gateway/ca.h"
#include "gateway/crl_http.h"
#include "lib/log.h"

struct fx {
	char dir[64];
	struct ca *ca;
	struct crl_http *h;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	log_setup("test", LOG_LVL_ERR, 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/xdnat-crlhttp-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	if (ca_open(f->dir, NULL, NULL, htonl(0xc6336401), &f->ca, err, sizeof(err)))
		fail_msg("ca_open: %s", err);
	assert_int_equal(crl_http_start(htonl(INADDR_LOOPBACK), 0, f->ca, &f->h), 0);
	assert_true(crl_http_fd(f->h) >= 0);
	assert_true(crl_http_port(f->h) > 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[96];

	crl_http_stop(f->h);
	ca_close(f->ca);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int connect_to(const struct fx *f)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(crl_http_port(f->h)),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Serve and read until the server closes fd's connection; the response
 * (malloc'd, NUL-terminated) and its length. */
static char *drain(struct fx *f, int fd, size_t *len)
{
	size_t cap = 1 << 17, n = 0;
	char *buf = malloc(cap);

	for (int round = 0; round < 2000; round++) {
		struct pollfd p[2] = { { .fd = crl_http_fd(f->h), .events = POLLIN },
				       { .fd = fd, .events = POLLIN } };
		ssize_t k;

		poll(p, 2, 10);
		crl_http_run(f->h);
		if (!(p[1].revents & (POLLIN | POLLHUP)))
			continue;
		k = recv(fd, buf + n, cap - n - 1, MSG_DONTWAIT);
		if (k == 0 || (k < 0 && errno == ECONNRESET))
			break;
		if (k > 0)
			n += (size_t)k;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

static char *get(struct fx *f, const char *request, size_t *len)
{
	int fd = connect_to(f);
	char *r;

	assert_int_equal(send(fd, request, strlen(request), 0), (ssize_t)strlen(request));
	r = drain(f, fd, len);
	close(fd);
	return r;
}

static const char *body_of(const char *resp, size_t len, size_t *blen)
{
	const char *b = strstr(resp, "\r\n\r\n");

	assert_non_null(b);
	b += 4;
	*blen = len - (size_t)(b - resp);
	return b;
}

static void der_is_the_current_crl(void **state)
{
	struct fx *f = *state;
	uint8_t *want;
	size_t wlen, len, blen;
	char *r = get(f, "GET /crl.der HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &len);
	const char *b = body_of(r, len, &blen);
	const unsigned char *p = (const unsigned char *)b;
	X509_CRL *crl;

	assert_int_equal(strncmp(r, "HTTP/1.1 200", 12), 0);
	assert_non_null(strstr(r, "Content-Type: application/pkix-crl\r\n"));
	assert_int_equal(ca_crl_der(f->ca, &want, &wlen), 0);
	assert_int_equal(blen, wlen);
	assert_memory_equal(b, want, wlen);
	crl = d2i_X509_CRL(NULL, &p, (long)blen);
	assert_non_null(crl);
	X509_CRL_free(crl);
	OPENSSL_free(want);
	free(r);
	assert_int_equal(crl_http_requests(f->h), 1);
}

static void pem_too(void **state)
{
	struct fx *f = *state;
	size_t len, blen;
	char *r = get(f, "GET /crl.pem HTTP/1.0\r\n\r\n", &len);
	const char *b = body_of(r, len, &blen);

	assert_int_equal(strncmp(r, "HTTP/1.0 200", 12) && strncmp(r, "HTTP/1.1 200", 12), 0);
	assert_int_equal(strncmp(b, "-----BEGIN X509 CRL-----\n", 25), 0);
	free(r);
}

static void refusals(void **state)
{
	struct fx *f = *state;
	size_t len;
	char *r;

	r = get(f, "GET /ca.key HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &len);
	assert_int_equal(strncmp(r, "HTTP/1.1 404", 12), 0);
	free(r);
	r = get(f, "POST /crl.der HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		"Content-Length: 0\r\n\r\n", &len);
	assert_int_equal(strncmp(r, "HTTP/1.1 405", 12), 0);
	free(r);
	r = get(f, "DELETE /crl.der HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &len);
	assert_int_equal(strncmp(r, "HTTP/1.1 405", 12), 0);
	free(r);
	/* HEAD: the headers, no body */
	r = get(f, "HEAD /crl.der HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &len);
	assert_int_equal(strncmp(r, "HTTP/1.1 200", 12), 0);
	assert_true(len == (size_t)(strstr(r, "\r\n\r\n") + 4 - r));
	free(r);
}

/* CRL_HTTP_MAX_PER_IP idle connections: one more is closed at once, and
 * the server still answers when they go. */
static void per_address_limit(void **state)
{
	struct fx *f = *state;
	int idle[CRL_HTTP_MAX_PER_IP], extra;
	size_t len;
	char *r;

	for (int i = 0; i < CRL_HTTP_MAX_PER_IP; i++)
		idle[i] = connect_to(f);
	extra = connect_to(f);
	r = drain(f, extra, &len);
	assert_int_equal(len, 0);	/* closed without a word */
	free(r);
	close(extra);
	for (int i = 0; i < CRL_HTTP_MAX_PER_IP; i++)
		close(idle[i]);
	for (int i = 0; i < 10; i++)
		crl_http_run(f->h);
	r = get(f, "GET /crl.der HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &len);
	assert_int_equal(strncmp(r, "HTTP/1.1 200", 12), 0);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(der_is_the_current_crl, setup, teardown),
		cmocka_unit_test_setup_teardown(pem_too, setup, teardown),
		cmocka_unit_test_setup_teardown(refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(per_address_limit, setup, teardown),
	};

	return cmocka_run_group_tests_name("crl_http", tests, NULL, NULL);
}
