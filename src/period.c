/*
 * kruispunt - calendar days and periods of days.
 *
 * Dates travel as ISO 8601 calendar dates (YYYY-MM-DD, as xsd:date without a
 * time zone); inside, a day is a number of days since 1970-01-01, so that
 * comparing periods is comparing integers. A period includes both ends; an
 * open-ended period ends at DAY_OPEN.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "period.h"

/* Days from 1970-01-01 to year-month-day (Howard Hinnant's algorithm). */
kp_day
day_from_ymd(int y, int m, int d)
{
	int	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
day_to_ymd(kp_day z, int *y, int *m, int *d)
{
	int	era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

static int
day_digits(const char *s, int n)
{
	int	v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Parse YYYY-MM-DD (years 1000-9999) strictly; 0 or -1. */
int
day_parse(const char *s, kp_day *out)
{
	int	y, m, d, y2, m2, d2;
	kp_day	k;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	if ((y = day_digits(s, 4)) < 1000 || (m = day_digits(s + 5, 2)) < 1 ||
	    m > 12 || (d = day_digits(s + 8, 2)) < 1 || d > 31)
		return -1;
	k = day_from_ymd(y, m, d);
	day_to_ymd(k, &y2, &m2, &d2);
	if (y2 != y || m2 != m || d2 != d)
		return -1;	/* February 30 and the like */
	*out = k;
	return 0;
}

/* Write a day as YYYY-MM-DD; an open end is written as an empty string. */
void
day_format(kp_day k, char buf[DAY_TEXT_LEN])
{
	int	y, m, d;

	if (k == DAY_OPEN) {
		buf[0] = '\0';
		return;
	}
	day_to_ymd(k, &y, &m, &d);
	if (y < 0 || y > 9999)
		y = 0;
	buf[0] = (char)('0' + y / 1000);
	buf[1] = (char)('0' + y / 100 % 10);
	buf[2] = (char)('0' + y / 10 % 10);
	buf[3] = (char)('0' + y % 10);
	buf[4] = '-';
	buf[5] = (char)('0' + m / 10);
	buf[6] = (char)('0' + m % 10);
	buf[7] = '-';
	buf[8] = (char)('0' + d / 10);
	buf[9] = (char)('0' + d % 10);
	buf[10] = '\0';
}

/* Today, in UTC. */
kp_day
day_today(void)
{
	return (kp_day)(time(NULL) / 86400);
}

/* Parse a period; end may be NULL or empty (open-ended). -1 if begin > end. */
int
period_parse(const char *begin, const char *end, struct period *p)
{
	if (day_parse(begin, &p->begin) == -1)
		return -1;
	if (end == NULL || *end == '\0')
		p->end = DAY_OPEN;
	else if (day_parse(end, &p->end) == -1)
		return -1;
	return p->begin <= p->end ? 0 : -1;
}

/* True when the two periods have at least one day in common. */
bool
period_overlaps(const struct period *a, const struct period *b)
{
	return a->begin <= b->end && b->begin <= a->end;
}

/* True when day k lies in the period. */
bool
period_contains(const struct period *p, kp_day k)
{
	return p->begin <= k && k <= p->end;
}

/* "2026-01-01/2026-12-31", or "2026-01-01/" when open-ended. */
void
period_format(const struct period *p, char *buf, size_t len)
{
	char	b[DAY_TEXT_LEN], e[DAY_TEXT_LEN];

	day_format(p->begin, b);
	day_format(p->end, e);
	snprintf(buf, len, "%s/%s", b, e);
}
