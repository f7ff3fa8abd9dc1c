/*
 * kruispunt tests - shared fixtures.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "xmalloc.h"

static char	*tmpdir;

/* A fresh temporary directory, removed by test_tmpdir_cleanup(). */
const char *
test_tmpdir(void)
{
	char	tmpl[] = "/tmp/kp-test.XXXXXX";

	if (tmpdir == NULL) {
		if (mkdtemp(tmpl) == NULL) {
			perror("mkdtemp");
			exit(99);
		}
		tmpdir = xstrdup(tmpl);
	}
	return tmpdir;
}

/* Remove the temporary directory and what is in it. */
void
test_tmpdir_cleanup(void)
{
	char	*cmd;

	if (tmpdir == NULL)
		return;
	xasprintf(&cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	free(cmd);
	free(tmpdir);
	tmpdir = NULL;
}

/* Write content to name in the temporary directory; returns the path. */
char *
test_write_file(const char *name, const char *content)
{
	char	*path;
	FILE	*fp;

	xasprintf(&path, "%s/%s", test_tmpdir(), name);
	if ((fp = fopen(path, "w")) == NULL) {
		perror(path);
		exit(99);
	}
	fputs(content, fp);
	fclose(fp);
	return path;
}

/* Path of a file under tests/data in the source tree. */
char *
test_data_path(const char *name)
{
	const char	*top = getenv("top_srcdir");
	char		*path;

	xasprintf(&path, "%s/tests/data/%s", top != NULL ? top : ".", name);
	return path;
}

/* Run the registered suites; the exit status for make check. */
int
test_run(void)
{
	unsigned int	failed;

	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed() +
	    CU_get_number_of_suites_failed();
	if (CU_get_number_of_tests_run() == 0)
		failed = 1;
	CU_cleanup_registry();
	test_tmpdir_cleanup();
	return failed == 0 ? 0 : 1;
}
