/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A read-only HTTP server in the caller's loop (httpd.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "lib/httpd.h"

struct httpd {
	struct MHD_Daemon *mhd;
	httpd_handler handler;
	void *ctx;
	uint16_t port;
	uint64_t requests;
};

enum MHD_Result httpd_reply(struct MHD_Connection *conn, unsigned int status,
			    const char *type, const void *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	/* a CRL changes with every revocation, counters all the time */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

enum MHD_Result httpd_text(struct MHD_Connection *conn, unsigned int status,
			   const char *msg)
{
	return httpd_reply(conn, status, "text/plain", msg, strlen(msg));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_len, void **con_cls)
{
	struct httpd *h = cls;

	(void)version;
	(void)upload;
	/* a request with a body: refuse it at the headers, read nothing */
	if (!*con_cls) {
		*con_cls = h;
		if (*upload_len)
			return MHD_NO;
		if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
			return httpd_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or HEAD only\n");
	}
	if (*upload_len)
		return MHD_NO;
	h->requests++;
	return h->handler(h->ctx, conn, url);
}

static int listen_on(uint32_t addr, uint16_t port, uint16_t *bound)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = addr,
	};
	socklen_t sl = sizeof(sa);
	int one = 1, err;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl)) {
		err = -errno;
		close(fd);
		return err;
	}
	*bound = ntohs(sa.sin_port);
	return fd;
}

int httpd_start(uint32_t addr, uint16_t port, httpd_handler handler, void *ctx,
		struct httpd **out)
{
	struct httpd *h = calloc(1, sizeof(*h));
	int fd;

	if (!h)
		return -ENOMEM;
	fd = listen_on(addr, port, &h->port);
	if (fd < 0) {
		free(h);
		return fd;
	}
	h->handler = handler;
	h->ctx = ctx;
	h->mhd = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, on_request, h,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTPD_MAX_CONN,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				  (unsigned int)HTTPD_MAX_PER_IP,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTPD_TIMEOUT_S,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
				  MHD_OPTION_END);
	if (!h->mhd) {
		close(fd);
		free(h);
		return -EIO;
	}
	*out = h;
	return 0;
}

int httpd_fd(const struct httpd *h)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);

	return i ? i->epoll_fd : -1;
}

uint16_t httpd_port(const struct httpd *h)
{
	return h->port;
}

void httpd_run(struct httpd *h)
{
	if (h)
		MHD_run(h->mhd);
}

uint64_t httpd_requests(const struct httpd *h)
{
	return h ? h->requests : 0;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->mhd);	/* closes the listening socket too */
	free(h);
}
