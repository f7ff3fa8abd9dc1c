/*
 * kruispunt tests - the log module.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "log.h"

static char	*buf;
static size_t	 len;
static FILE	*mem;

static void
capture(void)
{
	free(buf);
	buf = NULL;
	mem = open_memstream(&buf, &len);
	log_set_stream(mem);
}

static const char *
captured(void)
{
	fflush(mem);
	fclose(mem);
	mem = NULL;
	log_set_stream(NULL);
	return buf;
}

static int
count_lines(const char *s)
{
	int	n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static void
test_levels(void)
{
	const char	*out;

	log_init("check_log", 1, LOG_LEVEL_WARNING);
	capture();
	log_info("not shown");
	log_debug(NULL, "not shown either");
	log_warnx("shown key=%d", 42);
	out = captured();
	CU_ASSERT_EQUAL(count_lines(out), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "check_log["));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, " warning: shown key=42\n"));
	CU_ASSERT_PTR_NULL(strstr(out, "not shown"));

	log_set_level(LOG_LEVEL_INFO);
	capture();
	log_info("exchange ticket=%s", "t-1");
	out = captured();
	CU_ASSERT_PTR_NOT_NULL(strstr(out, " info: exchange ticket=t-1\n"));
	/* an ISO 8601 UTC time stamp leads the line */
	CU_ASSERT_EQUAL(out[4], '-');
	CU_ASSERT_EQUAL(out[10], 'T');
	CU_ASSERT_PTR_NOT_NULL(strchr(out, 'Z'));
}

static void
test_one_line_per_event(void)
{
	const char	*out;

	log_init("check_log", 1, LOG_LEVEL_INFO);
	capture();
	log_info("sender=%s", "evil\ninfo: forged event\r\x1b[31m");
	out = captured();
	CU_ASSERT_EQUAL(count_lines(out), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "evil\\x0ainfo: forged event\\x0d\\x1b[31m"));
}

static void
test_errno_text(void)
{
	const char	*out;

	capture();
	errno = ENOENT;
	log_warn("open %s", "/x");
	CU_ASSERT_EQUAL(errno, ENOENT);
	out = captured();
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "open /x: No such file or directory"));
}

static void
test_debug_subsystems(void)
{
	const char	*out;

	log_init("check_log", 1, LOG_LEVEL_DEBUG);
	log_set_debug("wsse,audit");
	capture();
	log_debug("wsse", "one");
	log_debug("dispatch", "two");
	log_debug("audit", "three");
	log_debug("ws", "four");
	out = captured();
	CU_ASSERT_EQUAL(count_lines(out), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "debug: wsse: one"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "debug: audit: three"));
	CU_ASSERT_PTR_NULL(strstr(out, "two"));
	CU_ASSERT_PTR_NULL(strstr(out, "four"));
	log_set_debug(NULL);
}

static void
test_level_names(void)
{
	enum log_level	l;

	CU_ASSERT_EQUAL(log_level_parse("debug", &l), 0);
	CU_ASSERT_EQUAL(l, LOG_LEVEL_DEBUG);
	CU_ASSERT_EQUAL(log_level_parse("error", &l), 0);
	CU_ASSERT_EQUAL(l, LOG_LEVEL_ERROR);
	CU_ASSERT_EQUAL(log_level_parse("verbose", &l), -1);
	CU_ASSERT_STRING_EQUAL(log_level_name(LOG_LEVEL_WARNING), "warning");
}

static void
test_sanitize_bounds(void)
{
	char	small[6];

	CU_ASSERT_EQUAL(log_sanitize(small, sizeof(small), "abcdefgh"), 5);
	CU_ASSERT_STRING_EQUAL(small, "abcde");
	/* an escape that does not fit is left out whole */
	CU_ASSERT_EQUAL(log_sanitize(small, sizeof(small), "ab\ncd"), 2);
	CU_ASSERT_STRING_EQUAL(small, "ab");
}

int
main(void)
{
	CU_pSuite	s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("log", NULL, NULL);
	CU_add_test(s, "levels and format", test_levels);
	CU_add_test(s, "one line per event, control characters escaped",
	    test_one_line_per_event);
	CU_add_test(s, "errno text", test_errno_text);
	CU_add_test(s, "debug subsystems", test_debug_subsystems);
	CU_add_test(s, "level names", test_level_names);
	CU_add_test(s, "sanitize stays in bounds", test_sanitize_bounds);
	free(buf);
	return test_run();
}
