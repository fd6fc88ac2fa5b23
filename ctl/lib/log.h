/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Levelled logging to stderr, or to syslog once the daemon detaches. When
 * stderr is the journal's stream (JOURNAL_STREAM), each line starts with
 * its syslog priority, "<3>" for an error, so `journalctl -p err` finds it.
 */
#ifndef XDNAT_LOG_H
#define XDNAT_LOG_H

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_setup(const char *ident, enum log_level level, int use_syslog);
void log_set_level(enum log_level level);
/* 1 when fd 2 is the stream JOURNAL_STREAM names (log_setup() asks). */
int log_stderr_is_journal(void);
int log_parse_level(const char *s);	/* -EINVAL or the level */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)	log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
