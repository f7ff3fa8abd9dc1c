/*
 * kruispunt tests - the config module (kruispunt.conf).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "config.h"
#include "log.h"
#include "xmalloc.h"

static char	*errors_text;

/* Load content as a configuration for sections; errors go to errors_text. */
static struct kp_config *
load(const char *content, unsigned sections, int *nerr)
{
	struct kp_config *cf;
	char		 *path;
	size_t		  len;
	FILE		 *errfp;

	free(errors_text);
	errors_text = NULL;
	path = test_write_file("test.conf", content);
	errfp = open_memstream(&errors_text, &len);
	cf = config_load(path, sections, errfp, nerr);
	fclose(errfp);
	free(path);
	return cf;
}

/* True when the error text has a line containing all of the given strings. */
static int
has_error(const char *where, const char *what)
{
	char	*line, *copy, *save = NULL;
	int	 found = 0;

	if (errors_text == NULL)
		return 0;
	copy = xstrdup(errors_text);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, where) != NULL && strstr(line, what) != NULL)
			found = 1;
	}
	free(copy);
	if (!found)
		fprintf(stderr, "\n  no error with '%s' and '%s' in:\n%s", where,
		    what, errors_text);
	return found;
}

static int
init(void)
{
	char	*p;

	p = test_write_file("hub.key", "key\n");
	free(p);
	p = test_write_file("hub.crt", "cert\n");
	free(p);
	p = test_write_file("ca.pem", "ca\n");
	free(p);
	p = test_write_file("dbpass", "s3cret;with#odd chars\nsecond line\n");
	free(p);
	return 0;
}

static const char hub_minimal[] =
    "[hub]\n"
    "node = hub-1\n"
    "[tls]\n"
    "enabled = no\n"
    "[signing]\n"
    "key = hub.key\n"
    "certificate = hub.crt\n"
    "[trust]\n"
    "ca_file = ca.pem\n";

static void
test_minimal_and_defaults(void)
{
	struct kp_config *cf;
	int		  nerr = -1;
	char		 *want;

	cf = load(hub_minimal, CONF_FOR_HUB, &nerr);
	CU_ASSERT_EQUAL(nerr, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cf);
	CU_ASSERT_STRING_EQUAL(cf->hub_node, "hub-1");
	CU_ASSERT_STRING_EQUAL(cf->hub_listen, "127.0.0.1");
	CU_ASSERT_EQUAL(cf->hub_port, 8443);
	CU_ASSERT_EQUAL(cf->hub_workers, 32);
	CU_ASSERT_FALSE(cf->tls_enabled);
	CU_ASSERT_EQUAL(cf->max_message_size, 1024 * 1024);
	CU_ASSERT_EQUAL(cf->clock_skew, 300 * 1000);
	CU_ASSERT_EQUAL(cf->target_timeout, 5000);
	CU_ASSERT_EQUAL(cf->log_level, LOG_LEVEL_INFO);
	CU_ASSERT_STRING_EQUAL(cf->db_name, "kruispunt");
	CU_ASSERT_PTR_NULL(cf->db_socket);
	CU_ASSERT_PTR_NULL(cf->trust_crl_file);
	/* relative paths are resolved against the file's directory */
	xasprintf(&want, "%s/hub.key", test_tmpdir());
	CU_ASSERT_STRING_EQUAL(cf->signing_key, want);
	free(want);
	config_free(cf);
}

static void
test_units(void)
{
	struct kp_config *cf;
	char		  buf[1024];
	int		  nerr;

	snprintf(buf, sizeof(buf), "%s[limits]\nmax_message_size = 64k\n"
	    "clock_skew = 90\nread_timeout = 250ms\ntarget_timeout = 2m\n"
	    "[log]\nlevel = debug\n[tls]\n", hub_minimal);
	/* [tls] appears twice: libinih merges sections, keys stay unique */
	cf = load(buf, CONF_FOR_HUB, &nerr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cf);
	CU_ASSERT_EQUAL(cf->max_message_size, 64 * 1024);
	CU_ASSERT_EQUAL(cf->clock_skew, 90 * 1000);
	CU_ASSERT_EQUAL(cf->read_timeout, 250);
	CU_ASSERT_EQUAL(cf->target_timeout, 120 * 1000);
	CU_ASSERT_EQUAL(cf->log_level, LOG_LEVEL_DEBUG);
	config_free(cf);
}

static void
test_unknown_keys_and_sections(void)
{
	struct kp_config *cf;
	int		  nerr;
	char		  buf[1024];

	snprintf(buf, sizeof(buf), "%s[hub]\nlisten_port = 1\n[hubb]\nport = 1\n",
	    hub_minimal);
	cf = load(buf, CONF_FOR_HUB, &nerr);
	CU_ASSERT_PTR_NULL(cf);
	CU_ASSERT_EQUAL(nerr, 2);
	CU_ASSERT_TRUE(has_error("test.conf:11: hub.listen_port:", "unknown key"));
	CU_ASSERT_TRUE(has_error("test.conf:13: hubb.port:", "unknown section [hubb]"));

	cf = load("port = 1\n", CONF_FOR_ADMIN, &nerr);
	CU_ASSERT_PTR_NULL(cf);
	CU_ASSERT_TRUE(has_error("test.conf:1:", "outside any [section]"));
}

static void
test_bad_values(void)
{
	struct kp_config *cf;
	int		  nerr;
	char		  buf[2048];

	snprintf(buf, sizeof(buf), "%s"
	    "[hub]\nport = 0\nworkers = eight\nlisten = localhost\n"
	    "public_url = ftp://x\nmax_connections = 10 \n"
	    "[limits]\nmax_message_size = 10X\nclock_skew = -1\n"
	    "max_depth = 99999\n"
	    "[tls]\nclient_auth = maybe\n"
	    "[log]\nlevel = loud\n",
	    hub_minimal);
	cf = load(buf, CONF_FOR_HUB, &nerr);
	CU_ASSERT_PTR_NULL(cf);
	CU_ASSERT_EQUAL(nerr, 9);
	CU_ASSERT_TRUE(has_error(":11: hub.port:", "out of range (1 to 65535)"));
	CU_ASSERT_TRUE(has_error(":12: hub.workers:", "not a whole number"));
	CU_ASSERT_TRUE(has_error(":13: hub.listen:", "numeric IPv4 or IPv6"));
	CU_ASSERT_TRUE(has_error(":14: hub.public_url:", "http:// or https://"));
	CU_ASSERT_TRUE(has_error(":17: limits.max_message_size:", "not a size"));
	CU_ASSERT_TRUE(has_error(":18: limits.clock_skew:", "not a duration"));
	CU_ASSERT_TRUE(has_error(":19: limits.max_depth:", "out of range"));
	CU_ASSERT_TRUE(has_error(":21: tls.client_auth:", "none, optional, require"));
	CU_ASSERT_TRUE(has_error(":23: log.level:", "error, warning, info, debug"));
}

static void
test_missing_file_and_required(void)
{
	struct kp_config *cf;
	int		  nerr;

	cf = config_load("/nonexistent/kruispunt.conf", CONF_FOR_HUB, NULL, &nerr);
	CU_ASSERT_PTR_NULL(cf);
	CU_ASSERT_EQUAL(nerr, 1);

	cf = load("[hub]\nnode = a\n[signing]\nkey = nope.pem\n", CONF_FOR_HUB,
	    &nerr);
	CU_ASSERT_PTR_NULL(cf);
	CU_ASSERT_TRUE(has_error(":4: signing.key:", "cannot read"));
	CU_ASSERT_TRUE(has_error("signing.certificate:", "required but not set"));
	CU_ASSERT_TRUE(has_error("trust.ca_file:", "required but not set"));
	CU_ASSERT_TRUE(has_error("tls.certificate:", "required when tls.enabled"));
	CU_ASSERT_TRUE(has_error("tls.key:", "required when tls.enabled"));
}

static void
test_duplicates_syntax_long_lines(void)
{
	struct kp_config *cf;
	int		  nerr;
	char		  buf[1024], longline[400];

	snprintf(buf, sizeof(buf), "%s[hub]\nnode = again\n", hub_minimal);
	cf = load(buf, CONF_FOR_HUB, &nerr);
	CU_ASSERT_PTR_NULL(cf);
	CU_ASSERT_TRUE(has_error(":11: hub.node:", "given twice (first on line 2)"));

	cf = load("[database]\nname = x\n[oops\n", CONF_FOR_ADMIN, &nerr);
	CU_ASSERT_PTR_NULL(cf);
	CU_ASSERT_TRUE(has_error("test.conf:3:", "syntax error"));

	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	snprintf(buf, sizeof(buf), "[database]\n; %s\nname = ok\n", longline);
	cf = load(buf, CONF_FOR_ADMIN, &nerr);
	CU_ASSERT_PTR_NULL(cf);
	CU_ASSERT_EQUAL(nerr, 1);
	CU_ASSERT_TRUE(has_error("test.conf:2:", "line longer than"));
}

static void
test_sections_per_program(void)
{
	struct kp_config *cf;
	int		  nerr;
	const char	 *conf =
	    "[database]\nsocket = /tmp/x.sock\n"
	    "[tls]\ncertificate = missing.pem\n";

	/* The admin tool does not need [tls]: its files are not checked. */
	cf = load(conf, CONF_FOR_ADMIN, &nerr);
	CU_ASSERT_EQUAL(nerr, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cf);
	CU_ASSERT_STRING_EQUAL(cf->db_socket, "/tmp/x.sock");
	config_free(cf);
	/* The hub does. */
	cf = load(conf, CONF_FOR_HUB, &nerr);
	CU_ASSERT_PTR_NULL(cf);
	CU_ASSERT_TRUE(has_error(":4: tls.certificate:", "cannot read"));
	/* The institution needs its own section. */
	cf = load("[institution]\nid = 0123456789\nport = 9001\n",
	    CONF_FOR_INSTITUTION, &nerr);
	CU_ASSERT_PTR_NULL(cf);
	CU_ASSERT_TRUE(has_error(":2: institution.id:", "enterprise number"));
	CU_ASSERT_TRUE(has_error("institution.key:", "required but not set"));
}

static void
test_password_file(void)
{
	struct kp_config *cf;
	int		  nerr;

	cf = load("[database]\npassword_file = dbpass\n", CONF_FOR_ADMIN, &nerr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cf);
	CU_ASSERT_STRING_EQUAL(cf->db_password, "s3cret;with#odd chars");
	config_free(cf);

	cf = load("[database]\npassword = pw\npassword_file = dbpass\n",
	    CONF_FOR_ADMIN, &nerr);
	CU_ASSERT_PTR_NULL(cf);
	CU_ASSERT_TRUE(has_error(":3: database.password_file:", "not both"));
	/* the password itself never appears in an error */
	CU_ASSERT_PTR_NULL(strstr(errors_text, "pw\n"));
}

static void
test_default_path(void)
{
	setenv("KRUISPUNT_CONF", "/some/where.conf", 1);
	CU_ASSERT_STRING_EQUAL(config_default_path(), "/some/where.conf");
	unsetenv("KRUISPUNT_CONF");
	CU_ASSERT_STRING_EQUAL(config_default_path(), KP_DEFAULT_CONF);
}

static void
test_shipped_sample(void)
{
	struct kp_config *cf;
	char		 *path = test_data_path("../../etc/kruispunt.conf");
	int		  nerr;

	/* The sample names files under /etc/kruispunt that a test machine
	 * does not have; but every key in it must be known and well-formed,
	 * which the admin tool's view (no file checks for [tls] etc.) shows. */
	cf = config_load(path, CONF_FOR_ADMIN, stderr, &nerr);
	CU_ASSERT_EQUAL(nerr, 0);
	CU_ASSERT_PTR_NOT_NULL(cf);
	config_free(cf);
	free(path);
}

static int
clean(void)
{
	free(errors_text);
	errors_text = NULL;
	return 0;
}

int
main(void)
{
	CU_pSuite	s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("config", init, clean);
	CU_add_test(s, "minimal hub configuration and defaults", test_minimal_and_defaults);
	CU_add_test(s, "sizes, durations, levels", test_units);
	CU_add_test(s, "unknown keys and sections", test_unknown_keys_and_sections);
	CU_add_test(s, "bad values, each with file, line and key", test_bad_values);
	CU_add_test(s, "missing file and required keys", test_missing_file_and_required);
	CU_add_test(s, "duplicates, syntax errors, long lines", test_duplicates_syntax_long_lines);
	CU_add_test(s, "each program checks its own sections", test_sections_per_program);
	CU_add_test(s, "password_file", test_password_file);
	CU_add_test(s, "default path and KRUISPUNT_CONF", test_default_path);
	CU_add_test(s, "the shipped sample configuration", test_shipped_sample);
	return test_run();
}
