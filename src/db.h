/*
 * kruispunt - connections to MariaDB through MariaDB Connector/C.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_DB_H
#define KP_DB_H

#include <stddef.h>

#include <mysql.h>

struct kp_config;

MYSQL	*db_connect(const struct kp_config *, char *err, size_t errlen);
void	 db_close(MYSQL *);
int	 db_exec(MYSQL *, const char *sql, char *err, size_t errlen);
int	 db_error_is_unavailable(unsigned int mysql_errno);
int	 db_error_is_retryable(unsigned int mysql_errno);

#endif
