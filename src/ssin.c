/*
 * kruispunt - SSIN (INSZ/NISS) and BIS numbers.
 *
 * An SSIN is 11 digits: YYMMDD (birth date), a 3-digit counter (odd for
 * men, even for women) and 2 check digits. The check digits are
 * 97 - (the first 9 digits mod 97); for persons born from 2000 on, a 2 is put
 * in front of the 9 digits first. The check digits therefore also tell the
 * century. A birth date that is not fully known is written with 00 for the
 * unknown month and/or day.
 *
 * A BIS number (for persons not in the National Register) has the same form
 * with 20 added to the month when the sex was not known at registration, or
 * 40 when it was.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdbool.h>
#include <string.h>

#include "ssin.h"

/* The check digits (1-97) of nine digits, with or without the 2000 prefix. */
int
ssin_check_digits(const char *first9, bool born_after_1999)
{
	unsigned long	n = 0;
	int		i;

	for (i = 0; i < 9; i++)
		n = n * 10 + (unsigned long)(first9[i] - '0');
	if (born_after_1999)
		n += 2000000000UL;
	return 97 - (int)(n % 97);
}

static int
ssin_two(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

static bool
ssin_leap(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int
ssin_days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (month == 2 && ssin_leap(year))
		return 29;
	return days[month - 1];
}

/*
 * Check the date part once the year is known: month 0 means the month (and so
 * the day) is unknown; day 0 means the day is unknown.
 */
static enum ssin_status
ssin_check_date(int year, int month, int day)
{
	if (month == 0)
		return day == 0 ? SSIN_OK : SSIN_ERR_DATE;
	if (day == 0)
		return SSIN_OK;
	if (day > ssin_days_in_month(year, month))
		return SSIN_ERR_DATE;
	return SSIN_OK;
}

/* Parse and check an SSIN or BIS number; fills info (may be NULL) on success. */
enum ssin_status
ssin_parse(const char *s, struct ssin_info *info)
{
	struct ssin_info i;
	int		 raw_month, check, yy;
	size_t		 len, k;
	enum ssin_status st;

	if (s == NULL || *s == '\0')
		return SSIN_ERR_EMPTY;
	len = strlen(s);
	for (k = 0; k < len; k++) {
		if (s[k] < '0' || s[k] > '9')
			return SSIN_ERR_NOT_DIGITS;
	}
	if (len != SSIN_LEN)
		return SSIN_ERR_LENGTH;

	memset(&i, 0, sizeof(i));
	yy = ssin_two(s);
	raw_month = ssin_two(s + 2);
	i.day = ssin_two(s + 4);
	i.counter = (s[6] - '0') * 100 + (s[7] - '0') * 10 + (s[8] - '0');
	check = ssin_two(s + 9);

	if (raw_month <= 12) {
		i.kind = SSIN_NATIONAL_REGISTER;
		i.month = raw_month;
		i.sex = (i.counter % 2) ? 'M' : 'F';
	} else if (raw_month >= 20 && raw_month <= 32) {
		i.kind = SSIN_BIS;
		i.month = raw_month - 20;
		i.sex = '?';
	} else if (raw_month >= 40 && raw_month <= 52) {
		i.kind = SSIN_BIS;
		i.month = raw_month - 40;
		i.sex = (i.counter % 2) ? 'M' : 'F';
	} else
		return SSIN_ERR_MONTH;
	if (i.day > 31)
		return SSIN_ERR_DATE;
	if (i.counter == 0 || i.counter > 997)
		return SSIN_ERR_COUNTER;

	if (check == ssin_check_digits(s, false))
		i.year = 1900 + yy;
	else if (check == ssin_check_digits(s, true))
		i.year = 2000 + yy;
	else
		return SSIN_ERR_CHECK_DIGITS;

	if ((st = ssin_check_date(i.year, i.month, i.day)) != SSIN_OK)
		return st;
	if (info != NULL)
		*info = i;
	return SSIN_OK;
}

/* True for a valid SSIN or BIS number. */
bool
ssin_valid(const char *s)
{
	return ssin_parse(s, NULL) == SSIN_OK;
}

/* What is wrong, for people. */
const char *
ssin_strerror(enum ssin_status st)
{
	switch (st) {
	case SSIN_OK:
		return "valid";
	case SSIN_ERR_EMPTY:
		return "empty";
	case SSIN_ERR_LENGTH:
		return "not 11 digits long";
	case SSIN_ERR_NOT_DIGITS:
		return "contains a character that is not a digit";
	case SSIN_ERR_MONTH:
		return "impossible month (not 00-12, BIS 20-32 or 40-52)";
	case SSIN_ERR_DATE:
		return "impossible birth date";
	case SSIN_ERR_COUNTER:
		return "impossible counter (not 001-997)";
	case SSIN_ERR_CHECK_DIGITS:
		return "wrong check digits";
	}
	return "invalid";
}
