/*
 * kruispunt - bulk inserts through array binding (dbbulk.h).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysql.h>

#include "dbbulk.h"
#include "xmalloc.h"

/* Prepare sql (an INSERT with ? parameters) on db; 0 or -1 (see
 * db_bulk_error). */
int
db_bulk_prepare(MYSQL *db, struct db_bulk *b, const char *sql)
{
	unsigned int	c;

	memset(b, 0, sizeof(*b));
	if ((b->st = mysql_stmt_init(db)) == NULL)
		return -1;
	if (mysql_stmt_prepare(b->st, sql, (unsigned long)strlen(sql)) != 0)
		return -1;
	b->ncols = (unsigned int)mysql_stmt_param_count(b->st);
	b->off = xcalloc(b->ncols ? b->ncols : 1, sizeof(*b->off));
	b->len = xcalloc(b->ncols ? b->ncols : 1, sizeof(*b->len));
	b->ind = xcalloc(b->ncols ? b->ncols : 1, sizeof(*b->ind));
	b->bind = xcalloc(b->ncols ? b->ncols : 1, sizeof(*b->bind));
	for (c = 0; c < b->ncols; c++)
		b->bind[c].buffer_type = MYSQL_TYPE_STRING;
	return 0;
}

/* Forget the rows (keep the statement and the memory). */
void
db_bulk_reset(struct db_bulk *b)
{
	b->n = 0;
	b->col = 0;
	b->used = 0;
}

/* Start a new row. */
void
db_bulk_row(struct db_bulk *b)
{
	unsigned int	c;

	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		for (c = 0; c < b->ncols; c++) {
			b->off[c] = xreallocarray(b->off[c], b->cap,
			    sizeof(**b->off));
			b->len[c] = xreallocarray(b->len[c], b->cap,
			    sizeof(**b->len));
			b->ind[c] = xreallocarray(b->ind[c], b->cap,
			    sizeof(**b->ind));
		}
	}
	b->n++;
	b->col = 0;
}

/* The next value of the current row: at most maxlen bytes of v (NULL or
 * empty: SQL NULL). */
void
db_bulk_val(struct db_bulk *b, const char *v, size_t maxlen)
{
	size_t	row = b->n - 1, n;

	if (b->n == 0 || b->col >= b->ncols)
		abort();	/* a programming error, not input */
	if (v == NULL || *v == '\0') {
		b->ind[b->col][row] = STMT_INDICATOR_NULL;
		b->len[b->col][row] = 0;
		b->off[b->col][row] = 0;
		b->col++;
		return;
	}
	n = strlen(v);
	if (n > maxlen)
		n = maxlen;
	if (b->used + n + 1 > b->size) {
		while (b->used + n + 1 > b->size)
			b->size = b->size ? b->size * 2 : 65536;
		b->arena = xreallocarray(b->arena, b->size, 1);
	}
	memcpy(b->arena + b->used, v, n);
	b->arena[b->used + n] = '\0';
	b->ind[b->col][row] = STMT_INDICATOR_NONE;
	b->len[b->col][row] = (unsigned long)n;
	b->off[b->col][row] = b->used;
	b->used += n + 1;
	b->col++;
}

/* Insert the rows with one execution; 0 (also with no rows) or -1. */
int
db_bulk_exec(struct db_bulk *b)
{
	unsigned int	size = (unsigned int)b->n, c;
	size_t		r;

	if (b->n == 0)
		return 0;
	b->ptr = xreallocarray(b->ptr, b->ncols * b->cap, sizeof(*b->ptr));
	for (c = 0; c < b->ncols; c++) {
		const char **col = b->ptr + (size_t)c * b->cap;
		for (r = 0; r < b->n; r++)
			col[r] = b->ind[c][r] == STMT_INDICATOR_NULL ? NULL :
			    b->arena + b->off[c][r];
		b->bind[c].buffer = (void *)col;
		b->bind[c].length = b->len[c];
		b->bind[c].u.indicator = b->ind[c];
	}
	if (mysql_stmt_attr_set(b->st, STMT_ATTR_ARRAY_SIZE, &size) != 0 ||
	    mysql_stmt_bind_param(b->st, b->bind) != 0 ||
	    mysql_stmt_execute(b->st) != 0)
		return -1;
	return 0;
}

/* The rows added since the last reset. */
size_t
db_bulk_rows(const struct db_bulk *b)
{
	return b->n;
}

/* Close the statement and free the memory. */
void
db_bulk_close(struct db_bulk *b)
{
	unsigned int	c;

	if (b->st != NULL)
		mysql_stmt_close(b->st);
	for (c = 0; c < b->ncols; c++) {
		free(b->off[c]);
		free(b->len[c]);
		free(b->ind[c]);
	}
	free(b->off);
	free(b->len);
	free(b->ind);
	free(b->ptr);
	free(b->arena);
	free(b->bind);
	memset(b, 0, sizeof(*b));
}

unsigned int
db_bulk_errno(const struct db_bulk *b)
{
	return b->st != NULL ? mysql_stmt_errno(b->st) : CR_OUT_OF_MEMORY;
}

const char *
db_bulk_error(const struct db_bulk *b)
{
	return b->st != NULL ? mysql_stmt_error(b->st) : "out of memory";
}
