/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <sys/stat.h>
#include "lib/log.h"

static const char *log_ident = "xdnat";
static enum log_level log_level = LOG_LVL_INFO;
static int log_to_syslog;
static int log_to_journal;	/* stderr is journald's stream: "<N>" prefixes */

static const char *const level_names[] = { "error", "warning", "info", "debug" };

/*
 * systemd sets JOURNAL_STREAM to "DEV:INO" of the stream it connected to
 * stderr; a redirection since then leaves a different file on fd 2. Only
 * when they match does journald read a "<N>" prefix as the line's priority.
 */
int log_stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (!env || sscanf(env, "%llu:%llu%c", &dev, &ino, &end) != 2)
		return 0;
	if (fstat(2, &st))
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_setup(const char *ident, enum log_level level, int use_syslog)
{
	log_ident = ident;
	log_level = level;
	log_to_syslog = use_syslog;
	log_to_journal = !use_syslog && log_stderr_is_journal();
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
		if (log_to_journal)
			fprintf(stderr, "<%d>", prio[level]);
		fprintf(stderr, "%s: %s: ", log_ident, level_names[level]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
