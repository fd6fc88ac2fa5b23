/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ctl/lib/kfeat*.c: the verdict on injected probe results (each required
 * feature absent gives its one-line refusal, each optional one its
 * fallback line, the table and its exit status), what the needs are made
 * of (gw_ext, gw_int and host_tunnel read from their objects), and a real
 * probe of this kernel, where everything is present (needs root: skips
 * without).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include "gateway/config.h"
#include "gateway/dataplane.h"
#include "host/host_tc.h"
#include "lib/kfeat.h"

/* A feature absent, and the line that says so. */
struct kind_line {
	enum kfeat_kind kind;
	const char *line;
};

/* A gateway-like set, everything present, on kernel 5.4.0. */
static void gateway_set(struct kfeat_set *s)
{
	kfeat_init(s, "xdnatd");
	snprintf(s->release, sizeof(s->release), "5.4.0");
	s->bpffs = "/sys/fs/bpf/xdnat";
	assert_int_equal(kfeat_need(s, KFEAT_BTF, 0, 0, false, "gw_ext"), 0);
	assert_int_equal(kfeat_need(s, KFEAT_BPFFS, 0, 0, false, "the pinned maps"), 0);
	assert_int_equal(kfeat_need(s, KFEAT_PROG, BPF_PROG_TYPE_XDP, 0, false, "gw_ext"), 0);
	assert_int_equal(kfeat_need(s, KFEAT_MAP, BPF_MAP_TYPE_RINGBUF, 0, false, "gw_int"), 0);
	assert_int_equal(kfeat_need(s, KFEAT_HELPER, BPF_PROG_TYPE_XDP,
				    BPF_FUNC_ktime_get_coarse_ns, false, "gw_int"), 0);
	assert_int_equal(kfeat_need(s, KFEAT_XDP_FRAGS, 0, 0, true, "gw_ext, gw_int"), 0);
	assert_int_equal(kfeat_need(s, KFEAT_NEIGH_MANAGED, 0, 0, true, "the next hops"), 0);
	assert_int_equal(kfeat_need(s, KFEAT_DECAP_L3, 0, 0, true, "host_tunnel"), 0);
	for (unsigned int i = 0; i < s->n; i++)
		s->f[i].state = KFEAT_PRESENT;
}

static struct kfeat *find(struct kfeat_set *s, enum kfeat_kind kind)
{
	for (unsigned int i = 0; i < s->n; i++)
		if (s->f[i].kind == kind)
			return &s->f[i];
	fail_msg("no need of kind %d", kind);
	return NULL;
}

static void test_nothing_missing(void **state)
{
	struct kfeat_set s;
	char line[512];

	(void)state;
	gateway_set(&s);
	assert_int_equal(kfeat_refusal(&s, line, sizeof(line)), 0);
	for (unsigned int i = 0; i < s.n; i++)
		assert_int_equal(kfeat_fallback(&s, &s.f[i], line, sizeof(line)), 0);
	assert_int_equal(kfeat_report_start(&s), 0);
}

/* Each required feature absent alone: its own line, nothing else. */
static void test_each_refusal(void **state)
{
	static const struct kind_line cases[] = {
		{ KFEAT_BTF, "kernel 5.4.0 lacks BTF (/sys/kernel/btf/vmlinux) for gw_ext: xdnat "
		  "needs Linux >= 5.15 with CONFIG_DEBUG_INFO_BTF" },
		{ KFEAT_BPFFS, "kernel 5.4.0 lacks the BPF filesystem (/sys/fs/bpf/xdnat) for the "
		  "pinned maps: xdnat needs Linux >= 5.15 with CONFIG_BPF_SYSCALL" },
		{ KFEAT_PROG, "kernel 5.4.0 lacks BPF program type xdp for gw_ext: xdnat needs "
		  "Linux >= 5.15 with CONFIG_BPF_SYSCALL" },
		{ KFEAT_MAP, "kernel 5.4.0 lacks BPF map type ringbuf for gw_int: xdnat needs "
		  "Linux >= 5.15" },
		{ KFEAT_HELPER, "kernel 5.4.0 lacks BPF helper bpf_ktime_get_coarse_ns (xdp) for "
		  "gw_int: xdnat needs Linux >= 5.15" },
	};
	struct kfeat_set s;
	char line[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gateway_set(&s);
		find(&s, cases[i].kind)->state = KFEAT_ABSENT;
		assert_int_equal(kfeat_refusal(&s, line, sizeof(line)), 1);
		assert_string_equal(line, cases[i].line);
		assert_null(strchr(line, '\n'));
		assert_int_equal(kfeat_report_start(&s), -ENOTSUP);
	}
}

/* Several absent: the first named, the others counted. */
static void test_more_missing(void **state)
{
	struct kfeat_set s;
	struct kfeat tmp;
	char line[512];

	(void)state;
	gateway_set(&s);
	find(&s, KFEAT_BTF)->state = KFEAT_ABSENT;
	find(&s, KFEAT_HELPER)->state = KFEAT_ABSENT;
	find(&s, KFEAT_MAP)->state = KFEAT_ABSENT;
	find(&s, KFEAT_XDP_FRAGS)->state = KFEAT_ABSENT;	/* optional: not counted */
	assert_int_equal(kfeat_refusal(&s, line, sizeof(line)), 1);
	assert_string_equal(line, "kernel 5.4.0 lacks BTF (/sys/kernel/btf/vmlinux) for gw_ext: "
			    "xdnat needs Linux >= 5.15 with CONFIG_DEBUG_INFO_BTF; 2 more missing "
			    "(xdnatd --check-kernel lists them)");
	/* BTF named first wherever it stands in the list */
	tmp = s.f[0];
	s.f[0] = s.f[4];
	s.f[4] = tmp;
	assert_int_equal(s.f[0].kind, KFEAT_HELPER);
	assert_int_equal(kfeat_refusal(&s, line, sizeof(line)), 1);
	assert_true(!strncmp(line, "kernel 5.4.0 lacks BTF ", 23));
}

/* Without the privilege the BPF probes say nothing: that is the line, unless
 * something is known to be absent. */
static void test_no_privilege(void **state)
{
	struct kfeat_set s;
	char line[512];

	(void)state;
	gateway_set(&s);
	s.bpf_err = -EPERM;
	for (unsigned int i = 0; i < s.n; i++)
		if (s.f[i].kind != KFEAT_BTF && s.f[i].kind != KFEAT_BPFFS)
			s.f[i] = (struct kfeat){ .kind = s.f[i].kind, .type = s.f[i].type,
						 .helper = s.f[i].helper,
						 .optional = s.f[i].optional,
						 .state = KFEAT_UNKNOWN, .err = -EPERM };
	assert_int_equal(kfeat_refusal(&s, line, sizeof(line)), 1);
	assert_string_equal(line, "cannot probe kernel 5.4.0's BPF features: Operation not "
			    "permitted (xdnatd needs root, or CAP_BPF, CAP_NET_ADMIN and "
			    "CAP_PERFMON)");
	find(&s, KFEAT_BTF)->state = KFEAT_ABSENT;
	assert_int_equal(kfeat_refusal(&s, line, sizeof(line)), 1);
	assert_non_null(strstr(line, "lacks BTF"));
}

/* Each optional feature absent: no refusal, its fallback line. */
static void test_fallbacks(void **state)
{
	static const struct kind_line cases[] = {
		{ KFEAT_XDP_FRAGS, "feature xdp.frags (BPF_F_XDP_HAS_FRAGS), Linux 5.18: absent, "
		  "using plain XDP programs: a NIC's MTU must fit one page (about 3500 bytes on "
		  "veth)" },
		{ KFEAT_NEIGH_MANAGED, "feature managed neighbour entries (NTF_EXT_MANAGED), Linux "
		  "5.16: absent, using NTF_USE: the routes' next hops resolved again every few "
		  "seconds" },
		{ KFEAT_DECAP_L3, "feature BPF_F_ADJ_ROOM_DECAP_L3_IPV4, Linux 6.3: absent, using "
		  "the outer header stripped with BPF_F_ADJ_ROOM_FIXED_GSO alone (a GRO aggregate "
		  "keeps its tunnel GSO type, which local delivery ignores)" },
	};
	struct kfeat_set s;
	char line[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kfeat *f;

		gateway_set(&s);
		f = find(&s, cases[i].kind);
		assert_int_equal(kfeat_fallback(&s, f, line, sizeof(line)), 0);
		f->state = KFEAT_ABSENT;
		assert_int_equal(kfeat_refusal(&s, line, sizeof(line)), 0);
		assert_int_equal(kfeat_fallback(&s, f, line, sizeof(line)), 1);
		assert_string_equal(line, cases[i].line);
		assert_int_equal(kfeat_report_start(&s), 0);
	}
}

static char *table(const struct kfeat_set *s, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	*rc = kfeat_report_table(s, f);
	fclose(f);
	return buf;
}

/* --check-kernel: a row per need, the verdict last, 0 or 1. */
static void test_table(void **state)
{
	struct kfeat_set s;
	char *out;
	int rc;

	(void)state;
	gateway_set(&s);
	find(&s, KFEAT_NEIGH_MANAGED)->state = KFEAT_ABSENT;
	out = table(&s, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "kernel 5.4.0 (xdnat needs Linux >= 5.15)\n"));
	assert_non_null(strstr(out, "BPF helper bpf_ktime_get_coarse_ns (xdp)"));
	assert_non_null(strstr(out, "absent: using NTF_USE"));
	assert_non_null(strstr(out, "xdnatd: this kernel has what it needs\n"));
	assert_null(strstr(out, "ABSENT"));
	free(out);

	find(&s, KFEAT_MAP)->state = KFEAT_ABSENT;
	out = table(&s, &rc);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "ABSENT"));
	assert_non_null(strstr(out, "\nxdnatd: kernel 5.4.0 lacks BPF map type ringbuf for "
				"gw_int: xdnat needs Linux >= 5.15\n"));
	free(out);
}

/* One entry per feature; its users listed; required wins over optional. */
static void test_need_merges(void **state)
{
	struct kfeat_set s;

	(void)state;
	kfeat_init(&s, "xdnatd");
	assert_int_equal(kfeat_need(&s, KFEAT_MAP, BPF_MAP_TYPE_HASH, 0, true, "gw_ext"), 0);
	assert_int_equal(kfeat_need(&s, KFEAT_MAP, BPF_MAP_TYPE_HASH, 0, false, "gw_int"), 0);
	assert_int_equal(kfeat_need(&s, KFEAT_MAP, BPF_MAP_TYPE_HASH, 0, true, "gw_int"), 0);
	assert_int_equal(kfeat_need(&s, KFEAT_MAP, BPF_MAP_TYPE_ARRAY, 0, false, "gw_ext"), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.f[0].user, "gw_ext, gw_int");
	assert_false(s.f[0].optional);
	while (s.n < KFEAT_MAX)
		assert_int_equal(kfeat_need(&s, KFEAT_HELPER, BPF_PROG_TYPE_XDP, s.n, false,
					    "x"), 0);
	assert_int_equal(kfeat_need(&s, KFEAT_BTF, 0, 0, false, "x"), -E2BIG);
	assert_int_not_equal(kfeat_need_object(&s, "junk", "not an ELF", 10), 0);
	assert_int_equal(kfeat_probe(&s), -E2BIG);	/* the first failed need, kept */
	kfeat_init(&s, "xdnatd");
	assert_int_not_equal(kfeat_need_object(&s, "junk", "not an ELF", 10), 0);
	assert_int_not_equal(kfeat_probe(&s), 0);
}

static bool has(const struct kfeat_set *s, enum kfeat_kind kind, uint32_t type,
		uint32_t helper)
{
	for (unsigned int i = 0; i < s->n; i++)
		if (s->f[i].kind == kind && s->f[i].type == type && s->f[i].helper == helper)
			return true;
	return false;
}

static void assert_all_present(const struct kfeat_set *s)
{
	char name[128];

	for (unsigned int i = 0; i < s->n; i++) {
		kfeat_name(s, &s->f[i], name, sizeof(name));
		if (s->f[i].state != KFEAT_PRESENT)
			fail_msg("%s: state %d (err %d) on this kernel", name, s->f[i].state,
				 s->f[i].err);
	}
}

/* The needs come from the objects: what the programs really call and
 * create; then this kernel, which has all of it. */
static void test_this_kernel(void **state)
{
	struct xdnatd_config cfg = { 0 };
	struct kfeat_set s;
	char line[512];

	(void)state;
	if (geteuid())
		skip();
	snprintf(cfg.bpffs, sizeof(cfg.bpffs), "/sys/fs/bpf/xdnat-test-kfeat");
	assert_int_equal(dataplane_kernel_probe(&cfg, &s), 0);
	assert_true(has(&s, KFEAT_PROG, BPF_PROG_TYPE_XDP, 0));
	assert_true(has(&s, KFEAT_HELPER, BPF_PROG_TYPE_XDP, BPF_FUNC_fib_lookup));
	assert_true(has(&s, KFEAT_HELPER, BPF_PROG_TYPE_XDP, BPF_FUNC_redirect_map));
	assert_true(has(&s, KFEAT_HELPER, BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_adjust_head));
	assert_true(has(&s, KFEAT_MAP, BPF_MAP_TYPE_DEVMAP_HASH, 0));
	assert_true(has(&s, KFEAT_MAP, BPF_MAP_TYPE_RINGBUF, 0));
	assert_true(has(&s, KFEAT_BTF, 0, 0));
	assert_false(has(&s, KFEAT_PROG, BPF_PROG_TYPE_SCHED_CLS, 0));
	assert_all_present(&s);
	assert_int_equal(kfeat_refusal(&s, line, sizeof(line)), 0);
	assert_int_equal(access(cfg.bpffs, F_OK), -1);	/* probed, not made */

	assert_int_equal(host_tc_kernel_probe(&s), 0);
	assert_true(has(&s, KFEAT_PROG, BPF_PROG_TYPE_SCHED_CLS, 0));
	assert_true(has(&s, KFEAT_HELPER, BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_skb_adjust_room));
	assert_true(has(&s, KFEAT_DECAP_L3, 0, 0));
	assert_false(has(&s, KFEAT_PROG, BPF_PROG_TYPE_XDP, 0));
	assert_all_present(&s);
	assert_int_equal(kfeat_refusal(&s, line, sizeof(line)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_missing),
		cmocka_unit_test(test_each_refusal),
		cmocka_unit_test(test_more_missing),
		cmocka_unit_test(test_no_privilege),
		cmocka_unit_test(test_fallbacks),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_need_merges),
		cmocka_unit_test(test_this_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
