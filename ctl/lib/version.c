/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The release (version.h). */
#include "lib/version.h"

#ifndef XDNAT_VERSION
#define XDNAT_VERSION "unknown"	/* built without the Makefile (the fuzzers) */
#endif

const char xdnat_version[] = XDNAT_VERSION;

void version_print(FILE *out, const char *prog)
{
	fprintf(out, "%s (xdnat) %s\n", prog, xdnat_version);
}
