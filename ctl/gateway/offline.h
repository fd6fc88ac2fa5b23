/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdnatctl without xdnatd (docs/xdnatctl.md): stats, hosts, sa and ports
 * read straight from the maps pinned under --bpffs, which keep forwarding
 * while the daemon is down. Addresses, SPIs and MACs are printed as such,
 * the ports and SPI granules as the ranges each host owns. Only maps of
 * this release's layout (xdnat_layout) are read.
 */
#ifndef XDNAT_OFFLINE_H
#define XDNAT_OFFLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Can the command (its words, --json among them) be answered offline? */
bool offline_supported(int nwords, char **words);
/*
 * Answer it from the pins in bpffs into out; *what gets a description of
 * the pins ("layout 3 (xdnatd 0.1.0)") for the caller's notice. 0, or
 * -errno with err set (-ENOENT: no pins there).
 */
int offline_command(const char *bpffs, int nwords, char **words, FILE *out, char *what,
		    size_t whatlen, char *err, size_t errlen);

#endif
