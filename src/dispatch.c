/*
 * kruispunt - the legality and routing decisions, as pure functions over
 * what the reference directory answered (no database, no socket inside).
 *
 * Consult from institution S about person P, service D, quality Q, period T:
 *   1. S must hold a file on P in quality Q overlapping T, else
 *      PERSON_NOT_INTEGRATED (the preventive legality check: the hub only
 *      serves institutions that have a case for this person);
 *   2. an authorisation for (S or S's sector, Q, D) valid today must exist,
 *      else NOT_AUTHORIZED; one naming S itself wins over a sector-wide one;
 *   3. the targets are the other, active institutions that hold a file on P
 *      overlapping T and where D is available (for their sector, for them,
 *      for the quality of that file); none means NOT_AVAILABLE_IN_NETWORK,
 *      which is not a refusal ("only once": the requester may now ask the
 *      person directly).
 * An unknown service is UNKNOWN_SERVICE before anything else.
 *
 * PublishMutation of type M by S about P: M must be known (UNKNOWN_SERVICE)
 * and S its authentic source (NOT_AUTHORIZED); the recipients are the other
 * active institutions with a file on P current today, subscribed to M, and
 * authorised for M's service in the quality of that file; one notification
 * per institution, under the first such file.
 *
 * ManageAccess: S may register a person only in a quality that its own
 * sector may hold.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "xmalloc.h"

/*
 * The authorisation for an institution (of a sector) to obtain service in
 * quality today: one naming the institution first, else a sector-wide one.
 */
const struct dir_authorization *
dispatch_find_authorization(const struct dir_authorization *a, size_t n,
    const char *institution, const char *sector, const char *quality,
    const char *service, kp_day today)
{
	const struct dir_authorization	*sector_wide = NULL;
	size_t				 i;

	for (i = 0; i < n; i++) {
		if (strcmp(a[i].quality, quality) != 0 ||
		    strcmp(a[i].service, service) != 0 ||
		    !period_contains(&a[i].valid, today))
			continue;
		if (a[i].requester_institution[0] != '\0') {
			if (strcmp(a[i].requester_institution, institution) == 0)
				return &a[i];
		} else if (sector_wide == NULL &&
		    strcmp(a[i].requester_sector, sector) == 0)
			sector_wide = &a[i];
	}
	return sector_wide;
}

static const struct dir_availability *
dispatch_find_availability(const struct dir_availability *v, size_t n,
    const char *service, const struct dir_file *f)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i].service, service) != 0 ||
		    strcmp(v[i].sector, f->sector) != 0)
			continue;
		if (v[i].institution[0] != '\0' &&
		    strcmp(v[i].institution, f->institution) != 0)
			continue;
		if (v[i].quality[0] != '\0' &&
		    strcmp(v[i].quality, f->quality) != 0)
			continue;
		return &v[i];
	}
	return NULL;
}

static bool
dispatch_has_target(const struct consult_decision *d, const char *institution)
{
	size_t	i;

	for (i = 0; i < d->ntargets; i++)
		if (strcmp(d->targets[i].file->institution, institution) == 0)
			return true;
	return false;
}

/* Decide a consult; d->targets must be freed with dispatch_consult_free. */
void
dispatch_consult(const struct consult_request *q,
    const struct consult_facts *f, struct consult_decision *d)
{
	const struct dir_availability	*av;
	size_t				 i;

	memset(d, 0, sizeof(*d));
	if (!f->service_known) {
		d->code = KP_UNKNOWN_SERVICE;
		d->reason = "the service is not in the directory";
		return;
	}
	for (i = 0; i < f->nfiles && d->requester_file == NULL; i++) {
		if (strcmp(f->files[i].institution, q->requester) == 0 &&
		    strcmp(f->files[i].quality, q->quality) == 0 &&
		    period_overlaps(&f->files[i].period, &q->period))
			d->requester_file = &f->files[i];
	}
	if (d->requester_file == NULL) {
		d->code = KP_PERSON_NOT_INTEGRATED;
		d->reason = "the requester holds no file on the person in this "
		    "quality over this period";
		return;
	}
	d->authorization = dispatch_find_authorization(f->auths, f->nauths,
	    q->requester, q->requester_sector, q->quality, q->service, q->today);
	if (d->authorization == NULL) {
		d->code = KP_NOT_AUTHORIZED;
		d->reason = "no authorisation valid today for this requester, "
		    "quality and service";
		return;
	}
	d->code = KP_OK;
	if (f->nfiles > 0)
		d->targets = xcalloc(f->nfiles, sizeof(*d->targets));
	for (i = 0; i < f->nfiles; i++) {
		const struct dir_file *file = &f->files[i];
		if (strcmp(file->institution, q->requester) == 0 ||
		    !file->active || !period_overlaps(&file->period, &q->period) ||
		    dispatch_has_target(d, file->institution))
			continue;
		if ((av = dispatch_find_availability(f->avail, f->navail,
		    q->service, file)) == NULL)
			continue;
		d->targets[d->ntargets].file = file;
		d->targets[d->ntargets].availability = av;
		d->ntargets++;
	}
	d->reason = d->ntargets == 0 ? "no institution in the network holds "
	    "these data" : "authorised";
}

/* Free what dispatch_consult allocated. */
void
dispatch_consult_free(struct consult_decision *d)
{
	free(d->targets);
	d->targets = NULL;
	d->ntargets = 0;
}

/* Decide whether the requester may register a person in a quality. */
void
dispatch_manage_access(const struct access_request *q,
    const struct access_facts *f, struct access_decision *d)
{
	if (!f->quality_known) {
		d->code = KP_NOT_AUTHORIZED;
		d->reason = "the quality is not in the directory";
	} else if (strcmp(f->quality_sector, q->requester_sector) != 0) {
		d->code = KP_NOT_AUTHORIZED;
		d->reason = "the quality belongs to another sector";
	} else {
		d->code = KP_OK;
		d->reason = "the requester's sector may hold files in this "
		    "quality";
	}
}

static bool
dispatch_subscribed(const struct mutation_facts *f, const char *institution)
{
	size_t	i;

	for (i = 0; i < f->nsubscribers; i++)
		if (strcmp(f->subscribers[i], institution) == 0)
			return true;
	return false;
}

static bool
dispatch_has_recipient(const struct mutation_decision *d,
    const char *institution)
{
	size_t	i;

	for (i = 0; i < d->nrecipients; i++)
		if (strcmp(d->recipients[i].file->institution, institution) == 0)
			return true;
	return false;
}

/* Decide the recipients of a mutation; free with dispatch_mutation_free. */
void
dispatch_mutation(const struct mutation_request *q,
    const struct mutation_facts *f, struct mutation_decision *d)
{
	const struct dir_authorization	*a;
	size_t				 i;

	memset(d, 0, sizeof(*d));
	if (!f->type_known) {
		d->code = KP_UNKNOWN_SERVICE;
		d->reason = "the mutation type is not in the directory";
		return;
	}
	if (strcmp(f->type_source, q->source) != 0) {
		d->code = KP_NOT_AUTHORIZED;
		d->reason = "the sender is not the authentic source of this "
		    "mutation type";
		return;
	}
	d->code = KP_OK;
	d->reason = "published by its authentic source";
	if (f->nfiles > 0)
		d->recipients = xcalloc(f->nfiles, sizeof(*d->recipients));
	for (i = 0; i < f->nfiles; i++) {
		const struct dir_file *file = &f->files[i];
		if (strcmp(file->institution, q->source) == 0 || !file->active ||
		    !period_contains(&file->period, q->today) ||
		    !dispatch_subscribed(f, file->institution) ||
		    dispatch_has_recipient(d, file->institution))
			continue;
		if ((a = dispatch_find_authorization(f->auths, f->nauths,
		    file->institution, file->sector, file->quality,
		    f->type_service, q->today)) == NULL)
			continue;
		d->recipients[d->nrecipients].file = file;
		d->recipients[d->nrecipients].authorization = a;
		d->nrecipients++;
	}
}

/* Free what dispatch_mutation allocated. */
void
dispatch_mutation_free(struct mutation_decision *d)
{
	free(d->recipients);
	d->recipients = NULL;
	d->nrecipients = 0;
}
