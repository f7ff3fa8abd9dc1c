/*
 * kruispunt - connections to MariaDB through MariaDB Connector/C.
 *
 * One connection per worker (a MYSQL handle is not shared between threads).
 * Connections use utf8mb4, bounded connect/read/write timeouts, and no
 * automatic reconnect: a lost connection is reported, so that the caller
 * decides (the hub fails closed rather than silently losing a transaction).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "config.h"
#include "db.h"

/* Open a connection as the [database] section says; NULL with err on failure. */
MYSQL *
db_connect(const struct kp_config *cf, char *err, size_t errlen)
{
	MYSQL		*db;
	unsigned int	 timeout, proto;
	bool		 off = false;
	const char	*host = cf->db_host, *sock = cf->db_socket;

	if ((db = mysql_init(NULL)) == NULL) {
		snprintf(err, errlen, "mysql_init failed (out of memory)");
		return NULL;
	}
	timeout = (unsigned int)(cf->db_connect_timeout + 999) / 1000;
	mysql_optionsv(db, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	timeout = 30;
	mysql_optionsv(db, MYSQL_OPT_READ_TIMEOUT, &timeout);
	mysql_optionsv(db, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
	mysql_optionsv(db, MYSQL_OPT_RECONNECT, &off);
	mysql_optionsv(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (sock != NULL) {
		proto = MYSQL_PROTOCOL_SOCKET;
		mysql_optionsv(db, MYSQL_OPT_PROTOCOL, &proto);
		host = "localhost";
	}
	if (mysql_real_connect(db, host, cf->db_user, cf->db_password,
	    cf->db_name, (unsigned int)cf->db_port, sock, 0) == NULL) {
		snprintf(err, errlen, "cannot connect to MariaDB database %s "
		    "at %s: %s", cf->db_name, sock != NULL ? sock : host,
		    mysql_error(db));
		mysql_close(db);
		return NULL;
	}
	return db;
}

/* Close a connection (NULL is fine). */
void
db_close(MYSQL *db)
{
	if (db != NULL)
		mysql_close(db);
}

/* Run one statement that returns no rows; 0 or -1 with err. */
int
db_exec(MYSQL *db, const char *sql, char *err, size_t errlen)
{
	if (mysql_query(db, sql) != 0) {
		snprintf(err, errlen, "%s (error %u)", mysql_error(db),
		    mysql_errno(db));
		return -1;
	}
	return 0;
}

/*
 * True when the error means the store cannot be used now (server gone, or a
 * Galera node outside the Primary Component): the hub then fails closed.
 */
int
db_error_is_unavailable(unsigned int e)
{
	switch (e) {
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case ER_UNKNOWN_COM_ERROR:	/* 1047: WSREP not ready */
	case ER_LOCK_WAIT_TIMEOUT:
	case 1180:			/* got error during COMMIT (Galera) */
		return 1;
	default:
		return 0;
	}
}

/* True for errors after which the whole transaction may be retried. */
int
db_error_is_retryable(unsigned int e)
{
	return e == ER_LOCK_DEADLOCK;	/* 1213, also Galera's certification failure */
}
