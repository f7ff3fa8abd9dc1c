/*
 * kruispunt - Belgian enterprise numbers (KBO/BCE), which identify institutions.
 *
 * Ten digits; the first is 0 or 1, the last two are the check digits:
 * 97 - (the first eight digits mod 97).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <string.h>

#include "enterprise.h"

/* The check digits (1-97) of the first eight digits. */
int
enterprise_check_digits(const char *first8)
{
	unsigned long	n = 0;
	int		i;

	for (i = 0; i < 8; i++)
		n = n * 10 + (unsigned long)(first8[i] - '0');
	return 97 - (int)(n % 97);
}

/* True for a well-formed enterprise number with correct check digits. */
bool
enterprise_number_valid(const char *s)
{
	int	i;

	if (s == NULL || strlen(s) != ENTERPRISE_LEN)
		return false;
	for (i = 0; i < ENTERPRISE_LEN; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	if (s[0] != '0' && s[0] != '1')
		return false;
	return (s[8] - '0') * 10 + (s[9] - '0') == enterprise_check_digits(s);
}
