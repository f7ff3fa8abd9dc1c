/*
 * kruispunt bench - generate a synthetic reference directory as CSV files.
 *
 *   gendir PERSONS INSTITUTIONS OUTDIR
 *
 * Writes the nine CSV files of `kruispunt directory import` for a network of
 * INSTITUTIONS institutions (a National Register, a contributions office, a
 * pension service, and health funds, family funds, unemployment bodies and
 * local welfare centres sharing the rest) and PERSONS persons with valid,
 * invented SSINs: person i has its National Register file, a file at health
 * fund i mod nfunds, and every other person a third file (employee,
 * unemployed or pensioner), so about three files per person.
 *
 * gendir_person() is shared with dirbench, which asks about the same persons.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gendir.h"


static FILE *
gendir_open(const char *dir, const char *name, const char *header)
{
	char	path[4096];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s.csv", dir, name);
	if ((fp = fopen(path, "w")) == NULL) {
		fprintf(stderr, "gendir: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	fprintf(fp, "%s\n", header);
	return fp;
}

static const char *
gendir_sector_of(const struct gendir_layout *l, unsigned long k)
{
	if (k == GENDIR_NR)
		return "REGISTER";
	if (k == GENDIR_ONSS)
		return "CONTRIBUTIONS";
	if (k == GENDIR_PENSION)
		return "PENSION";
	if (k < l->first_family)
		return "HEALTH";
	if (k < l->first_unemp)
		return "FAMILY";
	if (k < l->first_local)
		return "UNEMPLOYMENT";
	return "LOCAL";
}

static void
gendir_static(const char *dir, const struct gendir_layout *l)
{
	FILE		*fp;
	unsigned long	 k;
	char		 id[11];

	fp = gendir_open(dir, "sectors", "code,name");
	fputs("CONTRIBUTIONS,contributions\nFAMILY,family\nHEALTH,health\n"
	    "LOCAL,local welfare\nPENSION,pensions\nREGISTER,register\n"
	    "UNEMPLOYMENT,unemployment\n", fp);
	fclose(fp);
	fp = gendir_open(dir, "institutions", "id,name,sector,endpoint,active");
	for (k = 0; k < l->ninst; k++) {
		gendir_institution(k, id);
		fprintf(fp, "%s,institution %lu,%s,http://127.0.0.1:9000/i%lu,1\n",
		    id, k, gendir_sector_of(l, k), k);
	}
	fclose(fp);
	fp = gendir_open(dir, "qualities", "code,sector,description");
	fputs("CHILD,FAMILY,child\nCLIENT,LOCAL,client\nEMPLOYEE,CONTRIBUTIONS,"
	    "employee\nINSURED,HEALTH,insured\nPENSIONER,PENSION,pensioner\n"
	    "RESIDENT,REGISTER,resident\nUNEMPLOYED,UNEMPLOYMENT,unemployed\n",
	    fp);
	fclose(fp);
	fp = gendir_open(dir, "services", "code,description");
	fputs("ADDRESS,address\nPENSION_STATUS,pension\nUNEMPLOYMENT_STATUS,"
	    "unemployment\nWAGES,wages\n", fp);
	fclose(fp);
	gendir_institution(GENDIR_NR, id);
	fp = gendir_open(dir, "mutation_types", "code,service,source");
	fprintf(fp, "ADDRESS_CHANGE,ADDRESS,%s\n", id);
	fclose(fp);
	fp = gendir_open(dir, "authorizations", "id,requester_sector,"
	    "requester_institution,quality,service,legal_basis,valid_from,"
	    "valid_to");
	fputs("A1,HEALTH,,INSURED,WAGES,bench 1,2020-01-01,\n"
	    "A2,HEALTH,,INSURED,UNEMPLOYMENT_STATUS,bench 2,2020-01-01,\n"
	    "A3,HEALTH,,INSURED,ADDRESS,bench 3,2020-01-01,\n"
	    "A4,UNEMPLOYMENT,,UNEMPLOYED,WAGES,bench 4,2020-01-01,\n", fp);
	fclose(fp);
	fp = gendir_open(dir, "availability", "service,sector,institution,quality");
	fputs("ADDRESS,REGISTER,,\nPENSION_STATUS,PENSION,,\n"
	    "UNEMPLOYMENT_STATUS,UNEMPLOYMENT,,\nWAGES,CONTRIBUTIONS,,\n", fp);
	fclose(fp);
	fp = gendir_open(dir, "subscriptions", "institution,mutation_type");
	for (k = l->first_fund; k < l->first_family; k++) {
		gendir_institution(k, id);
		fprintf(fp, "%s,ADDRESS_CHANGE\n", id);
	}
	fclose(fp);
}

/* The files of person i, in key order (ssin, institution, quality, begin). */
static void
gendir_files(FILE *fp, const struct gendir_layout *l, unsigned long i)
{
	char		 ssin[12], inst[4][11];
	const char	*quality[4];
	int		 n = 0, a, b;

	gendir_person(i, ssin);
	gendir_institution(GENDIR_NR, inst[n]);
	quality[n++] = "RESIDENT";
	gendir_institution(l->first_fund + i % l->nfunds, inst[n]);
	quality[n++] = "INSURED";
	switch (i % 6) {
	case 1:
		gendir_institution(GENDIR_ONSS, inst[n]);
		quality[n++] = "EMPLOYEE";
		break;
	case 3:
		gendir_institution(l->first_unemp + i % l->nunemp, inst[n]);
		quality[n++] = "UNEMPLOYED";
		break;
	case 5:
		gendir_institution(GENDIR_PENSION, inst[n]);
		quality[n++] = "PENSIONER";
		break;
	}
	/* key order: by institution number */
	for (a = 0; a < n; a++)
		for (b = a + 1; b < n; b++)
			if (strcmp(inst[b], inst[a]) < 0) {
				char t[11];
				const char *q = quality[a];
				memcpy(t, inst[a], 11);
				memcpy(inst[a], inst[b], 11);
				memcpy(inst[b], t, 11);
				quality[a] = quality[b];
				quality[b] = q;
			}
	for (a = 0; a < n; a++)
		fprintf(fp, "%s,%s,%s,2015-01-01,\n", ssin, inst[a], quality[a]);
}

int
main(int argc, char *argv[])
{
	struct gendir_layout	 l;
	unsigned long		 persons, ninst, i;
	FILE			*fp;

	if (argc != 4 || (persons = strtoul(argv[1], NULL, 10)) == 0 ||
	    persons > 30000000UL || (ninst = strtoul(argv[2], NULL, 10)) < 10) {
		fprintf(stderr, "usage: gendir PERSONS(1-30000000) "
		    "INSTITUTIONS(>=10) OUTDIR\n");
		return 2;
	}
	gendir_layout(ninst, &l);
	gendir_static(argv[3], &l);
	fp = gendir_open(argv[3], "person_files", "ssin,institution,quality,"
	    "begin,end");
	for (i = 0; i < persons; i++)
		gendir_files(fp, &l, i);
	if (fclose(fp) != 0) {
		fprintf(stderr, "gendir: writing person_files: %s\n",
		    strerror(errno));
		return 1;
	}
	return 0;
}
