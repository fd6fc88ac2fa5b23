/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `xdnat-host strongswan` as the agent runs it (ctl/host_swan_setup.c): the
 * share and the certificate directory into a strongSwan directory, the words
 * checked, the refusals that name what is missing (no SPIs, no NAT-T port, no
 * certificate), `swanctl --load-all` run against DIR's charon when one
 * answers (a stand-in swanctl records how it was called), and the ESP probe
 * (ctl/esp_probe.c) against `ip xfrm state add` in a namespace of its own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "host/esp_probe.h"
#include "host/host_cert.h"
#include "host/host_swan.h"
#include "host/host_swan_setup.h"
#include "test_lines.h"
#include "test_tmpdir.h"

#define PEM(tag) "-----BEGIN " tag "-----\nMIIB\n-----END " tag "-----\n"

struct fx {
	char root[64];
	char dir[128];		/* what swan_setup writes */
	char certs[128];	/* the agent's certificate directory */
	char bin[128];		/* a stand-in swanctl, first on PATH */
	char path_env[4096];
	struct swan_share sh;
	char err[512];
	char out[4096];
};

static void put(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static char *slurp(const char *dir, const char *name)
{
	static char buf[16384];
	char path[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return buf;
}


static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || tmpdir_make(f->root, sizeof(f->root), "/tmp/xdnat-swansetup-XXXXXX", f->dir,
			      sizeof(f->dir), "swan"))
		return -1;
	snprintf(f->certs, sizeof(f->certs), "%s/cert", f->root);
	snprintf(f->bin, sizeof(f->bin), "%s/bin", f->root);
	if (mkdir(f->certs, 0700) || mkdir(f->bin, 0755))
		return -1;
	put(f->certs, HOST_CERT_KEY, PEM("PRIVATE KEY"), 0600);
	put(f->certs, HOST_CERT_CRT, PEM("CERTIFICATE"), 0644);
	put(f->certs, HOST_CERT_CHAIN, PEM("CERTIFICATE"), 0644);
	/* h1 of the rig: ports 20000-20063 (NAT-T 20001), SPIs 4096-4351 */
	inet_pton(AF_INET, "198.51.100.1", &f->sh.global);
	f->sh.ports = (struct pap_port_range){ f->sh.global, 20000, 20063 };
	f->sh.natt_port = 20001;
	f->sh.has_spis = true;
	f->sh.spis = (struct pap_spi_range){ f->sh.global, 4096, 4351 };
	f->sh.cert_dir = f->certs;
	f->sh.have_cert = true;
	f->sh.agent_socket = "/run/xdnat/h1.sock";
	/* the stand-in swanctl comes first on PATH */
	snprintf(f->path_env, sizeof(f->path_env), "%s:%s", f->bin,
		 getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", f->path_env, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tmpdir_remove(f->root);
	free(f);
	return 0;
}

/* swan_setup on a space-separated line of words (read by the strongswan
 * command's option table), output into f->out. */
static int run(struct fx *f, const char *words)
{
	static struct swan_opts w;
	char line[1024], *argv[32] = { "strongswan" }, *save = NULL;
	int argc = 1, rc;
	FILE *out;

	snprintf(line, sizeof(line), "%s", words);
	for (char *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	f->err[0] = 0;
	rc = host_cmd_parse(&host_cmd_strongswan, argc, argv, &w, f->err, sizeof(f->err));
	if (rc)
		return rc;
	out = fmemopen(f->out, sizeof(f->out), "w");
	assert_non_null(out);
	rc = swan_setup(&w, &f->sh, out, f->err, sizeof(f->err));
	fclose(out);
	return rc;
}

static int runf(struct fx *f, const char *fmt, const char *a)
{
	char words[1024];

	snprintf(words, sizeof(words), fmt, a);
	return run(f, words);
}

/* --- from the share ----------------------------------------------------------- */
static void writes_from_the_share(void **state)
{
	struct fx *f = *state;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *s;

	assert_true(n > 0);
	self[n] = 0;
	assert_int_equal(runf(f, "--dir %s --peer 203.0.113.10 --esp libipsec", f->dir), 0);
	s = slurp(f->dir, SWAN_CONF);
	assert_non_null(s);
	assert_line_trimmed(s, "port = 20000");			/* port 0 of the block */
	assert_line_trimmed(s, "port_nat_t = 20001");		/* the declared NAT-T port */
	assert_line_trimmed(s, "spi_min = 0x00001000");
	assert_line_trimmed(s, "spi_max = 0x000010ff");
	assert_non_null(strstr(s, "kernel-libipsec"));
	assert_non_null(strstr(s, " kdf "));
	s = slurp(f->dir, SWAN_SWANCTL_DIR "/" SWAN_SWANCTL_CONF);
	assert_non_null(s);
	assert_line_trimmed(s, "local_addrs = 198.51.100.1");
	assert_line_trimmed(s, "local_port = 20000");
	assert_line_trimmed(s, "remote_addrs = 203.0.113.10");
	assert_line_trimmed(s, "local_ts = dynamic");		/* not narrowed */
	/* the hook calls this very program (the agent) on the agent's socket */
	s = slurp(f->dir, SWAN_UPDOWN);
	assert_non_null(s);
	if (!strstr(s, self))
		fail_msg("updown.sh does not call %s:\n%s", self, s);
	assert_non_null(strstr(s, "/run/xdnat/h1.sock"));
	/* the credentials are the certificate directory's */
	assert_string_equal(slurp(f->dir, SWAN_SWANCTL_DIR "/private/" SWAN_HOST_KEY),
			    PEM("PRIVATE KEY"));
	assert_null(slurp(f->dir, SWAN_SWANCTL_DIR "/x509crl/" SWAN_CRL));	/* no crl.pem */
	/* no charon serves DIR: said, not an error */
	assert_non_null(strstr(f->out, "userspace ESP (kernel-libipsec)"));
	assert_non_null(strstr(f->out, "no charon"));
}

static void narrow_kernel_esp_crl(void **state)
{
	struct fx *f = *state;
	char *s;

	put(f->certs, HOST_CERT_CRL, PEM("X509 CRL"), 0644);
	assert_int_equal(runf(f, "--dir %s --narrow --esp kernel", f->dir), 0);
	s = slurp(f->dir, SWAN_CONF);
	assert_non_null(s);
	assert_null(strstr(s, "kernel-libipsec"));
	assert_non_null(strstr(s, "kernel-netlink"));
	s = slurp(f->dir, SWAN_SWANCTL_DIR "/" SWAN_SWANCTL_CONF);
	assert_line_trimmed(s, "local_ts = 198.51.100.1/32[tcp/20000-20063],198.51.100.1/32[udp/20000-20063]");
	assert_line_trimmed(s, "remote_addrs = %any");		/* no --peer: a responder */
	assert_string_equal(slurp(f->dir, SWAN_SWANCTL_DIR "/x509crl/" SWAN_CRL), PEM("X509 CRL"));
	assert_non_null(strstr(f->out, "kernel ESP (kernel-netlink)"));
	assert_non_null(strstr(f->out, "narrowed"));
}

/* --- refusals ------------------------------------------------------------------ */
static void refusals(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f, "--peer 203.0.113.10"), -EINVAL);
	assert_non_null(strstr(f->err, "--dir DIR is required"));
	assert_int_equal(runf(f, "--dir %s --bogus 1", f->dir), -EINVAL);
	assert_non_null(strstr(f->err, "unknown option '--bogus'"));
	assert_int_equal(runf(f, "--dir %s --esp quantum", f->dir), -EINVAL);
	assert_non_null(strstr(f->err, "quantum"));
	assert_int_equal(runf(f, "--dir %s --peer-port 0", f->dir), -EINVAL);
	assert_int_equal(runf(f, "--dir %s --peer", f->dir), -EINVAL);
	assert_non_null(strstr(f->err, "option '--peer' needs a value"));
	assert_int_equal(runf(f, "--dir %s --peer-ca /a --peer-ca /a --peer-ca /a --peer-ca /a "
			      "--peer-ca /a --peer-ca /a --peer-ca /a --peer-ca /a --peer-ca /a",
			      f->dir), -EINVAL);
	assert_non_null(strstr(f->err, "too many --peer-ca"));
	/* what the agent does not hold yet, named */
	f->sh.has_spis = false;
	assert_int_equal(runf(f, "--dir %s", f->dir), -ENOENT);
	assert_non_null(strstr(f->err, "holds no SPIs"));
	f->sh.has_spis = true;
	f->sh.natt_port = 0;
	assert_int_equal(runf(f, "--dir %s", f->dir), -ENOENT);
	assert_non_null(strstr(f->err, "no NAT-T port"));
	f->sh.natt_port = 20001;
	f->sh.have_cert = false;
	assert_int_equal(runf(f, "--dir %s", f->dir), -ENOENT);
	assert_non_null(strstr(f->err, "no certificate"));
	f->sh.have_cert = true;
	/* too few SPIs for charon: host_swan's own check, passed on */
	f->sh.spis.last = f->sh.spis.first + 3;
	assert_int_equal(runf(f, "--dir %s --esp libipsec", f->dir), -EINVAL);
	assert_non_null(strstr(f->err, "fewer than"));
	/* nothing was written by any of them */
	assert_int_equal(access(f->dir, F_OK), -1);
}

/* --- reloading charon --------------------------------------------------------- */

/* A unix socket bound at DIR/charon.vici, as charon's vici plugin makes. */
static int fake_vici(const char *dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_true(strlen(dir) + sizeof("/" SWAN_VICI) <= sizeof(sa.sun_path));
	memcpy(sa.sun_path, dir, strlen(dir));
	memcpy(sa.sun_path + strlen(dir), "/" SWAN_VICI, sizeof("/" SWAN_VICI));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* The stand-in swanctl: records its arguments and environment, exits rc. */
static void fake_swanctl(struct fx *f, int rc)
{
	char script[512];

	snprintf(script, sizeof(script),
		 "#!/bin/sh\necho \"$*|$STRONGSWAN_CONF|$SWANCTL_DIR\" >> %s/swanctl.calls\n"
		 "exit %d\n", f->root, rc);
	put(f->bin, "swanctl", script, 0755);
}

static void reloads_a_running_charon(void **state)
{
	struct fx *f = *state;
	char want[512];
	int vici;

	fake_swanctl(f, 0);
	assert_int_equal(runf(f, "--dir %s --esp libipsec", f->dir), 0);
	assert_null(slurp(f->root, "swanctl.calls"));		/* no charon: not called */
	vici = fake_vici(f->dir);
	assert_int_equal(runf(f, "--dir %s --esp libipsec", f->dir), 0);
	snprintf(want, sizeof(want), "--load-all --noprompt|%s/%s|%s/%s\n", f->dir, SWAN_CONF,
		 f->dir, SWAN_SWANCTL_DIR);
	assert_string_equal(slurp(f->root, "swanctl.calls"), want);
	assert_non_null(strstr(f->out, "reloaded"));
	/* a swanctl that fails is an error that says so */
	fake_swanctl(f, 7);
	assert_int_equal(runf(f, "--dir %s --esp libipsec", f->dir), -EIO);
	assert_non_null(strstr(f->err, "exit 7"));
	close(vici);
}

/* --- the ESP probe -------------------------------------------------------------- */
static void esp_probe_agrees_with_ip_xfrm(void **state)
{
	char err[256] = "";
	int probe, ip;

	(void)state;
	if (geteuid()) {
		skip();
		return;
	}
	probe = esp_probe_kernel(err, sizeof(err));
	if (probe < 0)
		fail_msg("esp_probe_kernel: %s", err);
	/* the same state by iproute2, in a network namespace of its own */
	ip = system("unshare -n ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp "
		    "spi 0x100 mode tunnel enc 'cbc(aes)' 0x00112233445566778899aabbccddeeff "
		    "auth-trunc 'hmac(sha256)' "
		    "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff 128 "
		    ">/dev/null 2>&1");
	assert_true(ip != -1 && WIFEXITED(ip));
	print_message("kernel ESP: probe says %s, ip xfrm says %s\n", probe ? "yes" : "no",
		      WEXITSTATUS(ip) ? "no" : "yes");
	assert_int_equal(probe, WEXITSTATUS(ip) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(writes_from_the_share, setup, teardown),
		cmocka_unit_test_setup_teardown(narrow_kernel_esp_crl, setup, teardown),
		cmocka_unit_test_setup_teardown(refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(reloads_a_running_charon, setup, teardown),
		cmocka_unit_test(esp_probe_agrees_with_ip_xfrm),
	};

	return cmocka_run_group_tests_name("host_swan_setup", tests, NULL, NULL);
}
