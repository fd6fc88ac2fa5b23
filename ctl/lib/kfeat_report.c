/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The verdict on a probed kfeat_set (kfeat.h): the one line that refuses a
 * start, the fallback lines, the --check-kernel table. Nothing here asks
 * the kernel, so the unit tests hand it any set of answers.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/libbpf.h>
#include "lib/kfeat.h"
#include "lib/log.h"
#include "lib/table.h"

/* Each kind's words: its name, the release it came with, the kernel
 * option a refusal names, what is used when an optional one is absent. */
static const struct {
	const char *name, *since, *config, *fallback;
} kinds[] = {
	[KFEAT_BTF] = { "BTF (/sys/kernel/btf/vmlinux)", NULL, "CONFIG_DEBUG_INFO_BTF", NULL },
	[KFEAT_BPFFS] = { "the BPF filesystem", NULL, "CONFIG_BPF_SYSCALL", NULL },
	[KFEAT_PROG] = { "BPF program type", NULL, "CONFIG_BPF_SYSCALL", NULL },
	[KFEAT_MAP] = { "BPF map type", NULL, NULL, NULL },
	[KFEAT_HELPER] = { "BPF helper", NULL, NULL, NULL },
	[KFEAT_XDP_FRAGS] = { "xdp.frags (BPF_F_XDP_HAS_FRAGS)", "Linux 5.18", NULL,
			      "plain XDP programs: a NIC's MTU must fit one page (about 3500 "
			      "bytes on veth)" },
	[KFEAT_DECAP_L3] = { "BPF_F_ADJ_ROOM_DECAP_L3_IPV4", "Linux 6.3", NULL,
			     "the outer header stripped with BPF_F_ADJ_ROOM_FIXED_GSO alone (a "
			     "GRO aggregate keeps its tunnel GSO type, which local delivery "
			     "ignores)" },
	[KFEAT_NEIGH_MANAGED] = { "managed neighbour entries (NTF_EXT_MANAGED)", "Linux 5.16",
				  NULL, "NTF_USE: the routes' next hops resolved again every "
				  "few seconds" },
};

/* The helpers' names, from the uapi header's own list (it puts the commas). */
#define HELPER_NAME(x, ...)	[BPF_FUNC_##x] = "bpf_" #x
static const char *const helper_names[] = { __BPF_FUNC_MAPPER(HELPER_NAME) };

static const char *helper_name(uint32_t id, char *buf, size_t len)
{
	if (id < sizeof(helper_names) / sizeof(helper_names[0]) && helper_names[id])
		return helper_names[id];
	snprintf(buf, len, "#%u", id);
	return buf;
}

static const char *type_name(const char *s, uint32_t t, char *buf, size_t len)
{
	if (s)
		return s;
	snprintf(buf, len, "%u", t);
	return buf;
}

void kfeat_name(const struct kfeat_set *s, const struct kfeat *f, char *buf, size_t len)
{
	const char *k = kinds[f->kind].name, *prog;
	char a[16], b[16];

	switch (f->kind) {
	case KFEAT_PROG:
		snprintf(buf, len, "%s %s", k,
			 type_name(libbpf_bpf_prog_type_str(f->type), f->type, a, sizeof(a)));
		break;
	case KFEAT_MAP:
		snprintf(buf, len, "%s %s", k,
			 type_name(libbpf_bpf_map_type_str(f->type), f->type, a, sizeof(a)));
		break;
	case KFEAT_HELPER:
		prog = type_name(libbpf_bpf_prog_type_str(f->type), f->type, b, sizeof(b));
		snprintf(buf, len, "%s %s (%s)", k, helper_name(f->helper, a, sizeof(a)), prog);
		break;
	case KFEAT_BPFFS:
		snprintf(buf, len, "%s (%s)", k, s->bpffs ? s->bpffs : "/sys/fs/bpf");
		break;
	default:
		if (kinds[f->kind].since)
			snprintf(buf, len, "%s, %s", k, kinds[f->kind].since);
		else
			snprintf(buf, len, "%s", k);
	}
}

static bool missing(const struct kfeat *f)
{
	return !f->optional && f->state == KFEAT_ABSENT;
}

int kfeat_refusal(const struct kfeat_set *s, char *buf, size_t len)
{
	const struct kfeat *first = NULL;
	unsigned int more = 0;
	char name[128];
	int n;

	/* the most basic one named (kinds go from BTF to helpers): without
	 * BTF nothing loads, whatever the helpers */
	for (unsigned int i = 0; i < s->n; i++) {
		if (!missing(&s->f[i]))
			continue;
		if (first)
			more++;
		if (!first || s->f[i].kind < first->kind)
			first = &s->f[i];
	}
	if (!first && s->bpf_err) {
		snprintf(buf, len, "cannot probe kernel %s's BPF features: %s (%s needs root, "
			 "or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON)", s->release,
			 strerror(-s->bpf_err), s->prog);
		return 1;
	}
	if (!first)
		return 0;
	kfeat_name(s, first, name, sizeof(name));
	n = snprintf(buf, len, "kernel %s lacks %s for %s: xdnat needs Linux >= %s%s%s",
		     s->release, name, first->user, KFEAT_FLOOR,
		     kinds[first->kind].config ? " with " : "",
		     kinds[first->kind].config ? kinds[first->kind].config : "");
	if (more && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "; %u more missing (%s --check-kernel lists "
			 "them)", more, s->prog);
	return 1;
}

int kfeat_fallback(const struct kfeat_set *s, const struct kfeat *f, char *buf, size_t len)
{
	char name[128];

	if (!f->optional || f->state != KFEAT_ABSENT || !kinds[f->kind].fallback)
		return 0;
	kfeat_name(s, f, name, sizeof(name));
	snprintf(buf, len, "feature %s: absent, using %s", name, kinds[f->kind].fallback);
	return 1;
}

int kfeat_report_start(const struct kfeat_set *s)
{
	unsigned int present = 0;
	char line[512];

	if (kfeat_refusal(s, line, sizeof(line))) {
		log_err("%s", line);
		return -ENOTSUP;
	}
	for (unsigned int i = 0; i < s->n; i++) {
		const struct kfeat *f = &s->f[i];

		if (f->state == KFEAT_PRESENT) {
			present++;
		} else if (kfeat_fallback(s, f, line, sizeof(line))) {
			log_warn("%s", line);
		} else if (f->state == KFEAT_UNKNOWN) {
			kfeat_name(s, f, line, sizeof(line));
			log_warn("feature %s: not probed (%s); going on", line, strerror(-f->err));
		}
	}
	log_debug("kernel %s: %u of the %u features %s uses present, none it needs missing "
		 "(%s --check-kernel lists them)", s->release, present, s->n, s->prog, s->prog);
	return 0;
}

int kfeat_report_table(const struct kfeat_set *s, FILE *out)
{
	struct table *t = table_new(4);
	char name[128], line[512];
	int refused;

	table_add(t, "FEATURE");
	table_add(t, "FOR");
	table_add(t, "NEED");
	table_add(t, "STATE");
	for (unsigned int i = 0; i < s->n; i++) {
		const struct kfeat *f = &s->f[i];

		kfeat_name(s, f, name, sizeof(name));
		table_add(t, "%s", name);
		table_add(t, "%s", f->user);
		table_add(t, "%s", f->optional ? "optional" : "required");
		if (f->state == KFEAT_PRESENT)
			table_add(t, "present");
		else if (f->state == KFEAT_UNKNOWN)
			table_add(t, "not probed: %s", strerror(-f->err));
		else if (f->optional && kinds[f->kind].fallback)
			table_add(t, "absent: using %s", kinds[f->kind].fallback);
		else
			table_add(t, "ABSENT");
	}
	fprintf(out, "kernel %s (xdnat needs Linux >= %s)\n", s->release, KFEAT_FLOOR);
	table_print(t, out);
	refused = kfeat_refusal(s, line, sizeof(line));
	if (refused)
		fprintf(out, "%s: %s\n", s->prog, line);
	else
		fprintf(out, "%s: this kernel has what it needs\n", s->prog);
	return refused;
}
