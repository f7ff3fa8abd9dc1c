/*
 * kruispunt fuzz - the RFC 4180 CSV reader of the directory import
 * (src/csv.c), fed from memory through fmemopen().
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* One input: read every record; each field must be a C string within the
 * reader's limits. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_reader	*r;
	FILE			*fp;
	char			**fields, *copy;
	int			 n, i, rc, records = 0;

	if (size == 0 || size > 1 << 20)
		return 0;
	copy = malloc(size);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	if ((fp = fmemopen(copy, size, "r")) == NULL) {
		free(copy);
		return 0;
	}
	if ((r = csv_open(fp)) != NULL) {
		while ((rc = csv_next(r, &fields, &n)) == 1) {
			if (n < 0 || n > CSV_MAX_FIELDS)
				abort();
			for (i = 0; i < n; i++)
				if (strlen(fields[i]) > CSV_MAX_FIELD)
					abort();
			(void)csv_line(r);
			if (++records > 100000)
				break;
		}
		if (rc == -1 && csv_error(r) == NULL)
			abort();
		csv_close(r);
	}
	fclose(fp);
	free(copy);
	return 0;
}
