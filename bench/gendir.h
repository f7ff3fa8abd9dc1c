/*
 * kruispunt bench - the synthetic directory shared by gendir and dirbench.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_GENDIR_H
#define KP_GENDIR_H

#include "enterprise.h"
#include "ssin.h"

/* Institutions 0-2 are the National Register, the contributions office and
 * the pension service; then health funds, family funds, unemployment bodies,
 * and local welfare centres for the rest. */
#define GENDIR_NR	0
#define GENDIR_ONSS	1
#define GENDIR_PENSION	2

struct gendir_layout {
	unsigned long	ninst;
	unsigned long	nfunds, nfamily, nunemp;
	unsigned long	first_fund, first_family, first_unemp, first_local;
};

void	gendir_institution(unsigned long k, char out[11]);
int	gendir_person(unsigned long i, char out[12]);
void	gendir_layout(unsigned long ninst, struct gendir_layout *);

#endif
