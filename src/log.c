/*
 * kruispunt - logging: syslog when daemonised, stderr in the foreground.
 *
 * One event is one line: messages are key=value text, and any control
 * character a sender managed to put into a logged value is escaped, so a
 * forged newline cannot fake a second event. Payloads, keys and passwords are
 * never passed here (the callers' rule; see DESIGN.md).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	4096

static const char	*log_ident = "kruispunt";
static int		 log_foreground = 1;
static enum log_level	 log_level = LOG_LEVEL_INFO;
static char		 log_debug_list[256];
static FILE		*log_stream;

/* Start logging: to stderr when in the foreground, to syslog otherwise. */
void
log_init(const char *ident, int foreground, enum log_level level)
{
	log_ident = ident;
	log_foreground = foreground;
	log_level = level;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	tzset();
}

/* Change the level after start-up (from the configuration). */
void
log_set_level(enum log_level level)
{
	log_level = level;
}

/* The level in force. */
enum log_level
log_get_level(void)
{
	return log_level;
}

/* Send foreground output to another stream (tests). NULL means stderr. */
void
log_set_stream(FILE *fp)
{
	log_stream = fp;
}

/* Limit debug output to a comma-separated list of subsystems, or "all". */
void
log_set_debug(const char *subsystems)
{
	snprintf(log_debug_list, sizeof(log_debug_list), "%s",
	    subsystems == NULL ? "" : subsystems);
}

static const char *const log_level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

/* Parse a level name; 0 on success, -1 if unknown. */
int
log_level_parse(const char *s, enum log_level *out)
{
	size_t	i;

	for (i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]); i++) {
		if (strcmp(s, log_level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

/* The name of a level. */
const char *
log_level_name(enum log_level level)
{
	if ((size_t)level >= sizeof(log_level_names) / sizeof(log_level_names[0]))
		return "?";
	return log_level_names[level];
}

/*
 * Copy src into dst escaping control characters and backslashes, so that the
 * result is one printable line. Returns the length written.
 */
size_t
log_sanitize(char *dst, size_t dstlen, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t		  n = 0;
	unsigned char	  c;

	if (dstlen == 0)
		return 0;
	for (; (c = (unsigned char)*src) != '\0'; src++) {
		if (c < 0x20 || c == 0x7f) {
			if (n + 4 >= dstlen)
				break;
			dst[n++] = '\\';
			dst[n++] = 'x';
			dst[n++] = hex[c >> 4];
			dst[n++] = hex[c & 0xf];
		} else {
			if (n + 1 >= dstlen)
				break;
			dst[n++] = (char)c;
		}
	}
	dst[n] = '\0';
	return n;
}

static int
log_debug_enabled(const char *subsystem)
{
	const char	*p = log_debug_list;
	size_t		 len;

	if (log_level < LOG_LEVEL_DEBUG)
		return 0;
	if (*p == '\0' || strcmp(p, "all") == 0 || subsystem == NULL)
		return 1;
	len = strlen(subsystem);
	while ((p = strstr(p, subsystem)) != NULL) {
		if ((p == log_debug_list || p[-1] == ',') &&
		    (p[len] == '\0' || p[len] == ','))
			return 1;
		p += len;
	}
	return 0;
}

static void
log_emit(enum log_level level, const char *subsystem, const char *fmt,
    va_list ap, const char *errtext)
{
	static const int syslog_prio[] = {
		[LOG_LEVEL_ERROR] = LOG_ERR,
		[LOG_LEVEL_WARNING] = LOG_WARNING,
		[LOG_LEVEL_INFO] = LOG_INFO,
		[LOG_LEVEL_DEBUG] = LOG_DEBUG,
	};
	char		 raw[LOG_LINE_MAX], line[LOG_LINE_MAX], stamp[40];
	struct timespec	 ts;
	struct tm	 tm;
	FILE		*fp;
	int		 n;

	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	if (n >= 0 && errtext != NULL && (size_t)n < sizeof(raw))
		snprintf(raw + n, sizeof(raw) - (size_t)n, ": %s", errtext);
	log_sanitize(line, sizeof(line), raw);

	if (!log_foreground) {
		if (subsystem != NULL)
			syslog(syslog_prio[level], "%s: %s", subsystem, line);
		else
			syslog(syslog_prio[level], "%s", line);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fp = log_stream != NULL ? log_stream : stderr;
	fprintf(fp, "%s.%03ldZ %s[%ld] %s: %s%s%s\n", stamp,
	    ts.tv_nsec / 1000000, log_ident, (long)getpid(),
	    log_level_names[level], subsystem != NULL ? subsystem : "",
	    subsystem != NULL ? ": " : "", line);
	fflush(fp);
}

/* A warning with the text of errno. */
void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_WARNING, NULL, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

/* A warning. */
void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_WARNING, NULL, fmt, ap, NULL);
	va_end(ap);
}

/* An event worth recording in normal operation. */
void
log_info(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_LEVEL_INFO)
		return;
	va_start(ap, fmt);
	log_emit(LOG_LEVEL_INFO, NULL, fmt, ap, NULL);
	va_end(ap);
}

/* Debug output of one subsystem (filtered by log_set_debug). */
void
log_debug(const char *subsystem, const char *fmt, ...)
{
	va_list	ap;

	if (!log_debug_enabled(subsystem))
		return;
	va_start(ap, fmt);
	log_emit(LOG_LEVEL_DEBUG, subsystem, fmt, ap, NULL);
	va_end(ap);
}

/* Start-up failure with the text of errno: log and exit. */
void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_ERROR, NULL, fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

/* Start-up failure: log and exit. */
void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_ERROR, NULL, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
