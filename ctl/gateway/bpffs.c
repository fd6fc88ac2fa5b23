/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include "lib/atomic_file.h"
#include "gateway/bpffs.h"
#include "lib/log.h"

static int on_bpffs(const char *path)
{
	struct statfs st;

	if (statfs(path, &st))
		return -errno;
	return st.f_type == BPF_FS_MAGIC;
}

static int mount_bpffs(const char *path)
{
	if (mount("bpffs", path, "bpf", 0, "mode=0700"))
		return -errno;
	log_info("mounted a BPF filesystem on %s", path);
	return 0;
}

int bpffs_prepare(const char *dir)
{
	int rc;

	/* The conventional place: mount the filesystem at /sys/fs/bpf itself. */
	if (!strncmp(dir, "/sys/fs/bpf/", 12) && on_bpffs("/sys/fs/bpf") == 0) {
		rc = mount_bpffs("/sys/fs/bpf");
		if (rc)
			return rc;
	}
	rc = mkdir_p(dir, 0700);
	if (rc)
		return rc;
	rc = on_bpffs(dir);
	if (rc < 0)
		return rc;
	return rc ? 0 : mount_bpffs(dir);
}
