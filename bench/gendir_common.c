/*
 * kruispunt bench - the synthetic directory's persons and institutions,
 * shared by gendir (which writes them) and dirbench (which asks about them).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdio.h>

#include "gendir.h"

/* The enterprise number of institution k: 1 followed by k and check digits. */
void
gendir_institution(unsigned long k, char out[11])
{
	char	first8[9];

	snprintf(first8, sizeof(first8), "1%07lu", k % 10000000UL);
	snprintf(out, 11, "%s%02d", first8, enterprise_check_digits(first8));
}

/* The SSIN of person i (unique for i below 30 million) and its birth year. */
int
gendir_person(unsigned long i, char out[12])
{
	int	year = 1930 + (int)(i % 90);
	int	month = 1 + (int)(i / 90 % 12);
	int	day = 1 + (int)(i / 1080 % 28);
	int	counter = 1 + (int)(i / 30240 % 997);
	char	first9[10];

	snprintf(first9, sizeof(first9), "%02d%02d%02d%03d", year % 100, month,
	    day, counter);
	snprintf(out, 12, "%s%02d", first9,
	    ssin_check_digits(first9, year >= 2000));
	return year;
}

/* The layout of the institutions: see gendir.h. */
void
gendir_layout(unsigned long ninst, struct gendir_layout *l)
{
	unsigned long	rest = ninst > 3 ? ninst - 3 : 1;

	l->ninst = ninst;
	l->nfunds = rest / 10 > 0 ? rest / 10 : 1;
	l->nfamily = rest / 20 > 0 ? rest / 20 : 1;
	l->nunemp = rest / 20 > 0 ? rest / 20 : 1;
	l->first_fund = 3;
	l->first_family = l->first_fund + l->nfunds;
	l->first_unemp = l->first_family + l->nfamily;
	l->first_local = l->first_unemp + l->nunemp;
}

