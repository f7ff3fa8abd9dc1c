/*
 * kruispunt tests - the ssin and enterprise modules.
 *
 * The numbers are invented: computed for this test with the check-digit rule
 * (by an independent script), not taken from any person.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "enterprise.h"
#include "ssin.h"

static void
expect(const char *s, enum ssin_status want)
{
	enum ssin_status got = ssin_parse(s, NULL);

	if (got != want)
		fprintf(stderr, "\n  %s: got %s, want %s\n", s,
		    ssin_strerror(got), ssin_strerror(want));
	CU_ASSERT_EQUAL(got, want);
}

static void
test_valid_1900s(void)
{
	struct ssin_info i;

	CU_ASSERT_EQUAL_FATAL(ssin_parse("40010199714", &i), SSIN_OK);
	CU_ASSERT_EQUAL(i.kind, SSIN_NATIONAL_REGISTER);
	CU_ASSERT_EQUAL(i.year, 1940);
	CU_ASSERT_EQUAL(i.month, 1);
	CU_ASSERT_EQUAL(i.day, 1);
	CU_ASSERT_EQUAL(i.counter, 997);
	CU_ASSERT_EQUAL(i.sex, 'M');
	CU_ASSERT_EQUAL_FATAL(ssin_parse("40010199615", &i), SSIN_OK);
	CU_ASSERT_EQUAL(i.sex, 'F');
	CU_ASSERT_TRUE(ssin_valid("96022999172"));	/* 1996-02-29, leap */
}

static void
test_valid_2000s(void)
{
	struct ssin_info i;

	CU_ASSERT_EQUAL_FATAL(ssin_parse("12030499560", &i), SSIN_OK);
	CU_ASSERT_EQUAL(i.year, 2012);
	CU_ASSERT_EQUAL(i.month, 3);
	CU_ASSERT_EQUAL(i.day, 4);
	/* 2000-02-29 exists (2000 is a leap year), 1900-02-29 does not:
	 * the check digits decide the century. */
	CU_ASSERT_EQUAL_FATAL(ssin_parse("00022999323", &i), SSIN_OK);
	CU_ASSERT_EQUAL(i.year, 2000);
	expect("00022999391", SSIN_ERR_DATE);
}

static void
test_bis(void)
{
	struct ssin_info i;

	CU_ASSERT_EQUAL_FATAL(ssin_parse("40210199757", &i), SSIN_OK);
	CU_ASSERT_EQUAL(i.kind, SSIN_BIS);
	CU_ASSERT_EQUAL(i.month, 1);
	CU_ASSERT_EQUAL(i.sex, '?');
	CU_ASSERT_EQUAL_FATAL(ssin_parse("40410199604", &i), SSIN_OK);
	CU_ASSERT_EQUAL(i.kind, SSIN_BIS);
	CU_ASSERT_EQUAL(i.sex, 'F');
	CU_ASSERT_EQUAL_FATAL(ssin_parse("10451599579", &i), SSIN_OK);
	CU_ASSERT_EQUAL(i.year, 2010);
	CU_ASSERT_EQUAL(i.month, 5);
	CU_ASSERT_EQUAL(i.day, 15);
	expect("40330199744", SSIN_ERR_MONTH);
}

static void
test_lengths_and_characters(void)
{
	expect(NULL, SSIN_ERR_EMPTY);
	expect("", SSIN_ERR_EMPTY);
	expect("4001019971", SSIN_ERR_LENGTH);
	expect("400101997140", SSIN_ERR_LENGTH);
	expect("4001019971a", SSIN_ERR_NOT_DIGITS);
	expect("40.01.01-997.14", SSIN_ERR_NOT_DIGITS);
	expect(" 40010199714", SSIN_ERR_NOT_DIGITS);
	expect("40010199714\n", SSIN_ERR_NOT_DIGITS);
}

static void
test_impossible_dates(void)
{
	expect("99022999138", SSIN_ERR_DATE);	/* 1999-02-29 */
	expect("40043199708", SSIN_ERR_DATE);	/* April 31 */
	expect("40013299754", SSIN_ERR_DATE);	/* day 32 */
	expect("40130199701", SSIN_ERR_MONTH);	/* month 13 */
	expect("40000599781", SSIN_ERR_DATE);	/* day without a month */
	/* Unknown month and day, or unknown day, are written as 00. */
	expect("40000099737", SSIN_OK);
	expect("40050099772", SSIN_OK);
}

static void
test_counter_and_check_digits(void)
{
	expect("40010100041", SSIN_ERR_COUNTER);
	expect("40010199813", SSIN_ERR_COUNTER);
	expect("40010199715", SSIN_ERR_CHECK_DIGITS);
	expect("40010199700", SSIN_ERR_CHECK_DIGITS);
	CU_ASSERT_EQUAL(ssin_check_digits("400101997", false), 14);
	CU_ASSERT_EQUAL(ssin_check_digits("120304995", true), 60);
}

static void
test_every_status_has_text(void)
{
	int	s;

	for (s = SSIN_OK; s <= SSIN_ERR_CHECK_DIGITS; s++) {
		CU_ASSERT_PTR_NOT_NULL(ssin_strerror((enum ssin_status)s));
		CU_ASSERT_STRING_NOT_EQUAL(ssin_strerror((enum ssin_status)s),
		    "invalid");
	}
}

static void
test_enterprise_numbers(void)
{
	CU_ASSERT_TRUE(enterprise_number_valid("0123456749"));
	CU_ASSERT_TRUE(enterprise_number_valid("1234567894"));
	CU_ASSERT_FALSE(enterprise_number_valid("0123456789"));	/* check */
	CU_ASSERT_FALSE(enterprise_number_valid("2234567894"));	/* first digit */
	CU_ASSERT_FALSE(enterprise_number_valid("012345674"));	/* length */
	CU_ASSERT_FALSE(enterprise_number_valid("01234567490"));
	CU_ASSERT_FALSE(enterprise_number_valid("012345674a"));
	CU_ASSERT_FALSE(enterprise_number_valid(""));
	CU_ASSERT_FALSE(enterprise_number_valid(NULL));
	CU_ASSERT_EQUAL(enterprise_check_digits("01234567"), 49);
}

int
main(void)
{
	CU_pSuite	s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("ssin", NULL, NULL);
	CU_add_test(s, "valid numbers born in the 1900s", test_valid_1900s);
	CU_add_test(s, "valid numbers born from 2000", test_valid_2000s);
	CU_add_test(s, "BIS numbers", test_bis);
	CU_add_test(s, "wrong lengths and characters", test_lengths_and_characters);
	CU_add_test(s, "impossible dates", test_impossible_dates);
	CU_add_test(s, "counter and check digits", test_counter_and_check_digits);
	CU_add_test(s, "every status has a text", test_every_status_has_text);
	s = CU_add_suite("enterprise", NULL, NULL);
	CU_add_test(s, "enterprise numbers", test_enterprise_numbers);
	return test_run();
}
