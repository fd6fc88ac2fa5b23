/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A text table for the command-line views: add cells row by row, then print
 * them with aligned columns (two blanks between columns, the last one
 * unpadded). Used by xdnatctl's views and `xdnat-host status`.
 */
#ifndef XDNAT_LIB_TABLE_H
#define XDNAT_LIB_TABLE_H

#include <stdio.h>

struct table;
/* At most TABLE_MAX_COLS columns. NULL when out of memory (then every call
 * below does nothing). */
#define TABLE_MAX_COLS	16
struct table *table_new(unsigned int ncols);
void table_add(struct table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void table_print(struct table *t, FILE *out);	/* also frees t */

#endif
