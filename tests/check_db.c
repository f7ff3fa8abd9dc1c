/*
 * kruispunt tests - the db module, through MariaDB Connector/C, against the
 * private MariaDB server that tests/with-mariadb starts (never a mock).
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

#include <mysql.h>
#include <mysqld_error.h>

#include "common.h"
#include "config.h"
#include "db.h"
#include "xmalloc.h"

static struct kp_config	*cf;
static MYSQL		*db;

static int
init(void)
{
	const char	*path = getenv("KP_TEST_CONF");
	char		 err[512];
	int		 nerr;

	if (path == NULL) {
		fprintf(stderr, "KP_TEST_CONF is not set: run me through "
		    "tests/with-mariadb\n");
		return 1;
	}
	if ((cf = config_load(path, CONF_FOR_ADMIN, stderr, &nerr)) == NULL)
		return 1;
	if ((db = db_connect(cf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	return 0;
}

static int
clean(void)
{
	db_close(db);
	config_free(cf);
	return 0;
}

static void
test_create_write_read(void)
{
	static const char *const names[] = {
		"Office national de l'emploi", "Zoë Van den Broeck – Liège",
		"名前", "\xf0\x9f\x8f\xa0 emoji (4-byte UTF-8)",
	};
	static const char insert[] =
	    "INSERT INTO harness_probe (id, name) VALUES (?, ?)";
	MYSQL_STMT	*st;
	MYSQL_BIND	 b[2];
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	char		 err[512];
	unsigned long	 len;
	int		 i, id;

	CU_ASSERT_EQUAL_FATAL(db_exec(db, "CREATE TABLE harness_probe ("
	    "id INT PRIMARY KEY, name VARCHAR(200) NOT NULL) "
	    "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4", err, sizeof(err)), 0);

	st = mysql_stmt_init(db);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL_FATAL(mysql_stmt_prepare(st, insert, strlen(insert)), 0);
	for (i = 0; i < 4; i++) {
		memset(b, 0, sizeof(b));
		id = i + 1;
		len = strlen(names[i]);
		b[0].buffer_type = MYSQL_TYPE_LONG;
		b[0].buffer = &id;
		b[1].buffer_type = MYSQL_TYPE_STRING;
		b[1].buffer = (void *)(uintptr_t)names[i];
		b[1].buffer_length = len;
		b[1].length = &len;
		CU_ASSERT_EQUAL(mysql_stmt_bind_param(st, b), 0);
		CU_ASSERT_EQUAL(mysql_stmt_execute(st), 0);
	}
	mysql_stmt_close(st);

	CU_ASSERT_EQUAL_FATAL(mysql_query(db,
	    "SELECT id, name FROM harness_probe ORDER BY id"), 0);
	res = mysql_store_result(db);
	CU_ASSERT_PTR_NOT_NULL_FATAL(res);
	CU_ASSERT_EQUAL(mysql_num_rows(res), 4);
	for (i = 0; (row = mysql_fetch_row(res)) != NULL; i++) {
		CU_ASSERT_EQUAL(atoi(row[0]), i + 1);
		CU_ASSERT_STRING_EQUAL(row[1], names[i]);
	}
	mysql_free_result(res);
}

static void
test_transaction_rollback(void)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	char		 err[512];

	CU_ASSERT_EQUAL_FATAL(db_exec(db, "START TRANSACTION", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(db_exec(db, "INSERT INTO harness_probe VALUES (99, 'x')",
	    err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(db_exec(db, "ROLLBACK", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(mysql_query(db,
	    "SELECT COUNT(*) FROM harness_probe WHERE id = 99"), 0);
	res = mysql_store_result(db);
	row = mysql_fetch_row(res);
	CU_ASSERT_STRING_EQUAL(row[0], "0");
	mysql_free_result(res);
}

static void
test_errors(void)
{
	char	err[512];

	/* a duplicate key is reported with its text and number */
	CU_ASSERT_EQUAL(db_exec(db, "INSERT INTO harness_probe VALUES (1, 'dup')",
	    err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "Duplicate entry"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "1062"));
	CU_ASSERT_TRUE(db_error_is_retryable(ER_LOCK_DEADLOCK));
	CU_ASSERT_FALSE(db_error_is_retryable(ER_DUP_ENTRY));
	CU_ASSERT_TRUE(db_error_is_unavailable(2006));	/* server gone */
	CU_ASSERT_TRUE(db_error_is_unavailable(1047));	/* WSREP not ready */
	CU_ASSERT_FALSE(db_error_is_unavailable(ER_DUP_ENTRY));
}

static void
test_wrong_password(void)
{
	struct kp_config *bad;
	MYSQL		 *d;
	char		  err[512];

	bad = config_defaults(CONF_FOR_ADMIN);
	free(bad->db_socket);
	bad->db_socket = xstrdup(cf->db_socket);
	free(bad->db_user);
	bad->db_user = xstrdup(cf->db_user);
	free(bad->db_name);
	bad->db_name = xstrdup(cf->db_name);
	free(bad->db_password);
	bad->db_password = xstrdup("not-the-password");
	d = db_connect(bad, err, sizeof(err));
	CU_ASSERT_PTR_NULL(d);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "Access denied"));
	/* the error names where, never the password */
	CU_ASSERT_PTR_NULL(strstr(err, "not-the-password"));
	db_close(d);
	config_free(bad);
}

int
main(void)
{
	CU_pSuite	s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("db (real MariaDB)", init, clean);
	CU_add_test(s, "create a table, write and read through Connector/C",
	    test_create_write_read);
	CU_add_test(s, "a rolled-back transaction leaves nothing",
	    test_transaction_rollback);
	CU_add_test(s, "errors are reported and classified", test_errors);
	CU_add_test(s, "a wrong password is refused", test_wrong_password);
	return test_run();
}
