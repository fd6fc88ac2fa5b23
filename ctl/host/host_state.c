/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The host agent's state file (host_state.h). Text, so that an operator can
 * read what `up` configured (docs/xdnat-host.md, "Undoing by hand"); every
 * line is "key value", unknown keys are an error rather than silently lost.
 * One table (keys[]) says each key's kind, field and default: saving and
 * loading both walk it.
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
#include "lib/parse.h"

#define STATE_VERSION	1
#define STATE_MAX_SIZE	65536
/* strongswan's options: words, and their bytes, that one state file holds */
#define SWAN_WORDS_MAX	64

enum key_kind {
	KEY_VERSION,	/* STATE_VERSION; no field */
	KEY_ADDR,	/* uint32_t, network order, dotted */
	KEY_UINT,	/* unsigned of size 1 (bool), 2, 4 or 8, at most max */
	KEY_PREV,	/* int: def (-1: never changed) or 0..max */
	KEY_STR,	/* char[size], not empty */
	KEY_PATH,	/* char[size], absolute; no line when empty */
	KEY_SECRET,	/* uint8_t[size] in hex */
	KEY_PORTS,	/* struct pap_port_range "A-B" (A >= 1); no line unless has */
	KEY_SPIS,	/* struct pap_spi_range "A-B" (A >= 256); ditto */
	KEY_PEER,	/* "ADDR A-B" per validated peer */
	KEY_SWAN_ARG,	/* one line per word of the strongswan options, escaped */
	KEY_SWAN_ARGS,	/* read only: the blank-separated words of older files */
};

struct state_key {
	const char *key;
	enum key_kind kind;
	size_t off, size;	/* the field in struct host_state */
	uint64_t max;		/* KEY_UINT, KEY_PREV */
	int def;		/* KEY_PREV: the value before any line */
	size_t has_off;		/* KEY_PORTS, KEY_SPIS: the bool saying there is one */
};

#define F(fld)		.off = offsetof(struct host_state, fld), \
			.size = sizeof(((struct host_state *)0)->fld)
#define NUM(k, mx)	{ #k, KEY_UINT, F(k), .max = mx }
#define HAS(fld)	.has_off = offsetof(struct host_state, fld)
/* NAME_prev: net.ipv4.conf.IF.NAME before `up`; older files lack the later ones */
#define SYSCTL_PREV(name, s) \
	{ #name "_prev", KEY_PREV, F(sysctl_prev[s]), .max = 255, .def = -1 }

/* In the order they are written. */
static const struct state_key keys[] = {
	{ "version", KEY_VERSION, .off = 0 },
	{ "gateway", KEY_ADDR, F(gateway) },
	NUM(pap_port, UINT16_MAX),
	{ "dev", KEY_STR, F(dev) },
	{ "host_addr", KEY_ADDR, F(host_addr) },
	NUM(table, UINT32_MAX),
	NUM(client_id, UINT32_MAX),
	{ "secret", KEY_SECRET, F(secret) },
	NUM(seq, UINT32_MAX),
	NUM(xid, UINT32_MAX),
	{ "global", KEY_ADDR, F(global) },
	NUM(lease, UINT32_MAX),
	NUM(lease_expires, UINT64_MAX),
	{ "ports", KEY_PORTS, F(ports), HAS(has_ports) },
	{ "spis", KEY_SPIS, F(spis), HAS(has_spis) },
	NUM(natt_port, UINT16_MAX),
	{ "cert_dir", KEY_PATH, F(cert_dir) },
	{ "swan_arg", KEY_SWAN_ARG, F(swan) },
	{ "swan_args", KEY_SWAN_ARGS, F(swan) },
	{ "peer", KEY_PEER, F(peers) },
	NUM(configured, 1),
	NUM(clsact_created, 1),
	SYSCTL_PREV(rp_filter, HOST_SYSCTL_RP_FILTER),
	SYSCTL_PREV(arp_announce, HOST_SYSCTL_ARP_ANNOUNCE),
	SYSCTL_PREV(arp_ignore, HOST_SYSCTL_ARP_IGNORE),
	SYSCTL_PREV(accept_local, HOST_SYSCTL_ACCEPT_LOCAL),
	{ "tx_csum_prev", KEY_PREV, F(tx_csum_prev), .max = 1, .def = -1 },
};

#define N_KEYS	(sizeof(keys) / sizeof(keys[0]))

static void *at(const struct host_state *st, size_t off)
{
	return (char *)st + off;
}

void host_state_init(struct host_state *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].kind == KEY_PREV)
			*(int *)at(st, keys[i].off) = keys[i].def;
}

static const char *ip(uint32_t a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static uint64_t get_uint(const void *p, size_t size)
{
	switch (size) {
	case 1: return *(const bool *)p;
	case 2: return *(const uint16_t *)p;
	case 4: return *(const uint32_t *)p;
	default: return *(const uint64_t *)p;
	}
}

/* A word of strongswan's options on one line: backslash and newline escaped. */
static void put_escaped(FILE *f, const char *w)
{
	for (; *w; w++) {
		if (*w == '\\')
			fputs("\\\\", f);
		else if (*w == '\n')
			fputs("\\n", f);
		else
			fputc(*w, f);
	}
}

static void format_key(FILE *f, const struct host_state *st, const struct state_key *k)
{
	const void *p = at(st, k->off);
	char a[INET_ADDRSTRLEN];

	switch (k->kind) {
	case KEY_VERSION:
		fprintf(f, "%s %d\n", k->key, STATE_VERSION);
		break;
	case KEY_ADDR:
		fprintf(f, "%s %s\n", k->key, ip(*(const uint32_t *)p, a));
		break;
	case KEY_UINT:
		fprintf(f, "%s %" PRIu64 "\n", k->key, get_uint(p, k->size));
		break;
	case KEY_PREV:
		fprintf(f, "%s %d\n", k->key, *(const int *)p);
		break;
	case KEY_STR:
		fprintf(f, "%s %s\n", k->key, (const char *)p);
		break;
	case KEY_PATH:
		if (*(const char *)p)
			fprintf(f, "%s %s\n", k->key, (const char *)p);
		break;
	case KEY_SECRET:
		fprintf(f, "%s ", k->key);
		for (size_t i = 0; i < k->size; i++)
			fprintf(f, "%02x", ((const uint8_t *)p)[i]);
		fputc('\n', f);
		break;
	case KEY_PORTS:
		if (*(const bool *)at(st, k->has_off))
			fprintf(f, "%s %u-%u\n", k->key, ((const struct pap_port_range *)p)->first,
				((const struct pap_port_range *)p)->last);
		break;
	case KEY_SPIS:
		if (*(const bool *)at(st, k->has_off))
			fprintf(f, "%s %u-%u\n", k->key, ((const struct pap_spi_range *)p)->first,
				((const struct pap_spi_range *)p)->last);
		break;
	case KEY_PEER:
		for (unsigned int i = 0; i < st->n_peers; i++)
			fprintf(f, "%s %s %u-%u\n", k->key, ip(st->peers[i].peer, a),
				st->peers[i].spi_first, st->peers[i].spi_last);
		break;
	case KEY_SWAN_ARG: {
		static char buf[HOST_SWAN_LINE_MAX];
		char *argv[SWAN_WORDS_MAX + 1];
		int argc = 0;

		if (st->swan.dir[0])
			argc = host_cmd_argv(&host_cmd_strongswan, &st->swan, buf, sizeof(buf),
					     argv, SWAN_WORDS_MAX + 1);
		for (int i = 1; i < argc; i++) {	/* argv[0] is "strongswan" */
			fprintf(f, "%s ", k->key);
			put_escaped(f, argv[i]);
			fputc('\n', f);
		}
		break;
	}
	case KEY_SWAN_ARGS:
		break;
	}
}

static void format(FILE *f, const struct host_state *st)
{
	fprintf(f, "# xdnat-host state: written by the agent, read by `up` and `down`\n");
	for (size_t i = 0; i < N_KEYS; i++)
		format_key(f, st, &keys[i]);
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

/* What a load gathers besides the fields: the version, strongswan's words. */
struct loading {
	int version;
	char words[HOST_SWAN_LINE_MAX];
	size_t off;
	char *argv[SWAN_WORDS_MAX + 1];
	int argc;
};

/* One word (n bytes of v, unescaped when escaped) for strongswan. */
static int add_word(struct loading *l, const char *v, size_t n, bool escaped)
{
	char *w = l->words + l->off;
	size_t len = 0;

	if (l->argc == SWAN_WORDS_MAX || n >= sizeof(l->words) - l->off)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];

		if (escaped && c == '\\') {
			c = ++i < n && v[i] == 'n' ? '\n' : i < n && v[i] == '\\' ? '\\' : 0;
			if (!c)
				return -1;
		}
		w[len++] = c;
	}
	w[len] = 0;
	l->argv[l->argc++] = w;
	l->off += len + 1;
	return 0;
}

/* One "key value" line into st. 0 or -1 (bad value). */
static int parse_key(struct host_state *st, const struct state_key *k, char *val,
		     struct loading *l)
{
	void *p = at(st, k->off);
	uint64_t n;
	uint32_t a, b;

	switch (k->kind) {
	case KEY_VERSION:
		if (parse_num(val, INT32_MAX, &n))
			return -1;
		l->version = (int)n;
		return 0;
	case KEY_ADDR:
		return parse_addr(val, p);
	case KEY_UINT:
		if (parse_num(val, k->max, &n))
			return -1;
		switch (k->size) {
		case 1: *(bool *)p = n; break;
		case 2: *(uint16_t *)p = (uint16_t)n; break;
		case 4: *(uint32_t *)p = (uint32_t)n; break;
		default: *(uint64_t *)p = n; break;
		}
		return 0;
	case KEY_PREV:
		if (!strcmp(val, "-1")) {
			*(int *)p = -1;
			return 0;
		}
		if (parse_num(val, k->max, &n))
			return -1;
		*(int *)p = (int)n;
		return 0;
	case KEY_PATH:
		if (val[0] != '/')
			return -1;
		/* fall through */
	case KEY_STR:
		if (!*val || strlen(val) >= k->size)
			return -1;
		strcpy(p, val);
		return 0;
	case KEY_SECRET:
		return parse_hex(val, p, k->size);
	case KEY_PORTS:
		if (parse_pair(val, UINT16_MAX, &a, &b) || !a)
			return -1;
		*(struct pap_port_range *)p = (struct pap_port_range){ 0, (uint16_t)a, (uint16_t)b };
		*(bool *)at(st, k->has_off) = true;
		return 0;
	case KEY_SPIS:
		if (parse_pair(val, UINT32_MAX, &a, &b) || a < 256)
			return -1;
		*(struct pap_spi_range *)p = (struct pap_spi_range){ 0, a, b };
		*(bool *)at(st, k->has_off) = true;
		return 0;
	case KEY_PEER: {
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
	case KEY_SWAN_ARG:
		return add_word(l, val, strlen(val), true);
	case KEY_SWAN_ARGS: {
		char *save = NULL;
		int before = l->argc;

		for (char *w = strtok_r(val, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
			if (add_word(l, w, strlen(w), false))
				return -1;
		return l->argc > before ? 0 : -1;
	}
	}
	return -1;
}

static const struct state_key *find_key(const char *key)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (!strcmp(keys[i].key, key))
			return &keys[i];
	return NULL;
}

int host_state_load(const char *dir, struct host_state *st, char *err,
		    size_t errlen)
{
	static char buf[STATE_MAX_SIZE + 1];
	static struct loading l;
	char path[PATH_MAX], why[256];
	char *line, *save = NULL;
	int lineno = 0, rc = 0;
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
	l.version = 0;
	l.off = 0;
	l.argc = 0;
	l.argv[l.argc++] = (char *)host_cmd_strongswan.name;
	for (char *p = buf; (line = strtok_r(p, "\n", &save)); p = NULL) {
		char *val;

		lineno++;
		if (line[0] == '#' || !line[0])
			continue;
		val = strchr(line, ' ');
		if (val)
			*val++ = 0;
		if (!val || !find_key(line) || parse_key(st, find_key(line), val, &l)) {
			snprintf(err, errlen, "%s:%d: bad line (key '%s')", path, lineno, line);
			rc = -EBADMSG;
			break;
		}
	}
	if (!rc && l.version != STATE_VERSION) {
		snprintf(err, errlen, "%s: version %d, expected %d", path, l.version,
			 STATE_VERSION);
		rc = -EBADMSG;
	}
	if (!rc && (!st->gateway || !st->dev[0])) {
		snprintf(err, errlen, "%s: gateway or dev missing", path);
		rc = -EBADMSG;
	}
	/* strongswan's words, read by the table they were written with */
	l.argv[l.argc] = NULL;
	if (!rc && l.argc > 1 &&
	    host_cmd_parse(&host_cmd_strongswan, l.argc, l.argv, &st->swan, why, sizeof(why))) {
		snprintf(err, errlen, "%s: strongswan options (swan_arg): %s", path, why);
		rc = -EBADMSG;
	}
	/* ranges are stored without their global address: it is G */
	st->ports.global = st->global;
	st->spis.global = st->global;
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(&l, sizeof(l));
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
