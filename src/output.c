/*
 * kruispunt - tabular output of the admin tool: aligned text for people,
 * CSV (RFC 4180 quoting, LF line ends) and JSON (an array of objects) for machines.
 *
 * Table output is buffered to align the columns; CSV and JSON rows are
 * written as they come, so exports of any size stream.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "xmalloc.h"

struct output {
	enum output_format	 format;
	FILE			*fp;
	int			 ncols;
	char			**columns;
	char			***rows;	/* table only */
	size_t			 nrows;
	size_t			 cap;
};

/* Parse "table", "csv" or "json"; 0 or -1. */
int
output_format_parse(const char *s, enum output_format *out)
{
	if (strcmp(s, "table") == 0)
		*out = OUTPUT_TABLE;
	else if (strcmp(s, "csv") == 0)
		*out = OUTPUT_CSV;
	else if (strcmp(s, "json") == 0)
		*out = OUTPUT_JSON;
	else
		return -1;
	return 0;
}

static void
output_csv_field(FILE *fp, const char *v)
{
	if (v == NULL)
		return;
	if (strpbrk(v, ",\"\r\n") == NULL) {
		fputs(v, fp);
		return;
	}
	fputc('"', fp);
	for (; *v != '\0'; v++) {
		if (*v == '"')
			fputc('"', fp);
		fputc(*v, fp);
	}
	fputc('"', fp);
}

static void
output_csv_row(struct output *o, const char *const *v)
{
	int	i;

	for (i = 0; i < o->ncols; i++) {
		if (i > 0)
			fputc(',', o->fp);
		output_csv_field(o->fp, v[i]);
	}
	fputc('\n', o->fp);
}

static void
output_json_string(FILE *fp, const char *v)
{
	unsigned char	c;

	if (v == NULL) {
		fputs("null", fp);
		return;
	}
	fputc('"', fp);
	for (; (c = (unsigned char)*v) != '\0'; v++) {
		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c < 0x20)
			fprintf(fp, "\\u%04x", c);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

/* Start a result with these column names. */
struct output *
output_open(enum output_format format, FILE *fp, int ncols,
    const char *const *columns)
{
	struct output	*o;
	int		 i;

	o = xcalloc(1, sizeof(*o));
	o->format = format;
	o->fp = fp;
	o->ncols = ncols;
	o->columns = xcalloc((size_t)ncols, sizeof(char *));
	for (i = 0; i < ncols; i++)
		o->columns[i] = xstrdup(columns[i]);
	if (format == OUTPUT_CSV)
		output_csv_row(o, columns);
	else if (format == OUTPUT_JSON)
		fputc('[', fp);
	return o;
}

/* One row; values[i] may be NULL (empty, or JSON null). */
void
output_row(struct output *o, const char *const *values)
{
	char	**row;
	int	  i;

	switch (o->format) {
	case OUTPUT_CSV:
		output_csv_row(o, values);
		break;
	case OUTPUT_JSON:
		fputs(o->nrows == 0 ? "\n  {" : ",\n  {", o->fp);
		for (i = 0; i < o->ncols; i++) {
			if (i > 0)
				fputs(", ", o->fp);
			output_json_string(o->fp, o->columns[i]);
			fputs(": ", o->fp);
			output_json_string(o->fp, values[i]);
		}
		fputc('}', o->fp);
		o->nrows++;
		break;
	case OUTPUT_TABLE:
		if (o->nrows == o->cap) {
			o->cap = o->cap ? o->cap * 2 : 16;
			o->rows = xreallocarray(o->rows, o->cap, sizeof(*o->rows));
		}
		row = xcalloc((size_t)o->ncols, sizeof(char *));
		for (i = 0; i < o->ncols; i++)
			row[i] = xstrdup(values[i] != NULL ? values[i] : "");
		o->rows[o->nrows++] = row;
		break;
	}
}

static void
output_table_line(struct output *o, char *const *v, const size_t *width)
{
	int	i;

	for (i = 0; i < o->ncols; i++) {
		if (i == o->ncols - 1)
			fprintf(o->fp, "%s\n", v[i]);
		else
			fprintf(o->fp, "%-*s  ", (int)width[i], v[i]);
	}
}

/* Finish the result (table output is printed here) and free it. */
void
output_close(struct output *o)
{
	size_t	*width, r;
	int	 i;

	if (o->format == OUTPUT_JSON)
		fputs(o->nrows == 0 ? "]\n" : "\n]\n", o->fp);
	if (o->format == OUTPUT_TABLE) {
		width = xcalloc((size_t)o->ncols, sizeof(size_t));
		for (i = 0; i < o->ncols; i++) {
			width[i] = strlen(o->columns[i]);
			for (r = 0; r < o->nrows; r++)
				if (strlen(o->rows[r][i]) > width[i])
					width[i] = strlen(o->rows[r][i]);
		}
		output_table_line(o, o->columns, width);
		for (r = 0; r < o->nrows; r++)
			output_table_line(o, o->rows[r], width);
		free(width);
	}
	for (r = 0; r < o->nrows && o->format == OUTPUT_TABLE; r++) {
		for (i = 0; i < o->ncols; i++)
			free(o->rows[r][i]);
		free(o->rows[r]);
	}
	free(o->rows);
	for (i = 0; i < o->ncols; i++)
		free(o->columns[i]);
	free(o->columns);
	fflush(o->fp);
	free(o);
}
