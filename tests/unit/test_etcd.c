// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lib/etcd: the base64/JSON codec, then the client against a real etcd
 * member this test starts (127.0.0.1, ports from the pid, a tmp data dir).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "lib/etcd.h"

static void test_b64(void **st)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
					   "Zm9vYmFy" };
	(void)st;
	for (size_t i = 0; i < 7; i++) {
		char *s = etcd_b64_encode(in[i], strlen(in[i]));
		size_t n;
		uint8_t *d = etcd_b64_decode(s, &n);

		assert_string_equal(s, out[i]);
		assert_non_null(d);
		assert_int_equal(n, strlen(in[i]));
		assert_memory_equal(d, in[i], n);
		free(s);
		free(d);
	}
	size_t n;

	assert_null(etcd_b64_decode("Zm9", &n));
	assert_null(etcd_b64_decode("Z!9v", &n));
}

static void test_prefix_end(void **st)
{
	char *e = etcd_prefix_end("/xdnat/a");

	(void)st;
	assert_string_equal(e, "/xdnat/b");
	free(e);
	e = etcd_prefix_end("a\xff");
	assert_string_equal(e, "b");
	free(e);
}

static void test_parse_range(void **st)
{
	struct etcd_range r;

	(void)st;
	assert_int_equal(etcd_parse_range("{\"header\":{\"revision\":\"7\"},\"kvs\":[{\"key\":"
					  "\"YQ==\",\"value\":\"Zm9v\",\"mod_revision\":\"5\","
					  "\"version\":\"2\"}],\"count\":\"1\"}", &r), 0);
	assert_int_equal(r.revision, 7);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.kvs[0].key, "a");
	assert_int_equal(r.kvs[0].val_len, 3);
	assert_memory_equal(r.kvs[0].val, "foo", 3);
	assert_int_equal(r.kvs[0].mod_revision, 5);
	assert_int_equal(r.kvs[0].version, 2);
	etcd_range_free(&r);
	assert_int_equal(etcd_parse_range("{\"header\":{}}", &r), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(etcd_parse_range("not json", &r), -EBADMSG);
	assert_int_equal(etcd_parse_range("{\"kvs\":[{\"value\":\"x\"}]}", &r), -EBADMSG);
}

/* ---- against a live member ---- */
static pid_t etcd_pid;
static char etcd_dir[64], endpoints[128];

static void stop_etcd(void)
{
	char cmd[128];

	if (etcd_pid > 0) {
		kill(etcd_pid, SIGKILL);
		waitpid(etcd_pid, NULL, 0);
		etcd_pid = 0;
	}
	if (etcd_dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", etcd_dir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", etcd_dir);
	}
}

static int start_etcd(void **st)
{
	int port = 20000 + (getpid() % 20000);
	char client[64], peer[64], ip[80];
	struct etcd *e;

	(void)st;
	snprintf(etcd_dir, sizeof(etcd_dir), "/tmp/xdnat-etcd-unit.XXXXXX");
	if (!mkdtemp(etcd_dir))
		return -1;
	snprintf(client, sizeof(client), "http://127.0.0.1:%d", port);
	snprintf(peer, sizeof(peer), "http://127.0.0.1:%d", port + 1);
	snprintf(ip, sizeof(ip), "u=%s", peer);
	snprintf(endpoints, sizeof(endpoints), "http://127.0.0.1:1,%s", client);
	etcd_pid = fork();
	if (etcd_pid == 0) {
		if (!freopen("/dev/null", "w", stderr) || !freopen("/dev/null", "w", stdout))
			_exit(127);
		execlp("etcd", "etcd", "--name", "u", "--data-dir", etcd_dir,
		       "--listen-client-urls", client, "--advertise-client-urls", client,
		       "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		       "--initial-cluster", ip, (char *)NULL);
		_exit(127);
	}
	atexit(stop_etcd);
	/* wait until it answers (a bounded wait for readiness, not a timing assertion) */
	if (etcd_open(endpoints, &e))
		return -1;
	for (int i = 0; i < 100; i++) {
		struct etcd_range r;

		if (!etcd_range(e, "/ready", 0, &r)) {
			etcd_range_free(&r);
			etcd_close(e);
			return 0;
		}
		usleep(100000);
	}
	etcd_close(e);
	return -1;
}

static int count_cb(void *ctx, const struct etcd_kv *kv, int deleted)
{
	int *n = ctx;

	(void)kv;
	(*n) += deleted ? 100 : 1;
	return *n >= 102;
}

static void test_live(void **st)
{
	struct etcd *e;
	struct etcd_range r;
	int64_t lease, ttl, rev, last;
	int ok, n = 0;

	(void)st;
	/* the first endpoint is dead: failover to the second */
	assert_int_equal(etcd_open(endpoints, &e), 0);
	assert_int_equal(etcd_put(e, "/t/a", "one", 3, 0), 0);
	assert_int_equal(etcd_put(e, "/t/b", "two", 3, 0), 0);
	assert_int_equal(etcd_put(e, "/u", "x", 1, 0), 0);
	assert_int_equal(etcd_range(e, "/t/", 1, &r), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.kvs[0].key, "/t/a");
	assert_memory_equal(r.kvs[1].val, "two", 3);
	int64_t mod = r.kvs[0].mod_revision;

	rev = r.revision;
	etcd_range_free(&r);

	/* a fenced txn: holds on the right mod_revision, not on a wrong one */
	struct etcd_cmp c = { .key = "/t/a", .target = ETCD_CMP_MOD, .result = ETCD_EQUAL,
			      .num = mod };
	struct etcd_op op = { .key = "/t/c", .val = "three", .val_len = 5 };

	assert_int_equal(etcd_txn(e, &c, 1, &op, 1, &ok, NULL), 0);
	assert_true(ok);
	c.num = mod + 100;
	op.key = "/t/d";
	assert_int_equal(etcd_txn(e, &c, 1, &op, 1, &ok, NULL), 0);
	assert_false(ok);
	/* unclaimed: version 0 */
	struct etcd_cmp un = { .key = "/t/c", .target = ETCD_CMP_VERSION, .result = ETCD_EQUAL };

	assert_int_equal(etcd_txn(e, &un, 1, &op, 1, &ok, NULL), 0);
	assert_false(ok);
	struct etcd_cmp val = { .key = "/t/a", .target = ETCD_CMP_VALUE, .result = ETCD_EQUAL,
				.val = "one", .val_len = 3 };

	assert_int_equal(etcd_txn(e, &val, 1, &op, 1, &ok, NULL), 0);
	assert_true(ok);

	/* leases */
	assert_int_equal(etcd_lease_grant(e, 5, &lease), 0);
	assert_int_equal(etcd_put(e, "/t/leader", "n1", 2, lease), 0);
	assert_int_equal(etcd_lease_keepalive(e, lease, &ttl), 0);
	assert_true(ttl > 0);
	assert_int_equal(etcd_lease_revoke(e, lease), 0);
	assert_int_equal(etcd_range(e, "/t/leader", 0, &r), 0);
	assert_int_equal(r.n, 0);	/* went with its lease */
	etcd_range_free(&r);

	/* watch from the first revision: puts a, b, c, d, leader, then the lease's delete */
	assert_int_equal(etcd_delete(e, "/t/a"), 0);
	assert_int_equal(etcd_watch(e, "/t/", rev - 1, 3000, count_cb, &n, &last), 0);
	assert_true(n >= 102);
	assert_true(last > rev);
	etcd_close(e);
}

int main(void)
{
	const struct CMUnitTest codec[] = {
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_prefix_end),
		cmocka_unit_test(test_parse_range),
	};
	const struct CMUnitTest live[] = {
		cmocka_unit_test(test_live),
	};
	int r = cmocka_run_group_tests(codec, NULL, NULL);

	return r + cmocka_run_group_tests(live, start_etcd, NULL);
}
