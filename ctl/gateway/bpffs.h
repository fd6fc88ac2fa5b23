/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Making sure the pin directory is on a BPF filesystem. */
#ifndef XDNAT_BPFFS_H
#define XDNAT_BPFFS_H

/*
 * Create dir and make sure it lies on bpffs. `ip netns exec` remounts /sys, so
 * /sys/fs/bpf is a plain sysfs directory there: then bpffs is mounted on
 * /sys/fs/bpf (for the default path) or on dir itself. Returns 0 or -errno.
 */
int bpffs_prepare(const char *dir);

#endif
