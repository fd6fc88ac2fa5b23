/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The pinned maps as files (pinned.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "gateway/pinned.h"
#include "lib/version.h"

int pinned_open(const char *dir, const char *name)
{
	char path[4096];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

/* A value of xdnat_stats for every CPU, and their number in *ncpu; NULL
 * with -errno in *ncpu. */
static struct xdnat_reason_counter *percpu_value(int *ncpu)
{
	struct xdnat_reason_counter *v;

	*ncpu = libbpf_num_possible_cpus();
	if (*ncpu < 0)
		return NULL;
	v = calloc((size_t)*ncpu, sizeof(*v));
	if (!v)
		*ncpu = -ENOMEM;
	return v;
}

int pinned_read_stats(int fd, struct xdnat_counter sum[XDNAT_REASON_MAX])
{
	int ncpu, err = 0;
	struct xdnat_reason_counter *v = percpu_value(&ncpu);

	if (!v)
		return ncpu;
	memset(sum, 0, XDNAT_REASON_MAX * sizeof(*sum));
	for (__u32 r = 0; r < XDNAT_REASON_MAX; r++) {
		if (bpf_map_lookup_elem(fd, &r, v)) {
			err = -errno;
			break;
		}
		for (int c = 0; c < ncpu; c++) {
			sum[r].packets += v[c].packets;
			sum[r].bytes += v[c].bytes;
		}
	}
	free(v);
	return err;
}

int pinned_stats_name(int fd)
{
	int ncpu, err = 0;
	struct xdnat_reason_counter *v = percpu_value(&ncpu);

	if (!v)
		return ncpu;
	for (__u32 r = 0; r < XDNAT_REASON_MAX && !err; r++) {
		bool named = true;

		if (bpf_map_lookup_elem(fd, &r, v)) {
			err = -errno;
			break;
		}
		for (int c = 0; c < ncpu; c++) {
			named &= v[c].reason == (enum xdnat_reason)r;
			v[c].reason = (enum xdnat_reason)r;
		}
		/* only entries never counted lack it: nothing to lose by writing */
		if (!named && bpf_map_update_elem(fd, &r, v, BPF_EXIST))
			err = -errno;
	}
	free(v);
	return err;
}

int pinned_layout_write(int fd)
{
	struct xdnat_layout l = { .layout = XDNAT_MAP_LAYOUT };
	__u32 key = 0;

	snprintf(l.version, sizeof(l.version), "%s", xdnat_version);
	return bpf_map_update_elem(fd, &key, &l, BPF_ANY) ? -errno : 0;
}

int pinned_layout_read(const char *dir, struct xdnat_layout *out)
{
	int fd = pinned_open(dir, PINNED_LAYOUT), err = 0;
	__u32 key = 0;

	memset(out, 0, sizeof(*out));
	if (fd == -ENOENT) {
		/* no record: pins of an older release, or none at all */
		fd = pinned_open(dir, PINNED_STATS);
		if (fd >= 0)
			close(fd);
		return fd >= 0 || fd != -ENOENT ? -ENODATA : -ENOENT;
	}
	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &key, out))
		err = -errno;
	out->version[sizeof(out->version) - 1] = 0;
	close(fd);
	return err;
}

void pinned_layout_describe(int rc, const struct xdnat_layout *l, char *buf, size_t len)
{
	if (rc == -ENODATA)
		snprintf(buf, len, "layout 1 (an xdnatd before layout records)");
	else if (rc)
		snprintf(buf, len, "no layout record (%s)", strerror(-rc));
	else if (!l->layout)
		snprintf(buf, len, "an unwritten layout record");
	else
		snprintf(buf, len, "layout %u (xdnatd %s)", l->layout,
			 l->version[0] ? l->version : "unknown");
}
