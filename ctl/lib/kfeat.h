/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The kernel features a program needs, probed at start before it changes
 * anything (no sysctl, no attach, no pin): the BPF program types, map
 * types and helpers its BPF objects use (read from the objects
 * themselves), BTF when they carry CO-RE relocations, and what the program
 * adds (the BPF filesystem, the optional features below). A required
 * feature absent refuses the start with one line naming it; an optional
 * one absent is one line saying which fallback is used.
 *
 * kfeat.c probes, kfeat_report.c decides and words the verdict.
 */
#ifndef XDNAT_LIB_KFEAT_H
#define XDNAT_LIB_KFEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The oldest kernel xdnat is tested on (docs/kernels.md). */
#define KFEAT_FLOOR	"5.15"
#define KFEAT_MAX	64

/* The required kinds from the most basic: a refusal names the first. */
enum kfeat_kind {
	KFEAT_BTF,		/* the kernel's BTF: CO-RE relocations */
	KFEAT_BPFFS,		/* a BPF filesystem at the pin root, or mountable */
	KFEAT_PROG,		/* a BPF program type */
	KFEAT_MAP,		/* a BPF map type */
	KFEAT_HELPER,		/* a BPF helper, for a program type */
	KFEAT_XDP_FRAGS,	/* BPF_F_XDP_HAS_FRAGS (optional) */
	KFEAT_DECAP_L3,		/* adjust_room's BPF_F_ADJ_ROOM_DECAP_L3_IPV4 (optional) */
	KFEAT_NEIGH_MANAGED,	/* NTF_EXT_MANAGED neighbour entries (optional) */
};

enum kfeat_state { KFEAT_UNKNOWN, KFEAT_PRESENT, KFEAT_ABSENT };

struct kfeat {
	enum kfeat_kind kind;
	uint32_t type;		/* PROG, HELPER: program type; MAP: map type */
	uint32_t helper;	/* HELPER: enum bpf_func_id */
	bool optional;		/* absent: a fallback, not a refusal */
	enum kfeat_state state;
	int err;		/* UNKNOWN: why (-errno) */
	char user[40];		/* the objects (or parts) that need it */
};

struct kfeat_set {
	const char *prog;	/* "xdnatd": named in the lines */
	const char *bpffs;	/* KFEAT_BPFFS: the pin root */
	char release[65];	/* the running kernel, uname -r */
	int bpf_err;		/* the bpf() syscall refused every probe: -EPERM, ... */
	int need_err;		/* the first kfeat_need*() that failed */
	unsigned int n;
	struct kfeat f[KFEAT_MAX];
};

void kfeat_init(struct kfeat_set *s, const char *prog);
/* Add a need once, its users listed. 0 or -E2BIG (kept for kfeat_probe). */
int kfeat_need(struct kfeat_set *s, enum kfeat_kind kind, uint32_t type, uint32_t helper,
	       bool optional, const char *user);
/* Everything a BPF object (an ELF image: a skeleton's elf_bytes) uses:
 * program types, map types, helpers, BTF when it has CO-RE relocations.
 * Opens it without loading. 0 or -errno (kept for kfeat_probe). */
int kfeat_need_object(struct kfeat_set *s, const char *name, const void *elf, size_t size);
/* Probe every need; sets each state. Changes nothing in the kernel. 0, or
 * the error of a kfeat_need*() before (logged). */
int kfeat_probe(struct kfeat_set *s);
/* The state of the first need of kind; UNKNOWN when not needed. */
enum kfeat_state kfeat_state(const struct kfeat_set *s, enum kfeat_kind kind);
/* One optional feature (XDP_FRAGS, DECAP_L3, NEIGH_MANAGED) probed alone:
 * true when present. For the tests' loaders, to pick what xdnatd would. */
bool kfeat_has(enum kfeat_kind kind);

/* ---- the verdict (kfeat_report.c) ----------------------------------------- */

/* f's name as the lines print it: "BPF helper bpf_fib_lookup (xdp)". */
void kfeat_name(const struct kfeat_set *s, const struct kfeat *f, char *buf, size_t len);
/* The one line that refuses the start, in buf: 1, or 0 when nothing
 * required is absent (or could not be probed for lack of privilege). */
int kfeat_refusal(const struct kfeat_set *s, char *buf, size_t len);
/* "feature X: absent, using Y" for an optional feature that is absent: 1,
 * else 0. */
int kfeat_fallback(const struct kfeat_set *s, const struct kfeat *f, char *buf, size_t len);
/* At start: the refusal logged once (then -ENOTSUP), else each fallback and
 * each feature that could not be probed logged once (0). */
int kfeat_report_start(const struct kfeat_set *s);
/* --check-kernel: the table of every need on out and the verdict line.
 * 0 when the program can run here, 1 when not. */
int kfeat_report_table(const struct kfeat_set *s, FILE *out);

#endif
