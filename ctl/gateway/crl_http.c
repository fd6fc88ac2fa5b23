/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The CRL distribution point (crl_http.h) on the shared server (lib/httpd.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "gateway/ca.h"
#include "gateway/crl_http.h"
#include "lib/httpd.h"
#include "lib/log.h"
#include "pap/cert_profile.h"

struct crl_http {
	struct httpd *httpd;
	struct ca *ca;
};

static enum MHD_Result serve_crl(void *ctx, struct MHD_Connection *conn, const char *url)
{
	struct crl_http *h = ctx;
	bool pem = !strcmp(url, "/crl.pem");
	uint8_t *der = NULL;
	char *p = NULL;
	size_t len, plen;
	enum MHD_Result rc;
	int err;

	if (strcmp(url, "/crl.der") && strcmp(url, "/crl.pem") && strcmp(url, "/crl"))
		return httpd_text(conn, MHD_HTTP_NOT_FOUND, "/crl.der or /crl.pem\n");
	err = ca_crl_der(h->ca, &der, &len);
	if (err) {
		log_err("CRL over HTTP: %s", strerror(-err));
		return httpd_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "no CRL\n");
	}
	if (!pem) {
		rc = httpd_reply(conn, MHD_HTTP_OK, "application/pkix-crl", der, len);
	} else if (cert_pem_encode("X509 CRL", der, len, &p, &plen)) {
		rc = httpd_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "no CRL\n");
	} else {
		rc = httpd_reply(conn, MHD_HTTP_OK, "application/x-pem-file", p, plen);
	}
	free(p);
	OPENSSL_free(der);
	return rc;
}

int crl_http_start(uint32_t addr, uint16_t port, struct ca *ca, struct crl_http **out)
{
	struct crl_http *h = calloc(1, sizeof(*h));
	int err;

	if (!h)
		return -ENOMEM;
	h->ca = ca;
	err = httpd_start(addr, port, serve_crl, h, &h->httpd);
	if (err) {
		free(h);
		return err;
	}
	*out = h;
	return 0;
}

int crl_http_fd(const struct crl_http *h)
{
	return httpd_fd(h->httpd);
}

uint16_t crl_http_port(const struct crl_http *h)
{
	return httpd_port(h->httpd);
}

void crl_http_run(struct crl_http *h)
{
	if (h)
		httpd_run(h->httpd);
}

uint64_t crl_http_requests(const struct crl_http *h)
{
	return h ? httpd_requests(h->httpd) : 0;
}

void crl_http_stop(struct crl_http *h)
{
	if (!h)
		return;
	httpd_stop(h->httpd);
	free(h);
}
