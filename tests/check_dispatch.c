/*
 * kruispunt tests - the dispatch decisions (pure: no database here; the same
 * cases run through MariaDB in tests/directory.test).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "dispatch.h"

/* Invented institutions (enterprise numbers with valid check digits). */
#define UNEMP	"0123456749"	/* unemployment office, sector UNEMPLOYMENT */
#define FUND1	"0200000142"	/* health insurance fund 1, sector HEALTH */
#define FUND2	"0200000241"	/* health insurance fund 2, sector HEALTH */
#define NR	"0300000115"	/* National Register, sector REGISTER */
#define CHILD	"0400000185"	/* child-benefit fund, sector FAMILY */

static kp_day
D(const char *s)
{
	kp_day	k = 0;

	CU_ASSERT_EQUAL_FATAL(day_parse(s, &k), 0);
	return k;
}

static struct period
P(const char *b, const char *e)
{
	struct period	p = { 0, 0 };

	CU_ASSERT_EQUAL_FATAL(period_parse(b, e, &p), 0);
	return p;
}

static struct dir_file
F(const char *inst, const char *sector, const char *quality, const char *b,
    const char *e)
{
	struct dir_file	f;

	memset(&f, 0, sizeof(f));
	snprintf(f.institution, sizeof(f.institution), "%s", inst);
	snprintf(f.sector, sizeof(f.sector), "%s", sector);
	snprintf(f.quality, sizeof(f.quality), "%s", quality);
	f.period = P(b, e);
	f.active = true;
	return f;
}

static struct dir_authorization
A(const char *id, const char *sector, const char *inst, const char *quality,
    const char *service, const char *from, const char *to)
{
	struct dir_authorization a;

	memset(&a, 0, sizeof(a));
	snprintf(a.id, sizeof(a.id), "%s", id);
	snprintf(a.requester_sector, sizeof(a.requester_sector), "%s", sector);
	snprintf(a.requester_institution, sizeof(a.requester_institution), "%s", inst);
	snprintf(a.quality, sizeof(a.quality), "%s", quality);
	snprintf(a.service, sizeof(a.service), "%s", service);
	snprintf(a.legal_basis, sizeof(a.legal_basis), "basis of %s", id);
	a.valid = P(from, to);
	return a;
}

static struct dir_availability
V(const char *service, const char *sector, const char *inst, const char *quality)
{
	struct dir_availability v;

	memset(&v, 0, sizeof(v));
	snprintf(v.service, sizeof(v.service), "%s", service);
	snprintf(v.sector, sizeof(v.sector), "%s", sector);
	snprintf(v.institution, sizeof(v.institution), "%s", inst);
	snprintf(v.quality, sizeof(v.quality), "%s", quality);
	return v;
}

/* The fixture: a person known at the health funds, the unemployment office
 * and the child-benefit fund; the health sector may consult unemployment
 * status as insurer. */
static struct dir_file		 files[6];
static struct dir_authorization	 auths[4];
static struct dir_availability	 avail[3];
static struct consult_request	 req;
static struct consult_facts	 facts;

static void
setup(void)
{
	files[0] = F(FUND1, "HEALTH", "INSURED", "2020-01-01", NULL);
	files[1] = F(UNEMP, "UNEMPLOYMENT", "UNEMPLOYED", "2025-03-01", "2026-02-28");
	files[2] = F(CHILD, "FAMILY", "CHILD_BENEFICIARY", "2018-01-01", NULL);
	files[3] = F(FUND2, "HEALTH", "INSURED", "2010-01-01", "2019-12-31");
	files[4] = F(UNEMP, "UNEMPLOYMENT", "UNEMPLOYED", "2026-05-01", NULL);
	files[5] = F(NR, "REGISTER", "RESIDENT", "1990-01-01", NULL);
	auths[0] = A("A-HEALTH", "HEALTH", "", "INSURED", "UNEMPLOYMENT_STATUS",
	    "2020-01-01", NULL);
	auths[1] = A("A-FUND1", "HEALTH", FUND1, "INSURED", "UNEMPLOYMENT_STATUS",
	    "2024-01-01", "2030-12-31");
	auths[2] = A("A-OLD", "HEALTH", "", "INSURED", "WAGES", "2010-01-01",
	    "2026-06-30");
	auths[3] = A("A-FUTURE", "HEALTH", "", "INSURED", "FAMILY_COMPOSITION",
	    "2026-07-01", NULL);
	avail[0] = V("UNEMPLOYMENT_STATUS", "UNEMPLOYMENT", "", "");
	avail[1] = V("UNEMPLOYMENT_STATUS", "FAMILY", CHILD, "CHILD_BENEFICIARY");
	avail[2] = V("WAGES", "UNEMPLOYMENT", "", "NOT_THIS_QUALITY");

	memset(&req, 0, sizeof(req));
	req.requester = FUND1;
	req.requester_sector = "HEALTH";
	req.service = "UNEMPLOYMENT_STATUS";
	req.quality = "INSURED";
	req.period = P("2026-01-01", "2026-06-30");
	req.today = D("2026-06-30");
	facts.service_known = true;
	facts.files = files;
	facts.nfiles = 6;
	facts.auths = auths;
	facts.nauths = 4;
	facts.avail = avail;
	facts.navail = 3;
}

static void
test_consult_ok_two_sources(void)
{
	struct consult_decision	d;

	setup();
	dispatch_consult(&req, &facts, &d);
	CU_ASSERT_EQUAL(d.code, KP_OK);
	CU_ASSERT_PTR_EQUAL(d.requester_file, &files[0]);
	/* the authorisation naming the institution wins over the sector's */
	CU_ASSERT_PTR_EQUAL(d.authorization, &auths[1]);
	CU_ASSERT_EQUAL_FATAL(d.ntargets, 2);
	/* two files at the unemployment office: one target */
	CU_ASSERT_STRING_EQUAL(d.targets[0].file->institution, UNEMP);
	CU_ASSERT_PTR_EQUAL(d.targets[0].availability, &avail[0]);
	CU_ASSERT_STRING_EQUAL(d.targets[1].file->institution, CHILD);
	CU_ASSERT_PTR_EQUAL(d.targets[1].availability, &avail[1]);
	dispatch_consult_free(&d);
}

static void
test_consult_unknown_service(void)
{
	struct consult_decision	d;

	setup();
	facts.service_known = false;
	dispatch_consult(&req, &facts, &d);
	CU_ASSERT_EQUAL(d.code, KP_UNKNOWN_SERVICE);
	CU_ASSERT_EQUAL(d.ntargets, 0);
}

static void
test_consult_person_not_integrated(void)
{
	struct consult_decision	d;

	setup();
	req.quality = "CHILD_BENEFICIARY";	/* a file, but not in this quality */
	dispatch_consult(&req, &facts, &d);
	CU_ASSERT_EQUAL(d.code, KP_PERSON_NOT_INTEGRATED);

	setup();
	req.requester = FUND2;			/* file ended 2019-12-31 */
	dispatch_consult(&req, &facts, &d);
	CU_ASSERT_EQUAL(d.code, KP_PERSON_NOT_INTEGRATED);

	/* touching periods: the file's last day is the request's first day */
	req.period = P("2019-12-31", "2020-03-31");
	dispatch_consult(&req, &facts, &d);
	CU_ASSERT_EQUAL(d.code, KP_OK);
	CU_ASSERT_PTR_EQUAL(d.requester_file, &files[3]);
	dispatch_consult_free(&d);

	/* one day later: no longer */
	req.period = P("2020-01-01", "2020-03-31");
	dispatch_consult(&req, &facts, &d);
	CU_ASSERT_EQUAL(d.code, KP_PERSON_NOT_INTEGRATED);
}

static void
test_consult_authorisation_validity(void)
{
	struct consult_decision	d;

	setup();
	req.service = "WAGES";
	avail[2] = V("WAGES", "UNEMPLOYMENT", "", "");
	/* A-OLD is valid until 2026-06-30 inclusive */
	dispatch_consult(&req, &facts, &d);
	CU_ASSERT_EQUAL(d.code, KP_OK);
	CU_ASSERT_PTR_EQUAL(d.authorization, &auths[2]);
	dispatch_consult_free(&d);
	req.today = D("2026-07-01");
	dispatch_consult(&req, &facts, &d);
	CU_ASSERT_EQUAL(d.code, KP_NOT_AUTHORIZED);

	/* valid only from tomorrow */
	setup();
	req.service = "FAMILY_COMPOSITION";
	dispatch_consult(&req, &facts, &d);
	CU_ASSERT_EQUAL(d.code, KP_NOT_AUTHORIZED);
	req.today = D("2026-07-01");
	dispatch_consult(&req, &facts, &d);
	CU_ASSERT_EQUAL(d.code, KP_OK);
	dispatch_consult_free(&d);
}

static void
test_consult_sector_and_institution_authorisations(void)
{
	struct consult_decision	d;

	setup();
	/* FUND2 (same sector) gets the sector-wide one, not FUND1's own */
	files[3] = F(FUND2, "HEALTH", "INSURED", "2010-01-01", NULL);
	req.requester = FUND2;
	dispatch_consult(&req, &facts, &d);
	CU_ASSERT_EQUAL(d.code, KP_OK);
	CU_ASSERT_PTR_EQUAL(d.authorization, &auths[0]);
	dispatch_consult_free(&d);

	/* without the sector-wide one, FUND2 is not authorised */
	auths[0] = A("A-OTHER", "FAMILY", "", "INSURED", "UNEMPLOYMENT_STATUS",
	    "2020-01-01", NULL);
	dispatch_consult(&req, &facts, &d);
	CU_ASSERT_EQUAL(d.code, KP_NOT_AUTHORIZED);
	/* but FUND1 still is, by name */
	req.requester = FUND1;
	dispatch_consult(&req, &facts, &d);
	CU_ASSERT_EQUAL(d.code, KP_OK);
	CU_ASSERT_PTR_EQUAL(d.authorization, &auths[1]);
	dispatch_consult_free(&d);
}

static void
test_consult_targets(void)
{
	struct consult_decision	d;

	setup();
	/* the requester's period misses the unemployment files: only the
	 * child-benefit fund remains */
	req.period = P("2026-03-15", "2026-04-15");
	dispatch_consult(&req, &facts, &d);
	CU_ASSERT_EQUAL(d.code, KP_OK);
	CU_ASSERT_EQUAL_FATAL(d.ntargets, 1);
	CU_ASSERT_STRING_EQUAL(d.targets[0].file->institution, CHILD);
	dispatch_consult_free(&d);

	/* an inactive institution is not a target */
	files[2].active = false;
	dispatch_consult(&req, &facts, &d);
	CU_ASSERT_EQUAL(d.code, KP_OK);
	CU_ASSERT_EQUAL(d.ntargets, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.reason, "no institution"));
	dispatch_consult_free(&d);

	/* availability for one quality only */
	setup();
	avail[1] = V("UNEMPLOYMENT_STATUS", "FAMILY", CHILD, "OTHER_QUALITY");
	dispatch_consult(&req, &facts, &d);
	CU_ASSERT_EQUAL(d.ntargets, 1);
	dispatch_consult_free(&d);
	/* availability for another institution of the sector only */
	avail[1] = V("UNEMPLOYMENT_STATUS", "FAMILY", "0400000284", "");
	dispatch_consult(&req, &facts, &d);
	CU_ASSERT_EQUAL(d.ntargets, 1);
	dispatch_consult_free(&d);
}

static void
test_consult_only_once(void)
{
	struct consult_decision	d;

	setup();
	facts.navail = 0;	/* nobody holds the data */
	dispatch_consult(&req, &facts, &d);
	CU_ASSERT_EQUAL(d.code, KP_OK);
	CU_ASSERT_EQUAL(d.ntargets, 0);
	dispatch_consult_free(&d);

	/* the requester never asks itself */
	setup();
	avail[0] = V("UNEMPLOYMENT_STATUS", "HEALTH", "", "");
	facts.navail = 1;
	dispatch_consult(&req, &facts, &d);
	CU_ASSERT_EQUAL(d.code, KP_OK);
	CU_ASSERT_EQUAL(d.ntargets, 0);
	dispatch_consult_free(&d);
}

static void
test_manage_access(void)
{
	struct access_request	q = { FUND1, "HEALTH", "INSURED" };
	struct access_facts	f = { true, "HEALTH" };
	struct access_decision	d;

	dispatch_manage_access(&q, &f, &d);
	CU_ASSERT_EQUAL(d.code, KP_OK);
	f.quality_sector = "FAMILY";
	dispatch_manage_access(&q, &f, &d);
	CU_ASSERT_EQUAL(d.code, KP_NOT_AUTHORIZED);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.reason, "another sector"));
	f.quality_known = false;
	dispatch_manage_access(&q, &f, &d);
	CU_ASSERT_EQUAL(d.code, KP_NOT_AUTHORIZED);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.reason, "not in the directory"));
}

static void
test_mutation(void)
{
	static const char subs[][INSTITUTION_LEN] = { FUND1, FUND2, CHILD, UNEMP };
	struct dir_authorization mauths[3];
	struct mutation_request	 q;
	struct mutation_facts	 f;
	struct mutation_decision d;

	setup();
	mauths[0] = A("M-HEALTH", "HEALTH", "", "INSURED", "ADDRESS", "2020-01-01", NULL);
	mauths[1] = A("M-CHILD", "FAMILY", CHILD, "CHILD_BENEFICIARY", "ADDRESS",
	    "2020-01-01", "2026-06-29");
	mauths[2] = A("M-UNEMP", "UNEMPLOYMENT", "", "UNEMPLOYED", "ADDRESS",
	    "2020-01-01", NULL);
	memset(&f, 0, sizeof(f));
	f.type_known = true;
	f.type_service = "ADDRESS";
	f.type_source = NR;
	f.files = files;
	f.nfiles = 6;
	f.subscribers = subs;
	f.nsubscribers = 3;	/* UNEMP not subscribed */
	f.auths = mauths;
	f.nauths = 3;
	q.source = NR;
	q.today = D("2026-06-30");

	dispatch_mutation(&q, &f, &d);
	CU_ASSERT_EQUAL(d.code, KP_OK);
	/* FUND1: current, subscribed, authorised. FUND2: file ended.
	 * CHILD: authorisation expired yesterday. UNEMP: not subscribed.
	 * NR: the source itself. */
	CU_ASSERT_EQUAL_FATAL(d.nrecipients, 1);
	CU_ASSERT_STRING_EQUAL(d.recipients[0].file->institution, FUND1);
	CU_ASSERT_STRING_EQUAL(d.recipients[0].file->quality, "INSURED");
	CU_ASSERT_PTR_EQUAL(d.recipients[0].authorization, &mauths[0]);
	dispatch_mutation_free(&d);

	f.nsubscribers = 4;	/* now UNEMP too: its current file is 2026-05-01/ */
	q.today = D("2026-06-29");	/* and CHILD's authorisation still holds */
	dispatch_mutation(&q, &f, &d);
	CU_ASSERT_EQUAL(d.nrecipients, 3);
	dispatch_mutation_free(&d);

	q.source = FUND1;
	dispatch_mutation(&q, &f, &d);
	CU_ASSERT_EQUAL(d.code, KP_NOT_AUTHORIZED);
	CU_ASSERT_EQUAL(d.nrecipients, 0);
	f.type_known = false;
	dispatch_mutation(&q, &f, &d);
	CU_ASSERT_EQUAL(d.code, KP_UNKNOWN_SERVICE);
}

int
main(void)
{
	CU_pSuite	s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("dispatch: consult", NULL, NULL);
	CU_add_test(s, "authorised, two sources", test_consult_ok_two_sources);
	CU_add_test(s, "unknown service", test_consult_unknown_service);
	CU_add_test(s, "person not integrated, touching periods",
	    test_consult_person_not_integrated);
	CU_add_test(s, "authorisation validity: expired, not yet, last day",
	    test_consult_authorisation_validity);
	CU_add_test(s, "sector-wide and institution-specific authorisations",
	    test_consult_sector_and_institution_authorisations);
	CU_add_test(s, "targets: period, activity, availability", test_consult_targets);
	CU_add_test(s, "only once: not available in the network",
	    test_consult_only_once);
	s = CU_add_suite("dispatch: manage access", NULL, NULL);
	CU_add_test(s, "quality of the requester's sector", test_manage_access);
	s = CU_add_suite("dispatch: mutation", NULL, NULL);
	CU_add_test(s, "recipients", test_mutation);
	return test_run();
}
