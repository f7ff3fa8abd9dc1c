/*
 * kruispunt - the reference directory as CSV files: import and export.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_DIRCSV_H
#define KP_DIRCSV_H

#include <stdbool.h>
#include <stdio.h>

#include <mysql.h>

struct dircsv_result {
	unsigned long	rows;		/* rows in the file */
	unsigned long	errors;		/* problems found (nothing imported) */
};

bool		 dircsv_known_table(const char *);
const char	*dircsv_header(const char *table);
const char	*dircsv_tables(void);
int		 dircsv_import(MYSQL *, const char *table, const char *path,
		    bool replace, FILE *errfp, struct dircsv_result *,
		    char *err, size_t errlen);
int		 dircsv_export(MYSQL *, const char *table, FILE *out,
		    char *err, size_t errlen);

#endif
