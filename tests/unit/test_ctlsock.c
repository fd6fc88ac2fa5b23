/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The control socket's framing (ctl/lib/ctlsock.c): argv goes across whole
 * (blanks, quotes, newlines and empty words included) and comes back as the
 * handler's answer or error; the client refuses what exceeds the limits, and
 * the server answers a silent, cut-short, oversized or malformed request
 * with an error line, without calling the handler.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "lib/ctlsock.h"
#include "test_tmpdir.h"

struct fx {
	char root[40], path[64];
	int lfd;
	pthread_t server;
	/* what the handler saw */
	int calls, argc;
	char words[CTLSOCK_MAX_ARGS][CTLSOCK_REQ_MAX];
};

/* Echo the words, one per line; "fail" answers an error. */
static int handler(void *ctx, int argc, char **argv, FILE *out, char *err, size_t errlen)
{
	struct fx *f = ctx;

	f->calls++;
	f->argc = argc;
	for (int i = 0; i < argc && i < CTLSOCK_MAX_ARGS; i++) {
		snprintf(f->words[i], sizeof(f->words[i]), "%s", argv[i]);
		fprintf(out, "[%s]\n", argv[i]);
	}
	if (argv[argc])
		fprintf(out, "argv not NULL-terminated\n");
	if (argc && !strcmp(argv[0], "fail")) {
		snprintf(err, errlen, "asked to fail");
		return -1;
	}
	return 0;
}

/* Serves one connection. */
static void *serve_one(void *arg)
{
	struct fx *f = arg;
	struct pollfd p = { .fd = f->lfd, .events = POLLIN };

	if (poll(&p, 1, 10000) == 1)
		ctlsock_serve(f->lfd, handler, f);
	return NULL;
}

static void start_server(struct fx *f)
{
	assert_int_equal(pthread_create(&f->server, NULL, serve_one, f), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || tmpdir_make(f->root, sizeof(f->root), "/tmp/xdnat-ctlsock-XXXXXX", f->path,
			      sizeof(f->path), "run/ctl.sock"))
		return -1;
	f->lfd = ctlsock_listen(f->path);
	if (f->lfd < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	close(f->lfd);
	tmpdir_remove(f->root);
	free(f);
	return 0;
}

/* ctlsock_call with the answer's body in body. */
static int call(struct fx *f, int argc, char **argv, char *body, size_t cap, char *err)
{
	FILE *out;
	int rc;

	memset(body, 0, cap);
	out = fmemopen(body, cap, "w");
	assert_non_null(out);
	err[0] = 0;
	start_server(f);
	rc = ctlsock_call(f->path, argc, argv, 5, out, err, 512);
	fclose(out);
	pthread_join(f->server, NULL);
	return rc;
}

static void words_go_across_whole(void **state)
{
	struct fx *f = *state;
	char *argv[] = { "strongswan", "--dir", "/a dir/with \"quotes\"\\", "", "two\nlines", NULL };
	char body[4096], err[512];

	assert_int_equal(call(f, 5, argv, body, sizeof(body), err), 0);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->argc, 5);
	for (int i = 0; i < 5; i++)
		assert_string_equal(f->words[i], argv[i]);
	assert_string_equal(body, "[strongswan]\n[--dir]\n[/a dir/with \"quotes\"\\]\n[]\n"
			    "[two\nlines]\n");
}

static void handler_error_comes_back(void **state)
{
	struct fx *f = *state;
	char *argv[] = { "fail", NULL };
	char body[4096], err[512];

	assert_int_equal(call(f, 1, argv, body, sizeof(body), err), -EPROTO);
	assert_string_equal(err, "asked to fail");
	assert_string_equal(body, "");		/* no body after an error */
}

static void no_words(void **state)
{
	struct fx *f = *state;
	char body[4096], err[512];

	assert_int_equal(call(f, 0, (char *[]){ NULL }, body, sizeof(body), err), 0);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->argc, 0);
}

static void client_limits(void **state)
{
	static char big[CTLSOCK_REQ_MAX + 1];
	struct fx *f = *state;
	char *argv[CTLSOCK_MAX_ARGS + 2], body[64], err[512];
	FILE *out = fmemopen(body, sizeof(body), "w");

	for (int i = 0; i < CTLSOCK_MAX_ARGS + 1; i++)
		argv[i] = "w";
	argv[CTLSOCK_MAX_ARGS + 1] = NULL;
	/* refused before anything is sent: no server needed */
	assert_int_equal(ctlsock_call(f->path, CTLSOCK_MAX_ARGS + 1, argv, 5, out, err, sizeof(err)),
			 -E2BIG);
	memset(big, 'x', CTLSOCK_REQ_MAX);	/* its NUL makes it one byte too long */
	assert_int_equal(ctlsock_call(f->path, 1, (char *[]){ big, NULL }, 5, out, err, sizeof(err)),
			 -E2BIG);
	assert_non_null(strstr(err, "longer than"));
	fclose(out);
	assert_int_equal(f->calls, 0);
}

static void at_the_limits(void **state)
{
	static char big[CTLSOCK_REQ_MAX], body[2 * CTLSOCK_REQ_MAX];
	struct fx *f = *state;
	char *argv[CTLSOCK_MAX_ARGS + 1], err[512];

	memset(big, 'x', CTLSOCK_REQ_MAX - 1);	/* with its NUL: exactly the limit */
	assert_int_equal(call(f, 1, (char *[]){ big, NULL }, body, sizeof(body), err), 0);
	assert_int_equal(strlen(f->words[0]), CTLSOCK_REQ_MAX - 1);
	for (int i = 0; i < CTLSOCK_MAX_ARGS; i++)
		argv[i] = "w";
	argv[CTLSOCK_MAX_ARGS] = NULL;
	assert_int_equal(call(f, CTLSOCK_MAX_ARGS, argv, body, sizeof(body), err), 0);
	assert_int_equal(f->argc, CTLSOCK_MAX_ARGS);
}

/* A client of our own: sends n bytes of req (then closes its side unless
 * hold), returns what the server answered. */
static const char *raw(struct fx *f, const void *req, size_t n, bool hold)
{
	static char answer[1024];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	size_t off = 0;
	ssize_t r;

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	start_server(f);
	assert_int_equal(write(fd, req, n), (ssize_t)n);
	if (!hold)
		shutdown(fd, SHUT_WR);
	while ((r = read(fd, answer + off, sizeof(answer) - 1 - off)) > 0)
		off += (size_t)r;
	answer[off] = 0;
	close(fd);
	pthread_join(f->server, NULL);
	return answer;
}

static void server_refusals(void **state)
{
	struct fx *f = *state;
	uint32_t len = htonl(CTLSOCK_REQ_MAX + 1);
	struct {
		uint32_t len;
		char words[6];
	} __attribute__((packed)) cut = { htonl(10), "ab\0cd" }, bad = { htonl(6), "ab\0cde" };

	/* silent: it keeps its side open and says nothing; a second, then an error */
	assert_string_equal(raw(f, "", 0, true), "error: no request\n");
	assert_string_equal(raw(f, &len, sizeof(len), false),
			    "error: request of 8193 bytes, at most 8192\n");
	assert_string_equal(raw(f, &cut, sizeof(cut), false), "error: request cut short\n");
	assert_string_equal(raw(f, &bad, sizeof(bad), false), "error: malformed request\n");
	assert_int_equal(f->calls, 0);
	/* and the very same framing by hand is served */
	bad.words[5] = 0;
	assert_string_equal(raw(f, &bad, sizeof(bad), false), "ok\n[ab]\n[cd]\n");
	assert_int_equal(f->calls, 1);
}

static void too_many_words_from_a_raw_client(void **state)
{
	struct fx *f = *state;
	struct {
		uint32_t len;
		char words[2 * (CTLSOCK_MAX_ARGS + 1)];
	} __attribute__((packed)) req;

	memset(req.words, 0, sizeof(req.words));
	for (int i = 0; i < CTLSOCK_MAX_ARGS + 1; i++)
		req.words[2 * i] = 'w';
	req.len = htonl(sizeof(req.words));
	assert_string_equal(raw(f, &req, sizeof(req), false), "error: more than 64 words\n");
	assert_int_equal(f->calls, 0);
}

static void nobody_listening(void **state)
{
	struct fx *f = *state;
	char err[512], path[160];

	snprintf(path, sizeof(path), "%s/none.sock", f->root);
	assert_int_equal(ctlsock_call(path, 1, (char *[]){ "status", NULL }, 1, stdout, err,
				      sizeof(err)), -ENOENT);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(words_go_across_whole),
		T(handler_error_comes_back),
		T(no_words),
		T(client_limits),
		T(at_the_limits),
		T(server_refusals),
		T(too_many_words_from_a_raw_client),
		T(nobody_listening),
	};

	return cmocka_run_group_tests_name("ctlsock", tests, NULL, NULL);
}
