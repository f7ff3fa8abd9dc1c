/*
 * kruispunt tests - the csv reader.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "csv.h"

static FILE		*fp;
static struct csv_reader *r;

static void
open_text(const char *text, size_t len)
{
	fp = fmemopen((void *)(uintptr_t)text, len, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	r = csv_open(fp);
}

static void
close_text(void)
{
	csv_close(r);
	fclose(fp);
}

static void
test_plain_and_quoted(void)
{
	static const char text[] =
	    "id,name,sector\n"
	    "0123456749,\"Office, national\",UNEMPLOYMENT\r\n"
	    "\n"
	    "0200000142,\"Fund \"\"One\"\"\nsecond line\",\n"
	    "\"\",x,\"\"";
	char	**f;
	int	  n;

	open_text(text, sizeof(text) - 1);
	CU_ASSERT_EQUAL(csv_next(r, &f, &n), 1);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_STRING_EQUAL(f[2], "sector");
	CU_ASSERT_EQUAL(csv_line(r), 1);
	CU_ASSERT_EQUAL(csv_next(r, &f, &n), 1);
	CU_ASSERT_STRING_EQUAL(f[1], "Office, national");
	CU_ASSERT_STRING_EQUAL(f[2], "UNEMPLOYMENT");
	CU_ASSERT_EQUAL(csv_line(r), 2);
	CU_ASSERT_EQUAL(csv_next(r, &f, &n), 1);	/* blank line skipped */
	CU_ASSERT_EQUAL(csv_line(r), 4);
	CU_ASSERT_STRING_EQUAL(f[1], "Fund \"One\"\nsecond line");
	CU_ASSERT_STRING_EQUAL(f[2], "");
	CU_ASSERT_EQUAL(csv_next(r, &f, &n), 1);	/* no final newline */
	CU_ASSERT_EQUAL(csv_line(r), 6);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_STRING_EQUAL(f[0], "");
	CU_ASSERT_STRING_EQUAL(f[2], "");
	CU_ASSERT_EQUAL(csv_next(r, &f, &n), 0);
	close_text();
}

static void
test_bom(void)
{
	static const char text[] = "\xef\xbb\xbf" "a,b\n";
	char	**f;
	int	  n;

	open_text(text, sizeof(text) - 1);
	CU_ASSERT_EQUAL(csv_next(r, &f, &n), 1);
	CU_ASSERT_STRING_EQUAL(f[0], "a");
	close_text();
}

static void
expect_error(const char *text, size_t len, int line, const char *what)
{
	char	**f;
	int	  n, rc;

	open_text(text, len);
	while ((rc = csv_next(r, &f, &n)) == 1)
		;
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_EQUAL(csv_line(r), line);
	CU_ASSERT_PTR_NOT_NULL(strstr(csv_error(r), what));
	close_text();
}

static void
test_errors(void)
{
	char	*big;
	size_t	 i;

	expect_error("a,b\nx,y\"z\n", 10, 2, "quote inside an unquoted field");
	expect_error("a,b\n\"x\"y,z\n", 11, 2, "text after the closing quote");
	expect_error("a,b\n\"x,\ny\n", 10, 2, "unterminated quoted field");
	expect_error("a,b\nx\0y,z\n", 10, 2, "NUL byte");
	expect_error("a\rb\n", 4, 1, "carriage return");
	expect_error("\xef\xbb" "a\n", 4, 1, "invalid UTF-8");
	big = malloc(5000);
	for (i = 0; i < 4999; i++)
		big[i] = 'x';
	big[4999] = '\n';
	expect_error(big, 5000, 1, "longer than 4096");
	for (i = 0; i < 4999; i++)
		big[i] = (i % 2) ? ',' : 'x';
	expect_error(big, 5000, 1, "more than 64 fields");
	free(big);
}

int
main(void)
{
	CU_pSuite	s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("csv", NULL, NULL);
	CU_add_test(s, "plain and quoted fields, line numbers", test_plain_and_quoted);
	CU_add_test(s, "byte-order mark", test_bom);
	CU_add_test(s, "each error with its line", test_errors);
	return test_run();
}
