/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Whole lines in generated text (configuration files), for CMocka tests.
 * Include after <cmocka.h>. */
#ifndef XDNAT_TEST_LINES_H
#define XDNAT_TEST_LINES_H

#include <stdbool.h>
#include <string.h>

/* Is line (without its newline) one whole line of text? With trim, the
 * line's leading tabs and blanks are ignored (nesting depth does not count). */
static inline bool text_has_line(const char *text, const char *line, bool trim)
{
	size_t n = strlen(line);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		while (trim && (*p == '\t' || *p == ' '))
			p++;
		if (!strncmp(p, line, n) && (p[n] == '\n' || p[n] == 0))
			return true;
	}
	return false;
}

#define assert_line_in(text, line, trim) do {					\
	if (!text_has_line((text), (line), (trim)))				\
		fail_msg("no line \"%s\" in:\n%s", (line), (text));		\
} while (0)
#define assert_line(text, line)		assert_line_in(text, line, false)
#define assert_line_trimmed(text, line)	assert_line_in(text, line, true)
#define assert_no_line(text, line) do {						\
	if (text_has_line((text), (line), false))				\
		fail_msg("unexpected line \"%s\" in:\n%s", (line), (text));	\
} while (0)

#endif
