/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Does this kernel do ESP? `xdnat-host strongswan` picks charon's kernel
 * interface from the answer: kernel-netlink (XFRM, plain ESP) or
 * kernel-libipsec (ESP in userspace, always ESP-in-UDP).
 *
 * /proc/net/xfrm_stat exists whenever XFRM does, with or without esp4, so it
 * proves nothing. The probe adds an ESP state (cbc(aes) + hmac(sha256)) in a
 * throwaway network namespace, in a child process: nothing on the host
 * changes and the namespace goes with the child.
 */
#ifndef XDNAT_ESP_PROBE_H
#define XDNAT_ESP_PROBE_H

#include <stddef.h>

/*
 * 1: the kernel does ESP; 0: it does not (the state was refused with
 * EPROTONOSUPPORT or ENOENT: no esp4, or no such algorithm); -errno: the probe
 * itself could not run (err says why; the caller decides, kernel-libipsec
 * works everywhere).
 */
int esp_probe_kernel(char *err, size_t errlen);

#endif
