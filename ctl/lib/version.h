/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The release, from one place: the top-level VERSION file, and in a git
 * checkout the commit (`git describe`); the Makefile passes it to
 * version.c alone as -DXDNAT_VERSION. Every program's --version, the JSON
 * documents' "version" key and the pinned maps' layout record show it.
 */
#ifndef XDNAT_LIB_VERSION_H
#define XDNAT_LIB_VERSION_H

#include <stdio.h>

extern const char xdnat_version[];

/* "PROG (xdnat) VERSION" and a newline, as --version prints it. */
void version_print(FILE *out, const char *prog);

#endif
