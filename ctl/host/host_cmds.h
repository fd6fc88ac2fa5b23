/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdnat-host's commands and their options, one table each (as xdp-tools'
 * DEFINE_OPTION): an option's name, kind, place in the command's struct,
 * limits and help. The same table parses the command line in xdnat-host,
 * parses the words the agent receives on its control socket, writes the
 * words the client sends (paths made absolute), re-reads the strongSwan
 * options kept in the state file, and prints --help. Refusals are one line:
 * "--ports: '0' is not 1..65535".
 */
#ifndef XDNAT_HOST_CMDS_H
#define XDNAT_HOST_CMDS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>
#include <net/if.h>
#include "host/host_swan.h"
#include "pap/pap.h"

#define HOST_STATE_DIR		"/var/lib/xdnat-host"
#define HOST_CTL_SOCKET		"/run/xdnat/host.sock"
#define HOST_DEFAULT_PORTS	64
#define HOST_DEFAULT_SPIS	256
#define HOST_DEFAULT_NATT_INDEX	1	/* port 0 of the block is IKE, 1 NAT-T */
#define HOST_SOCKET_MAX		108	/* sizeof(sun_path) */
/* strongswan's options as one line (status, the log) */
#define HOST_SWAN_LINE_MAX	8192

/* What the option tables know how to read (and write back). */
enum host_opt_kind {
	HOST_OPT_FLAG,		/* bool, no value */
	HOST_OPT_UINT,		/* unsigned of size 1, 2 or 4, min..max */
	HOST_OPT_IPV4,		/* uint32_t, network order */
	HOST_OPT_IPV4_TEXT,	/* char[size] holding a dotted quad */
	HOST_OPT_STR,		/* char[size], not empty */
	HOST_OPT_WORD,		/* char[size], not empty, no blanks */
	HOST_OPT_PATH,		/* char[size], made absolute */
	HOST_OPT_CHOICE,	/* int: 1 + index in choices; 0 when not given */
};

struct host_opt {
	const char *name;	/* "--ports"; NULL: the positional argument */
	enum host_opt_kind kind;
	size_t off, size;	/* the field in the command's struct (one element) */
	size_t count_off;	/* repeat: the unsigned int counting elements */
	unsigned int repeat;	/* 0: once, a later one wins; N: up to N times */
	uint32_t min, max;	/* HOST_OPT_UINT; min 1 for IPv4: not 0.0.0.0 */
	const char *const *choices;	/* HOST_OPT_CHOICE, NULL-terminated */
	const char *metavar;	/* "N", "DIR" */
	const char *def;	/* the default, read as if given; NULL: none */
	const char *help;	/* lines after the first indented by the printer */
	const char *bad;	/* refusal of a value, with %s the value; NULL: by kind */
	const char *missing;	/* required: the refusal when absent */
	const char *limit;	/* repeat or positional: the refusal of one more */
	bool local;		/* the client's own (--socket): never sent */
};

struct host_cmd {
	const char *name;
	const char *synopsis;	/* after "usage: xdnat-host NAME " */
	const char *epilogue;	/* after the options; may be NULL */
	const struct host_opt *opts;
	unsigned int n_opts;
	size_t size;		/* of the struct; its first member is uint32_t given */
	/* Checks across options, after parsing: 0 or -EINVAL with err. */
	int (*check)(const void *args, char *err, size_t errlen);
};

/* The commands' structs. given: bit i = opts[i] was on the command line. */
struct host_opts {			/* up */
	uint32_t given;
	char gateway[INET_ADDRSTRLEN];	/* Gi */
	char dev[IF_NAMESIZE];
	uint32_t ports;			/* wanted at the first registration */
	uint32_t spis;			/* 0: none */
	uint32_t natt_index;		/* which port of the block carries NAT-T */
	uint32_t lease;			/* seconds asked for; 0: the gateway's default */
	uint32_t global;		/* the G to ask for, network order; 0: the gateway's choice */
	char site_key_file[PATH_MAX];	/* empty: none */
	char token_file[PATH_MAX];	/* an enrolment token, instead of the site key */
	char gateway_key_file[PATH_MAX];/* the gateway's key to pin; empty: first use */
	uint16_t pap_port;
	uint32_t table;
	char state_dir[PATH_MAX];
	char socket_path[HOST_SOCKET_MAX];
	bool daemon;
	char config[PATH_MAX];		/* --config FILE: the other options, as key = value */
};

/* How every command but up begins: the agent's socket. */
struct host_client_args {
	uint32_t given;
	char socket_path[HOST_SOCKET_MAX];
};

struct host_status_args {
	uint32_t given;
	char socket_path[HOST_SOCKET_MAX];
	bool json;
};

struct host_peer_args {			/* validate, invalidate */
	uint32_t given;
	char socket_path[HOST_SOCKET_MAX];
	uint32_t peer;			/* network order */
	uint32_t spis[PAP_MAX_RANGES];
	unsigned int n_spis;		/* 0: every SPI the host holds */
};

enum host_key_choice { HOST_KEY_CHOICE_EC = 1, HOST_KEY_CHOICE_RSA };

struct host_cert_args {
	uint32_t given;
	char socket_path[HOST_SOCKET_MAX];
	char out[PATH_MAX];		/* empty: where the agent keeps them */
	int key_type;			/* 0 or enum host_key_choice */
	uint32_t rsa_bits;		/* 0: not given */
};

/* strongswan: kept by the agent (in its state) to write DIR again. */
enum swan_esp { SWAN_ESP_AUTO = 1, SWAN_ESP_KERNEL, SWAN_ESP_LIBIPSEC };

struct swan_opts {
	uint32_t given;
	char socket_path[HOST_SOCKET_MAX];
	char dir[PATH_MAX];
	char peer[256];			/* empty: a responder */
	uint32_t peer_port;		/* 0: 500 */
	char peer_id[256];
	char peer_cas[SWAN_MAX_PEER_CAS][PATH_MAX];
	unsigned int n_cas;
	bool narrow;
	int esp;			/* 0 (auto) or enum swan_esp */
	bool take_over;			/* replace files not written by xdnat-host */
};

struct host_down_args {
	uint32_t given;
	char socket_path[HOST_SOCKET_MAX];
	char state_dir[PATH_MAX];	/* when no agent answers */
};

extern const struct host_cmd host_cmd_up, host_cmd_status, host_cmd_validate,
	host_cmd_invalidate, host_cmd_cert, host_cmd_strongswan, host_cmd_down;

/* The command called name, NULL when none is. */
const struct host_cmd *host_cmd_find(const char *name);

/* Parse parse_cmd's return when --help (or -h) was given. */
#define HOST_CMD_HELP	1

/*
 * argv[0] is the command's name, options and the positional argument follow
 * ("--name value" or "--name=value"). args (c->size bytes) gets the defaults,
 * then what was given. A command with a --config option reads FILE too:
 * "key = value" lines, key a long option without its dashes, '#' starts a
 * comment, a flag takes true or false; what the command line gave wins.
 * 0, HOST_CMD_HELP, or -EINVAL with one line in err ("FILE:LINE: ..." for
 * the file's).
 */
int host_cmd_parse(const struct host_cmd *c, int argc, char *const *argv, void *args,
		   char *err, size_t errlen);

/*
 * The words for what args holds, as host_cmd_parse() reads them back:
 * argv[0] the command's name, then every given option but the local ones,
 * in table order, their values in buf. argc, or -E2BIG when buf or max
 * (argv's room, the NULL included) is too small.
 */
int host_cmd_argv(const struct host_cmd *c, const void *args, char *buf, size_t cap,
		  char **argv, int max);

/* The words of host_cmd_argv() after the name, joined by blanks. */
int host_cmd_line(const struct host_cmd *c, const void *args, char *buf, size_t cap);

/* Forget option name in args: not given, its field zeroed. */
void host_cmd_forget(const struct host_cmd *c, void *args, const char *name);

/* --help: the synopsis, then each option with its help and default. */
void host_cmd_help(const struct host_cmd *c, FILE *out);

#endif
