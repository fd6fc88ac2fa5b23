/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include "lib/log.h"

static const char *log_ident = "xdnat";
static enum log_level log_level = LOG_LVL_INFO;
static int log_to_syslog;

static const char *const level_names[] = { "error", "warning", "info", "debug" };

void log_setup(const char *ident, enum log_level level, int use_syslog)
{
	log_ident = ident;
	log_level = level;
	log_to_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

int log_parse_level(const char *s)
{
	for (unsigned int i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (!strcmp(s, level_names[i]))
			return (int)i;
	if (!strcmp(s, "warn") || !strcmp(s, "err"))
		return s[0] == 'w' ? LOG_LVL_WARN : LOG_LVL_ERR;
	return -EINVAL;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	if (log_to_syslog) {
		vsyslog(prio[level], fmt, ap);
	} else {
		fprintf(stderr, "%s: %s: ", log_ident, level_names[level]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
