/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A small read-only HTTP server on libmicrohttpd, run from the daemon's own
 * epoll loop (no thread): httpd_fd() goes into the loop and httpd_run()
 * serves what is ready. Connections are bounded in number, per client
 * address and in time; only GET and HEAD are answered, a request with a body
 * is refused at its headers. What a URL answers is the handler's: xdnatd's
 * CRL distribution point (crl_http.c) and its /metrics (metrics.c).
 */
#ifndef XDNAT_LIB_HTTPD_H
#define XDNAT_LIB_HTTPD_H

#include <stddef.h>
#include <stdint.h>
#include <microhttpd.h>

#define HTTPD_MAX_CONN		32	/* at once, all clients */
#define HTTPD_MAX_PER_IP	4
#define HTTPD_TIMEOUT_S		10	/* an idle connection is closed */

struct httpd;

/* Answers a GET or HEAD of url: an httpd_reply() (404 included). */
typedef enum MHD_Result (*httpd_handler)(void *ctx, struct MHD_Connection *conn,
					 const char *url);

/* Listen on addr:port (network order address; port host order, 0: any).
 * 0 or -errno (-EADDRINUSE, ...). */
int httpd_start(uint32_t addr, uint16_t port, httpd_handler handler, void *ctx,
		struct httpd **out);
/* The fd to poll for input (an epoll fd), and the port bound. */
int httpd_fd(const struct httpd *h);
uint16_t httpd_port(const struct httpd *h);
/* Serve whatever is ready, and close connections that timed out. NULL: none. */
void httpd_run(struct httpd *h);
/* Requests answered so far (any status). */
uint64_t httpd_requests(const struct httpd *h);
void httpd_stop(struct httpd *h);

/* Queue body (copied) with status and Content-Type; never cached. */
enum MHD_Result httpd_reply(struct MHD_Connection *conn, unsigned int status,
			    const char *type, const void *body, size_t len);
enum MHD_Result httpd_text(struct MHD_Connection *conn, unsigned int status,
			   const char *msg);

#endif
