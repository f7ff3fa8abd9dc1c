/*
 * kruispunt - kruispunt.conf(5): an INI file read with libinih into one struct.
 *
 * Every key is described once, in conf_keys[] below: its section, type,
 * range and default. Defaults go through the same parser as the file, so a
 * default can never be a value the file could not hold. Errors are collected,
 * not fatal: the caller gets one "FILE:LINE: section.key: what is wrong" line
 * per problem, which is what `kruispuntd -n` prints.
 *
 * Line numbers: libinih's handler is not told the line, so the file is fed to
 * ini_parse_stream() through our own reader, which counts the lines it hands
 * out (and refuses over-long lines instead of letting libinih split them).
 *
 * Relative paths in the file are taken relative to the directory of the file.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "enterprise.h"
#include "log.h"
#include "xmalloc.h"

#ifndef KP_DEFAULT_CONF
#define KP_DEFAULT_CONF "/etc/kruispunt/kruispunt.conf"
#endif

enum conf_type {
	T_STRING,	/* any non-empty text */
	T_SECRET,	/* like T_STRING, never printed */
	T_FILE,		/* an existing, readable regular file */
	T_NEWFILE,	/* a file to write: its directory must exist */
	T_INT,		/* an integer in [min, max] */
	T_PORT,		/* a TCP port */
	T_SIZE,		/* bytes, with an optional k, M or G suffix */
	T_DURATION,	/* milliseconds: N (seconds), Nms, Ns, Nm, Nh */
	T_BOOL,		/* yes/no, true/false, on/off, 1/0 */
	T_LEVEL,	/* a log level */
	T_CLIENT_AUTH,	/* none, optional, require */
	T_ADDRESS,	/* a numeric IPv4 or IPv6 address */
	T_URL,		/* http:// or https:// URL */
	T_NAME,		/* a node name: letters, digits, '.', '_', '-' */
	T_ENTERPRISE,	/* a 10-digit enterprise number */
};

#define K_REQUIRED	0x01

struct conf_key {
	const char	*section;
	unsigned	 mask;
	const char	*name;
	enum conf_type	 type;
	size_t		 offset;
	long		 min;
	long		 max;
	const char	*def;
	unsigned	 flags;
};

#define O(f)	offsetof(struct kp_config, f)
#define KB	1024L
#define MS	1L
#define SEC	1000L

static const struct conf_key conf_keys[] = {
	{ "hub", CONF_HUB, "node", T_NAME, O(hub_node), 0, 0, "", 0 },
	{ "hub", CONF_HUB, "listen", T_ADDRESS, O(hub_listen), 0, 0, "127.0.0.1", 0 },
	{ "hub", CONF_HUB, "port", T_PORT, O(hub_port), 1, 65535, "8443", 0 },
	{ "hub", CONF_HUB, "public_url", T_URL, O(hub_public_url), 0, 0, "", 0 },
	{ "hub", CONF_HUB, "workers", T_INT, O(hub_workers), 1, 1024, "32", 0 },
	{ "hub", CONF_HUB, "max_connections", T_INT, O(hub_max_connections), 1, 100000, "256", 0 },
	{ "hub", CONF_HUB, "pid_file", T_NEWFILE, O(hub_pid_file), 0, 0, "", 0 },
	{ "hub", CONF_HUB, "checkpoint_records", T_INT, O(hub_checkpoint_records), 1, 10000000, "1000", 0 },
	{ "hub", CONF_HUB, "checkpoint_interval", T_DURATION, O(hub_checkpoint_interval), 1 * SEC, 86400 * SEC, "60s", 0 },

	{ "tls", CONF_TLS, "enabled", T_BOOL, O(tls_enabled), 0, 0, "yes", 0 },
	{ "tls", CONF_TLS, "certificate", T_FILE, O(tls_certificate), 0, 0, "", 0 },
	{ "tls", CONF_TLS, "key", T_FILE, O(tls_key), 0, 0, "", 0 },
	{ "tls", CONF_TLS, "client_auth", T_CLIENT_AUTH, O(tls_client_auth), 0, 0, "none", 0 },
	{ "tls", CONF_TLS, "client_ca", T_FILE, O(tls_client_ca), 0, 0, "", 0 },

	{ "signing", CONF_SIGNING, "key", T_FILE, O(signing_key), 0, 0, "", K_REQUIRED },
	{ "signing", CONF_SIGNING, "certificate", T_FILE, O(signing_certificate), 0, 0, "", K_REQUIRED },

	{ "trust", CONF_TRUST, "ca_file", T_FILE, O(trust_ca_file), 0, 0, "", K_REQUIRED },
	{ "trust", CONF_TRUST, "crl_file", T_FILE, O(trust_crl_file), 0, 0, "", 0 },

	{ "limits", CONF_LIMITS, "max_message_size", T_SIZE, O(max_message_size), 1 * KB, 64 * KB * KB, "1M", 0 },
	{ "limits", CONF_LIMITS, "max_depth", T_INT, O(max_depth), 16, 4096, "256", 0 },
	{ "limits", CONF_LIMITS, "max_attributes", T_INT, O(max_attributes), 8, 10000, "64", 0 },
	{ "limits", CONF_LIMITS, "clock_skew", T_DURATION, O(clock_skew), 0, 3600 * SEC, "300s", 0 },
	{ "limits", CONF_LIMITS, "max_message_age", T_DURATION, O(max_message_age), 1 * SEC, 86400 * SEC, "600s", 0 },
	{ "limits", CONF_LIMITS, "read_timeout", T_DURATION, O(read_timeout), 100 * MS, 600 * SEC, "10s", 0 },
	{ "limits", CONF_LIMITS, "send_timeout", T_DURATION, O(send_timeout), 100 * MS, 600 * SEC, "10s", 0 },
	{ "limits", CONF_LIMITS, "connect_timeout", T_DURATION, O(connect_timeout), 100 * MS, 600 * SEC, "3s", 0 },
	{ "limits", CONF_LIMITS, "target_timeout", T_DURATION, O(target_timeout), 100 * MS, 600 * SEC, "5s", 0 },

	{ "database", CONF_DATABASE, "socket", T_STRING, O(db_socket), 0, 0, "", 0 },
	{ "database", CONF_DATABASE, "host", T_STRING, O(db_host), 0, 0, "localhost", 0 },
	{ "database", CONF_DATABASE, "port", T_PORT, O(db_port), 1, 65535, "3306", 0 },
	{ "database", CONF_DATABASE, "user", T_STRING, O(db_user), 0, 0, "kruispunt", 0 },
	{ "database", CONF_DATABASE, "password", T_SECRET, O(db_password), 0, 0, "", 0 },
	{ "database", CONF_DATABASE, "password_file", T_FILE, O(db_password_file), 0, 0, "", 0 },
	{ "database", CONF_DATABASE, "name", T_NAME, O(db_name), 0, 0, "kruispunt", 0 },
	{ "database", CONF_DATABASE, "connect_timeout", T_DURATION, O(db_connect_timeout), 1 * SEC, 600 * SEC, "5s", 0 },
	{ "database", CONF_DATABASE, "start_wait", T_DURATION, O(db_start_wait), 0, 3600 * SEC, "30s", 0 },
	{ "database", CONF_DATABASE, "directory_cache", T_DURATION, O(db_directory_cache), 0, 3600 * SEC, "2s", 0 },

	{ "log", CONF_LOG, "level", T_LEVEL, O(log_level), 0, 0, "info", 0 },
	{ "log", CONF_LOG, "debug", T_STRING, O(log_debug), 0, 0, "", 0 },

	{ "notify", CONF_NOTIFY, "workers", T_INT, O(notify_workers), 0, 64, "2", 0 },
	{ "notify", CONF_NOTIFY, "max_attempts", T_INT, O(notify_max_attempts), 1, 1000, "12", 0 },
	{ "notify", CONF_NOTIFY, "backoff_min", T_DURATION, O(notify_backoff_min), 10 * MS, 3600 * SEC, "1s", 0 },
	{ "notify", CONF_NOTIFY, "backoff_max", T_DURATION, O(notify_backoff_max), 10 * MS, 86400 * SEC, "10m", 0 },
	{ "notify", CONF_NOTIFY, "lease", T_DURATION, O(notify_lease), 1 * SEC, 3600 * SEC, "60s", 0 },
	{ "notify", CONF_NOTIFY, "batch", T_INT, O(notify_batch), 1, 256, "64", 0 },
	{ "notify", CONF_NOTIFY, "lanes", T_INT, O(notify_lanes), 1, 16, "4", 0 },

	{ "stats", CONF_STATS, "threshold", T_INT, O(stats_threshold), 1, 1000000, "10", 0 },

	{ "institution", CONF_INSTITUTION, "id", T_ENTERPRISE, O(inst_id), 0, 0, "", K_REQUIRED },
	{ "institution", CONF_INSTITUTION, "listen", T_ADDRESS, O(inst_listen), 0, 0, "127.0.0.1", 0 },
	{ "institution", CONF_INSTITUTION, "port", T_PORT, O(inst_port), 1, 65535, "", K_REQUIRED },
	{ "institution", CONF_INSTITUTION, "data", T_FILE, O(inst_data), 0, 0, "", K_REQUIRED },
	{ "institution", CONF_INSTITUTION, "mutation_log", T_NEWFILE, O(inst_mutation_log), 0, 0, "", 0 },
	{ "institution", CONF_INSTITUTION, "key", T_FILE, O(inst_key), 0, 0, "", K_REQUIRED },
	{ "institution", CONF_INSTITUTION, "certificate", T_FILE, O(inst_certificate), 0, 0, "", K_REQUIRED },
	{ "institution", CONF_INSTITUTION, "ca_file", T_FILE, O(inst_ca_file), 0, 0, "", K_REQUIRED },
	{ "institution", CONF_INSTITUTION, "hub_certificate", T_FILE, O(inst_hub_certificate), 0, 0, "", 0 },
};

#define NKEYS	(sizeof(conf_keys) / sizeof(conf_keys[0]))

/* The longest line accepted; libinih's own buffer limit. */
#define CONF_LINE_MAX	200

struct conf_state {
	struct kp_config *cf;
	const char	*path;
	char		*dir;
	FILE		*fp;
	FILE		*errfp;
	int		 nerrors;
	int		 line;
	int		 seen[NKEYS];	/* line where the key was set */
};

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

static void conf_error(struct conf_state *, int, const char *, const char *,
    const char *, ...) __attribute__((format(printf, 5, 6)));

/* Report one problem as "FILE:LINE: section.key: message". */
static void
conf_error(struct conf_state *st, int line, const char *section,
    const char *key, const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	st->nerrors++;
	if (st->errfp == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		fprintf(st->errfp, "%s:%d: ", st->path, line);
	else
		fprintf(st->errfp, "%s: ", st->path);
	if (section != NULL && key != NULL)
		fprintf(st->errfp, "%s%s%s: ", section, *section ? "." : "", key);
	fprintf(st->errfp, "%s\n", msg);
}

/* ------------------------------------------------------------------ */
/* Value parsers                                                       */
/* ------------------------------------------------------------------ */

static int
conf_parse_long(const char *s, long *out, const char **rest)
{
	char	*end;
	long	 v;

	if (*s == '\0' || *s == '+' || *s == ' ' || *s == '\t')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	*out = v;
	*rest = end;
	return 0;
}

/* Bytes with an optional binary suffix: 512, 64k, 1M, 1G. */
static int
conf_parse_size(const char *s, long *out)
{
	const char	*rest;
	long		 v, mult = 1;

	if (conf_parse_long(s, &v, &rest) == -1 || v < 0)
		return -1;
	if (strcmp(rest, "") == 0)
		mult = 1;
	else if (strcmp(rest, "k") == 0 || strcmp(rest, "K") == 0)
		mult = 1024L;
	else if (strcmp(rest, "M") == 0)
		mult = 1024L * 1024;
	else if (strcmp(rest, "G") == 0)
		mult = 1024L * 1024 * 1024;
	else
		return -1;
	if (v > LONG_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

/* A duration in milliseconds: 30 (seconds), 250ms, 30s, 5m, 1h. */
static int
conf_parse_duration(const char *s, long *out)
{
	const char	*rest;
	long		 v, mult;

	if (conf_parse_long(s, &v, &rest) == -1 || v < 0)
		return -1;
	if (strcmp(rest, "") == 0 || strcmp(rest, "s") == 0)
		mult = 1000;
	else if (strcmp(rest, "ms") == 0)
		mult = 1;
	else if (strcmp(rest, "m") == 0)
		mult = 60 * 1000L;
	else if (strcmp(rest, "h") == 0)
		mult = 3600 * 1000L;
	else
		return -1;
	if (v > LONG_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

static int
conf_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t	i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static int
conf_valid_name(const char *s)
{
	size_t	n = strlen(s), i;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* A path from the file, made absolute against the file's directory. */
static char *
conf_resolve(struct conf_state *st, const char *value)
{
	char	*p;

	if (value[0] == '/' || st->dir == NULL)
		return xstrdup(value);
	xasprintf(&p, "%s/%s", st->dir, value);
	return p;
}

static int
conf_check_readable(struct conf_state *st, int line, const struct conf_key *k,
    const char *path)
{
	struct stat	sb;

	if (stat(path, &sb) == -1 || access(path, R_OK) == -1) {
		conf_error(st, line, k->section, k->name, "cannot read %s: %s",
		    path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		conf_error(st, line, k->section, k->name,
		    "%s is not a regular file", path);
		return -1;
	}
	return 0;
}

static int
conf_check_writable_dir(struct conf_state *st, int line,
    const struct conf_key *k, const char *path)
{
	char		*dir, *slash;
	struct stat	 sb;
	int		 rc = 0;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else {
		free(dir);
		dir = xstrdup(".");
	}
	if (stat(dir, &sb) == -1 || !S_ISDIR(sb.st_mode) ||
	    access(dir, W_OK) == -1) {
		conf_error(st, line, k->section, k->name,
		    "directory %s does not exist or is not writable", dir);
		rc = -1;
	}
	free(dir);
	return rc;
}

static void
conf_store_string(struct kp_config *cf, const struct conf_key *k, char *v)
{
	char	**slot = (char **)(void *)((char *)cf + k->offset);

	if (k->type == T_SECRET)
		freezero_str(*slot);
	else
		free(*slot);
	*slot = v;
}

static void
conf_store_int(struct kp_config *cf, const struct conf_key *k, long v)
{
	if (k->type == T_SIZE)
		*(long *)(void *)((char *)cf + k->offset) = v;
	else
		*(int *)(void *)((char *)cf + k->offset) = (int)v;
}

/*
 * Parse value for key k and store it. check says whether file system checks
 * apply (the key's section is needed by the program). Returns 0 or -1.
 */
static int
conf_set(struct conf_state *st, const struct conf_key *k, const char *value,
    int line, int check)
{
	struct kp_config *cf = st->cf;
	long		  v = 0;
	bool		  b;
	unsigned char	  addr[16];
	char		 *path;

	if (*value == '\0') {
		/* An empty value means "not set", which only strings allow. */
		switch (k->type) {
		case T_STRING:
		case T_SECRET:
		case T_FILE:
		case T_NEWFILE:
		case T_URL:
		case T_NAME:
		case T_ENTERPRISE:
			conf_store_string(cf, k, NULL);
			return 0;
		default:
			if (line == 0)
				return 0;	/* no default: stays 0 */
			conf_error(st, line, k->section, k->name, "empty value");
			return -1;
		}
	}

	switch (k->type) {
	case T_STRING:
	case T_SECRET:
		conf_store_string(cf, k, xstrdup(value));
		return 0;
	case T_FILE:
	case T_NEWFILE:
		path = conf_resolve(st, value);
		if (check && line > 0 && ((k->type == T_FILE &&
		    conf_check_readable(st, line, k, path) == -1) ||
		    (k->type == T_NEWFILE &&
		    conf_check_writable_dir(st, line, k, path) == -1))) {
			free(path);
			return -1;
		}
		conf_store_string(cf, k, path);
		return 0;
	case T_INT:
	case T_PORT: {
		const char *rest;
		if (conf_parse_long(value, &v, &rest) == -1 || *rest != '\0') {
			conf_error(st, line, k->section, k->name,
			    "'%s' is not a whole number", value);
			return -1;
		}
		break;
	}
	case T_SIZE:
		if (conf_parse_size(value, &v) == -1) {
			conf_error(st, line, k->section, k->name,
			    "'%s' is not a size (bytes, or a number with k, M "
			    "or G)", value);
			return -1;
		}
		break;
	case T_DURATION:
		if (conf_parse_duration(value, &v) == -1) {
			conf_error(st, line, k->section, k->name,
			    "'%s' is not a duration (seconds, or a number with "
			    "ms, s, m or h)", value);
			return -1;
		}
		break;
	case T_BOOL:
		if (conf_parse_bool(value, &b) == -1) {
			conf_error(st, line, k->section, k->name,
			    "'%s' is not yes or no", value);
			return -1;
		}
		*(bool *)(void *)((char *)cf + k->offset) = b;
		return 0;
	case T_LEVEL: {
		enum log_level lv;
		if (log_level_parse(value, &lv) == -1) {
			conf_error(st, line, k->section, k->name,
			    "'%s' is not one of error, warning, info, debug",
			    value);
			return -1;
		}
		conf_store_int(cf, k, (long)lv);
		return 0;
	}
	case T_CLIENT_AUTH:
		if (strcmp(value, "none") == 0)
			v = CLIENT_AUTH_NONE;
		else if (strcmp(value, "optional") == 0)
			v = CLIENT_AUTH_OPTIONAL;
		else if (strcmp(value, "require") == 0)
			v = CLIENT_AUTH_REQUIRE;
		else {
			conf_error(st, line, k->section, k->name,
			    "'%s' is not one of none, optional, require", value);
			return -1;
		}
		conf_store_int(cf, k, v);
		return 0;
	case T_ADDRESS:
		if (inet_pton(AF_INET, value, addr) != 1 &&
		    inet_pton(AF_INET6, value, addr) != 1) {
			conf_error(st, line, k->section, k->name,
			    "'%s' is not a numeric IPv4 or IPv6 address", value);
			return -1;
		}
		conf_store_string(cf, k, xstrdup(value));
		return 0;
	case T_URL:
		if ((strncmp(value, "http://", 7) != 0 &&
		    strncmp(value, "https://", 8) != 0) ||
		    strpbrk(value, " \t\"'<>") != NULL) {
			conf_error(st, line, k->section, k->name,
			    "'%s' is not an http:// or https:// URL", value);
			return -1;
		}
		conf_store_string(cf, k, xstrdup(value));
		return 0;
	case T_NAME:
		if (!conf_valid_name(value)) {
			conf_error(st, line, k->section, k->name,
			    "'%s' must be 1-64 letters, digits, '.', '_' or '-'",
			    value);
			return -1;
		}
		conf_store_string(cf, k, xstrdup(value));
		return 0;
	case T_ENTERPRISE:
		if (!enterprise_number_valid(value)) {
			conf_error(st, line, k->section, k->name,
			    "'%s' is not a valid 10-digit enterprise number", value);
			return -1;
		}
		conf_store_string(cf, k, xstrdup(value));
		return 0;
	}

	/* Numeric types end here with v parsed. */
	if (v < k->min || v > k->max) {
		if (k->type == T_DURATION)
			conf_error(st, line, k->section, k->name,
			    "'%s' is out of range (%ldms to %lds)", value,
			    k->min, k->max / 1000);
		else
			conf_error(st, line, k->section, k->name,
			    "'%s' is out of range (%ld to %ld)", value, k->min,
			    k->max);
		return -1;
	}
	conf_store_int(cf, k, v);
	return 0;
}

/* ------------------------------------------------------------------ */
/* libinih glue                                                        */
/* ------------------------------------------------------------------ */

/* Reader for ini_parse_stream: one line per call, counted. */
static char *
conf_reader(char *buf, int size, void *arg)
{
	struct conf_state *st = arg;
	size_t		   len;
	int		   c;

	if (fgets(buf, size, st->fp) == NULL)
		return NULL;
	st->line++;
	len = strlen(buf);
	if (len > 0 && buf[len - 1] != '\n' && !feof(st->fp)) {
		/* Longer than libinih's buffer: refuse it whole. */
		while ((c = fgetc(st->fp)) != EOF && c != '\n')
			;
		conf_error(st, st->line, NULL, NULL,
		    "line longer than %d characters", size - 1);
		buf[0] = '\0';
	}
	return buf;
}

static int
conf_known_section(const char *section)
{
	size_t	i;

	for (i = 0; i < NKEYS; i++) {
		if (strcmp(conf_keys[i].section, section) == 0)
			return 1;
	}
	return 0;
}

/* libinih handler: one key = value. Always returns 1 to go on. */
static int
conf_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct conf_state *st = arg;
	size_t		   i;

	if (*section == '\0') {
		conf_error(st, st->line, "", name, "key outside any [section]");
		return 1;
	}
	for (i = 0; i < NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];
		if (strcmp(k->section, section) != 0 ||
		    strcmp(k->name, name) != 0)
			continue;
		if (st->seen[i] != 0) {
			conf_error(st, st->line, section, name,
			    "given twice (first on line %d)", st->seen[i]);
			return 1;
		}
		st->seen[i] = st->line;
		/* Keys of sections this program does not need are kept
		 * but not checked against the file system. */
		conf_set(st, k, value, st->line, (k->mask & st->cf->sections) != 0);
		return 1;
	}
	if (conf_known_section(section))
		conf_error(st, st->line, section, name, "unknown key");
	else
		conf_error(st, st->line, section, name,
		    "unknown section [%s]", section);
	return 1;
}

/* ------------------------------------------------------------------ */
/* Checks across keys                                                  */
/* ------------------------------------------------------------------ */

static int
conf_line_of(struct conf_state *st, const char *section, const char *name)
{
	size_t	i;

	for (i = 0; i < NKEYS; i++) {
		if (strcmp(conf_keys[i].section, section) == 0 &&
		    strcmp(conf_keys[i].name, name) == 0)
			return st->seen[i];
	}
	return 0;
}

static int
conf_read_password_file(struct conf_state *st)
{
	struct kp_config *cf = st->cf;
	FILE		 *fp;
	char		  buf[256];
	size_t		  len;
	int		  line = conf_line_of(st, "database", "password_file");

	if ((fp = fopen(cf->db_password_file, "r")) == NULL) {
		conf_error(st, line, "database", "password_file",
		    "cannot read %s: %s", cf->db_password_file, strerror(errno));
		return -1;
	}
	if (fgets(buf, sizeof(buf), fp) == NULL)
		buf[0] = '\0';
	fclose(fp);
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	freezero_str(cf->db_password);
	cf->db_password = xstrdup(buf);
	memset(buf, 0, sizeof(buf));
	return 0;
}

static void
conf_check(struct conf_state *st)
{
	struct kp_config *cf = st->cf;
	unsigned	  need = cf->sections;
	char		  host[256];
	size_t		  i;

	for (i = 0; i < NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];
		const void *slot = (const char *)cf + k->offset;
		int unset;

		/* a key given with a bad value was reported already */
		if (!(k->flags & K_REQUIRED) || !(k->mask & need) ||
		    st->seen[i] != 0)
			continue;
		if (k->type == T_PORT || k->type == T_INT)
			unset = *(const int *)slot == 0;
		else
			unset = *(char *const *)slot == NULL;
		if (unset)
			conf_error(st, 0, k->section, k->name,
			    "required but not set");
	}

	if ((need & CONF_HUB) && cf->hub_node == NULL) {
		if (gethostname(host, sizeof(host)) == -1 ||
		    !conf_valid_name(host))
			snprintf(host, sizeof(host), "hub");
		host[strcspn(host, ".")] = '\0';
		cf->hub_node = xstrdup(host);
	}
	if ((need & CONF_TLS) && cf->tls_enabled) {
		if (cf->tls_certificate == NULL)
			conf_error(st, 0, "tls", "certificate",
			    "required when tls.enabled is yes");
		if (cf->tls_key == NULL)
			conf_error(st, 0, "tls", "key",
			    "required when tls.enabled is yes");
	}
	if ((need & CONF_TLS) && cf->tls_client_auth != CLIENT_AUTH_NONE) {
		if (!cf->tls_enabled)
			conf_error(st, conf_line_of(st, "tls", "client_auth"),
			    "tls", "client_auth", "needs tls.enabled = yes");
		if (cf->tls_client_ca == NULL && cf->trust_ca_file != NULL)
			cf->tls_client_ca = xstrdup(cf->trust_ca_file);
	}
	if (need & CONF_DATABASE) {
		if (cf->db_password != NULL && cf->db_password_file != NULL)
			conf_error(st, conf_line_of(st, "database",
			    "password_file"), "database", "password_file",
			    "give password or password_file, not both");
		else if (cf->db_password_file != NULL)
			conf_read_password_file(st);
	}
}

/* ------------------------------------------------------------------ */
/* Public interface                                                    */
/* ------------------------------------------------------------------ */

/* The configuration file to read when no -c is given. */
const char *
config_default_path(void)
{
	const char	*env = getenv("KRUISPUNT_CONF");

	if (env != NULL && *env != '\0')
		return env;
	return KP_DEFAULT_CONF;
}

static struct kp_config *
conf_new(struct conf_state *st, unsigned sections)
{
	struct kp_config *cf;
	size_t		  i;

	cf = xcalloc(1, sizeof(*cf));
	cf->sections = sections;
	st->cf = cf;
	for (i = 0; i < NKEYS; i++) {
		if (conf_set(st, &conf_keys[i], conf_keys[i].def, 0, 0) == -1)
			fatalx("config: bad default for %s.%s",
			    conf_keys[i].section, conf_keys[i].name);
	}
	return cf;
}

/* A configuration with every default and no file behind it. */
struct kp_config *
config_defaults(unsigned sections)
{
	struct conf_state st;

	memset(&st, 0, sizeof(st));
	st.path = "(defaults)";
	return conf_new(&st, sections);
}

/*
 * Read path for a program that needs the given sections. Problems are
 * printed to errfp (may be NULL) and counted in *nerrors; the result is NULL
 * when there was any.
 */
struct kp_config *
config_load(const char *path, unsigned sections, FILE *errfp, int *nerrors)
{
	struct conf_state st;
	struct kp_config *cf;
	char		 *slash;
	int		  rc;

	memset(&st, 0, sizeof(st));
	st.path = path;
	st.errfp = errfp;
	cf = conf_new(&st, sections);
	cf->path = xstrdup(path);

	if ((st.fp = fopen(path, "r")) == NULL) {
		conf_error(&st, 0, NULL, NULL, "cannot open: %s",
		    strerror(errno));
		goto done;
	}
	st.dir = xstrdup(path);
	if ((slash = strrchr(st.dir, '/')) != NULL)
		*(slash == st.dir ? slash + 1 : slash) = '\0';
	else {
		free(st.dir);
		st.dir = NULL;
	}

	rc = ini_parse_stream(conf_reader, &st, conf_handler, &st);
	fclose(st.fp);
	if (rc > 0)
		conf_error(&st, rc, NULL, NULL,
		    "syntax error (expected [section], key = value, or a "
		    "comment starting with ; or #)");
	else if (rc < 0)
		conf_error(&st, 0, NULL, NULL, "cannot parse (out of memory)");
	else
		conf_check(&st);

done:
	free(st.dir);
	if (nerrors != NULL)
		*nerrors = st.nerrors;
	if (st.nerrors > 0) {
		config_free(cf);
		return NULL;
	}
	return cf;
}

/* Free a configuration; secrets are wiped first. */
void
config_free(struct kp_config *cf)
{
	size_t	i;

	if (cf == NULL)
		return;
	for (i = 0; i < NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];
		switch (k->type) {
		case T_STRING:
		case T_SECRET:
		case T_FILE:
		case T_NEWFILE:
		case T_ADDRESS:
		case T_URL:
		case T_NAME:
		case T_ENTERPRISE:
			conf_store_string(cf, k, NULL);
			break;
		default:
			break;
		}
	}
	free(cf->path);
	free(cf);
}
