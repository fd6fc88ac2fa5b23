/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The host agent's state file (ctl/host_state.c): every field survives a
 * save and a load, the file is 0600 and replaced whole, damage is an error
 * naming the line, and the peer list neither duplicates nor loses entries.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include "host/host_state.h"

struct fx {
	char dir[64];
	char path[128];
	char err[512];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/xdnat-host-state.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, HOST_STATE_FILE);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char tmp[160];

	unlink(f->path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	unlink(tmp);
	rmdir(f->dir);
	free(f);
	return 0;
}

static uint32_t addr(const char *s)
{
	uint32_t a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static struct host_state full_state(void)
{
	struct host_state st;

	host_state_init(&st);
	st.gateway = addr("10.0.0.1");
	st.pap_port = 4555;
	snprintf(st.dev, sizeof(st.dev), "eth0");
	st.host_addr = addr("10.0.0.11");
	st.table = 100000;
	st.client_id = 0xfffffffe;
	for (int i = 0; i < PAP_KEY_LEN; i++)
		st.secret[i] = (uint8_t)(i * 37 + 1);
	st.seq = 41;
	st.xid = 0xdeadbeef;
	st.global = addr("198.51.100.1");
	st.lease = 300;
	st.lease_expires = 1700000000123ULL;
	st.has_ports = st.has_spis = true;
	st.ports = (struct pap_port_range){ st.global, 20000, 20063 };
	st.spis = (struct pap_spi_range){ st.global, 0x80000000u, 0xffffffffu };
	st.natt_port = 20001;
	snprintf(st.cert_dir, sizeof(st.cert_dir), "/etc/swanctl/xdnat certs");
	assert_int_equal(host_cmd_parse(&host_cmd_strongswan, 7, (char *[]){ "strongswan",
		"--dir", "/etc/xdnat/swan", "--peer", "203.0.113.10", "--narrow", "--peer-ca=/etc/peer-ca.pem",
		NULL }, &st.swan, (char[128]){ 0 }, 128), 0);
	st.n_peers = 2;
	st.peers[0] = (struct pap_sa){ addr("203.0.113.10"), 0x80000000u, 0xffffffffu };
	st.peers[1] = (struct pap_sa){ addr("203.0.113.20"), 0x80000001u, 0x80000001u };
	st.configured = true;
	st.clsact_created = true;
	st.sysctl_prev[HOST_SYSCTL_RP_FILTER] = 2;
	st.sysctl_prev[HOST_SYSCTL_ARP_ANNOUNCE] = 0;
	st.sysctl_prev[HOST_SYSCTL_ARP_IGNORE] = 0;
	st.sysctl_prev[HOST_SYSCTL_ACCEPT_LOCAL] = 0;
	st.tx_csum_prev = 1;
	return st;
}

static void test_round_trip(void **state)
{
	struct fx *f = *state;
	struct host_state a = full_state(), b;
	char tmp[160];
	struct stat st;

	assert_int_equal(host_state_save(f->dir, &a), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(host_state_load(f->dir, &b, f->err, sizeof(f->err)), 0);
	assert_memory_equal(&a, &b, sizeof(a));

	/* a second save replaces the first whole, and leaves no temporary */
	a.seq = 42;
	a.n_peers = 0;
	memset(a.peers, 0, sizeof(a.peers));
	a.has_spis = false;
	a.spis = (struct pap_spi_range){ 0 };
	a.sysctl_prev[HOST_SYSCTL_RP_FILTER] = -1;
	a.sysctl_prev[HOST_SYSCTL_ARP_IGNORE] = 8;
	a.tx_csum_prev = 0;
	memset(a.cert_dir, 0, sizeof(a.cert_dir));	/* the default: no line */
	memset(&a.swan, 0, sizeof(a.swan));	/* none: no line */
	assert_int_equal(host_state_save(f->dir, &a), 0);
	assert_int_equal(host_state_load(f->dir, &b, f->err, sizeof(f->err)), 0);
	a.spis.global = a.global;	/* ranges come back with G filled in */
	assert_memory_equal(&a, &b, sizeof(a));
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	assert_int_equal(access(tmp, F_OK), -1);
}

static void test_missing(void **state)
{
	struct fx *f = *state;
	struct host_state st;

	assert_int_equal(host_state_load(f->dir, &st, f->err, sizeof(f->err)), -ENOENT);
	assert_int_equal(host_state_remove(f->dir), 0);
}

static void write_file(const struct fx *f, const char *text)
{
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

#define VALID "version 1\ngateway 10.0.0.1\npap_port 4555\ndev eth0\n"

static void expect_bad(struct fx *f, const char *text, const char *in_err)
{
	struct host_state st;

	write_file(f, text);
	assert_int_equal(host_state_load(f->dir, &st, f->err, sizeof(f->err)), -EBADMSG);
	if (!strstr(f->err, in_err))
		fail_msg("error '%s' lacks '%s'", f->err, in_err);
}

static void test_damage(void **state)
{
	struct fx *f = *state;
	struct host_state st;

	write_file(f, "# comment\n\n" VALID);
	assert_int_equal(host_state_load(f->dir, &st, f->err, sizeof(f->err)), 0);
	assert_string_equal(st.dev, "eth0");
	for (int i = 0; i < HOST_SYSCTL_MAX; i++)
		assert_int_equal(st.sysctl_prev[i], -1);
	assert_int_equal(st.tx_csum_prev, -1);	/* a state file from before it */

	/* each bad file, and what the error must name */
	static const struct { const char *text, *names; } bad[] = {
		{ VALID "colour blue\n", ":5:" },
		{ VALID "tx_csum_prev 2\n", "tx_csum_prev" },
		{ VALID "arp_ignore_prev 256\n", "arp_ignore_prev" },
		{ VALID "accept_local_prev x\n", "accept_local_prev" },
		{ VALID "ports 20063-20000\n", "ports" },
		{ VALID "ports 0-10\n", "ports" },
		{ VALID "spis 1-255\n", "spis" },
		{ VALID "pap_port 65536\n", "pap_port" },
		{ VALID "client_id -1\n", "client_id" },
		{ VALID "secret 00ff\n", "secret" },
		{ VALID "gateway 10.0.0\n", "gateway" },
		{ VALID "peer 203.0.113.10\n", "peer" },
		{ VALID "configured 2\n", "configured" },
		{ VALID "lease\n", "lease" },
		{ "version 2\ngateway 10.0.0.1\ndev eth0\n", "version 2" },
		{ "gateway 10.0.0.1\ndev eth0\n", "version 0" },
		{ "version 1\ndev eth0\n", "gateway or dev missing" },
		{ VALID "dev eth0-with-a-much-too-long-name\n", "dev" },
		{ VALID "cert_dir relative/path\n", "cert_dir" },
		{ VALID "swan_args \n", "swan_args" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad(f, bad[i].text, bad[i].names);
}

/* A file as the agent wrote it before the key table: it loads, its
 * strongswan words (one blank-separated swan_args line) included. */
static void test_old_file_loads(void **state)
{
	struct fx *f = *state;
	struct host_state st, again;
	char line[HOST_SWAN_LINE_MAX];

	write_file(f, "# xdnat-host state: written by the agent, read by `up` and `down`\n"
		   "version 1\ngateway 10.0.0.1\npap_port 4555\ndev eth0\nhost_addr 10.0.0.11\n"
		   "table 4555\nclient_id 3\nsecret "
		   "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
		   "seq 41\nxid 99\nglobal 198.51.100.1\nlease 300\nlease_expires 1700000000\n"
		   "ports 20000-20063\nspis 4096-4351\nnatt_port 20001\ncert_dir /etc/c\n"
		   "swan_args --dir /etc/xdnat/swan --peer 203.0.113.10 --narrow --esp kernel\n"
		   "peer 203.0.113.10 4096-4351\nconfigured 1\nclsact_created 0\n"
		   "rp_filter_prev 1\narp_announce_prev -1\n");
	assert_int_equal(host_state_load(f->dir, &st, f->err, sizeof(f->err)), 0);
	assert_int_equal(st.client_id, 3);
	assert_int_equal(st.secret[31], 0x1f);
	assert_int_equal(st.ports.last, 20063);
	assert_int_equal(st.ports.global, addr("198.51.100.1"));
	assert_int_equal(st.n_peers, 1);
	assert_int_equal(st.sysctl_prev[HOST_SYSCTL_RP_FILTER], 1);
	assert_int_equal(st.sysctl_prev[HOST_SYSCTL_ARP_ANNOUNCE], -1);
	/* from before the agent set them: never changed, `down` leaves them */
	assert_int_equal(st.sysctl_prev[HOST_SYSCTL_ARP_IGNORE], -1);
	assert_int_equal(st.sysctl_prev[HOST_SYSCTL_ACCEPT_LOCAL], -1);
	assert_string_equal(st.swan.dir, "/etc/xdnat/swan");
	assert_string_equal(st.swan.peer, "203.0.113.10");
	assert_true(st.swan.narrow);
	assert_int_equal(st.swan.esp, SWAN_ESP_KERNEL);
	assert_int_equal(host_cmd_line(&host_cmd_strongswan, &st.swan, line, sizeof(line)), 0);
	assert_string_equal(line, "--dir /etc/xdnat/swan --peer 203.0.113.10 --narrow --esp kernel");
	/* saved again, in today's form, it reads back the same */
	assert_int_equal(host_state_save(f->dir, &st), 0);
	assert_int_equal(host_state_load(f->dir, &again, f->err, sizeof(f->err)), 0);
	assert_memory_equal(&st, &again, sizeof(st));
}

/* strongswan's words may hold any character: one escaped line each. */
static void test_swan_words_escaped(void **state)
{
	struct fx *f = *state;
	struct host_state a, b;
	char *argv[] = { "strongswan", "--dir", "/a dir/x\\y\nz", "--peer-id", "O=\"q\"", NULL };
	char text[4096];
	FILE *fp;
	size_t n;

	host_state_init(&a);
	a.gateway = addr("10.0.0.1");
	snprintf(a.dev, sizeof(a.dev), "eth0");
	assert_int_equal(host_cmd_parse(&host_cmd_strongswan, 5, argv, &a.swan, f->err,
					sizeof(f->err)), 0);
	assert_int_equal(host_state_save(f->dir, &a), 0);
	fp = fopen(f->path, "r");
	assert_non_null(fp);
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = 0;
	assert_non_null(strstr(text, "\nswan_arg /a dir/x\\\\y\\nz\n"));
	assert_non_null(strstr(text, "\nswan_arg O=\"q\"\n"));
	assert_null(strstr(text, "swan_args"));
	assert_int_equal(host_state_load(f->dir, &b, f->err, sizeof(f->err)), 0);
	assert_memory_equal(&a, &b, sizeof(a));

	expect_bad(f, VALID "swan_arg --dir\nswan_arg /x\\q\n", "swan_arg");
	expect_bad(f, VALID "swan_arg --peer\nswan_arg 1.2.3.4\n", "--dir DIR is required");
	expect_bad(f, VALID "swan_arg --dir\nswan_arg /x\nswan_arg --bogus\n", "--bogus");
}

static void test_peers(void **state)
{
	struct host_state st;
	struct pap_sa a = { 1, 4096, 4351 }, b = { 2, 4096, 4096 }, c = { 1, 4097, 4097 };

	(void)state;
	host_state_init(&st);
	host_state_add_peer(&st, &a);
	host_state_add_peer(&st, &b);
	host_state_add_peer(&st, &a);
	assert_int_equal(st.n_peers, 2);
	host_state_del_peer(&st, &c);		/* not there: nothing happens */
	assert_int_equal(st.n_peers, 2);
	host_state_del_peer(&st, &a);
	assert_int_equal(st.n_peers, 1);
	assert_memory_equal(&st.peers[0], &b, sizeof(b));
	for (uint32_t i = 0; i < HOST_STATE_MAX_PEERS + 5; i++)
		host_state_add_peer(&st, &(struct pap_sa){ 9, 4096 + i, 4096 + i });
	assert_int_equal(st.n_peers, HOST_STATE_MAX_PEERS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_file_loads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swan_words_escaped, setup, teardown),
		cmocka_unit_test(test_peers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
