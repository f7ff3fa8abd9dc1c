/*
 * kruispunt - SSIN (INSZ/NISS) and BIS numbers.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_SSIN_H
#define KP_SSIN_H

#include <stdbool.h>

#define SSIN_LEN	11

enum ssin_kind {
	SSIN_NATIONAL_REGISTER,	/* a number of the National Register */
	SSIN_BIS,		/* a BIS number (Crossroads Bank register) */
};

enum ssin_status {
	SSIN_OK = 0,
	SSIN_ERR_EMPTY,
	SSIN_ERR_LENGTH,
	SSIN_ERR_NOT_DIGITS,
	SSIN_ERR_MONTH,
	SSIN_ERR_DATE,
	SSIN_ERR_COUNTER,
	SSIN_ERR_CHECK_DIGITS,
};

/* What an SSIN says about itself. */
struct ssin_info {
	enum ssin_kind	kind;
	int		year;		/* full year, from the check digits */
	int		month;		/* 1-12, or 0 when unknown */
	int		day;		/* 1-31, or 0 when unknown */
	int		counter;	/* 1-997 */
	char		sex;		/* 'M', 'F', or '?' when not encoded */
};

enum ssin_status ssin_parse(const char *, struct ssin_info *);
bool		 ssin_valid(const char *);
const char	*ssin_strerror(enum ssin_status);
int		 ssin_check_digits(const char *first9, bool born_after_1999);

#endif
