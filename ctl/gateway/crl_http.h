/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The CRL distribution point (RFC 5280 4.2.1.13, docs/ca.md): xdnatd serves
 * the CA's current CRL over HTTP, read-only, as /crl.der (application/
 * pkix-crl, RFC 2585) and /crl.pem, so that IKE peers (strongSwan) fetch it
 * from the URL every host certificate names. The server is lib/httpd.h's,
 * in the daemon's own epoll loop (no thread): crl_http_fd() goes into the
 * loop and crl_http_run() serves what is ready.
 */
#ifndef XDNAT_CRL_HTTP_H
#define XDNAT_CRL_HTTP_H

#include <stdint.h>
#include "lib/httpd.h"

#define CRL_HTTP_MAX_CONN	HTTPD_MAX_CONN	/* at once, all clients */
#define CRL_HTTP_MAX_PER_IP	HTTPD_MAX_PER_IP
#define CRL_HTTP_TIMEOUT_S	HTTPD_TIMEOUT_S	/* an idle connection is closed */

struct ca;
struct crl_http;

/* Listen on addr:port (network order address; port host order, 0: any)
 * and serve ca's CRL. 0 or -errno (-EADDRINUSE, ...). */
int crl_http_start(uint32_t addr, uint16_t port, struct ca *ca, struct crl_http **out);
/* The fd to poll for input (an epoll fd), and the port bound. */
int crl_http_fd(const struct crl_http *h);
uint16_t crl_http_port(const struct crl_http *h);
/* Serve whatever is ready, and close connections that timed out. */
void crl_http_run(struct crl_http *h);
/* Requests answered so far (any status). */
uint64_t crl_http_requests(const struct crl_http *h);
void crl_http_stop(struct crl_http *h);

#endif
