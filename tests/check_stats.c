/*
 * kruispunt tests - the stats module without a database: small-count
 * suppression and the rule that no suppressed count can be recovered by
 * subtraction, percentile ranks, keyed pseudonyms and key files, age bands
 * and sex, and the counting of persons and overlaps.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "ssin.h"
#include "stats.h"

/* A valid SSIN born on the given day, with a counter. */
static void
make_ssin(int y, int m, int d, int counter, char out[12])
{
	char	first9[10];

	snprintf(first9, sizeof(first9), "%02d%02d%02d%03d", y % 100, m, d,
	    counter);
	snprintf(out, 12, "%s%02d", first9, ssin_check_digits(first9,
	    y >= 2000));
}

/* Counts below the threshold, zero included, are small. */
static void
test_primary(void)
{
	struct stats_cell	c[4] = { { 0, 0 }, { 9, 0 }, { 10, 0 },
				    { 1234, 0 } };
	char			buf[STATS_CELL_TEXT];

	stats_suppress(c, 4, NULL, 0, 10);
	CU_ASSERT_EQUAL(c[0].state, STATS_SMALL);	/* zero is small too */
	CU_ASSERT_EQUAL(c[1].state, STATS_SMALL);
	CU_ASSERT_EQUAL(c[2].state, STATS_SHOWN);	/* at the threshold */
	CU_ASSERT_EQUAL(c[3].state, STATS_SHOWN);
	CU_ASSERT_STRING_EQUAL(stats_cell_text(&c[1], 10, buf), "<10");
	CU_ASSERT_STRING_EQUAL(stats_cell_text(&c[3], 10, buf), "1234");
	c[3].state = STATS_HIDDEN;
	CU_ASSERT_STRING_EQUAL(stats_cell_text(&c[3], 10, buf), "x");
	/* a threshold of 0 is taken as 1: only zeros are small */
	stats_suppress(c, 4, NULL, 0, 0);
	CU_ASSERT_EQUAL(c[0].state, STATS_SMALL);
	CU_ASSERT_EQUAL(c[1].state, STATS_SHOWN);
}

/* Totals: one small part hides the total, and totals of totals follow. */
static void
test_totals(void)
{
	/* 0-2: parts of 3; 4-5 parts of 6; 7 = 3 + 6 */
	struct stats_cell	c[8] = { { 3, 0 }, { 50, 0 }, { 60, 0 },
				    { 113, 0 }, { 40, 0 }, { 45, 0 },
				    { 85, 0 }, { 198, 0 } };
	struct stats_link	l[7] = { { 3, 0, STATS_PART },
				    { 3, 1, STATS_PART }, { 3, 2, STATS_PART },
				    { 6, 4, STATS_PART }, { 6, 5, STATS_PART },
				    { 7, 3, STATS_PART }, { 7, 6, STATS_PART } };

	stats_suppress(c, 8, l, 7, 10);
	CU_ASSERT_EQUAL(c[0].state, STATS_SMALL);
	CU_ASSERT_EQUAL(c[1].state, STATS_SHOWN);
	CU_ASSERT_EQUAL(c[2].state, STATS_SHOWN);
	/* 113 - 50 - 60 would give the 3 back */
	CU_ASSERT_EQUAL(c[3].state, STATS_HIDDEN);
	CU_ASSERT_EQUAL(c[6].state, STATS_SHOWN);
	/* 198 - 85 would give 113 back, and with it the 3 */
	CU_ASSERT_EQUAL(c[7].state, STATS_HIDDEN);
	/* the links in another order give the same result */
	{
		struct stats_link r[7];
		int i;
		for (i = 0; i < 7; i++)
			r[i] = l[6 - i];
		stats_suppress(c, 8, r, 7, 10);
		CU_ASSERT_EQUAL(c[3].state, STATS_HIDDEN);
		CU_ASSERT_EQUAL(c[7].state, STATS_HIDDEN);
		CU_ASSERT_EQUAL(c[6].state, STATS_SHOWN);
	}
	/* no small part: every total shown */
	c[0].value = 10;
	stats_suppress(c, 8, l, 7, 10);
	CU_ASSERT_EQUAL(c[3].state, STATS_SHOWN);
	CU_ASSERT_EQUAL(c[7].state, STATS_SHOWN);
}

/*
 * Random two-way tables with row, column and grand totals: whatever the
 * counts, no shown total has a part that is not shown, so no equation a
 * reader can write with the shown numbers holds a suppressed one.
 */
static void
test_no_recovery(void)
{
	enum { R = 4, C = 5 };
	struct stats_cell	c[R * C + R + C + 1];
	struct stats_link	l[2 * R * C + R + C];
	size_t			nl, i, k;
	int			r, col, trial, bad = 0, hidden = 0;

	srand(7);
	for (trial = 0; trial < 2000; trial++) {
		size_t grand = R * C + R + C;
		memset(c, 0, sizeof(c));
		nl = 0;
		for (r = 0; r < R; r++)
			for (col = 0; col < C; col++) {
				size_t cell = (size_t)(r * C + col);
				c[cell].value = (uint64_t)(rand() % 40);
				c[R * C + r].value += c[cell].value;
				c[R * C + R + col].value += c[cell].value;
				c[grand].value += c[cell].value;
				l[nl++] = (struct stats_link){ R * C + (size_t)r,
				    cell, STATS_PART };
				l[nl++] = (struct stats_link){ R * C + R +
				    (size_t)col, cell, STATS_PART };
			}
		for (r = 0; r < R; r++)
			l[nl++] = (struct stats_link){ grand, R * C + (size_t)r,
			    STATS_PART };
		for (col = 0; col < C; col++)
			l[nl++] = (struct stats_link){ grand, R * C + R +
			    (size_t)col, STATS_PART };
		stats_suppress(c, grand + 1, l, nl, 10);
		for (k = 0; k < nl; k++)
			if (c[l[k].outer].state == STATS_SHOWN &&
			    c[l[k].inner].state != STATS_SHOWN)
				bad++;
		for (i = 0; i <= grand; i++) {
			if (c[i].state == STATS_SMALL && c[i].value >= 10)
				bad++;
			if (c[i].state == STATS_SHOWN && c[i].value < 10)
				bad++;
			hidden += c[i].state == STATS_HIDDEN;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(hidden > 0);	/* the tables did need secondary suppression */
}

/* Overlaps: a small difference from a quality's count hides the overlap. */
static void
test_overlaps(void)
{
	/* A, B, A-and-B */
	struct stats_cell	c[3];
	struct stats_link	l[2] = { { 0, 2, STATS_SUBSET },
				    { 1, 2, STATS_SUBSET } };

	c[0].value = 100; c[1].value = 200; c[2].value = 95;
	stats_suppress(c, 3, l, 2, 10);
	/* 100 - 95 = 5 persons in A and not in B */
	CU_ASSERT_EQUAL(c[2].state, STATS_HIDDEN);
	CU_ASSERT_EQUAL(c[0].state, STATS_SHOWN);
	CU_ASSERT_EQUAL(c[1].state, STATS_SHOWN);
	c[2].value = 100;	/* A within B: a difference of 0 shows nobody */
	stats_suppress(c, 3, l, 2, 10);
	CU_ASSERT_EQUAL(c[2].state, STATS_SHOWN);
	c[2].value = 90;	/* 10 and 110 persons outside the overlap */
	stats_suppress(c, 3, l, 2, 10);
	CU_ASSERT_EQUAL(c[2].state, STATS_SHOWN);
	c[1].value = 97; c[2].value = 90;	/* B: 7 outside */
	stats_suppress(c, 3, l, 2, 10);
	CU_ASSERT_EQUAL(c[2].state, STATS_HIDDEN);
	c[0].value = 5; c[1].value = 500; c[2].value = 5;
	stats_suppress(c, 3, l, 2, 10);
	CU_ASSERT_EQUAL(c[0].state, STATS_SMALL);
	CU_ASSERT_EQUAL(c[2].state, STATS_SMALL);
	CU_ASSERT_EQUAL(c[1].state, STATS_SHOWN);
}

/* Nearest ranks of the 50th and 99th percentiles. */
static void
test_rank(void)
{
	CU_ASSERT_EQUAL(stats_rank(0, 50), 0);
	CU_ASSERT_EQUAL(stats_rank(1, 50), 1);
	CU_ASSERT_EQUAL(stats_rank(1, 99), 1);
	CU_ASSERT_EQUAL(stats_rank(10, 50), 5);
	CU_ASSERT_EQUAL(stats_rank(10, 99), 10);
	CU_ASSERT_EQUAL(stats_rank(100, 50), 50);
	CU_ASSERT_EQUAL(stats_rank(100, 99), 99);
	CU_ASSERT_EQUAL(stats_rank(101, 50), 51);
	CU_ASSERT_EQUAL(stats_rank(1000, 99), 990);
}

/* HMAC-SHA-256 itself (RFC 4231, test case 2), and keys that differ. */
static void
test_pseudonym(void)
{
	unsigned char	 k1[32], k2[32];
	char		 a[STATS_PSEUDONYM_LEN], b[STATS_PSEUDONYM_LEN];

	stats_pseudonym((const unsigned char *)"Jefe", 4,
	    "what do ya want for nothing?", a);
	CU_ASSERT_STRING_EQUAL(a, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843");
	memset(k1, 'k', sizeof(k1));
	memcpy(k2, k1, sizeof(k2));
	k2[31] = 'K';
	stats_pseudonym(k1, sizeof(k1), "78031914571", a);
	stats_pseudonym(k1, sizeof(k1), "78031914571", b);
	CU_ASSERT_STRING_EQUAL(a, b);
	CU_ASSERT_EQUAL(strlen(a), 64);
	CU_ASSERT_PTR_NULL(strstr(a, "78031914571"));
	stats_pseudonym(k2, sizeof(k2), "78031914571", b);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	stats_pseudonym(k1, sizeof(k1), "78031914472", b);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
}

/* Write a key file with a mode; its path. */
static char *
key_file(const char *name, const char *content, size_t len, mode_t mode)
{
	char	*path = test_write_file(name, "");
	FILE	*fp = fopen(path, "w");

	fwrite(content, 1, len, fp);
	fclose(fp);
	chmod(path, mode);
	return path;
}

/* Key files: good ones, and every refusal. */
static void
test_key_file(void)
{
	static const char k32[] = "0123456789abcdef0123456789ABCDEF";
	unsigned char	*key, *key2;
	size_t		 len, len2;
	char		 err[512], *p, big[STATS_KEY_MAX + 2];

	p = key_file("good.key", k32, 32, 0600);
	CU_ASSERT_EQUAL(stats_key_load(p, &key, &len, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(len, 32);
	CU_ASSERT_EQUAL(memcmp(key, k32, 32), 0);
	free(p);
	/* a final line end is not part of the key */
	p = key_file("newline.key", "0123456789abcdef0123456789ABCDEF\n", 33,
	    0400);
	CU_ASSERT_EQUAL(stats_key_load(p, &key2, &len2, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(len2, 32);
	CU_ASSERT_EQUAL(memcmp(key, key2, 32), 0);
	stats_key_free(key, len);
	stats_key_free(key2, len2);
	free(p);

	p = key_file("short.key", k32, 31, 0600);
	CU_ASSERT_EQUAL(stats_key_load(p, &key, &len, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "too short (31 bytes"));
	CU_ASSERT_PTR_NULL(key);
	free(p);
	p = key_file("open.key", k32, 32, 0644);
	CU_ASSERT_EQUAL(stats_key_load(p, &key, &len, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "readable or writable by others "
	    "(mode 0644)"));
	free(p);
	p = key_file("group.key", k32, 32, 0640);
	CU_ASSERT_EQUAL(stats_key_load(p, &key, &len, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "mode 0640"));
	free(p);
	memset(big, 'z', sizeof(big));
	p = key_file("long.key", big, sizeof(big), 0600);
	CU_ASSERT_EQUAL(stats_key_load(p, &key, &len, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "longer than"));
	free(p);
	CU_ASSERT_EQUAL(stats_key_load("/nonexistent/k", &key, &len, err,
	    sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "No such file"));
	chmod(test_tmpdir(), 0700);
	CU_ASSERT_EQUAL(stats_key_load(test_tmpdir(), &key, &len, err,
	    sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a regular file"));
}

/* Age bands at a date, top-coded; sex from the SSIN. */
static void
test_age_sex(void)
{
	struct ssin_info	si;
	char			s[12], band[8];

	make_ssin(1981, 6, 15, 997, s);		/* odd counter: a man */
	CU_ASSERT_EQUAL_FATAL(ssin_parse(s, &si), SSIN_OK);
	CU_ASSERT_STRING_EQUAL(stats_sex(&si), "M");
	CU_ASSERT_STRING_EQUAL(stats_age_band(&si, 2026, 6, 14, band), "40-44");
	CU_ASSERT_STRING_EQUAL(stats_age_band(&si, 2026, 6, 15, band), "45-49");
	CU_ASSERT_STRING_EQUAL(stats_age_band(&si, 1981, 6, 15, band), "0-4");
	CU_ASSERT_STRING_EQUAL(stats_age_band(&si, 1981, 6, 14, band),
	    "unknown");
	CU_ASSERT_STRING_EQUAL(stats_age_band(&si, 2071, 6, 15, band), "90+");
	CU_ASSERT_STRING_EQUAL(stats_age_band(&si, 2071, 6, 14, band), "85-89");
	make_ssin(2005, 2, 28, 2, s);		/* even counter: a woman */
	CU_ASSERT_EQUAL_FATAL(ssin_parse(s, &si), SSIN_OK);
	CU_ASSERT_STRING_EQUAL(stats_sex(&si), "F");
	CU_ASSERT_STRING_EQUAL(stats_age_band(&si, 2026, 3, 1, band), "20-24");
	/* a BIS number without the sex (month + 20), birth month unknown */
	make_ssin(1990, 20, 0, 11, s);
	CU_ASSERT_EQUAL_FATAL(ssin_parse(s, &si), SSIN_OK);
	CU_ASSERT_EQUAL(si.kind, SSIN_BIS);
	CU_ASSERT_STRING_EQUAL(stats_sex(&si), "unknown");
	CU_ASSERT_STRING_EQUAL(stats_age_band(&si, 2026, 1, 1, band), "35-39");
	/* a BIS number with the sex (month + 40) */
	make_ssin(1990, 45, 3, 12, s);
	CU_ASSERT_EQUAL_FATAL(ssin_parse(s, &si), SSIN_OK);
	CU_ASSERT_STRING_EQUAL(stats_sex(&si), "F");
}

/* SSINs to numbers and back. */
static void
test_ssin_number(void)
{
	uint64_t	v;
	char		s[12];

	CU_ASSERT_EQUAL(stats_ssin_number("00022999323", &v), 0);
	CU_ASSERT_EQUAL(v, 22999323ULL);
	stats_ssin_text(v, s);
	CU_ASSERT_STRING_EQUAL(s, "00022999323");
	CU_ASSERT_EQUAL(stats_ssin_number("99999999999", &v), 0);
	stats_ssin_text(v, s);
	CU_ASSERT_STRING_EQUAL(s, "99999999999");
	CU_ASSERT_EQUAL(stats_ssin_number("0002299932", &v), -1);
	CU_ASSERT_EQUAL(stats_ssin_number("000229993234", &v), -1);
	CU_ASSERT_EQUAL(stats_ssin_number("0002299932x", &v), -1);
}

/* qsort order of integers, to check the radix sort against. */
static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The radix sort agrees with qsort. */
static void
test_sort(void)
{
	enum { N = 100000 };
	uint64_t	*a = malloc(N * sizeof(*a)), *b = malloc(N * sizeof(*b));
	size_t		 i;

	srand(11);
	for (i = 0; i < N; i++)
		a[i] = b[i] = STATS_PACK(((uint64_t)rand() << 16 ^
		    (uint64_t)rand()) % 100000000000ULL,
		    (unsigned int)rand() % 300);
	stats_sort(a, N);
	qsort(b, N, sizeof(*b), cmp_u64);
	CU_ASSERT_EQUAL(memcmp(a, b, N * sizeof(*a)), 0);
	for (i = 0; i < N; i++)		/* sorted input stays sorted */
		a[i] = i;
	stats_sort(a, N);
	CU_ASSERT_EQUAL(a[0], 0);
	CU_ASSERT_EQUAL(a[N - 1], N - 1);
	free(a);
	free(b);
}

/* Persons per quality and per pair, each person once. */
static void
test_count_persons(void)
{
	/* person 1: q0 twice (two funds), q2; person 2: q1, q2; person 3:
	 * q0, q1, q2; person 4: q2 */
	uint64_t	v[] = { STATS_PACK(1, 0), STATS_PACK(1, 0),
			    STATS_PACK(1, 2), STATS_PACK(2, 1),
			    STATS_PACK(2, 2), STATS_PACK(3, 2),
			    STATS_PACK(3, 0), STATS_PACK(3, 1),
			    STATS_PACK(4, 2) };
	uint64_t	persons[3], overlap[9];

	stats_sort(v, 9);
	stats_count_persons(v, 9, 3, persons, overlap);
	CU_ASSERT_EQUAL(persons[0], 2);
	CU_ASSERT_EQUAL(persons[1], 2);
	CU_ASSERT_EQUAL(persons[2], 4);
	CU_ASSERT_EQUAL(overlap[0 * 3 + 1], 1);
	CU_ASSERT_EQUAL(overlap[0 * 3 + 2], 2);
	CU_ASSERT_EQUAL(overlap[1 * 3 + 2], 2);
	CU_ASSERT_EQUAL(overlap[1 * 3 + 0], 0);	/* only a < b is used */
	stats_count_persons(v, 0, 3, persons, overlap);
	CU_ASSERT_EQUAL(persons[2], 0);
}

/* Register the suite and run it. */
int
main(void)
{
	CU_pSuite	s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("stats", NULL, NULL);
	CU_add_test(s, "small counts", test_primary);
	CU_add_test(s, "totals of small counts", test_totals);
	CU_add_test(s, "no recovery by subtraction", test_no_recovery);
	CU_add_test(s, "overlaps", test_overlaps);
	CU_add_test(s, "percentile ranks", test_rank);
	CU_add_test(s, "pseudonyms", test_pseudonym);
	CU_add_test(s, "key files", test_key_file);
	CU_add_test(s, "age bands and sex", test_age_sex);
	CU_add_test(s, "SSINs as numbers", test_ssin_number);
	CU_add_test(s, "radix sort", test_sort);
	CU_add_test(s, "persons and overlaps", test_count_persons);
	return test_run();
}
