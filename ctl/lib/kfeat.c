/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The probes of kfeat.h. Each asks the kernel a question that leaves
 * nothing behind: a program or map created and closed at once (libbpf's
 * libbpf_probe_*), a test run on a packet of our own, a netlink request
 * the kernel refuses either way, a file looked at.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gelf.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <arpa/inet.h>
#include <linux/magic.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "lib/kfeat.h"
#include "lib/log.h"
#include "lib/nl.h"

/* Linux 6.3's uapi; the build's headers may be older. */
#ifndef BPF_F_ADJ_ROOM_DECAP_L3_IPV4
#define BPF_F_ADJ_ROOM_DECAP_L3_IPV4	(1ULL << 7)
#endif

void kfeat_init(struct kfeat_set *s, const char *prog)
{
	struct utsname u;

	memset(s, 0, sizeof(*s));
	s->prog = prog;
	snprintf(s->release, sizeof(s->release), "%s", uname(&u) ? "?" : u.release);
}

int kfeat_need(struct kfeat_set *s, enum kfeat_kind kind, uint32_t type, uint32_t helper,
	       bool optional, const char *user)
{
	struct kfeat *f;

	for (unsigned int i = 0; i < s->n; i++) {
		f = &s->f[i];
		if (f->kind == kind && f->type == type && f->helper == helper) {
			size_t n = strlen(f->user);

			f->optional &= optional;
			/* every user while there is room */
			if (!strstr(f->user, user) && n + 2 + strlen(user) < sizeof(f->user))
				snprintf(f->user + n, sizeof(f->user) - n, ", %s", user);
			return 0;
		}
	}
	if (s->n == KFEAT_MAX)
		return s->need_err = s->need_err ? s->need_err : -E2BIG;
	f = &s->f[s->n++];
	*f = (struct kfeat){ .kind = kind, .type = type, .helper = helper, .optional = optional };
	snprintf(f->user, sizeof(f->user), "%s", user);
	return 0;
}

/* ---- what an object uses ------------------------------------------------------ */

/* Does the ELF image carry CO-RE relocations (.BTF.ext's core_relo part)?
 * libbpf resolves them against the kernel's BTF. */
static bool has_core_relos(const void *elf, size_t size)
{
	struct {
		uint16_t magic;
		uint8_t version, flags;
		uint32_t hdr_len, func_off, func_len, line_off, line_len, core_off, core_len;
	} h;
	Elf_Scn *scn = NULL;
	bool found = false;
	size_t shstrndx;
	GElf_Shdr sh;
	Elf *e;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return false;
	e = elf_memory((char *)elf, size);
	if (!e)
		return false;
	if (elf_getshdrstrndx(e, &shstrndx))
		goto out;
	while (!found && (scn = elf_nextscn(e, scn))) {
		const char *name;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh))
			break;
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".BTF.ext"))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || d->d_size < sizeof(h))
			break;
		memcpy(&h, d->d_buf, sizeof(h));
		/* the part starts with its record size: more is a relocation */
		found = h.hdr_len >= sizeof(h) && h.core_len > sizeof(uint32_t);
	}
out:
	elf_end(e);
	return found;
}

int kfeat_need_object(struct kfeat_set *s, const char *name, const void *elf, size_t size)
{
	LIBBPF_OPTS(bpf_object_open_opts, o, .object_name = name);
	struct bpf_object *obj = bpf_object__open_mem(elf, size, &o);
	struct bpf_program *p;
	struct bpf_map *m;
	int err = 0;

	if (!obj) {
		err = -errno;
		return s->need_err = s->need_err ? s->need_err : err;
	}
	bpf_object__for_each_program(p, obj) {
		const struct bpf_insn *in = bpf_program__insns(p);
		size_t n = bpf_program__insn_cnt(p);
		uint32_t t = bpf_program__type(p);

		err = kfeat_need(s, KFEAT_PROG, t, 0, false, name);
		for (size_t i = 0; i < n && !err; i++)
			if (in[i].code == (BPF_JMP | BPF_CALL) && in[i].src_reg == 0)
				err = kfeat_need(s, KFEAT_HELPER, t, (uint32_t)in[i].imm, false,
						 name);
		if (err)
			goto out;
	}
	bpf_object__for_each_map(m, obj) {
		err = kfeat_need(s, KFEAT_MAP, bpf_map__type(m), 0, false, name);
		if (err)
			goto out;
	}
	if (has_core_relos(elf, size))
		err = kfeat_need(s, KFEAT_BTF, 0, 0, false, name);
out:
	bpf_object__close(obj);
	return err;
}

/* ---- the probes ------------------------------------------------------------- */

static enum kfeat_state answer(int rc, int *err)
{
	if (rc > 0)
		return KFEAT_PRESENT;
	if (rc == 0)
		return KFEAT_ABSENT;
	*err = rc;
	return KFEAT_UNKNOWN;
}

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOV_IMM(d, i)	INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define CALL(h)		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, h)
#define EXIT()		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* A program of two instructions: 1 loaded, 0 refused with EINVAL, or -errno. */
static int load_trivial(enum bpf_prog_type type, uint32_t flags)
{
	const struct bpf_insn insns[] = { MOV_IMM(BPF_REG_0, 0), EXIT() };
	LIBBPF_OPTS(bpf_prog_load_opts, o, .prog_flags = flags,
		    .expected_attach_type = type == BPF_PROG_TYPE_XDP ? BPF_XDP : 0);
	int fd = bpf_prog_load(type, "xdnat_probe", "GPL", insns, 2, &o);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == EINVAL ? 0 : -errno;
}

/*
 * bpf_skb_adjust_room with BPF_F_ADJ_ROOM_DECAP_L3_IPV4 (Linux 6.3) on an
 * IPIP packet, in a test run: 0 stripped, -EINVAL an older kernel.
 */
static int probe_decap_l3(void)
{
	const struct bpf_insn insns[] = {
		MOV_IMM(BPF_REG_2, -20),
		MOV_IMM(BPF_REG_3, BPF_ADJ_ROOM_MAC),
		MOV_IMM(BPF_REG_4, (int)(BPF_F_ADJ_ROOM_DECAP_L3_IPV4 | BPF_F_ADJ_ROOM_FIXED_GSO)),
		CALL(BPF_FUNC_skb_adjust_room),
		EXIT(),
	};
	/* Ethernet, IPv4 proto 4 (48 bytes), IPv4 proto 17 (28 bytes), UDP */
	uint8_t pkt[14 + 20 + 20 + 8] = {
		[12] = 0x08, [13] = 0x00,
		[14] = 0x45, [17] = 48, [22] = 64, [23] = 4,
		[34] = 0x45, [37] = 28, [42] = 64, [43] = 17,
	};
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = sizeof(pkt));
	int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "xdnat_probe", "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), NULL), err;

	if (fd < 0)
		return -errno;
	err = bpf_prog_test_run_opts(fd, &t) ? -errno : 0;
	close(fd);
	if (err)
		return err;
	if (t.retval == 0)
		return 1;
	return (int)t.retval == -EINVAL ? 0 : (int)t.retval;
}

/*
 * NDA_FLAGS_EXT (Linux 5.16, with NTF_EXT_MANAGED) is validated against its
 * mask: a bit outside it is EINVAL there, while an older kernel ignores
 * the attribute and fails the (absent) device. The request names an
 * address (TEST-NET-1): without one, neigh_add() answers EINVAL before it
 * looks at the device, on 5.15 too. Nothing is ever created: no
 * NLM_F_CREATE, no such device.
 */
static int probe_neigh_managed(void)
{
	struct nl_msgbuf b;
	struct nlmsghdr *h = nl_msg(&b, RTM_NEWNEIGH, 0);
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(h, sizeof(*ndm));
	struct nl *nl;
	int err = nl_open(NETLINK_ROUTE, 0, &nl);

	if (err)
		return err;
	ndm->ndm_family = AF_INET;
	ndm->ndm_ifindex = INT_MAX;
	mnl_attr_put_u32(h, NDA_DST, htonl(0xc0000201));
	mnl_attr_put_u32(h, NDA_FLAGS_EXT, 1u << 31);
	err = nl_request(nl, h);
	nl_close(nl);
	if (err == -EINVAL)
		return 1;
	return err == -ENODEV ? 0 : err ? err : -EPROTO;
}

/* The pin root is on a BPF filesystem, or one can be mounted there. */
static int probe_bpffs(const char *dir)
{
	char path[PATH_MAX], line[128];
	struct statfs st;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s", dir && dir[0] ? dir : "/sys/fs/bpf");
	/* the nearest part of it that exists */
	while (statfs(path, &st)) {
		char *slash = strrchr(path, '/');

		if (errno != ENOENT || !slash || slash == path)
			break;
		*slash = 0;
	}
	if (!statfs(path, &st) && st.f_type == BPF_FS_MAGIC)
		return 1;
	f = fopen("/proc/filesystems", "re");
	if (!f)
		return -errno;
	while (!found && fgets(line, sizeof(line), f))
		found = !strcmp(line, "nodev\tbpf\n");
	fclose(f);
	return found;
}

static int probe_btf(void)
{
	struct btf *b = btf__load_vmlinux_btf();
	int err = -errno;

	if (b) {
		btf__free(b);
		return 1;
	}
	return err == -ENOENT || err == -ESRCH ? 0 : err;
}

static bool needs_bpf(enum kfeat_kind k)
{
	return k != KFEAT_BTF && k != KFEAT_BPFFS && k != KFEAT_NEIGH_MANAGED;
}

int kfeat_probe(struct kfeat_set *s)
{
	libbpf_print_fn_t prev;
	int rc;

	if (s->need_err) {
		log_err("reading what %s's BPF objects need: %s", s->prog, strerror(-s->need_err));
		return s->need_err;
	}
	prev = libbpf_set_print(NULL);
	/* without the privilege every BPF probe would fail alike */
	rc = load_trivial(BPF_PROG_TYPE_SOCKET_FILTER, 0);
	if (rc > 0)
		rc = load_trivial(BPF_PROG_TYPE_XDP, 0);
	s->bpf_err = rc == -EPERM || rc == -EACCES || rc == -ENOSYS ? rc : 0;
	for (unsigned int i = 0; i < s->n; i++) {
		struct kfeat *f = &s->f[i];

		f->err = 0;
		if (s->bpf_err && needs_bpf(f->kind)) {
			f->state = KFEAT_UNKNOWN;
			f->err = s->bpf_err;
			continue;
		}
		switch (f->kind) {
		case KFEAT_BTF:
			rc = probe_btf();
			break;
		case KFEAT_BPFFS:
			rc = probe_bpffs(s->bpffs);
			break;
		case KFEAT_PROG:
			rc = libbpf_probe_bpf_prog_type(f->type, NULL);
			break;
		case KFEAT_MAP:
			rc = libbpf_probe_bpf_map_type(f->type, NULL);
			break;
		case KFEAT_HELPER:
			rc = libbpf_probe_bpf_helper(f->type, f->helper, NULL);
			break;
		case KFEAT_XDP_FRAGS:
			rc = load_trivial(BPF_PROG_TYPE_XDP, BPF_F_XDP_HAS_FRAGS);
			break;
		case KFEAT_DECAP_L3:
			rc = probe_decap_l3();
			break;
		case KFEAT_NEIGH_MANAGED:
			rc = probe_neigh_managed();
			break;
		default:
			rc = -EINVAL;
		}
		f->state = answer(rc, &f->err);
	}
	libbpf_set_print(prev);
	return 0;
}

enum kfeat_state kfeat_state(const struct kfeat_set *s, enum kfeat_kind kind)
{
	for (unsigned int i = 0; i < s->n; i++)
		if (s->f[i].kind == kind)
			return s->f[i].state;
	return KFEAT_UNKNOWN;
}

bool kfeat_has(enum kfeat_kind kind)
{
	struct kfeat_set s;

	kfeat_init(&s, "xdnat");
	return !kfeat_need(&s, kind, 0, 0, true, "") && !kfeat_probe(&s) &&
	       kfeat_state(&s, kind) == KFEAT_PRESENT;
}
