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

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "config.h"
#include "db.h"
#include "log.h"

/* While kruispuntd starts: until when (CLOCK_MONOTONIC, µs) a connection
 * that the server did not answer is tried again; 0 once it runs. */
static _Atomic int64_t	db_start_deadline;

static int64_t
db_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* What ends the wait early (set with the deadline). */
typedef int (*db_stop_fn)(void);
static _Atomic(db_stop_fn)	db_start_stop;

/*
 * From now on, for up to ms milliseconds, db_connect tries again when the
 * server does not answer (not there yet, handshake timed out, too many
 * connections), until stop (may be NULL) says to stop; 0 ends that. A
 * refusal (wrong password, no such database) is never tried again.
 */
void
db_start_wait(int ms, int (*stop)(void))
{
	atomic_store(&db_start_stop, stop);
	atomic_store(&db_start_deadline, ms > 0 ? db_now_us() +
	    (int64_t)ms * 1000 : 0);
}

static int
db_stop_asked(void)
{
	db_stop_fn	stop = atomic_load(&db_start_stop);

	return stop != NULL && stop();
}

/* At connect time: the server is not there (yet), as db_error_is_unavailable
 * says, or cannot take this connection yet. */
static int
db_error_is_not_there(unsigned int e)
{
	switch (e) {
	case CR_UNKNOWN_HOST:		/* its name not yet registered */
	case CR_SERVER_HANDSHAKE_ERR:
	case ER_CON_COUNT_ERROR:
		return 1;
	case ER_LOCK_WAIT_TIMEOUT:	/* a transaction's, not the server's */
	case 1180:
		return 0;
	default:
		return db_error_is_unavailable(e);
	}
}

/* Sleep for us microseconds, in slices; -1 as soon as a stop is pending. */
static int
db_pause(int64_t us)
{
	int64_t	slice;

	while (us > 0) {
		if (db_stop_asked())
			return -1;
		slice = us < 100000 ? us : 100000;
		usleep((useconds_t)slice);
		us -= slice;
	}
	return db_stop_asked() ? -1 : 0;
}

/* One attempt; NULL with err and *e (the client's error number). */
static MYSQL *
db_connect_once(const struct kp_config *cf, char *err, size_t errlen,
    unsigned int *e)
{
	MYSQL		*db;
	unsigned int	 timeout, proto;
	bool		 off = false;
	const char	*host = cf->db_host, *sock = cf->db_socket;

	*e = 0;
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
		*e = mysql_errno(db);
		mysql_close(db);
		return NULL;
	}
	/* at start, a Galera node that accepts connections but does not take
	 * statements yet (1047) is not there either */
	if (atomic_load(&db_start_deadline) != 0) {
		if (mysql_query(db, "SELECT version FROM schema_version LIMIT "
		    "1") == 0)
			mysql_free_result(mysql_store_result(db));
		else if (db_error_is_not_there(mysql_errno(db))) {
			snprintf(err, errlen, "MariaDB database %s at %s does "
			    "not take statements: %s", cf->db_name,
			    sock != NULL ? sock : host, mysql_error(db));
			*e = mysql_errno(db);
			mysql_close(db);
			return NULL;
		}
		/* any other error (no such table, no right to read it) is
		 * the later statements' to report */
	}
	return db;
}

/*
 * Open a connection as the [database] section says; NULL with err on
 * failure. While db_start_wait's time runs, a server that does not answer
 * is tried again, after 250 ms at first, the pause doubling up to 2 s,
 * until SIGTERM or SIGINT is pending.
 */
MYSQL *
db_connect(const struct kp_config *cf, char *err, size_t errlen)
{
	MYSQL		*db;
	unsigned int	 e;
	int64_t		 deadline, left, pause = 250000;
	size_t		 len;
	int		 attempt;

	for (attempt = 1;; attempt++) {
		if ((db = db_connect_once(cf, err, errlen, &e)) != NULL) {
			if (attempt > 1)
				log_info("the database answered (attempt %d)",
				    attempt);
			return db;
		}
		deadline = atomic_load(&db_start_deadline);
		if (deadline == 0 || !db_error_is_not_there(e))
			return NULL;
		if ((left = deadline - db_now_us()) <= 0) {
			if (attempt > 1) {
				len = strlen(err);
				snprintf(err + len, errlen - len, " (gave up "
				    "after %d attempts: [database] start_wait "
				    "is over)", attempt);
			}
			return NULL;
		}
		log_warnx("%s; trying again for up to %lld s", err,
		    (long long)((left + 999999) / 1000000));
		if (pause > left)
			pause = left;
		if (db_pause(pause) == -1) {
			snprintf(err, errlen, "stopped by a signal while "
			    "waiting for the database");
			return NULL;
		}
		pause = pause * 2 > 2000000 ? 2000000 : pause * 2;
	}
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

/* What to add to an error that a schema not migrated would explain. */
const char *
db_schema_hint(unsigned int e)
{
	return e == ER_NO_SUCH_TABLE || e == ER_BAD_FIELD_ERROR ?
	    " (is the schema migrated? kruispunt directory migrate)" : "";
}

/* True for errors after which the whole transaction may be retried. */
int
db_error_is_retryable(unsigned int e)
{
	return e == ER_LOCK_DEADLOCK;	/* 1213, also Galera's certification failure */
}

/* True when a duplicate key refused a write (1062). */
int
db_error_is_duplicate(unsigned int e)
{
	return e == ER_DUP_ENTRY;
}

/*
 * On a Galera node, make the session's reads wait until the node has applied
 * everything the cluster committed before them (mask 1: reads; 0: off), so a
 * read on one node sees what another node wrote. A server without Galera
 * knows the variable and ignores it; an error other than a lost connection
 * is ignored. 0 or -1.
 */
int
db_sync_wait(MYSQL *db, int mask)
{
	char	q[64];

	snprintf(q, sizeof(q), "SET SESSION wsrep_sync_wait = %d", mask);
	if (mysql_query(db, q) != 0 && mysql_errno(db) >= 2000)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Prepared statements with text parameters and text results           */
/* ------------------------------------------------------------------ */

/* Prepare sql on db; 0 or -1 (see db_query_error). */
int
db_query_prepare(MYSQL *db, struct db_query *q, const char *sql)
{
	MYSQL_RES	*meta;
	unsigned int	 i;

	memset(q, 0, sizeof(*q));
	q->sql = sql;
	if ((q->st = mysql_stmt_init(db)) == NULL)
		return -1;
	if (mysql_stmt_prepare(q->st, sql, strlen(sql)) != 0)
		return -1;
	q->nparams = mysql_stmt_param_count(q->st);
	if (q->nparams > DB_MAX_PARAMS)
		return -1;
	if ((meta = mysql_stmt_result_metadata(q->st)) != NULL) {
		q->ncols = mysql_num_fields(meta);
		mysql_free_result(meta);
	}
	if (q->ncols > DB_MAX_COLS)
		return -1;
	for (i = 0; i < q->ncols; i++) {
		q->res[i].buffer_type = MYSQL_TYPE_STRING;
		q->res[i].buffer = q->buf[i];
		q->res[i].buffer_length = DB_COL_LEN - 1;
		q->res[i].length = &q->len[i];
		q->res[i].is_null = &q->isnull[i];
		q->res[i].error = &q->error[i];
	}
	if (q->ncols > 0 && mysql_stmt_bind_result(q->st, q->res) != 0)
		return -1;
	return 0;
}

/* Execute with nparams text parameters (NULL entries are SQL NULL). */
int
db_query_exec(struct db_query *q, const char *const *params)
{
	MYSQL_BIND	 b[DB_MAX_PARAMS];
	unsigned long	 lens[DB_MAX_PARAMS];
	my_bool		 nulls[DB_MAX_PARAMS];
	unsigned int	 i;

	memset(b, 0, sizeof(b));
	for (i = 0; i < q->nparams; i++) {
		nulls[i] = params[i] == NULL;
		lens[i] = params[i] != NULL ? strlen(params[i]) : 0;
		b[i].buffer_type = MYSQL_TYPE_STRING;
		b[i].buffer = (void *)(uintptr_t)params[i];
		b[i].buffer_length = lens[i];
		b[i].length = &lens[i];
		b[i].is_null = &nulls[i];
	}
	if (q->nparams > 0 && mysql_stmt_bind_param(q->st, b) != 0)
		return -1;
	if (mysql_stmt_execute(q->st) != 0)
		return -1;
	if (q->ncols > 0 && mysql_stmt_store_result(q->st) != 0)
		return -1;
	return 0;
}

/* Next row: 1, or 0 when there is none, or -1 (an error or a column too
 * long for its buffer). */
int
db_query_fetch(struct db_query *q)
{
	unsigned int	i;
	int		rc;

	rc = mysql_stmt_fetch(q->st);
	if (rc == MYSQL_NO_DATA) {
		mysql_stmt_free_result(q->st);
		return 0;
	}
	if (rc != 0) {
		mysql_stmt_free_result(q->st);
		return -1;
	}
	for (i = 0; i < q->ncols; i++)
		q->buf[i][q->isnull[i] ? 0 : q->len[i]] = '\0';
	return 1;
}

/* Column i of the current row as text, or NULL for SQL NULL. */
const char *
db_query_col(const struct db_query *q, unsigned int i)
{
	if (i >= q->ncols || q->isnull[i])
		return NULL;
	return q->buf[i];
}

/* Close the statement. */
void
db_query_close(struct db_query *q)
{
	if (q->st != NULL)
		mysql_stmt_close(q->st);
	q->st = NULL;
}

/* The error number of the last failed call on q. */
unsigned int
db_query_errno(const struct db_query *q)
{
	return q->st != NULL ? mysql_stmt_errno(q->st) : CR_OUT_OF_MEMORY;
}

/* Rows changed by the last statement (1 inserted, 2 updated, 0 neither). */
unsigned long long
db_query_affected(const struct db_query *q)
{
	return (unsigned long long)mysql_stmt_affected_rows(q->st);
}

/* The error text of the last failed call on q. */
const char *
db_query_error(const struct db_query *q)
{
	return q->st != NULL ? mysql_stmt_error(q->st) : "out of memory";
}
