/*
 * kruispunt tests - the period module (days and periods).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <CUnit/CUnit.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "period.h"

static void
test_days(void)
{
	kp_day	k;
	char	buf[DAY_TEXT_LEN];

	CU_ASSERT_EQUAL(day_parse("1970-01-01", &k), 0);
	CU_ASSERT_EQUAL(k, 0);
	CU_ASSERT_EQUAL(day_parse("2000-03-01", &k), 0);
	CU_ASSERT_EQUAL(k, 11017);
	CU_ASSERT_EQUAL(day_parse("1969-12-31", &k), 0);
	CU_ASSERT_EQUAL(k, -1);
	CU_ASSERT_EQUAL(day_parse("2024-02-29", &k), 0);
	day_format(k, buf);
	CU_ASSERT_STRING_EQUAL(buf, "2024-02-29");
	/* every day of four centuries survives a round trip */
	for (k = day_from_ymd(1900, 1, 1); k < day_from_ymd(2300, 1, 1); k++) {
		kp_day back;
		day_format(k, buf);
		if (day_parse(buf, &back) != 0 || back != k) {
			CU_FAIL("round trip");
			break;
		}
	}
	CU_ASSERT_EQUAL(day_today(), (kp_day)(time(NULL) / 86400));
}

static void
test_bad_days(void)
{
	static const char *const bad[] = {
		"2023-02-29", "1900-02-29", "2026-04-31", "2026-13-01",
		"2026-00-10", "2026-01-00", "2026-1-01", "26-01-01",
		"2026/01/01", "2026-01-01T00:00:00", " 2026-01-01", "",
		"0999-01-01", "2026-01-0a",
	};
	size_t	i;
	kp_day	k;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(day_parse(bad[i], &k), -1);
	CU_ASSERT_EQUAL(day_parse(NULL, &k), -1);
}

static void
test_periods(void)
{
	struct period	a, b;
	char		buf[32];

	CU_ASSERT_EQUAL(period_parse("2026-01-01", "2026-01-31", &a), 0);
	CU_ASSERT_EQUAL(period_parse("2026-01-31", NULL, &b), 0);
	CU_ASSERT_EQUAL(b.end, DAY_OPEN);
	CU_ASSERT_TRUE(period_overlaps(&a, &b));	/* touching: one day */
	CU_ASSERT_EQUAL(period_parse("2026-02-01", "", &b), 0);
	CU_ASSERT_FALSE(period_overlaps(&a, &b));
	CU_ASSERT_FALSE(period_overlaps(&b, &a));
	CU_ASSERT_TRUE(period_contains(&a, a.begin));
	CU_ASSERT_TRUE(period_contains(&a, a.end));
	CU_ASSERT_FALSE(period_contains(&a, a.end + 1));
	CU_ASSERT_TRUE(period_contains(&b, DAY_OPEN - 1));
	/* begin after end is refused; one-day periods are fine */
	CU_ASSERT_EQUAL(period_parse("2026-02-01", "2026-01-31", &a), -1);
	CU_ASSERT_EQUAL(period_parse("2026-02-01", "2026-02-01", &a), 0);
	CU_ASSERT_EQUAL(period_parse("2026-02-30", NULL, &a), -1);
	period_format(&b, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "2026-02-01/");
	period_format(&a, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "2026-02-01/2026-02-01");
}

int
main(void)
{
	CU_pSuite	s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("period", NULL, NULL);
	CU_add_test(s, "days", test_days);
	CU_add_test(s, "impossible dates", test_bad_days);
	CU_add_test(s, "periods, overlaps, open ends", test_periods);
	return test_run();
}
