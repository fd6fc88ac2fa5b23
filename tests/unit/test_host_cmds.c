/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdnat-host's option tables (ctl/host/host_cmds.c): every command reads its
 * good options into its struct, refuses each bad one with its one-line
 * message, prints --help from the table, and writes back the words that the
 * agent reads into the very same struct (paths absolute, --socket kept
 * local).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "host/host_cmds.h"

#define MAX_WORDS	64

/* The parsed struct of any command; large enough for the largest. */
static union {
	struct host_opts up;
	struct host_status_args status;
	struct host_peer_args peer;
	struct host_cert_args cert;
	struct swan_opts swan;
	struct host_down_args down;
} args, again;
static char err[512];

/* Parse a blank-separated line (its first word the command) with c. */
static int parse_line(const struct host_cmd *c, const char *line, void *dst)
{
	static char buf[4096];
	char *argv[MAX_WORDS + 1], *save = NULL;
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	err[0] = 0;
	return host_cmd_parse(c, argc, argv, dst, err, sizeof(err));
}

static uint32_t addr(const char *s)
{
	uint32_t a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* What the client sends, read back by the agent: the same struct. */
static void assert_round_trip(const struct host_cmd *c, const void *parsed)
{
	static char buf[8192];
	char *argv[MAX_WORDS + 1];
	int argc = host_cmd_argv(c, parsed, buf, sizeof(buf), argv, MAX_WORDS + 1);

	assert_true(argc >= 1);
	assert_string_equal(argv[0], c->name);
	assert_null(argv[argc]);
	for (int i = 0; i < argc; i++)
		assert_null(strstr(argv[i], "--socket"));	/* local: never sent */
	assert_int_equal(host_cmd_parse(c, argc, argv, &again, err, sizeof(err)), 0);
	/* the local options were not sent: the agent has their defaults */
	for (unsigned int i = 0; i < c->n_opts; i++)
		if (c->opts[i].local)
			again.status.given |= *(const uint32_t *)parsed & (1u << i);
	if (c != &host_cmd_up)
		snprintf(again.status.socket_path, sizeof(again.status.socket_path), "%s",
			 ((const struct host_client_args *)parsed)->socket_path);
	if (c == &host_cmd_down)
		memcpy(again.down.state_dir, ((const struct host_down_args *)parsed)->state_dir,
		       sizeof(again.down.state_dir));
	assert_memory_equal(&again, parsed, c->size);
}

/* ---- good options ------------------------------------------------------------- */

static void up_defaults_and_values(void **state)
{
	(void)state;
	assert_int_equal(parse_line(&host_cmd_up, "up --gateway 10.0.0.1 --dev eth0", &args), 0);
	assert_string_equal(args.up.gateway, "10.0.0.1");
	assert_string_equal(args.up.dev, "eth0");
	assert_int_equal(args.up.ports, HOST_DEFAULT_PORTS);
	assert_int_equal(args.up.spis, HOST_DEFAULT_SPIS);
	assert_int_equal(args.up.natt_index, HOST_DEFAULT_NATT_INDEX);
	assert_int_equal(args.up.pap_port, PAP_DEFAULT_PORT);
	assert_int_equal(args.up.table, 4555);
	assert_int_equal(args.up.lease, 0);
	assert_int_equal(args.up.global, 0);		/* the gateway chooses */
	assert_string_equal(args.up.state_dir, HOST_STATE_DIR);
	assert_string_equal(args.up.socket_path, HOST_CTL_SOCKET);
	assert_string_equal(args.up.site_key_file, "");
	assert_false(args.up.daemon);

	assert_int_equal(parse_line(&host_cmd_up, "up --gateway=10.0.0.1 --dev eth0 --ports 0x10 "
				    "--spis 0 --natt-port-index 3 --lease 600 --site-key /k "
				    "--pap-port 4666 --table 252 --state-dir /s --socket /r.sock "
				    "--daemon --global 198.51.100.2", &args), 0);
	assert_int_equal(args.up.global, htonl(0xc6336402));
	assert_int_equal(args.up.ports, 16);
	assert_int_equal(args.up.spis, 0);
	assert_int_equal(args.up.natt_index, 3);
	assert_int_equal(args.up.lease, 600);
	assert_string_equal(args.up.site_key_file, "/k");
	assert_int_equal(args.up.pap_port, 4666);
	assert_int_equal(args.up.table, 252);
	assert_string_equal(args.up.state_dir, "/s");
	assert_string_equal(args.up.socket_path, "/r.sock");
	assert_true(args.up.daemon);
}

static void relative_paths_made_absolute(void **state)
{
	char cwd[PATH_MAX], want[PATH_MAX + 16];

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(parse_line(&host_cmd_up, "up --gateway 10.0.0.1 --dev eth0 "
				    "--state-dir st", &args), 0);
	snprintf(want, sizeof(want), "%s/st", cwd);
	assert_string_equal(args.up.state_dir, want);
	assert_int_equal(parse_line(&host_cmd_strongswan, "strongswan --dir sw --peer-ca ca.pem",
				    &args), 0);
	snprintf(want, sizeof(want), "%s/sw", cwd);
	assert_string_equal(args.swan.dir, want);
	snprintf(want, sizeof(want), "%s/ca.pem", cwd);
	assert_string_equal(args.swan.peer_cas[0], want);
}

static void client_commands(void **state)
{
	(void)state;
	assert_int_equal(parse_line(&host_cmd_status, "status", &args), 0);
	assert_false(args.status.json);
	assert_string_equal(args.status.socket_path, HOST_CTL_SOCKET);
	assert_int_equal(parse_line(&host_cmd_status, "status --json --socket /x.sock", &args), 0);
	assert_true(args.status.json);
	assert_string_equal(args.status.socket_path, "/x.sock");
	assert_round_trip(&host_cmd_status, &args);

	assert_int_equal(parse_line(&host_cmd_validate, "validate 203.0.113.10", &args), 0);
	assert_int_equal(args.peer.peer, addr("203.0.113.10"));
	assert_int_equal(args.peer.n_spis, 0);
	assert_round_trip(&host_cmd_validate, &args);
	assert_int_equal(parse_line(&host_cmd_invalidate, "invalidate --spi 0x1000 203.0.113.10 "
				    "--spi 4097", &args), 0);
	assert_int_equal(args.peer.n_spis, 2);
	assert_int_equal(args.peer.spis[0], 0x1000);
	assert_int_equal(args.peer.spis[1], 4097);
	assert_round_trip(&host_cmd_invalidate, &args);

	assert_int_equal(parse_line(&host_cmd_cert, "cert", &args), 0);
	assert_int_equal(args.cert.key_type, 0);
	assert_int_equal(args.cert.rsa_bits, 0);
	assert_string_equal(args.cert.out, "");
	assert_int_equal(parse_line(&host_cmd_cert, "cert --out /c --key-type rsa --rsa-bits 3072",
				    &args), 0);
	assert_string_equal(args.cert.out, "/c");
	assert_int_equal(args.cert.key_type, HOST_KEY_CHOICE_RSA);
	assert_int_equal(args.cert.rsa_bits, 3072);
	assert_round_trip(&host_cmd_cert, &args);
	assert_int_equal(parse_line(&host_cmd_cert, "cert --key-type ec", &args), 0);
	assert_int_equal(args.cert.key_type, HOST_KEY_CHOICE_EC);

	assert_int_equal(parse_line(&host_cmd_strongswan, "strongswan --dir /d --peer 203.0.113.10 "
				    "--peer-port 4500 --peer-id O=x,CN=y --peer-ca /a --peer-ca /b "
				    "--narrow --esp libipsec", &args), 0);
	assert_string_equal(args.swan.dir, "/d");
	assert_string_equal(args.swan.peer, "203.0.113.10");
	assert_int_equal(args.swan.peer_port, 4500);
	assert_string_equal(args.swan.peer_id, "O=x,CN=y");
	assert_int_equal(args.swan.n_cas, 2);
	assert_string_equal(args.swan.peer_cas[1], "/b");
	assert_true(args.swan.narrow);
	assert_int_equal(args.swan.esp, SWAN_ESP_LIBIPSEC);
	assert_round_trip(&host_cmd_strongswan, &args);

	assert_int_equal(parse_line(&host_cmd_down, "down --state-dir /s", &args), 0);
	assert_string_equal(args.down.state_dir, "/s");
	assert_round_trip(&host_cmd_down, &args);
}

/* The words a path may hold on the socket: blanks, quotes, backslashes. */
static void words_keep_any_character(void **state)
{
	char *argv[] = { "cert", "--out", "/a dir/\"q\"\\x\n", NULL };

	(void)state;
	assert_int_equal(host_cmd_parse(&host_cmd_cert, 3, argv, &args, err, sizeof(err)), 0);
	assert_string_equal(args.cert.out, "/a dir/\"q\"\\x\n");
	assert_round_trip(&host_cmd_cert, &args);
}

static void line_joins_the_words(void **state)
{
	char line[HOST_SWAN_LINE_MAX];

	(void)state;
	/* table order, as docs/xdnat-host.md shows it */
	assert_int_equal(parse_line(&host_cmd_strongswan, "strongswan --peer 203.0.113.10 "
				    "--dir /etc/xdnat/swan", &args), 0);
	assert_int_equal(host_cmd_line(&host_cmd_strongswan, &args, line, sizeof(line)), 0);
	assert_string_equal(line, "--dir /etc/xdnat/swan --peer 203.0.113.10");
	assert_int_equal(host_cmd_line(&host_cmd_strongswan, &args, line, 8), -E2BIG);
}

static void argv_limits(void **state)
{
	char buf[16], *argv[4];

	(void)state;
	assert_int_equal(parse_line(&host_cmd_strongswan, "strongswan --dir /etc/xdnat/swan", &args),
			 0);
	assert_int_equal(host_cmd_argv(&host_cmd_strongswan, &args, buf, sizeof(buf), argv, 4),
			 -E2BIG);
	assert_int_equal(host_cmd_argv(&host_cmd_strongswan, &args, (char[64]){ 0 }, 64, argv, 2),
			 -E2BIG);
}

/* ---- refusals ------------------------------------------------------------------ */

static const struct {
	const struct host_cmd *cmd;
	const char *line, *err;
} refusals[] = {
	{ &host_cmd_up, "up --gateway 10.0.0.1 --dev eth0 --no-such-flag",
	  "unknown option '--no-such-flag'" },
	{ &host_cmd_up, "up --dev eth0", "--gateway is required" },
	{ &host_cmd_up, "up --gateway 10.0.0.1", "--dev is required" },
	{ &host_cmd_up, "up --gateway 10.0.0 --dev eth0",
	  "--gateway: '10.0.0' is not an IPv4 address" },
	{ &host_cmd_up, "up --gateway 0.0.0.0 --dev eth0",
	  "--gateway: '0.0.0.0' is not an IPv4 address" },
	{ &host_cmd_up, "up --gateway 10.0.0.1 --dev eth0-with-a-long-name",
	  "--dev: 'eth0-with-a-long-name' is not an interface name" },
	{ &host_cmd_up, "up --gateway 10.0.0.1 --dev eth0 --ports 0", "--ports: '0' is not 1..65535" },
	{ &host_cmd_up, "up --gateway 10.0.0.1 --dev eth0 --ports x", "--ports: 'x' is not 1..65535" },
	{ &host_cmd_up, "up --gateway 10.0.0.1 --dev eth0 --spis 2147483649",
	  "--spis: '2147483649' is not 0..2147483648" },
	{ &host_cmd_up, "up --gateway 10.0.0.1 --dev eth0 --natt-port-index 65535",
	  "--natt-port-index: '65535' is not 0..65534" },
	{ &host_cmd_up, "up --gateway 10.0.0.1 --dev eth0 --ports 2 --natt-port-index 2",
	  "--natt-port-index 2: only 2 port(s) asked for" },
	{ &host_cmd_up, "up --gateway 10.0.0.1 --dev eth0 --lease 0",
	  "--lease: '0' is not a number of seconds" },
	{ &host_cmd_up, "up --gateway 10.0.0.1 --dev eth0 --global 0.0.0.0",
	  "--global: '0.0.0.0' is not an IPv4 address" },
	{ &host_cmd_up, "up --gateway 10.0.0.1 --dev eth0 --pap-port 65536",
	  "--pap-port: '65536' is not 1..65535" },
	{ &host_cmd_up, "up --gateway 10.0.0.1 --dev eth0 --table 0",
	  "--table: '0' is not a free table number" },
	{ &host_cmd_up, "up --gateway 10.0.0.1 --dev eth0 --table 254",
	  "--table: '254' is not a free table number" },
	{ &host_cmd_up, "up --gateway 10.0.0.1 --dev eth0 --ports", "option '--ports' needs a value" },
	{ &host_cmd_up, "up --gateway 10.0.0.1 --dev eth0 --daemon=yes",
	  "option '--daemon' takes no value" },
	{ &host_cmd_up, "up --gateway 10.0.0.1 --dev eth0 extra", "unexpected argument 'extra'" },
	{ &host_cmd_status, "status --spi 4096", "unknown option '--spi'" },
	{ &host_cmd_status, "status now", "unexpected argument 'now'" },
	{ &host_cmd_validate, "validate", "which peer?" },
	{ &host_cmd_validate, "validate 203.0.113.10 203.0.113.11", "one peer at a time" },
	{ &host_cmd_validate, "validate 203.0.113", "'203.0.113' is not an IPv4 address" },
	{ &host_cmd_invalidate, "invalidate 203.0.113.10 --spi 255",
	  "--spi: '255' is not an SPI (256..4294967295)" },
	{ &host_cmd_invalidate, "invalidate 203.0.113.10 --spi 256 --spi 257 --spi 258 --spi 259 "
	  "--spi 260 --spi 261 --spi 262 --spi 263 --spi 264 --spi 265 --spi 266 --spi 267 "
	  "--spi 268 --spi 269 --spi 270 --spi 271 --spi 272", "at most 16 --spi" },
	{ &host_cmd_validate, "validate 203.0.113.10 --json", "unknown option '--json'" },
	{ &host_cmd_cert, "cert --key-type dsa", "--key-type: 'dsa' is not ec or rsa" },
	{ &host_cmd_cert, "cert --rsa-bits 1024", "--rsa-bits: '1024' is not 2048..4096" },
	{ &host_cmd_cert, "cert --key-type ec --rsa-bits 2048", "--rsa-bits goes with --key-type rsa" },
	{ &host_cmd_cert, "cert --state-dir /s", "unknown option '--state-dir'" },
	{ &host_cmd_strongswan, "strongswan --peer 203.0.113.10", "--dir DIR is required" },
	{ &host_cmd_strongswan, "strongswan --dir /d --bogus 1", "unknown option '--bogus'" },
	{ &host_cmd_strongswan, "strongswan --dir /d --esp quantum",
	  "--esp: 'quantum' is not auto, kernel or libipsec" },
	{ &host_cmd_strongswan, "strongswan --dir /d --peer-port 0", "--peer-port: '0' is not 1..65535" },
	{ &host_cmd_strongswan, "strongswan --dir /d --peer-ca /a --peer-ca /a --peer-ca /a "
	  "--peer-ca /a --peer-ca /a --peer-ca /a --peer-ca /a --peer-ca /a --peer-ca /a",
	  "too many --peer-ca; at most 8" },
	{ &host_cmd_down, "down --json", "unknown option '--json'" },
};

static void each_refusal_says_why(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		int rc = parse_line(refusals[i].cmd, refusals[i].line, &args);

		if (rc != -EINVAL || strcmp(err, refusals[i].err))
			fail_msg("'%s': rc %d, error '%s', want '%s'", refusals[i].line, rc, err,
				 refusals[i].err);
		assert_null(strchr(err, '\n'));		/* one line */
	}
}

/* Words with blanks the table refuses where a blank cannot stand. */
static void blanks_refused_in_words(void **state)
{
	char *peer_id[] = { "strongswan", "--dir", "/d", "--peer-id", "O=x, CN=y", NULL };
	char *peer[] = { "strongswan", "--dir", "/d", "--peer", "a b", NULL };

	(void)state;
	assert_int_equal(host_cmd_parse(&host_cmd_strongswan, 5, peer_id, &args, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "--peer-id: 'O=x, CN=y' has blanks (write a DN as \"O=x,CN=y\")");
	assert_int_equal(host_cmd_parse(&host_cmd_strongswan, 5, peer, &args, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "--peer: 'a b' is not an address or host name");
}

/* ---- up --config FILE -------------------------------------------------------------- */

/* FILE with text, then `up ARGS --config FILE`: rc, err as parse_line. */
static int parse_config(const char *text, const char *cmdline, char *file, size_t len)
{
	char line[1024];
	int fd;
	FILE *f;

	snprintf(file, len, "/tmp/xdnat-host-cfg-XXXXXX");
	fd = mkstemp(file);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	snprintf(line, sizeof(line), "up %s --config %s", cmdline, file);
	return parse_line(&host_cmd_up, line, &args.up);
}

static void config_file_gives_the_options(void **state)
{
	char file[64];
	int rc;

	(void)state;
	rc = parse_config("# the agent of host 1\n"
			  "gateway = 10.0.0.1\n"
			  "\n"
			  "   dev=eth1   # towards the gateway\n"
			  "ports = 128\n"
			  "spis = 512\n"
			  "state-dir = /var/lib/h1#not-a-comment\n"
			  "daemon = true\n"
			  "pap-port = 4600\n"
			  "global = 198.51.100.3\n", "--ports 32", file, sizeof(file));
	unlink(file);
	assert_int_equal(rc, 0);
	assert_string_equal(args.up.gateway, "10.0.0.1");
	assert_string_equal(args.up.dev, "eth1");
	assert_int_equal(args.up.ports, 32);		/* the command line wins */
	assert_int_equal(args.up.spis, 512);
	assert_string_equal(args.up.state_dir, "/var/lib/h1#not-a-comment");
	assert_true(args.up.daemon);
	assert_int_equal(args.up.pap_port, 4600);
	assert_int_equal(args.up.global, htonl(0xc6336403));
	assert_string_equal(args.up.socket_path, HOST_CTL_SOCKET);	/* default kept */

	/* false leaves a flag off; the required options may come from the file */
	rc = parse_config("gateway = 10.0.0.2\ndev = eth2\ndaemon = false\n", "", file,
			  sizeof(file));
	unlink(file);
	assert_int_equal(rc, 0);
	assert_false(args.up.daemon);
	assert_int_equal(args.up.ports, HOST_DEFAULT_PORTS);
	/* the cross-option check sees the file's values */
	rc = parse_config("gateway = 10.0.0.2\ndev = eth2\nports = 1\n", "", file, sizeof(file));
	unlink(file);
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(err, "--natt-port-index 1: only 1 port(s) asked for");
}

static void config_file_errors_name_the_line(void **state)
{
	static const struct {
		const char *text, *err;
	} bad[] = {
		{ "gateway = 10.0.0.1\nbogus = 1\n", "2: unknown key 'bogus'" },
		{ "ports = 0\n", "1: ports: '0' is not 1..65535" },
		{ "\n\ngateway 10.0.0.1\n", "3: 'gateway 10.0.0.1' is not 'key = value'" },
		{ "daemon = yes\n", "1: daemon: 'yes' is not true or false" },
		{ "dev =\n", "1: dev: no value" },
		{ "config = /etc/other\n", "1: unknown key 'config'" },
		{ "gateway = 10.0.0.1\n", NULL },	/* --dev missing: the usual refusal */
	};
	char file[64], want[160];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse_config(bad[i].text, "", file, sizeof(file));

		unlink(file);
		if (bad[i].err)
			snprintf(want, sizeof(want), "%s:%s", file, bad[i].err);
		else
			snprintf(want, sizeof(want), "--dev is required");
		if (rc != -EINVAL || strcmp(err, want))
			fail_msg("'%s': rc %d, error '%s', want '%s'", bad[i].text, rc, err, want);
	}
	assert_int_equal(parse_line(&host_cmd_up, "up --config /nonexistent/x.conf", &args.up),
			 -EINVAL);
	assert_string_equal(err, "--config /nonexistent/x.conf: No such file or directory");
}

/* ---- help ------------------------------------------------------------------------ */

static void help_from_the_table(void **state)
{
	const struct host_cmd *cmds[] = { &host_cmd_up, &host_cmd_status, &host_cmd_validate,
					  &host_cmd_invalidate, &host_cmd_cert,
					  &host_cmd_strongswan, &host_cmd_down };

	(void)state;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const struct host_cmd *c = cmds[i];
		char text[8192], want[64];
		FILE *f = fmemopen(text, sizeof(text), "w");

		assert_non_null(f);
		host_cmd_help(c, f);
		fclose(f);
		snprintf(want, sizeof(want), "usage: xdnat-host %s ", c->name);
		assert_true(!strncmp(text, want, strlen(want)));
		for (unsigned int j = 0; j < c->n_opts; j++)
			if (!strstr(text, c->opts[j].name ? c->opts[j].name : c->opts[j].metavar))
				fail_msg("%s --help lacks %s", c->name, c->opts[j].name);
		assert_non_null(strstr(text, "--help"));
		assert_int_equal(parse_line(c, c == &host_cmd_up ? "up --help" : "x -h", &args),
				 HOST_CMD_HELP);
		assert_ptr_equal(host_cmd_find(c->name), c);
	}
	assert_null(host_cmd_find("sideways"));
}

static void help_shows_defaults(void **state)
{
	char text[8192];
	FILE *f = fmemopen(text, sizeof(text), "w");

	(void)state;
	assert_non_null(f);
	host_cmd_help(&host_cmd_up, f);
	fclose(f);
	assert_non_null(strstr(text, "ports to ask for (default 64)"));
	assert_non_null(strstr(text, "(default " HOST_STATE_DIR ")"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(up_defaults_and_values),
		cmocka_unit_test(relative_paths_made_absolute),
		cmocka_unit_test(client_commands),
		cmocka_unit_test(words_keep_any_character),
		cmocka_unit_test(line_joins_the_words),
		cmocka_unit_test(argv_limits),
		cmocka_unit_test(each_refusal_says_why),
		cmocka_unit_test(blanks_refused_in_words),
		cmocka_unit_test(config_file_gives_the_options),
		cmocka_unit_test(config_file_errors_name_the_line),
		cmocka_unit_test(help_from_the_table),
		cmocka_unit_test(help_shows_defaults),
	};

	return cmocka_run_group_tests_name("host_cmds", tests, NULL, NULL);
}
