/*
 * kruispunt - creating and upgrading the database schema.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_MIGRATE_H
#define KP_MIGRATE_H

#include <stdio.h>

#include <mysql.h>

const char	*migrate_default_dir(void);
int		 migrate_run(MYSQL *, const char *sql_dir, FILE *out,
		    char *err, size_t errlen);
int		 migrate_version(MYSQL *, int *version);

#endif
