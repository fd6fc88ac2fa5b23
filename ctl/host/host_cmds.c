/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdnat-host's option tables (host_cmds.h): the reader, the writer and the
 * help printer they share, then one table per command.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "host/host_cert.h"
#include "host/host_cmds.h"
#include "host/host_net.h"
#include "lib/parse.h"

#define XSTR(x)		STR(x)
#define STR(x)		#x
#define N_OPTS(t)	(sizeof(t) / sizeof((t)[0]))

/* ---- reading ------------------------------------------------------------------ */

static void *field(const struct host_opt *o, void *args, unsigned int i)
{
	return (char *)args + o->off + (size_t)i * o->size;
}

static unsigned int *counter(const struct host_opt *o, void *args)
{
	return (unsigned int *)((char *)args + o->count_off);
}

/* Absolute, as the agent (in /, with --daemon) and status need it. */
static int absolute(char *dst, size_t cap, const char *v)
{
	char cwd[PATH_MAX];
	int n;

	if (!*v)
		return -1;
	if (v[0] == '/')
		n = snprintf(dst, cap, "%s", v);
	else if (getcwd(cwd, sizeof(cwd)))
		n = snprintf(dst, cap, "%s/%s", cwd, v);
	else
		return -1;
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* "a, b or c" */
static void choice_list(const char *const *c, char *buf, size_t cap)
{
	size_t off = 0;

	buf[0] = 0;
	for (unsigned int i = 0; c[i] && off < cap; i++)
		off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? (c[i + 1] ? ", " : " or ") : "",
					c[i]);
}

/* The refusal of v for o, by kind unless o says its own. */
static void refuse(const struct host_opt *o, const char *v, char *msg, size_t cap)
{
	char list[128];

	if (o->bad) {
		snprintf(msg, cap, o->bad, v);
		return;
	}
	switch (o->kind) {
	case HOST_OPT_UINT:
		snprintf(msg, cap, "'%s' is not %u..%u", v, o->min, o->max);
		break;
	case HOST_OPT_IPV4:
	case HOST_OPT_IPV4_TEXT:
		snprintf(msg, cap, "'%s' is not an IPv4 address", v);
		break;
	case HOST_OPT_PATH:
		snprintf(msg, cap, "bad path '%s'", v);
		break;
	case HOST_OPT_CHOICE:
		choice_list(o->choices, list, sizeof(list));
		snprintf(msg, cap, "'%s' is not %s", v, list);
		break;
	default:
		snprintf(msg, cap, "bad value '%s'", v);
	}
}

/* v into element i of o's field. 0 or -1. */
static int store(const struct host_opt *o, const char *v, void *args, unsigned int i)
{
	void *p = field(o, args, i);
	uint32_t n, addr;

	switch (o->kind) {
	case HOST_OPT_FLAG:
		*(bool *)p = true;
		return 0;
	case HOST_OPT_UINT:
		if (parse_u32(v, o->min, o->max, &n))
			return -1;
		if (o->size == 1)
			*(uint8_t *)p = (uint8_t)n;
		else if (o->size == 2)
			*(uint16_t *)p = (uint16_t)n;
		else
			*(uint32_t *)p = n;
		return 0;
	case HOST_OPT_IPV4:
	case HOST_OPT_IPV4_TEXT:
		if (inet_pton(AF_INET, v, &addr) != 1 || (o->min && !addr))
			return -1;
		if (o->kind == HOST_OPT_IPV4)
			*(uint32_t *)p = addr;
		else
			snprintf(p, o->size, "%s", v);
		return 0;
	case HOST_OPT_WORD:
		if (strpbrk(v, " \t\r\n"))
			return -1;
		/* fall through */
	case HOST_OPT_STR:
		if (!*v || strlen(v) >= o->size)
			return -1;
		strcpy(p, v);
		return 0;
	case HOST_OPT_PATH:
		return absolute(p, o->size, v);
	case HOST_OPT_CHOICE:
		for (unsigned int c = 0; o->choices[c]; c++) {
			if (!strcmp(v, o->choices[c])) {
				*(int *)p = (int)c + 1;
				return 0;
			}
		}
		return -1;
	}
	return -1;
}

static int __attribute__((format(printf, 3, 4))) fail(char *err, size_t errlen,
						       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const struct host_opt *find_opt(const struct host_cmd *c, const char *name,
				       size_t len)
{
	for (unsigned int i = 0; i < c->n_opts; i++) {
		const char *n = c->opts[i].name;

		if (n && strlen(n) == len && !strncmp(n, name, len))
			return &c->opts[i];
	}
	return NULL;
}

/* One value for o: counted, checked, stored, marked given. */
static int take(const struct host_cmd *c, const struct host_opt *o, const char *v,
		void *args, char *err, size_t errlen)
{
	uint32_t *given = args, bit = 1u << (o - c->opts);
	unsigned int i = 0;
	char msg[512];

	if (o->repeat) {
		i = *counter(o, args);
		if (i == o->repeat)
			return fail(err, errlen, o->limit, o->repeat);
	} else if (!o->name && (*given & bit)) {
		return fail(err, errlen, "%s", o->limit);
	}
	if (store(o, v, args, i)) {
		refuse(o, v, msg, sizeof(msg));
		if (!o->name)
			return fail(err, errlen, "%s", msg);
		return fail(err, errlen, "%s: %s", o->name, msg);
	}
	if (o->repeat)
		(*counter(o, args))++;
	*given |= bit;
	return 0;
}

/* ---- the config file ------------------------------------------------------------ */

#define CONFIG_OPT	"--config"

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && strchr(" \t\r\n", e[-1]))
		*--e = 0;
	return s;
}

/* One "key = value" line of file into args; given: the command line's. */
static int config_line(const struct host_cmd *c, char *line, uint32_t cmdline, void *args,
		       char *err, size_t errlen)
{
	char *hash = strchr(line, '#'), *eq, *key, *v, name[64], msg[600];
	const struct host_opt *o;

	/* '#' starts a comment at the line's start or after a blank */
	while (hash && hash != line && hash[-1] != ' ' && hash[-1] != '\t')
		hash = strchr(hash + 1, '#');
	if (hash)
		*hash = 0;
	line = trim(line);
	if (!*line)
		return 0;
	eq = strchr(line, '=');
	if (!eq)
		return fail(err, errlen, "'%s' is not 'key = value'", line);
	*eq = 0;
	key = trim(line);
	v = trim(eq + 1);
	snprintf(name, sizeof(name), "--%s", key);
	o = find_opt(c, name, strlen(name));
	if (!o || !strcmp(name, CONFIG_OPT))
		return fail(err, errlen, "unknown key '%s'", key);
	if (cmdline & (1u << (o - c->opts)))
		return 0;	/* the command line wins */
	if (o->kind == HOST_OPT_FLAG) {
		if (!strcmp(v, "false"))
			return 0;
		if (strcmp(v, "true"))
			return fail(err, errlen, "%s: '%s' is not true or false", key, v);
		v = "";
	}
	if (!*v)
		return o->kind == HOST_OPT_FLAG ? take(c, o, v, args, err, errlen) :
			fail(err, errlen, "%s: no value", key);
	if (take(c, o, v, args, msg, sizeof(msg)))
		return fail(err, errlen, "%s", msg[0] == '-' && msg[1] == '-' ? msg + 2 : msg);
	return 0;
}

/* The command's --config FILE, when it has one and it was given. */
static int read_config(const struct host_cmd *c, void *args, char *err, size_t errlen)
{
	const struct host_opt *o = find_opt(c, CONFIG_OPT, strlen(CONFIG_OPT));
	uint32_t *given = args, cmdline = *given;
	char line[PATH_MAX + 256], why[700];
	const char *path;
	unsigned int n = 0;
	FILE *f;
	int rc = 0;

	if (!o || !(cmdline & (1u << (o - c->opts))))
		return 0;
	path = field(o, args, 0);
	f = fopen(path, "re");
	if (!f)
		return fail(err, errlen, "%s %s: %s", CONFIG_OPT, path, strerror(errno));
	while (!rc && fgets(line, sizeof(line), f)) {
		n++;
		if (!strchr(line, '\n') && !feof(f))
			rc = fail(why, sizeof(why), "line too long");
		else
			rc = config_line(c, line, cmdline, args, why, sizeof(why));
	}
	if (!rc && ferror(f))
		rc = fail(why, sizeof(why), "%s", strerror(EIO));
	fclose(f);
	if (rc)
		fail(err, errlen, "%s:%u: %s", path, n, why);
	return rc;
}

int host_cmd_parse(const struct host_cmd *c, int argc, char *const *argv, void *args,
		   char *err, size_t errlen)
{
	const struct host_opt *pos = NULL;
	uint32_t *given = args;
	int rc;

	memset(args, 0, c->size);
	for (unsigned int i = 0; i < c->n_opts; i++) {
		if (!c->opts[i].name)
			pos = &c->opts[i];
		if (c->opts[i].def && store(&c->opts[i], c->opts[i].def, args, 0))
			return fail(err, errlen, "%s: bad default", c->opts[i].name);
	}
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i], *eq, *v;
		const struct host_opt *o;

		if (!strcmp(w, "--help") || !strcmp(w, "-h"))
			return HOST_CMD_HELP;
		if (w[0] != '-' || !w[1]) {
			if (!pos)
				return fail(err, errlen, "unexpected argument '%s'", w);
			rc = take(c, pos, w, args, err, errlen);
			if (rc)
				return rc;
			continue;
		}
		eq = strchr(w, '=');
		o = find_opt(c, w, eq ? (size_t)(eq - w) : strlen(w));
		if (!o)
			return fail(err, errlen, "unknown option '%s'", w);
		if (o->kind == HOST_OPT_FLAG) {
			if (eq)
				return fail(err, errlen, "option '%s' takes no value", o->name);
			v = "";
		} else if (eq) {
			v = eq + 1;
		} else if (i + 1 < argc) {
			v = argv[++i];
		} else {
			return fail(err, errlen, "option '%s' needs a value", w);
		}
		rc = take(c, o, v, args, err, errlen);
		if (rc)
			return rc;
	}
	rc = read_config(c, args, err, errlen);
	if (rc)
		return rc;
	for (unsigned int i = 0; i < c->n_opts; i++)
		if (c->opts[i].missing && !(*given & (1u << i)))
			return fail(err, errlen, "%s", c->opts[i].missing);
	return c->check ? c->check(args, err, errlen) : 0;
}

/* ---- writing back --------------------------------------------------------------- */

struct words {
	char *buf;
	size_t cap, off;
	char **argv;
	int argc, max;
};

static int word(struct words *w, const char *s)
{
	size_t n = strlen(s) + 1;

	if (w->argc + 1 >= w->max || n > w->cap - w->off)
		return -E2BIG;
	memcpy(w->buf + w->off, s, n);
	w->argv[w->argc++] = w->buf + w->off;
	w->argv[w->argc] = NULL;
	w->off += n;
	return 0;
}

/* Element i of o's field as the word that reads it back. */
static const char *value_word(const struct host_opt *o, const void *args, unsigned int i,
			      char *tmp, size_t cap)
{
	const void *p = field(o, (void *)args, i);

	switch (o->kind) {
	case HOST_OPT_UINT:
		snprintf(tmp, cap, "%u", o->size == 1 ? *(const uint8_t *)p :
			 o->size == 2 ? *(const uint16_t *)p : *(const uint32_t *)p);
		return tmp;
	case HOST_OPT_IPV4:
		return inet_ntop(AF_INET, p, tmp, (socklen_t)cap);
	case HOST_OPT_CHOICE:
		return o->choices[*(const int *)p - 1];
	default:
		return p;
	}
}

int host_cmd_argv(const struct host_cmd *c, const void *args, char *buf, size_t cap,
		  char **argv, int max)
{
	struct words w = { buf, cap, 0, argv, 0, max };
	const uint32_t *given = args;
	char tmp[INET_ADDRSTRLEN + 16];

	if (max < 1 || word(&w, c->name))
		return -E2BIG;
	for (unsigned int i = 0; i < c->n_opts; i++) {
		const struct host_opt *o = &c->opts[i];
		unsigned int n = o->repeat ? *counter(o, (void *)args) : 1;

		if (o->local || !(*given & (1u << i)))
			continue;
		for (unsigned int j = 0; j < n; j++) {
			if (o->name && word(&w, o->name))
				return -E2BIG;
			if (o->kind != HOST_OPT_FLAG &&
			    word(&w, value_word(o, args, j, tmp, sizeof(tmp))))
				return -E2BIG;
		}
	}
	return w.argc;
}

int host_cmd_line(const struct host_cmd *c, const void *args, char *buf, size_t cap)
{
	char words[8192], *argv[128];
	int argc = host_cmd_argv(c, args, words, sizeof(words), argv, 128);
	size_t off = 0;

	if (argc < 0)
		return argc;
	buf[0] = 0;
	for (int i = 1; i < argc; i++) {
		int n = snprintf(buf + off, cap - off, "%s%s", i > 1 ? " " : "", argv[i]);

		if (n < 0 || (size_t)n >= cap - off)
			return -E2BIG;
		off += (size_t)n;
	}
	return 0;
}

void host_cmd_forget(const struct host_cmd *c, void *args, const char *name)
{
	const struct host_opt *o = find_opt(c, name, strlen(name));
	uint32_t *given = args;

	if (!o)
		return;
	*given &= ~(1u << (o - c->opts));
	memset(field(o, args, 0), 0, o->size * (o->repeat ? o->repeat : 1));
	if (o->repeat)
		*counter(o, args) = 0;
}

/* ---- help ------------------------------------------------------------------------- */

static void help_line(FILE *out, const char *left, const char *text, const char *def)
{
	const char *nl;

	if (strlen(left) > 24)
		fprintf(out, "  %s\n%27s", left, "");
	else
		fprintf(out, "  %-24s ", left);
	while ((nl = strchr(text, '\n'))) {
		fprintf(out, "%.*s\n%27s", (int)(nl - text), text, "");
		text = nl + 1;
	}
	fprintf(out, "%s%s%s%s\n", text, def ? " (default " : "", def ? def : "",
		def ? ")" : "");
}

void host_cmd_help(const struct host_cmd *c, FILE *out)
{
	char left[64];

	fprintf(out, "usage: xdnat-host %s %s\n\n", c->name, c->synopsis);
	for (unsigned int i = 0; i < c->n_opts; i++) {
		const struct host_opt *o = &c->opts[i];

		snprintf(left, sizeof(left), "%s%s%s", o->name ? o->name : "",
			 o->name && o->metavar ? " " : "", o->metavar ? o->metavar : "");
		help_line(out, left, o->help, o->def);
	}
	help_line(out, "--help", "this text", NULL);
	if (c->epilogue)
		fprintf(out, "\n%s", c->epilogue);
}

/* ---- the commands ------------------------------------------------------------------ */

#define OPT(st, fld, nm, k, ...)						\
	{ .name = nm, .kind = k, .off = offsetof(struct st, fld),		\
	  .size = sizeof(((struct st *)0)->fld), __VA_ARGS__ }
/* A repeated option: fld is an array counted by cnt. */
#define OPT_N(st, fld, cnt, nm, k, ...)						\
	{ .name = nm, .kind = k, .off = offsetof(struct st, fld),		\
	  .size = sizeof(((struct st *)0)->fld[0]),				\
	  .count_off = offsetof(struct st, cnt),				\
	  .repeat = sizeof(((struct st *)0)->fld) / sizeof(((struct st *)0)->fld[0]), \
	  __VA_ARGS__ }
#define SOCKET_OPT(st)								\
	OPT(st, socket_path, "--socket", HOST_OPT_PATH, .metavar = "PATH",	\
	    .def = HOST_CTL_SOCKET, .local = true,				\
	    .help = "the agent's control socket", .bad = "path '%s' too long")
#define CMD(nm, st, tbl, ...)							\
	{ .name = nm, .opts = tbl, .n_opts = N_OPTS(tbl), .size = sizeof(struct st), \
	  __VA_ARGS__ }

static int check_up(const void *args, char *err, size_t errlen)
{
	const struct host_opts *o = args;

	/* 0 and 253-255 are the kernel's unspec/default/main/local */
	if (o->table >= 253 && o->table <= 255)
		return fail(err, errlen, "--table: '%u' is not a free table number", o->table);
	if (o->natt_index >= o->ports)
		return fail(err, errlen, "--natt-port-index %u: only %u port(s) asked for",
			    o->natt_index, o->ports);
	return 0;
}

static const struct host_opt up_opts[] = {
	OPT(host_opts, gateway, "--gateway", HOST_OPT_IPV4_TEXT, .min = 1, .metavar = "ADDR",
	    .help = "the gateway's internal address Gi (xdnatd --internal)",
	    .missing = "--gateway is required"),
	OPT(host_opts, dev, "--dev", HOST_OPT_STR, .metavar = "IF",
	    .help = "the interface towards the gateway",
	    .bad = "'%s' is not an interface name", .missing = "--dev is required"),
	OPT(host_opts, ports, "--ports", HOST_OPT_UINT, .min = 1, .max = 65535, .metavar = "N",
	    .def = XSTR(HOST_DEFAULT_PORTS), .help = "ports to ask for"),
	OPT(host_opts, spis, "--spis", HOST_OPT_UINT, .min = 0, .max = 1u << 31, .metavar = "N",
	    .def = XSTR(HOST_DEFAULT_SPIS), .help = "IPsec SPIs to ask for, 0 for none"),
	OPT(host_opts, natt_index, "--natt-port-index", HOST_OPT_UINT, .min = 0, .max = 65534,
	    .metavar = "K", .def = XSTR(HOST_DEFAULT_NATT_INDEX),
	    .help = "port K of the block carries NAT-T\n(port 0 is the IKE port)"),
	OPT(host_opts, lease, "--lease", HOST_OPT_UINT, .min = 1, .max = UINT32_MAX,
	    .metavar = "SECONDS", .help = "lease to ask for (default: the gateway's)",
	    .bad = "'%s' is not a number of seconds"),
	OPT(host_opts, global, "--global", HOST_OPT_IPV4, .min = 1, .metavar = "G",
	    .help = "the global address of the gateway's pool to ask\nfor (default: the gateway chooses)"),
	OPT(host_opts, site_key_file, "--site-key", HOST_OPT_PATH, .metavar = "FILE",
	    .help = "the gateway's site key (16-64 bytes)"),
	OPT(host_opts, token_file, "--token", HOST_OPT_PATH, .metavar = "FILE",
	    .help = "an enrolment token (xdnatctl token issue)"),
	OPT(host_opts, gateway_key_file, "--gateway-key", HOST_OPT_PATH, .metavar = "FILE",
	    .help = "the gateway's gateway.pub to pin\n(default: the first key seen)"),
	OPT(host_opts, pap_port, "--pap-port", HOST_OPT_UINT, .min = 1, .max = 65535,
	    .metavar = "N", .def = XSTR(PAP_DEFAULT_PORT), .help = "the gateway's PAP port"),
	OPT(host_opts, table, "--table", HOST_OPT_UINT, .min = 1, .max = UINT32_MAX,
	    .metavar = "N", .def = XSTR(HOST_NET_TABLE), .help = "routing table for packets from G",
	    .bad = "'%s' is not a free table number"),
	OPT(host_opts, state_dir, "--state-dir", HOST_OPT_PATH, .metavar = "DIR",
	    .def = HOST_STATE_DIR, .help = "registration and share"),
	OPT(host_opts, socket_path, "--socket", HOST_OPT_PATH, .metavar = "PATH",
	    .def = HOST_CTL_SOCKET, .help = "control socket", .bad = "path '%s' too long"),
	OPT(host_opts, daemon, "--daemon", HOST_OPT_FLAG, .help = "detach once up, log to syslog"),
	OPT(host_opts, config, CONFIG_OPT, HOST_OPT_PATH, .metavar = "FILE",
	    .help = "the options above as 'key = value' lines (gateway =\n"
		    "10.0.0.1, '#' comments); the command line wins"),
};

static const struct host_opt status_opts[] = {
	OPT(host_status_args, json, "--json", HOST_OPT_FLAG,
	    .help = "one JSON document (keys in docs/xdnat-host.md)"),
	SOCKET_OPT(host_status_args),
};

static const struct host_opt peer_opts[] = {
	OPT(host_peer_args, peer, NULL, HOST_OPT_IPV4, .metavar = "PEER",
	    .help = "the external peer's IPv4 address", .missing = "which peer?",
	    .limit = "one peer at a time"),
	OPT_N(host_peer_args, spis, n_spis, "--spi", HOST_OPT_UINT, .min = 256,
	      .max = UINT32_MAX, .metavar = "X",
	      .help = "one of the host's SPIs (decimal or 0x...), up to " XSTR(PAP_MAX_RANGES)
		      "\ntimes; none: all of them",
	      .bad = "'%s' is not an SPI (256..4294967295)", .limit = "at most %u --spi"),
	SOCKET_OPT(host_peer_args),
};

static const char *const key_types[] = { "ec", "rsa", NULL };
static const char *const esp_modes[] = { "auto", "kernel", "libipsec", NULL };

static int check_cert(const void *args, char *err, size_t errlen)
{
	const struct host_cert_args *a = args;

	if (a->rsa_bits && a->key_type == HOST_KEY_CHOICE_EC)
		return fail(err, errlen, "--rsa-bits goes with --key-type rsa");
	return 0;
}

static const struct host_opt cert_opts[] = {
	OPT(host_cert_args, out, "--out", HOST_OPT_PATH, .metavar = "DIR",
	    .help = "where the files go, from now on (default: the\n"
		    "agent's --state-dir/cert): host.key (0600, made\n"
		    "once and kept), host.crt, ca.crt (the CA chain),\ncrl.pem"),
	OPT(host_cert_args, key_type, "--key-type", HOST_OPT_CHOICE, .choices = key_types,
	    .metavar = "ec|rsa",
	    .help = "a new key of this type unless DIR holds one: ECDSA\n"
		    "P-256 (the default) or RSA"),
	OPT(host_cert_args, rsa_bits, "--rsa-bits", HOST_OPT_UINT, .min = HOST_RSA_MIN_BITS,
	    .max = HOST_RSA_MAX_BITS, .metavar = "N",
	    .help = "RSA key size (default " XSTR(HOST_RSA_MIN_BITS) "; implies rsa)"),
	SOCKET_OPT(host_cert_args),
};

static const struct host_opt strongswan_opts[] = {
	OPT(swan_opts, dir, "--dir", HOST_OPT_PATH, .metavar = "DIR",
	    .help = "write strongswan.conf, swanctl/ (credentials and a\n"
		    "connection from G) and updown.sh there",
	    .missing = "--dir DIR is required"),
	OPT(swan_opts, peer, "--peer", HOST_OPT_WORD, .metavar = "ADDR",
	    .help = "the connection initiates to ADDR (default: a\nresponder for any peer)",
	    .bad = "'%s' is not an address or host name"),
	OPT(swan_opts, peer_port, "--peer-port", HOST_OPT_UINT, .min = 1, .max = 65535,
	    .metavar = "N", .help = "the peer's IKE port (default 500)"),
	OPT(swan_opts, peer_id, "--peer-id", HOST_OPT_WORD, .metavar = "ID",
	    .help = "the peer's identity, no blanks (default: any the\nCAs vouch for)",
	    .bad = "'%s' has blanks (write a DN as \"O=x,CN=y\")"),
	OPT_N(swan_opts, peer_cas, n_cas, "--peer-ca", HOST_OPT_PATH, .metavar = "FILE",
	      .help = "a CA of the peers, PEM (up to " XSTR(SWAN_MAX_PEER_CAS) " times)",
	      .limit = "too many --peer-ca; at most %u"),
	OPT(swan_opts, narrow, "--narrow", HOST_OPT_FLAG,
	    .help = "traffic selectors = this host's TCP and UDP ports of\n"
		    "G (needed when a peer has SAs with two hosts)"),
	OPT(swan_opts, esp, "--esp", HOST_OPT_CHOICE, .choices = esp_modes,
	    .metavar = "auto|kernel|libipsec",
	    .help = "charon's ESP: kernel-netlink or kernel-libipsec\n"
		    "(default auto: probes the kernel)"),
	OPT(swan_opts, take_over, "--take-over", HOST_OPT_FLAG,
	    .help = "replace strongswan.conf, swanctl.conf and updown.sh\n"
		    "in DIR even when xdnat-host did not write them"),
	SOCKET_OPT(swan_opts),
};

static const struct host_opt down_opts[] = {
	SOCKET_OPT(host_down_args),
	OPT(host_down_args, state_dir, "--state-dir", HOST_OPT_PATH, .metavar = "DIR",
	    .def = HOST_STATE_DIR, .local = true, .help = "used when no agent answers"),
};

const struct host_cmd host_cmd_up = CMD("up", host_opts, up_opts,
	.synopsis = "--gateway Gi --dev IF [OPTIONS]", .check = check_up);
const struct host_cmd host_cmd_status = CMD("status", host_status_args, status_opts,
	.synopsis = "[--json] [--socket PATH]");
const struct host_cmd host_cmd_validate = CMD("validate", host_peer_args, peer_opts,
	.synopsis = "PEER [--spi X ...] [--socket PATH]");
const struct host_cmd host_cmd_invalidate = CMD("invalidate", host_peer_args, peer_opts,
	.synopsis = "PEER [--spi X ...] [--socket PATH]");
const struct host_cmd host_cmd_cert = CMD("cert", host_cert_args, cert_opts,
	.synopsis = "[--out DIR] [--key-type ec|rsa] [--rsa-bits N]\n"
		    "                       [--socket PATH]",
	.epilogue = "The agent renews the certificate by itself when its ports change and when a\n"
		    "third of the validity is left.\n",
	.check = check_cert);
const struct host_cmd host_cmd_strongswan = CMD("strongswan", swan_opts, strongswan_opts,
	.synopsis = "--dir DIR [OPTIONS]",
	.epilogue = "The agent rewrites DIR after each new certificate and CRL, and runs\n"
		    "`swanctl --load-all` when a charon serves DIR (docs/strongswan.md).\n");
const struct host_cmd host_cmd_down = CMD("down", host_down_args, down_opts,
	.synopsis = "[--socket PATH] [--state-dir DIR]");

const struct host_cmd *host_cmd_find(const char *name)
{
	static const struct host_cmd *const all[] = {
		&host_cmd_up, &host_cmd_status, &host_cmd_validate, &host_cmd_invalidate,
		&host_cmd_cert, &host_cmd_strongswan, &host_cmd_down,
	};

	for (size_t i = 0; i < N_OPTS(all); i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}
