/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Aligned text tables (table.h). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/table.h"

struct table {
	unsigned int ncols;
	size_t n, cap;
	char **cells;
};

struct table *table_new(unsigned int ncols)
{
	struct table *t;

	if (!ncols || ncols > TABLE_MAX_COLS)
		return NULL;
	t = calloc(1, sizeof(*t));

	if (t)
		t->ncols = ncols;
	return t;
}

void table_add(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (!t)
		return;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		char **c = realloc(t->cells, cap * sizeof(*c));

		if (!c)
			return;
		t->cells = c;
		t->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	t->cells[t->n++] = s;
}

void table_print(struct table *t, FILE *out)
{
	size_t width[TABLE_MAX_COLS] = { 0 };

	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		size_t l = t->cells[i] ? strlen(t->cells[i]) : 0;

		if (l > width[i % t->ncols])
			width[i % t->ncols] = l;
	}
	for (size_t i = 0; i < t->n; i++) {
		unsigned int col = (unsigned int)(i % t->ncols);
		bool last = col == t->ncols - 1;

		const char *c = t->cells[i] ? t->cells[i] : "";

		if (last)
			fprintf(out, "%s\n", c);
		else
			fprintf(out, "%-*s  ", (int)width[col], c);
		free(t->cells[i]);
	}
	free(t->cells);
	free(t);
}
