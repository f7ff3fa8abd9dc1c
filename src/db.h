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

#define DB_MAX_COLS	12
#define DB_MAX_PARAMS	16
#define DB_COL_LEN	4096

/*
 * A prepared statement whose parameters and result columns travel as text
 * (MariaDB converts dates and numbers), with its result buffered so that the
 * connection is free again after db_query_exec.
 */
struct db_query {
	MYSQL_STMT	*st;
	const char	*sql;
	unsigned int	 nparams;
	unsigned int	 ncols;
	MYSQL_BIND	 res[DB_MAX_COLS];
	char		 buf[DB_MAX_COLS][DB_COL_LEN];
	unsigned long	 len[DB_MAX_COLS];
	my_bool		 isnull[DB_MAX_COLS];
	my_bool		 error[DB_MAX_COLS];
};

MYSQL	*db_connect(const struct kp_config *, char *err, size_t errlen);
void	 db_start_wait(int ms, int (*stop)(void));
void	 db_close(MYSQL *);
int	 db_exec(MYSQL *, const char *sql, char *err, size_t errlen);
int	 db_error_is_unavailable(unsigned int mysql_errno);
const char *db_schema_hint(unsigned int mysql_errno);
int	 db_query_prepare(MYSQL *, struct db_query *, const char *sql);
int	 db_query_exec(struct db_query *, const char *const *params);
int	 db_query_fetch(struct db_query *);
const char *db_query_col(const struct db_query *, unsigned int);
void	 db_query_close(struct db_query *);
unsigned int db_query_errno(const struct db_query *);
unsigned long long db_query_affected(const struct db_query *);
const char *db_query_error(const struct db_query *);
int	 db_error_is_retryable(unsigned int mysql_errno);
int	 db_error_is_duplicate(unsigned int mysql_errno);
int	 db_sync_wait(MYSQL *, int mask);

#endif
