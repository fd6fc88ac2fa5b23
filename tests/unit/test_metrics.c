/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Observability without sockets: metrics_render() of a gateway driven with
 * PAP requests (every series present, HELP and TYPE before each family,
 * values as gw_stats holds them), the PAP counters' file (round trip,
 * missing, unknown keys, corrupt), the control socket's read-only policy
 * (gw_command_read_only, gw_command_auth) and parse_addr_port().
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gateway/gw_commands.h"
#include "gateway/metrics.h"
#include "gateway/pap_counters.h"
#include "lib/parse.h"
#include "lib/version.h"
#include "gw_fixture.h"
#include "test_tmpdir.h"

static char *render(const struct gw *g, const struct dataplane_stats *dp)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	assert_int_equal(metrics_render(out, g, dp, NULL), 0);
	assert_int_equal(fclose(out), 0);
	return text;
}

/* The value of the sample line that starts with "series ", or fail. */
static unsigned long long sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, series, n) && l[n] == ' ')
			return strtoull(l + n + 1, NULL, 10);
	fail_msg("no sample %s", series);
	return 0;
}

/* Every sample's family has HELP then TYPE before it; counters end in _total. */
static void assert_well_formed(const char *text)
{
	char family[128] = "", type[16] = "";

	for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
		char name[128];

		assert_non_null(strchr(l, '\n'));
		if (sscanf(l, "# HELP %127s", family) == 1) {
			type[0] = 0;
			continue;
		}
		if (!strncmp(l, "# TYPE ", 7)) {
			assert_int_equal(sscanf(l, "# TYPE %127s %15s", name, type), 2);
			assert_string_equal(name, family);
			continue;
		}
		assert_int_equal(sscanf(l, "%127[a-z_]", name), 1);
		assert_string_equal(name, family);
		assert_true(!strcmp(type, "counter") || !strcmp(type, "gauge"));
		if (!strcmp(type, "counter"))
			assert_non_null(strstr(name, "_total"));
	}
}

static void test_render(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 };
	struct dataplane_stats dp = { 0 };
	static const char *const reasons[XDNAT_REASON_MAX] = XDNAT_REASON_NAMES;
	char series[128], *text;

	do_register(f, &s, HOST_A);
	assert_int_equal(ask_ports(f, &s, 64, NULL), 0);
	dp.reason[XDNAT_FWD_TO_EXT].packets = 7;
	dp.reason[XDNAT_FWD_TO_EXT].bytes = 700;
	text = render(f->g, &dp);
	assert_well_formed(text);
	snprintf(series, sizeof(series), "xdnat_build_info{version=\"%s\"}", xdnat_version);
	assert_int_equal(sample(text, series), 1);
	assert_int_equal(sample(text, "xdnat_hosts"), 1);
	assert_int_equal(sample(text, "xdnat_ports_held"), 64);
	assert_int_equal(sample(text, "xdnat_ports_free"), 1000 - 64);
	/* issue 15: the same per address of the pool, a pool of one here */
	assert_int_equal(sample(text, "xdnat_pool_hosts{global=\"198.51.100.1\"}"), 1);
	assert_int_equal(sample(text, "xdnat_pool_ports_held{global=\"198.51.100.1\"}"), 64);
	assert_int_equal(sample(text, "xdnat_pool_ports_free{global=\"198.51.100.1\"}"),
			 1000 - 64);
	assert_int_equal(sample(text, "xdnat_pap_requests_total{type=\"register\"}"),
			 gw_get_stats(f->g)->requests[PAP_REGISTER]);
	assert_int_equal(sample(text, "xdnat_pap_requests_total{type=\"port\"}"), 1);
	assert_int_equal(sample(text, "xdnat_pap_errors_total{code=\"cookie\"}"), 1);
	assert_int_equal(sample(text, "xdnat_pap_errors_total{code=\"no-ports\"}"), 0);
	assert_int_equal(sample(text, "xdnat_pap_registrations_total"), 1);
	assert_int_equal(sample(text, "xdnat_dataplane_up"), 1);
	assert_int_equal(sample(text, "xdnat_dataplane_packets_total{reason=\"fwd_to_ext\"}"), 7);
	assert_int_equal(sample(text, "xdnat_dataplane_bytes_total{reason=\"fwd_to_ext\"}"), 700);
	for (int r = 0; r < XDNAT_REASON_MAX; r++) {
		snprintf(series, sizeof(series), "xdnat_dataplane_packets_total{reason=\"%s\"}",
			 reasons[r]);
		sample(text, series);
	}
	free(text);

	/* no data plane: its series still there, at 0 */
	text = render(f->g, NULL);
	assert_well_formed(text);
	assert_int_equal(sample(text, "xdnat_dataplane_up"), 0);
	assert_int_equal(sample(text, "xdnat_dataplane_packets_total{reason=\"malformed\"}"), 0);
	assert_int_equal(sample(text, "xdnat_certificates_issued_total"), 0);
	free(text);
}

static void test_counters_file(void **state)
{
	struct fx *f = *state;
	char root[64], dir[80], err[256], *path;
	struct gw_stats s = { 0 }, back;
	FILE *fp;

	(void)f;
	assert_int_equal(tmpdir_make(root, sizeof(root), "/tmp/xdnat-metrics-XXXXXX", dir,
				     sizeof(dir), "."), 0);
	/* no file: zeros */
	memset(&back, 0xff, sizeof(back));
	assert_int_equal(pap_counters_load(root, &back, err, sizeof(err)), 0);
	assert_memory_equal(&back, &s, sizeof(s));

	s.datagrams = 12345678901ull;
	s.requests[PAP_EXTEND] = 3;
	s.errors[PAP_E_QUOTA] = 4;
	s.certs_revoked = 5;
	s.expired = 6;
	assert_int_equal(pap_counters_save(root, &s), 0);
	assert_int_equal(pap_counters_load(root, &back, err, sizeof(err)), 0);
	assert_memory_equal(&back, &s, sizeof(s));

	/* keyed by name: unknown keys ignored, missing ones 0 */
	assert_int_equal(asprintf(&path, "%s/%s", root, PAP_COUNTERS_FILE) > 0, 1);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("{\"datagrams\":9,\"no_such\":1,\"requests\":{\"query\":2}}", fp);
	fclose(fp);
	assert_int_equal(pap_counters_load(root, &back, err, sizeof(err)), 0);
	assert_int_equal(back.datagrams, 9);
	assert_int_equal(back.requests[PAP_QUERY], 2);
	assert_int_equal(back.errors[PAP_E_QUOTA], 0);

	/* a corrupt file is refused, naming it */
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("{\"datagrams\":", fp);
	fclose(fp);
	assert_int_equal(pap_counters_load(root, &back, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, PAP_COUNTERS_FILE));
	unlink(path);
	free(path);
	assert_int_equal(rmdir(root), 0);
}

static void test_read_only(void **state)
{
	char *reads[][3] = { { "hosts" }, { "--json", "sa" }, { "stats", "--json" },
			     { "ca" }, { "crl" }, { "state", "dump" }, { "token", "list" } };
	char *writes[][3] = { { "free", "7" }, { "state", "backup", "/x" },
			      { "token", "issue" }, { "token", "revoke", "1" }, { "reload" },
			      { "--json", "free", "7" } };

	(void)state;
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
		assert_true(gw_command_read_only(reads[i][1] ? 2 : 1, reads[i]));
	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++)
		assert_false(gw_command_read_only(writes[i][2] ? 3 : writes[i][1] ? 2 : 1,
						  writes[i]));
}

static void test_auth(void **state)
{
	struct fx *f = *state;
	struct gw_commands c = { .g = f->g, .ro_gid = 4242 };
	struct ctlsock_peer root = { .uid = 0, .gid = 0 };
	struct ctlsock_peer member = { .uid = 5000, .gid = 5000, .n_groups = 2,
				       .groups = { 100, 4242 } };
	struct ctlsock_peer other = { .uid = 5001, .gid = 5001 };
	char *hosts[] = { "hosts" }, *free_cmd[] = { "free", "1" }, err[256];

	/* the tests run as root: geteuid() is root's, "other" is nobody's own */
	assert_int_equal(gw_command_auth(&c, &root, 2, free_cmd, err, sizeof(err)), 0);
	assert_int_equal(gw_command_auth(&c, &member, 1, hosts, err, sizeof(err)), 0);
	assert_int_equal(gw_command_auth(&c, &member, 2, free_cmd, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "permission denied"));
	assert_int_equal(gw_command_auth(&c, &other, 1, hosts, err, sizeof(err)), -EPERM);
	c.ro_gid = (gid_t)-1;	/* no --ctl-group: a member of nothing reads nothing */
	assert_int_equal(gw_command_auth(&c, &member, 1, hosts, err, sizeof(err)), -EPERM);
	assert_true(ctlsock_peer_in_group(&member, 100));
	assert_false(ctlsock_peer_in_group(&member, 101));
}

static void test_addr_port(void **state)
{
	uint32_t a;
	uint16_t p;

	(void)state;
	assert_int_equal(parse_addr_port("10.0.0.1:9417", &a, &p), 0);
	assert_int_equal(a, 0x0100000au);
	assert_int_equal(p, 9417);
	assert_int_equal(parse_addr_port("0.0.0.0:1", &a, &p), 0);
	assert_int_equal(parse_addr_port("10.0.0.1", &a, &p), -EINVAL);
	assert_int_equal(parse_addr_port("10.0.0.1:0", &a, &p), -EINVAL);
	assert_int_equal(parse_addr_port("10.0.0.1:65536", &a, &p), -EINVAL);
	assert_int_equal(parse_addr_port("host:80", &a, &p), -EINVAL);
	assert_int_equal(parse_addr_port(":80", &a, &p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_render, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_counters_file, fx_setup, fx_teardown),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test_setup_teardown(test_auth, fx_setup, fx_teardown),
		cmocka_unit_test(test_addr_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
