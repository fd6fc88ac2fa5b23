/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The host agent's state file (host_state.h). Text, so that an operator can
 * read what `up` configured (docs/xdnat-host.md, "Undoing by hand"); every
 * line is "key value", unknown keys are an error rather than silently lost.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "lib/atomic_file.h"
#include "host/host_state.h"

#define STATE_VERSION	1
#define STATE_MAX_SIZE	16384

void host_state_init(struct host_state *st)
{
	memset(st, 0, sizeof(*st));
	st->rp_filter_prev = -1;
	st->arp_announce_prev = -1;
	st->tx_csum_prev = -1;
}

static const char *ip(uint32_t a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static void format(FILE *f, const struct host_state *st)
{
	char a[INET_ADDRSTRLEN];

	fprintf(f, "# xdnat-host state: written by the agent, read by `up` and `down`\n");
	fprintf(f, "version %d\n", STATE_VERSION);
	fprintf(f, "gateway %s\n", ip(st->gateway, a));
	fprintf(f, "pap_port %u\n", st->pap_port);
	fprintf(f, "dev %s\n", st->dev);
	fprintf(f, "host_addr %s\n", ip(st->host_addr, a));
	fprintf(f, "table %u\n", st->table);
	fprintf(f, "client_id %u\n", st->client_id);
	fprintf(f, "secret ");
	for (int i = 0; i < PAP_KEY_LEN; i++)
		fprintf(f, "%02x", st->secret[i]);
	fprintf(f, "\nseq %u\nxid %u\n", st->seq, st->xid);
	fprintf(f, "global %s\n", ip(st->global, a));
	fprintf(f, "lease %u\nlease_expires %" PRIu64 "\n", st->lease, st->lease_expires);
	if (st->has_ports)
		fprintf(f, "ports %u-%u\n", st->ports.first, st->ports.last);
	if (st->has_spis)
		fprintf(f, "spis %u-%u\n", st->spis.first, st->spis.last);
	fprintf(f, "natt_port %u\n", st->natt_port);
	if (st->cert_dir[0])
		fprintf(f, "cert_dir %s\n", st->cert_dir);
	if (st->swan_args[0])
		fprintf(f, "swan_args %s\n", st->swan_args);
	for (unsigned int i = 0; i < st->n_peers; i++)
		fprintf(f, "peer %s %u-%u\n", ip(st->peers[i].peer, a),
			st->peers[i].spi_first, st->peers[i].spi_last);
	fprintf(f, "configured %d\nclsact_created %d\n", st->configured,
		st->clsact_created);
	fprintf(f, "rp_filter_prev %d\narp_announce_prev %d\n", st->rp_filter_prev,
		st->arp_announce_prev);
	fprintf(f, "tx_csum_prev %d\n", st->tx_csum_prev);
}

/* Durable: a crash leaves the old file or the new one, never a mix. */
int host_state_save(const char *dir, const struct host_state *st)
{
	char *buf = NULL;
	size_t len = 0;
	int err;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	format(f, st);
	if (fclose(f)) {
		free(buf);
		return -ENOMEM;
	}
	err = atomic_write_file(dir, HOST_STATE_FILE, buf, len, 0600);
	explicit_bzero(buf, len);	/* it held the secret */
	free(buf);
	return err;
}

static int parse_addr(const char *v, uint32_t *out)
{
	return inet_pton(AF_INET, v, out) == 1 ? 0 : -1;
}

static int parse_num(const char *v, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || end == v || *end || n > max || *v == '-')
		return -1;
	*out = n;
	return 0;
}

static int parse_pair(const char *v, uint32_t max, uint32_t *a, uint32_t *b)
{
	unsigned long x, y;
	char *end;

	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno || end == v || *end != '-' || *v == '-')
		return -1;
	v = end + 1;
	y = strtoul(v, &end, 10);
	if (errno || end == v || *end || *v == '-' || x > y || y > max)
		return -1;
	*a = (uint32_t)x;
	*b = (uint32_t)y;
	return 0;
}

static int parse_hex(const char *v, uint8_t *out, size_t n)
{
	if (strlen(v) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned int b;

		if (sscanf(v + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (uint8_t)b;
	}
	return 0;
}

/* One "key value" line into st. 0 or -1 (bad key or value). */
static int parse_line(struct host_state *st, const char *key, char *val, int *version)
{
	uint64_t n;
	uint32_t a, b;

	if (!strcmp(key, "version")) {
		if (parse_num(val, INT32_MAX, &n))
			return -1;
		*version = (int)n;
		return 0;
	}
	if (!strcmp(key, "gateway"))
		return parse_addr(val, &st->gateway);
	if (!strcmp(key, "host_addr"))
		return parse_addr(val, &st->host_addr);
	if (!strcmp(key, "global"))
		return parse_addr(val, &st->global);
	if (!strcmp(key, "dev")) {
		if (!*val || strlen(val) >= sizeof(st->dev))
			return -1;
		strcpy(st->dev, val);
		return 0;
	}
	if (!strcmp(key, "secret"))
		return parse_hex(val, st->secret, PAP_KEY_LEN);
	if (!strcmp(key, "cert_dir")) {
		if (val[0] != '/' || strlen(val) >= sizeof(st->cert_dir))
			return -1;
		strcpy(st->cert_dir, val);
		return 0;
	}
	if (!strcmp(key, "swan_args")) {
		if (!*val || strlen(val) >= sizeof(st->swan_args))
			return -1;
		strcpy(st->swan_args, val);
		return 0;
	}
	if (!strcmp(key, "ports")) {
		if (parse_pair(val, UINT16_MAX, &a, &b) || !a)
			return -1;
		st->ports = (struct pap_port_range){ 0, (uint16_t)a, (uint16_t)b };
		st->has_ports = true;
		return 0;
	}
	if (!strcmp(key, "spis")) {
		if (parse_pair(val, UINT32_MAX, &a, &b) || a < 256)
			return -1;
		st->spis = (struct pap_spi_range){ 0, a, b };
		st->has_spis = true;
		return 0;
	}
	if (!strcmp(key, "peer")) {
		char *sp = strchr(val, ' ');
		struct pap_sa sa;

		if (!sp || st->n_peers >= HOST_STATE_MAX_PEERS)
			return -1;
		*sp = 0;
		if (parse_addr(val, &sa.peer) ||
		    parse_pair(sp + 1, UINT32_MAX, &sa.spi_first, &sa.spi_last))
			return -1;
		st->peers[st->n_peers++] = sa;
		return 0;
	}
	if (!strcmp(key, "rp_filter_prev") || !strcmp(key, "arp_announce_prev") ||
	    !strcmp(key, "tx_csum_prev")) {
		int *dst = key[0] == 'r' ? &st->rp_filter_prev :
			   key[0] == 'a' ? &st->arp_announce_prev : &st->tx_csum_prev;

		if (!strcmp(val, "-1")) {
			*dst = -1;
			return 0;
		}
		if (parse_num(val, key[0] == 't' ? 1 : 255, &n))
			return -1;
		*dst = (int)n;
		return 0;
	}

	/* plain numbers */
	{
		static const struct { const char *key; size_t off, size; uint64_t max; } nums[] = {
#define NUM(k, max) { #k, offsetof(struct host_state, k), \
		      sizeof(((struct host_state *)0)->k), max }
			NUM(pap_port, UINT16_MAX), NUM(table, UINT32_MAX),
			NUM(client_id, UINT32_MAX), NUM(seq, UINT32_MAX),
			NUM(xid, UINT32_MAX), NUM(lease, UINT32_MAX),
			NUM(lease_expires, UINT64_MAX), NUM(natt_port, UINT16_MAX),
			NUM(configured, 1), NUM(clsact_created, 1),
#undef NUM
		};

		for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
			char *p = (char *)st + nums[i].off;

			if (strcmp(key, nums[i].key))
				continue;
			if (parse_num(val, nums[i].max, &n))
				return -1;
			switch (nums[i].size) {
			case 1: *(bool *)p = n; break;
			case 2: *(uint16_t *)p = (uint16_t)n; break;
			case 4: *(uint32_t *)p = (uint32_t)n; break;
			default: *(uint64_t *)p = n; break;
			}
			return 0;
		}
	}
	return -1;
}

int host_state_load(const char *dir, struct host_state *st, char *err,
		    size_t errlen)
{
	char path[PATH_MAX], buf[STATE_MAX_SIZE + 1];
	char *line, *save = NULL;
	int version = 0, lineno = 0, rc = 0;
	size_t len;
	FILE *f;

	host_state_init(st);
	if (snprintf(path, sizeof(path), "%s/%s", dir, HOST_STATE_FILE) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f) {
		rc = -errno;
		if (rc != -ENOENT)
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (len > STATE_MAX_SIZE) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, STATE_MAX_SIZE);
		return -EBADMSG;
	}
	buf[len] = 0;
	for (char *p = buf; (line = strtok_r(p, "\n", &save)); p = NULL) {
		char *val;

		lineno++;
		if (line[0] == '#' || !line[0])
			continue;
		val = strchr(line, ' ');
		if (val)
			*val++ = 0;
		if (!val || parse_line(st, line, val, &version)) {
			snprintf(err, errlen, "%s:%d: bad line (key '%s')", path, lineno, line);
			rc = -EBADMSG;
			break;
		}
	}
	if (!rc && version != STATE_VERSION) {
		snprintf(err, errlen, "%s: version %d, expected %d", path, version,
			 STATE_VERSION);
		rc = -EBADMSG;
	}
	if (!rc && (!st->gateway || !st->dev[0])) {
		snprintf(err, errlen, "%s: gateway or dev missing", path);
		rc = -EBADMSG;
	}
	/* ranges are stored without their global address: it is G */
	st->ports.global = st->global;
	st->spis.global = st->global;
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

int host_state_remove(const char *dir)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, HOST_STATE_FILE) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return unlink(path) && errno != ENOENT ? -errno : 0;
}

static bool same_sa(const struct pap_sa *a, const struct pap_sa *b)
{
	return a->peer == b->peer && a->spi_first == b->spi_first &&
	       a->spi_last == b->spi_last;
}

void host_state_add_peer(struct host_state *st, const struct pap_sa *sa)
{
	for (unsigned int i = 0; i < st->n_peers; i++)
		if (same_sa(&st->peers[i], sa))
			return;
	if (st->n_peers < HOST_STATE_MAX_PEERS)
		st->peers[st->n_peers++] = *sa;
}

void host_state_del_peer(struct host_state *st, const struct pap_sa *sa)
{
	for (unsigned int i = 0; i < st->n_peers; i++) {
		if (!same_sa(&st->peers[i], sa))
			continue;
		st->peers[i] = st->peers[--st->n_peers];
		return;
	}
}
