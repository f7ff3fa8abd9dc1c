/*
 * kruispunt - reading CSV files (RFC 4180) for the directory import.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_CSV_H
#define KP_CSV_H

#include <stdio.h>

#define CSV_MAX_FIELDS	64
#define CSV_MAX_FIELD	4096

struct csv_reader;

struct csv_reader *csv_open(FILE *);
int		 csv_next(struct csv_reader *, char ***fields, int *nfields);
int		 csv_line(const struct csv_reader *);
const char	*csv_error(const struct csv_reader *);
void		 csv_close(struct csv_reader *);

#endif
