/*
 * kruispunt tests - shared fixtures.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_TESTS_COMMON_H
#define KP_TESTS_COMMON_H

#include <CUnit/CUnit.h>

/* A fresh temporary directory, removed by test_tmpdir_cleanup(). */
const char	*test_tmpdir(void);
void		 test_tmpdir_cleanup(void);
/* Write content to name in the temporary directory; returns the path. */
char		*test_write_file(const char *name, const char *content);
/* Path of a file under tests/data in the source tree. */
char		*test_data_path(const char *name);
/* Run the registered suites; the exit status for make check. */
int		 test_run(void);

#endif
