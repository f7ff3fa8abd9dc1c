/*
 * kruispunt - creating and upgrading the database schema.
 *
 * The schema lives in versioned files NNN-name.sql (sql/ in the source tree,
 * $(datadir)/kruispunt/sql when installed). migrate_run applies, in order,
 * every file whose version is above the highest one recorded in the table
 * schema_version, and records each after it succeeded. Running it again does
 * nothing; two hub nodes running it at once are serialised by a named lock.
 * The files use CREATE ... IF NOT EXISTS, so a file interrupted half-way
 * (DDL is not transactional in MariaDB) can simply be applied again.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "migrate.h"
#include "xmalloc.h"

#ifndef KP_DATADIR
#define KP_DATADIR "/usr/local/share/kruispunt"
#endif

#define MIGRATE_LOCK	"kruispunt_schema_migrate"
#define MIGRATE_MAX	1000

/*
 * Where the schema files are: $KRUISPUNT_SQL_DIR, else the sql directory of
 * $KRUISPUNT_DATA_DIR, else the installed ones.
 */
const char *
migrate_default_dir(void)
{
	static char	 buf[4096];
	const char	*env = getenv("KRUISPUNT_SQL_DIR");

	if (env != NULL && *env != '\0')
		return env;
	if ((env = getenv("KRUISPUNT_DATA_DIR")) != NULL && *env != '\0') {
		snprintf(buf, sizeof(buf), "%s/sql", env);
		return buf;
	}
	return KP_DATADIR "/sql";
}

/* The version recorded in the database (0: none); 0 or -1. */
int
migrate_version(MYSQL *db, int *version)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;

	*version = 0;
	if (mysql_query(db, "SELECT COALESCE(MAX(version), 0) FROM "
	    "schema_version") != 0)
		return mysql_errno(db) == 1146 ? 0 : -1;	/* no table yet */
	if ((res = mysql_store_result(db)) == NULL)
		return -1;
	if ((row = mysql_fetch_row(res)) != NULL && row[0] != NULL)
		*version = atoi(row[0]);
	mysql_free_result(res);
	return 0;
}

static int
migrate_file_version(const char *name)
{
	int	v = 0, i;

	for (i = 0; i < 3; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	if (name[3] != '-' || strlen(name) < 8 ||
	    strcmp(name + strlen(name) - 4, ".sql") != 0)
		return -1;
	return v;
}

static char *
migrate_read(const char *path, char *err, size_t errlen)
{
	FILE	*fp;
	char	*buf;
	long	 len;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	buf = xmalloc((size_t)len + 1);
	if (fread(buf, 1, (size_t)len, fp) != (size_t)len) {
		snprintf(err, errlen, "%s: read error", path);
		free(buf);
		fclose(fp);
		return NULL;
	}
	buf[len] = '\0';
	fclose(fp);
	return buf;
}

/* Execute the statements of one file: each ends with ';' at a line's end;
 * lines starting with "--" are comments. */
static int
migrate_apply(MYSQL *db, const char *path, char *sql, char *err, size_t errlen)
{
	char	*line, *save = NULL, *stmt;
	size_t	 len = 0, cap = strlen(sql) + 1;
	int	 lineno = 0, first = 0;

	stmt = xmalloc(cap);
	stmt[0] = '\0';
	for (line = strtok_r(sql, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(line);
		lineno++;
		if (strncmp(line, "--", 2) == 0 || strspn(line, " \t\r") == l)
			continue;
		if (len == 0)
			first = lineno;
		memcpy(stmt + len, line, l);
		len += l;
		stmt[len++] = '\n';
		stmt[len] = '\0';
		while (l > 0 && (line[l - 1] == ' ' || line[l - 1] == '\r'))
			l--;
		if (l == 0 || line[l - 1] != ';')
			continue;
		if (mysql_real_query(db, stmt, len) != 0) {
			snprintf(err, errlen, "%s: statement at line %d: %s",
			    path, first, mysql_error(db));
			free(stmt);
			return -1;
		}
		len = 0;
	}
	free(stmt);
	return 0;
}

static int
migrate_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* List the schema files of dir, sorted; returns how many, or -1. */
static int
migrate_list(const char *dir, char **names, char *err, size_t errlen)
{
	DIR		*dp;
	struct dirent	*de;
	int		 n = 0;

	if ((dp = opendir(dir)) == NULL) {
		snprintf(err, errlen, "schema directory %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	while ((de = readdir(dp)) != NULL && n < MIGRATE_MAX)
		if (migrate_file_version(de->d_name) > 0)
			names[n++] = xstrdup(de->d_name);
	closedir(dp);
	qsort(names, (size_t)n, sizeof(char *), migrate_cmp);
	return n;
}

static int
migrate_files(MYSQL *db, const char *dir, FILE *out, char *err, size_t errlen)
{
	char	*names[MIGRATE_MAX], *path, *sql, q[256];
	int	 n, i, current, v, applied = 0, rc = -1;

	if ((n = migrate_list(dir, names, err, errlen)) == -1)
		return -1;
	if (n == 0) {
		snprintf(err, errlen, "no schema files (NNN-name.sql) in %s", dir);
		return -1;
	}
	if (migrate_version(db, &current) == -1) {
		snprintf(err, errlen, "reading the schema version: %s",
		    mysql_error(db));
		goto done;
	}
	for (i = 0; i < n; i++) {
		if ((v = migrate_file_version(names[i])) <= current)
			continue;
		xasprintf(&path, "%s/%s", dir, names[i]);
		sql = migrate_read(path, err, errlen);
		if (sql == NULL || migrate_apply(db, path, sql, err, errlen) == -1) {
			free(sql);
			free(path);
			goto done;
		}
		free(sql);
		free(path);
		snprintf(q, sizeof(q), "INSERT INTO schema_version (version, "
		    "name, applied_at) VALUES (%d, '%.*s', NOW(6))", v,
		    (int)strcspn(names[i], "'\\"), names[i]);
		if (mysql_query(db, q) != 0) {
			snprintf(err, errlen, "recording version %d: %s", v,
			    mysql_error(db));
			goto done;
		}
		fprintf(out, "applied %s\n", names[i]);
		applied++;
		current = v;
	}
	fprintf(out, "schema at version %d%s\n", current,
	    applied ? "" : " (nothing to do)");
	rc = 0;
done:
	for (i = 0; i < n; i++)
		free(names[i]);
	return rc;
}

/* Bring the schema of db to the newest version found in sql_dir. */
int
migrate_run(MYSQL *db, const char *sql_dir, FILE *out, char *err,
    size_t errlen)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	int		 locked = 0, rc;

	if (mysql_query(db, "SELECT GET_LOCK('" MIGRATE_LOCK "', 60)") == 0 &&
	    (res = mysql_store_result(db)) != NULL) {
		row = mysql_fetch_row(res);
		locked = row != NULL && row[0] != NULL && strcmp(row[0], "1") == 0;
		mysql_free_result(res);
	}
	if (!locked) {
		snprintf(err, errlen, "could not take the migration lock: %s",
		    mysql_error(db));
		return -1;
	}
	if (mysql_query(db, "CREATE TABLE IF NOT EXISTS schema_version ("
	    "version INT NOT NULL PRIMARY KEY, name VARCHAR(200) NOT NULL, "
	    "applied_at DATETIME(6) NOT NULL) ENGINE=InnoDB "
	    "DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin") != 0) {
		snprintf(err, errlen, "creating schema_version: %s",
		    mysql_error(db));
		rc = -1;
	} else
		rc = migrate_files(db, sql_dir, out, err, errlen);
	if (mysql_query(db, "SELECT RELEASE_LOCK('" MIGRATE_LOCK "')") == 0 &&
	    (res = mysql_store_result(db)) != NULL)
		mysql_free_result(res);
	return rc;
}
