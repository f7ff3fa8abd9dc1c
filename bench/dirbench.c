/*
 * kruispunt bench - latency of the consult decision on a large directory.
 *
 *   dirbench -c CONF PERSONS INSTITUTIONS LOOKUPS
 *
 * For LOOKUPS random persons of a directory made by gendir with the same
 * PERSONS and INSTITUTIONS, takes the decision exactly as the hub does
 * (directory_institution for the requester, directory_consult: the person's
 * files, the authorisations, the availability; then dispatch_consult) and
 * prints the latency percentiles in microseconds. The requester is the
 * person's health fund asking for WAGES as INSURED, so every decision goes
 * the whole way (authorised; the contributions office is the target for one
 * person in six).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "directory.h"
#include "dispatch.h"
#include "gendir.h"
#include "xmalloc.h"

static double
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char *argv[])
{
	struct gendir_layout	 l;
	struct kp_config	*cf;
	struct directory	*dir;
	struct dir_institution	 inst;
	struct dir_consult	 c;
	struct consult_request	 q;
	struct consult_decision	 d;
	unsigned long		 persons, ninst, n, k, i, targets = 0;
	double			*lat, t0, sum = 0;
	char			 err[512], ssin[12], fund[11];
	int			 nerr;

	if (argc != 6 || strcmp(argv[1], "-c") != 0) {
		fprintf(stderr, "usage: dirbench -c CONF PERSONS INSTITUTIONS "
		    "LOOKUPS\n");
		return 2;
	}
	persons = strtoul(argv[3], NULL, 10);
	ninst = strtoul(argv[4], NULL, 10);
	n = strtoul(argv[5], NULL, 10);
	if (persons == 0 || ninst < 10 || n == 0)
		return 2;
	if ((cf = config_load(argv[2], CONF_FOR_ADMIN, stderr, &nerr)) == NULL)
		return 1;
	if ((dir = directory_open(cf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "dirbench: %s\n", err);
		return 1;
	}
	gendir_layout(ninst, &l);
	lat = xcalloc(n, sizeof(double));
	srandom(20261128);
	memset(&q, 0, sizeof(q));
	q.service = "WAGES";
	q.quality = "INSURED";
	q.today = day_today();
	period_parse("2026-01-01", "2026-12-31", &q.period);
	for (k = 0; k < n; k++) {
		i = (unsigned long)random() % persons;
		gendir_person(i, ssin);
		gendir_institution(l.first_fund + i % l.nfunds, fund);
		t0 = now_us();
		if (directory_institution(dir, fund, &inst) != 1 ||
		    directory_consult(dir, ssin, q.service, q.quality, &c) == -1) {
			fprintf(stderr, "dirbench: %s\n", directory_error(dir));
			return 1;
		}
		q.requester = inst.id;
		q.requester_sector = inst.sector;
		dispatch_consult(&q, &c.facts, &d);
		lat[k] = now_us() - t0;
		if (d.code != KP_OK) {
			fprintf(stderr, "dirbench: person %s: %s (the directory "
			    "was not made by gendir %lu %lu?)\n", ssin,
			    kp_strerror(d.code), persons, ninst);
			return 1;
		}
		targets += d.ntargets;
		sum += lat[k];
		dispatch_consult_free(&d);
		directory_consult_free(&c);
	}
	qsort(lat, n, sizeof(double), cmp_double);
	printf("lookups=%lu mean_us=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f "
	    "max_us=%.1f routed=%lu\n", n, sum / (double)n, lat[n / 2],
	    lat[n * 9 / 10], lat[n * 99 / 100], lat[n - 1], targets);
	free(lat);
	directory_close(dir);
	config_free(cf);
	return 0;
}
