/*
 * kruispunt - reading CSV files (RFC 4180) for the directory import.
 *
 * Fields are separated by commas, records by LF or CRLF. A field may be
 * quoted with double quotes, inside which a quote is written twice and commas
 * and line breaks are data. Blank lines are skipped; a UTF-8 byte-order mark
 * at the start is ignored. Anything else irregular is an error with the line
 * where the record started: a quote inside an unquoted field, text after a
 * closing quote, an unterminated quote, a NUL byte, a field longer than
 * CSV_MAX_FIELD bytes or a record of more than CSV_MAX_FIELDS fields. The
 * reader never allocates more than those limits allow.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "xmalloc.h"

struct csv_reader {
	FILE	*fp;
	int	 line;		/* current physical line */
	int	 record_line;	/* line where the last record started */
	int	 first;		/* nothing read yet (for the BOM) */
	char	*fields[CSV_MAX_FIELDS];
	int	 nfields;
	char	 buf[CSV_MAX_FIELD + 1];
	size_t	 len;
	char	 error[160];
};

/* A reader over fp (which the caller closes). */
struct csv_reader *
csv_open(FILE *fp)
{
	struct csv_reader *r = xcalloc(1, sizeof(*r));

	r->fp = fp;
	r->line = 1;
	r->first = 1;
	return r;
}

static void
csv_clear(struct csv_reader *r)
{
	int	i;

	for (i = 0; i < r->nfields; i++)
		free(r->fields[i]);
	r->nfields = 0;
	r->len = 0;
}

/* Free the reader. */
void
csv_close(struct csv_reader *r)
{
	if (r == NULL)
		return;
	csv_clear(r);
	free(r);
}

/* The line where the last record (or error) started. */
int
csv_line(const struct csv_reader *r)
{
	return r->record_line;
}

/* What was wrong, after csv_next returned -1. */
const char *
csv_error(const struct csv_reader *r)
{
	return r->error;
}

static int
csv_fail(struct csv_reader *r, const char *msg)
{
	snprintf(r->error, sizeof(r->error), "%s", msg);
	csv_clear(r);
	return -1;
}

static int
csv_add_char(struct csv_reader *r, int c)
{
	if (c == '\0')
		return csv_fail(r, "NUL byte in the file");
	if (r->len >= CSV_MAX_FIELD)
		return csv_fail(r, "field longer than 4096 bytes");
	r->buf[r->len++] = (char)c;
	return 0;
}

static int
csv_end_field(struct csv_reader *r)
{
	if (r->nfields >= CSV_MAX_FIELDS)
		return csv_fail(r, "more than 64 fields");
	r->buf[r->len] = '\0';
	r->fields[r->nfields++] = xstrndup(r->buf, r->len);
	r->len = 0;
	return 0;
}

/* Skip a UTF-8 byte-order mark at the very start; -1 on a broken one. */
static int
csv_skip_bom(struct csv_reader *r)
{
	int	c;

	r->first = 0;
	if ((c = getc(r->fp)) != 0xef) {
		if (c != EOF)
			ungetc(c, r->fp);
		return 0;
	}
	if (getc(r->fp) != 0xbb || getc(r->fp) != 0xbf)
		return csv_fail(r, "the file starts with invalid UTF-8");
	return 0;
}

/* Read a quoted field's body (after the opening quote). */
static int
csv_quoted(struct csv_reader *r)
{
	int	c;

	for (;;) {
		if ((c = getc(r->fp)) == EOF)
			return csv_fail(r, "unterminated quoted field");
		if (c == '\n')
			r->line++;
		if (c != '"') {
			if (csv_add_char(r, c) == -1)
				return -1;
			continue;
		}
		if ((c = getc(r->fp)) == '"') {
			if (csv_add_char(r, '"') == -1)
				return -1;
			continue;
		}
		if (c == '\r') {
			if ((c = getc(r->fp)) != '\n')
				return csv_fail(r, "carriage return without "
				    "line feed after a quoted field");
		}
		if (c != ',' && c != '\n' && c != EOF)
			return csv_fail(r, "text after the closing quote of a "
			    "field");
		if (c != EOF)
			ungetc(c, r->fp);
		return 0;
	}
}

/*
 * Read the next record: 1 and the fields (valid until the next call), 0 at
 * the end of the file, -1 on an error (csv_error, csv_line).
 */
int
csv_next(struct csv_reader *r, char ***fields, int *nfields)
{
	int	c, in_field = 0;

	csv_clear(r);
	r->record_line = r->line;
	if (r->first && csv_skip_bom(r) == -1)
		return -1;
	for (;;) {
		c = getc(r->fp);
		if (c == '"' && r->len == 0 && !in_field) {
			in_field = 1;
			if (csv_quoted(r) == -1)
				return -1;
			continue;
		}
		if (c == '\r') {
			if ((c = getc(r->fp)) != '\n')
				return csv_fail(r, "carriage return without "
				    "line feed");
		}
		if (c == ',' || c == '\n' || c == EOF) {
			if (c == EOF && r->nfields == 0 && r->len == 0 &&
			    !in_field)
				return 0;
			if (c == '\n' && r->nfields == 0 && r->len == 0 &&
			    !in_field) {
				/* a blank line */
				r->line++;
				r->record_line = r->line;
				continue;
			}
			if (csv_end_field(r) == -1)
				return -1;
			in_field = 0;
			if (c == ',')
				continue;
			if (c == '\n')
				r->line++;
			*fields = r->fields;
			*nfields = r->nfields;
			return 1;
		}
		if (c == '"')
			return csv_fail(r, "quote inside an unquoted field");
		in_field = 1;
		if (csv_add_char(r, c) == -1)
			return -1;
	}
}
