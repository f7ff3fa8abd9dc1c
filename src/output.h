/*
 * kruispunt - tabular output of the admin tool: aligned text for people,
 * CSV and JSON for machines.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_OUTPUT_H
#define KP_OUTPUT_H

#include <stdio.h>

enum output_format {
	OUTPUT_TABLE,
	OUTPUT_CSV,
	OUTPUT_JSON,
};

struct output;

int		 output_format_parse(const char *, enum output_format *);
struct output	*output_open(enum output_format, FILE *, int ncols,
		    const char *const *columns);
void		 output_row(struct output *, const char *const *values);
void		 output_close(struct output *);

#endif
