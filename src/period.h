/*
 * kruispunt - calendar days and periods of days.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_PERIOD_H
#define KP_PERIOD_H

#include <stdbool.h>
#include <limits.h>
#include <stddef.h>

/* Days since 1970-01-01 (proleptic Gregorian). */
typedef int kp_day;

#define DAY_OPEN	INT_MAX		/* the end of an open-ended period */
#define DAY_TEXT_LEN	11		/* "YYYY-MM-DD" and its NUL */

/* A period of days, both ends included; end is DAY_OPEN when open-ended. */
struct period {
	kp_day	begin;
	kp_day	end;
};

int	day_parse(const char *, kp_day *);
kp_day	day_from_ymd(int year, int month, int day);
void	day_format(kp_day, char buf[DAY_TEXT_LEN]);
kp_day	day_today(void);
int	period_parse(const char *begin, const char *end, struct period *);
bool	period_overlaps(const struct period *, const struct period *);
bool	period_contains(const struct period *, kp_day);
void	period_format(const struct period *, char *buf, size_t len);

#endif
