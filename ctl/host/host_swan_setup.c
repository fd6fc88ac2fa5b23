/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `xdnat-host strongswan`: the agent's share into host_swan (host_swan_setup.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "host/esp_probe.h"
#include "host/host_cert.h"
#include "host/host_swan.h"
#include "host/host_swan_setup.h"

/* swanctl --load-all gets this long; a charon that hangs must not hang the
 * agent. */
#define RELOAD_TIMEOUT_MS	10000

/* Run swanctl --load-all against DIR's charon. 0, SWAN_NOT_RUNNING, or
 * -errno with the reason in err. */
static int reload(const char *dir, char *err, size_t errlen)
{
	char vici[PATH_MAX + 32], conf[PATH_MAX + 32], swanctl_dir[PATH_MAX + 32];
	struct stat sb;
	int status = 0, waited = 0;
	pid_t pid, r;

	snprintf(vici, sizeof(vici), "%s/%s", dir, SWAN_VICI);
	if (stat(vici, &sb) || !S_ISSOCK(sb.st_mode))
		return SWAN_NOT_RUNNING;
	snprintf(conf, sizeof(conf), "STRONGSWAN_CONF=%s/%s", dir, SWAN_CONF);
	snprintf(swanctl_dir, sizeof(swanctl_dir), "SWANCTL_DIR=%s/%s", dir, SWAN_SWANCTL_DIR);
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -errno;
	}
	if (!pid) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		putenv(conf);
		putenv(swanctl_dir);
		execlp("swanctl", "swanctl", "--load-all", "--noprompt", (char *)NULL);
		_exit(127);
	}
	while ((r = waitpid(pid, &status, WNOHANG)) == 0 && waited < RELOAD_TIMEOUT_MS) {
		poll(NULL, 0, 50);
		waited += 50;
	}
	if (r == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		snprintf(err, errlen, "swanctl --load-all for %s: no answer in %d s", dir,
			 RELOAD_TIMEOUT_MS / 1000);
		return -ETIMEDOUT;
	}
	if (r < 0) {
		snprintf(err, errlen, "waitpid: %s", strerror(errno));
		return -errno;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		snprintf(err, errlen, "swanctl not found (Debian: strongswan-swanctl)");
		return -ENOENT;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		/* a charon that went away leaves its socket behind */
		snprintf(err, errlen, "swanctl --load-all for %s failed (exit %d): is its charon "
			 "running?", dir, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -EIO;
	}
	return 0;
}

#define DELETED_SUFFIX	" (deleted)"

/* xdnat-host on PATH into buf: 0, or -ENOENT. */
static int on_path(char *buf, size_t len)
{
	const char *path = getenv("PATH");
	char dirs[4096], *save = NULL;

	snprintf(dirs, sizeof(dirs), "%s", path && *path ? path : "/usr/sbin:/usr/bin");
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		int n = snprintf(buf, len, "%s/xdnat-host", d);

		if (d[0] == '/' && n > 0 && (size_t)n < len && !access(buf, X_OK))
			return 0;
	}
	return -ENOENT;
}

/*
 * The path updown.sh calls us by. /proc/self/exe of an agent whose binary an
 * upgrade replaced reads "PATH (deleted)": the new binary is at PATH. One
 * that is gone altogether: the xdnat-host on PATH. 0, or -errno with err.
 */
static int self_path(char *buf, size_t len, char *err, size_t errlen)
{
	size_t sl = strlen(DELETED_SUFFIX);
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	if (n <= 0) {
		snprintf(err, errlen, "strongswan: /proc/self/exe: %s", strerror(errno));
		return -errno;
	}
	buf[n] = 0;
	if ((size_t)n > sl && !strcmp(buf + n - sl, DELETED_SUFFIX))
		buf[n - sl] = 0;
	if (!access(buf, X_OK) || !on_path(buf, len))
		return 0;
	snprintf(err, errlen, "strongswan: this agent's binary is gone and there is no "
		 "xdnat-host on PATH for updown.sh to call");
	return -ENOENT;
}

int swan_setup(const struct swan_opts *w, const struct swan_share *sh, FILE *out, char *err,
	       size_t errlen)
{
	const char *peer_cas[SWAN_MAX_PEER_CAS + 1] = { 0 };
	char key[PATH_MAX + 16], crt[PATH_MAX + 16], ca[PATH_MAX + 16], crl[PATH_MAX + 16];
	char self[PATH_MAX], probe_err[256];
	struct swan_params p = { 0 };
	int rc, esp;

	if (!sh->has_spis) {
		snprintf(err, errlen, "strongswan: this host holds no SPIs (start the agent with "
			 "--spis N, N well above the SAs it will run, rekeys included)");
		return -ENOENT;
	}
	if (!sh->natt_port) {
		snprintf(err, errlen, "strongswan: no NAT-T port declared with the gateway yet");
		return -ENOENT;
	}
	if (!sh->have_cert) {
		snprintf(err, errlen, "strongswan: no certificate from the gateway's CA yet (see "
			 "`xdnat-host cert`)");
		return -ENOENT;
	}
	switch (w->esp) {
	case SWAN_ESP_KERNEL:
		esp = 1;
		break;
	case SWAN_ESP_LIBIPSEC:
		esp = 0;
		break;
	default:
		esp = esp_probe_kernel(probe_err, sizeof(probe_err));
		if (esp < 0) {
			/* kernel-libipsec works on every kernel */
			if (out)
				fprintf(out, "ESP probe: %s; using kernel-libipsec\n", probe_err);
			esp = 0;
		}
	}
	rc = self_path(self, sizeof(self), err, errlen);
	if (rc)
		return rc;
	snprintf(key, sizeof(key), "%s/%s", sh->cert_dir, HOST_CERT_KEY);
	snprintf(crt, sizeof(crt), "%s/%s", sh->cert_dir, HOST_CERT_CRT);
	snprintf(ca, sizeof(ca), "%s/%s", sh->cert_dir, HOST_CERT_CHAIN);
	snprintf(crl, sizeof(crl), "%s/%s", sh->cert_dir, HOST_CERT_CRL);

	p.global = sh->global;
	p.ike_port = sh->ports.first;
	p.natt_port = sh->natt_port;
	p.spi_min = sh->spis.first;
	p.spi_max = sh->spis.last;
	p.key_path = key;
	p.cert_path = crt;
	p.ca_path = ca;
	p.crl_path = access(crl, R_OK) ? NULL : crl;
	for (unsigned int i = 0; i < w->n_cas && i < SWAN_MAX_PEER_CAS; i++)
		peer_cas[i] = w->peer_cas[i];
	p.peer_ca_paths = w->n_cas ? peer_cas : NULL;
	p.peer = w->peer[0] ? w->peer : NULL;
	p.peer_port = (uint16_t)w->peer_port;
	p.peer_id = w->peer_id[0] ? w->peer_id : NULL;
	if (w->narrow) {
		p.ts_port_first = sh->ports.first;
		p.ts_port_last = sh->ports.last;
	}
	p.xdnat_host_path = self;
	p.agent_socket = sh->agent_socket;
	p.kernel_has_esp = esp;
	p.take_over = w->take_over;

	rc = swan_write(w->dir, &p, err, errlen);
	if (rc)
		return rc;
	if (out)
		fprintf(out, "wrote %s: IKE port %u, NAT-T port %u, SPIs 0x%x-0x%x, %s%s\n",
			w->dir, p.ike_port, p.natt_port, p.spi_min, p.spi_max,
			esp ? "kernel ESP (kernel-netlink)" : "userspace ESP (kernel-libipsec)",
			w->narrow ? ", selectors narrowed to this host's ports" : "");
	rc = reload(w->dir, err, errlen);
	if (rc < 0)
		return rc;
	if (out)
		fprintf(out, rc == SWAN_NOT_RUNNING ?
			"no charon on %s/%s yet: start it with STRONGSWAN_CONF=%s/%s\n" :
			"charon on %s/%s reloaded (swanctl --load-all)%s%s\n",
			w->dir, SWAN_VICI, rc == SWAN_NOT_RUNNING ? w->dir : "",
			rc == SWAN_NOT_RUNNING ? SWAN_CONF : "");
	return 0;
}
