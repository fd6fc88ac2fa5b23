/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The agent's control commands (agent.h): status, validate, invalidate,
 * cert, strongswan and down, as xdnat-host sends them. Their words are read
 * with the very option tables xdnat-host checked them with (host_cmds.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "host/agent.h"
#include "lib/log.h"

/* validate|invalidate PEER [--spi X ...]: one SPI means SPI_RANGE X-X;
 * none, every SPI the host holds. */
static int peer_command(struct agent *a, bool validate, const struct host_peer_args *p,
			FILE *out, char *err, size_t errlen)
{
	const char *what = validate ? "validate" : "invalidate";
	struct pap_spi_range r[PAP_MAX_RANGES];
	int rc;

	for (unsigned int i = 0; i < p->n_spis; i++)
		r[i] = (struct pap_spi_range){ a->st.global, p->spis[i], p->spis[i] };
	rc = validate ? pap_client_validate(&a->pap, p->peer, r, p->n_spis) :
			pap_client_invalidate(&a->pap, p->peer, r, p->n_spis);
	if (rc) {
		if (lost(&a->pap, rc))
			agent_schedule(a, 0);	/* the renewal path registers again */
		snprintf(err, errlen, "gateway %s refused %s %s: %s", a->o->gateway, what,
			 ip(p->peer).s, pap_client_strerror(&a->pap, rc));
		return -1;
	}
	for (unsigned int i = 0; i < a->pap.reply.n_sas; i++) {
		const struct pap_sa *sa = &a->pap.reply.sas[i];

		if (validate)
			host_state_add_peer(&a->st, sa);
		else
			host_state_del_peer(&a->st, sa);
		fprintf(out, "%s %s for SPIs 0x%x-0x%x\n", validate ? "validated" : "invalidated",
			ip(sa->peer).s, sa->spi_first, sa->spi_last);
	}
	agent_save(a);
	return 0;
}

/* cert [--out DIR] [--key-type ec|rsa] [--rsa-bits N]: a new certificate
 * now; with --out, in DIR from now on. */
static int cert_command(struct agent *a, const struct host_cert_args *c, FILE *out,
			char *err, size_t errlen)
{
	struct host_key_spec ks = { HOST_KEY_KEEP, HOST_RSA_MIN_BITS };
	const char *dir = c->out[0] ? c->out : NULL;
	char until[40], why[400];

	if (dir && strlen(dir) >= sizeof(a->st.cert_dir)) {
		snprintf(err, errlen, "cert: --out: path too long");
		return -1;
	}
	if (c->key_type)
		ks.type = c->key_type == HOST_KEY_CHOICE_EC ? HOST_KEY_EC : HOST_KEY_RSA;
	if (c->rsa_bits) {
		ks.type = HOST_KEY_RSA;
		ks.rsa_bits = c->rsa_bits;
	}
	if (agent_get_cert(a, dir ? dir : agent_cert_dir(a), &ks, err, errlen))
		return -1;
	a->cert_failing = false;
	if (dir && strcmp(dir, a->st.cert_dir)) {
		snprintf(a->st.cert_dir, sizeof(a->st.cert_dir), "%s", dir);
		agent_save(a);
	}
	/* a certificate charon does not use is no success */
	if (agent_swan_refresh(a, why, sizeof(why))) {
		snprintf(err, errlen, "cert: certificate %s stored in %s, but charon was not "
			 "refreshed: %s", a->cert.serial, a->cert.dir, why);
		return -1;
	}
	fprintf(out, "key          %s/%s\n", a->cert.dir, HOST_CERT_KEY);
	fprintf(out, "certificate  %s/%s (serial %s, valid until %s)\n", a->cert.dir,
		HOST_CERT_CRT, a->cert.serial, agent_utc(a->cert.not_after, until, sizeof(until)));
	fprintf(out, "ca chain     %s/%s\n", a->cert.dir, HOST_CERT_CHAIN);
	if (a->crl_time)
		fprintf(out, "crl          %s/%s\n", a->cert.dir, HOST_CERT_CRL);
	return 0;
}

/* strongswan --dir DIR [...]: write it now, and keep it current from now on. */
static int swan_command(struct agent *a, const struct swan_opts *w, FILE *out, char *err,
			size_t errlen)
{
	if (agent_swan_apply(a, w, out, err, errlen))
		return -1;
	a->st.swan = *w;
	/* the files are ours now: later rewrites need no taking over */
	host_cmd_forget(&host_cmd_strongswan, &a->st.swan, "--take-over");
	agent_save(a);
	fprintf(out, "kept current by this agent: rewritten after each new certificate or CRL\n");
	return 0;
}

static int down_command(struct agent *a, FILE *out, char *err, size_t errlen)
{
	a->stop = true;
	log_info("down: deregistering and removing the host configuration");
	host_tc_close(&a->tc);
	if (agent_take_down(&a->pap, &a->st, a->o->state_dir, out)) {
		snprintf(err, errlen, "down: some steps failed (see the agent's log)");
		return -1;
	}
	return 0;
}

int agent_command(void *ctx, int argc, char **argv, FILE *out, char *err, size_t errlen)
{
	/* one command at a time; strongswan's options are large for a stack */
	static union {
		struct host_status_args status;
		struct host_peer_args peer;
		struct host_cert_args cert;
		struct swan_opts swan;
		struct host_down_args down;
	} args;
	const struct host_cmd *c = argc ? host_cmd_find(argv[0]) : NULL;
	struct agent *a = ctx;
	char why[480];
	int rc;

	if (!argc) {
		snprintf(err, errlen, "empty command");
		return -1;
	}
	if (!c || c == &host_cmd_up) {
		snprintf(err, errlen, "unknown command '%s' (status, validate, invalidate, cert, "
			 "strongswan, down)", argv[0]);
		return -1;
	}
	rc = host_cmd_parse(c, argc, argv, &args, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "%s: %s", c->name, rc == HOST_CMD_HELP ?
			 "--help is xdnat-host's" : why);
		return -1;
	}
	if (c == &host_cmd_status)
		rc = agent_status(a, args.status.json, out);
	else if (c == &host_cmd_validate || c == &host_cmd_invalidate)
		rc = peer_command(a, c == &host_cmd_validate, &args.peer, out, err, errlen);
	else if (c == &host_cmd_cert)
		rc = cert_command(a, &args.cert, out, err, errlen);
	else if (c == &host_cmd_strongswan)
		rc = swan_command(a, &args.swan, out, err, errlen);
	else
		rc = down_command(a, out, err, errlen);
	return rc;
}
