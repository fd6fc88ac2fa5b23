/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bpf_loadall — loads every program of a BPF object as a whole and pins
 * each as DIR/NAME (its maps pinned by name in DIR/maps, apart from any
 * other object's), like "bpftool prog loadall", but as xdnatd does on a
 * kernel without xdp.frags (before 5.18): the SEC("xdp.frags") programs are
 * left out there (their SEC("xdp") twins load instead), since the kernel
 * refuses the whole object for them. make test-kernels runs it in its guests.
 *
 *   bpf_loadall [-d] OBJ DIR
 *
 * Prints the names of the programs loaded on one line; what was left out and
 * libbpf's messages (the verifier's log of a refused program; -d: libbpf's
 * debug output too, CO-RE relocations included) on stderr. Exit 0 when
 * everything else loaded and was pinned, 1 otherwise.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>
#include "lib/kfeat.h"

static bool debug;

static int print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !debug)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_object_open_opts, o);
	struct bpf_object *obj;
	struct bpf_program *p;
	char path[4096];
	bool frags;
	int err = 0, n = 0;

	if (argc > 1 && !strcmp(argv[1], "-d")) {
		debug = true;
		argc--;
		argv++;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: bpf_loadall [-d] OBJ DIR\n");
		return 2;
	}
	libbpf_set_print(print);
	/* the maps pinned by name in DIR/maps: each object its own */
	snprintf(path, sizeof(path), "%s/maps", argv[2]);
	if ((mkdir(argv[2], 0700) && errno != EEXIST) || (mkdir(path, 0700) && errno != EEXIST)) {
		perror(path);
		return 1;
	}
	o.pin_root_path = path;
	obj = bpf_object__open_file(argv[1], &o);
	if (!obj) {
		fprintf(stderr, "%s: cannot open\n", argv[1]);
		return 1;
	}
	frags = kfeat_has(KFEAT_XDP_FRAGS);
	bpf_object__for_each_program(p, obj) {
		if (frags || strcmp(bpf_program__section_name(p), "xdp.frags"))
			continue;
		fprintf(stderr, "%s: SEC(\"xdp.frags\") left out: the kernel has no xdp.frags\n",
			bpf_program__name(p));
		if (bpf_program__set_autoload(p, false))
			err = 1;
	}
	if (!err && bpf_object__load(obj)) {
		fprintf(stderr, "%s: load failed\n", argv[1]);
		err = 1;
	}
	bpf_object__for_each_program(p, obj) {
		if (err || !bpf_program__autoload(p))
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[2], bpf_program__name(p));
		if (bpf_program__pin(p, path)) {
			fprintf(stderr, "%s: cannot pin\n", path);
			err = 1;
			break;
		}
		printf("%s%s", n++ ? " " : "", bpf_program__name(p));
	}
	printf("\n");
	bpf_object__close(obj);
	return err;
}
