/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The running agent, shared by its three parts (private to ctl/host/):
 * host_agent.c its life cycle (start, resume or register, the loop, renewal,
 * resync, the certificate, take-down), agent_commands.c the control
 * socket's commands, agent_status.c the status views.
 */
#ifndef XDNAT_HOST_AGENT_PRIV_H
#define XDNAT_HOST_AGENT_PRIV_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <arpa/inet.h>
#include "host/host_agent.h"
#include "host/host_cert.h"
#include "host/host_state.h"
#include "host/host_net.h"
#include "host/host_tc.h"
#include "host/host_watch.h"
#include "pap/pap_client.h"
#include "pap/site_key.h"

struct agent {
	const struct host_opts *o;
	struct host_state st;
	int dir_fd, lock_fd;		/* the state directory and its flock (dirlock.h) */
	struct pap_client pap;
	uint8_t key[PAP_MAX_SITE_KEY];
	size_t key_len;
	uint32_t token_id;		/* --token: key holds its secret instead */
	uint8_t gw_key[PAP_SIG_KEY_LEN];	/* the gateway's signing key, pinned */
	bool gw_key_tofu;		/* none yet: pin the first one seen */
	struct host_tc tc;
	struct host_cert cert;
	char cert_default[PATH_MAX + 8];	/* --state-dir/cert */
	bool cert_stale;		/* the share changed: the certificate is revoked */
	bool cert_failing;		/* the last attempt failed (said once) */
	int64_t crl_time;		/* wall time crl.pem was fetched */
	int ctl_fd, sig_fd;
	int64_t next_ms;		/* monotonic time of the next EXTEND */
	unsigned int fails;		/* renewals failed in a row */
	uint16_t ext_mtu;		/* the gateway's EXT_MTU, last reply; 0: none */
	bool stop;
	struct host_watch watch;	/* netlink: what someone removes comes back */
};

struct ipstr {
	char s[INET_ADDRSTRLEN];
};

/* By value, so that several fit in one printf. */
static inline struct ipstr ip(uint32_t a)
{
	struct ipstr r;

	inet_ntop(AF_INET, &a, r.s, sizeof(r.s));
	return r;
}

static inline uint32_t nports(const struct pap_port_range *r)
{
	return (uint32_t)r->last - r->first + 1;
}

static inline uint64_t nspis(const struct pap_spi_range *r)
{
	return (uint64_t)r->last - r->first + 1;
}

/* The gateway does not know us (any more): it lost its state, our lease
 * ran out, or someone freed us. Unsigned: see confirm_lost(). */
static inline bool lost(const struct pap_client *c, int rc)
{
	return rc == -EPROTO && (c->err_code == PAP_E_REGISTER_FIRST ||
				 c->err_code == PAP_E_AUTH_FAILED);
}

/* host_agent.c */
int agent_save(struct agent *a);
/* What the state says the host has: G, Gi, --dev, the table. */
struct host_net agent_net(const struct host_state *st);
/* The next EXTEND in delay_ms (0: now, which registers again when lost). */
void agent_schedule(struct agent *a, int64_t delay_ms);
/* "2025-01-31 12:00:00 UTC" */
const char *agent_utc(int64_t t, char *buf, size_t len);
/* Where the certificate files go: `cert --out` (kept), else --state-dir/cert. */
const char *agent_cert_dir(struct agent *a);
/* CERT and CRL into dir with a key as ks asks; 0, or -errno with err. */
int agent_get_cert(struct agent *a, const char *dir, const struct host_key_spec *ks,
		   char *err, size_t errlen);
/* Write the strongSwan directory w names from the share. */
int agent_swan_apply(struct agent *a, const struct swan_opts *w, FILE *out, char *err,
		     size_t errlen);
/* After a new certificate: the strongSwan directory kept (if any) rewritten
 * and its charon reloaded. 0, or -errno with err (also logged). */
int agent_swan_refresh(struct agent *a, char *err, size_t errlen);
/* DEREGISTER, undo the host configuration, forget the state; report to out. */
int agent_take_down(struct pap_client *c, struct host_state *st, const char *dir,
		    FILE *out);

/* host_watch.c: read back what is in place, restore what is missing. */
void agent_hold_ground(struct agent *a);

/* agent_commands.c: the control socket's handler (ctlsock.h). */
int agent_command(void *ctx, int argc, char **argv, FILE *out, char *err, size_t errlen);

/* agent_status.c: `status` and `status --json`. */
int agent_status(struct agent *a, bool json, FILE *out);

#endif
