/*
 * kruispunt fuzz - SSIN and BIS number parsing (src/ssin.c).
 *
 * Checks, beyond memory safety, that ssin_valid() agrees with ssin_parse()
 * and that an accepted number is 11 digits with sane fields.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssin.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* One input: as a C string (NUL-terminated copy), parsed and validated. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssin_info	 info;
	enum ssin_status	 st;
	char			*s;
	size_t			 i;

	if (size > 64)
		return 0;
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	st = ssin_parse(s, &info);
	if ((st == SSIN_OK) != ssin_valid(s))
		abort();
	(void)ssin_strerror(st);
	if (st == SSIN_OK) {
		if (strlen(s) != SSIN_LEN)
			abort();
		for (i = 0; i < SSIN_LEN; i++)
			if (s[i] < '0' || s[i] > '9')
				abort();
		if (info.month < 0 || info.month > 12 || info.day < 0 ||
		    info.day > 31 || info.counter < 1 || info.counter > 998)
			abort();
	}
	if (size >= 9) {
		memcpy(s, data, 9);
		s[9] = '\0';
		(void)ssin_check_digits(s, data[0] & 1);
	}
	free(s);
	return 0;
}
