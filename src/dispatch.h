/*
 * kruispunt - the legality and routing decisions, as pure functions over
 * what the reference directory answered (no database, no socket inside).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_DISPATCH_H
#define KP_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "enterprise.h"
#include "errors.h"
#include "period.h"

#define CODE_LEN	33	/* directory codes: 32 characters and a NUL */
#define INSTITUTION_LEN	(ENTERPRISE_LEN + 1)
#define LEGAL_BASIS_LEN	129
#define AUTH_ID_LEN	65

/* A file of the person at one institution (person directory row). */
struct dir_file {
	char		institution[INSTITUTION_LEN];
	char		sector[CODE_LEN];	/* the institution's sector */
	char		quality[CODE_LEN];
	struct period	period;
	bool		active;			/* the institution is active */
	char		endpoint[501];		/* where to ask it ("" = none) */
};

/* Who-gets-what: one authorisation. */
struct dir_authorization {
	char		id[AUTH_ID_LEN];
	char		requester_sector[CODE_LEN];
	char		requester_institution[INSTITUTION_LEN];	/* "" = sector */
	char		quality[CODE_LEN];
	char		service[CODE_LEN];
	char		legal_basis[LEGAL_BASIS_LEN];
	struct period	valid;
};

/* What-where: data of a service held by a sector (or one institution). */
struct dir_availability {
	char	service[CODE_LEN];
	char	sector[CODE_LEN];
	char	institution[INSTITUTION_LEN];	/* "" = any of the sector */
	char	quality[CODE_LEN];		/* "" = any quality */
};

/* ---- Consult --------------------------------------------------------- */

struct consult_request {
	const char	*requester;		/* from the certificate */
	const char	*requester_sector;
	const char	*service;
	const char	*quality;
	struct period	 period;
	kp_day		 today;
};

/* The directory's answers for one consult (all about the one person). */
struct consult_facts {
	bool				 service_known;
	const struct dir_file		*files;		/* the person's files */
	size_t				 nfiles;
	const struct dir_authorization	*auths;		/* for service+quality */
	size_t				 nauths;
	const struct dir_availability	*avail;		/* for the service */
	size_t				 navail;
};

struct consult_target {
	const struct dir_file		*file;
	const struct dir_availability	*availability;
};

struct consult_decision {
	enum kp_error			 code;	/* KP_OK or the refusal */
	const char			*reason;
	const struct dir_file		*requester_file;
	const struct dir_authorization	*authorization;
	struct consult_target		*targets;	/* none: not available */
	size_t				 ntargets;
};

void	dispatch_consult(const struct consult_request *,
	    const struct consult_facts *, struct consult_decision *);
void	dispatch_consult_free(struct consult_decision *);

/* ---- ManageAccess ---------------------------------------------------- */

struct access_request {
	const char	*requester;
	const char	*requester_sector;
	const char	*quality;
};

struct access_facts {
	bool		 quality_known;
	const char	*quality_sector;
};

struct access_decision {
	enum kp_error	 code;
	const char	*reason;
};

void	dispatch_manage_access(const struct access_request *,
	    const struct access_facts *, struct access_decision *);

/* ---- PublishMutation ------------------------------------------------- */

struct mutation_request {
	const char	*source;		/* from the certificate */
	kp_day		 today;
};

struct mutation_facts {
	bool				 type_known;
	const char			*type_service;
	const char			*type_source;	/* the authentic source */
	const struct dir_file		*files;		/* the person's files */
	size_t				 nfiles;
	const char			(*subscribers)[INSTITUTION_LEN];
	size_t				 nsubscribers;
	const struct dir_authorization	*auths;		/* for type_service */
	size_t				 nauths;
};

struct mutation_recipient {
	const struct dir_file		*file;	/* institution and quality */
	const struct dir_authorization	*authorization;
};

struct mutation_decision {
	enum kp_error			 code;
	const char			*reason;
	struct mutation_recipient	*recipients;
	size_t				 nrecipients;
};

void	dispatch_mutation(const struct mutation_request *,
	    const struct mutation_facts *, struct mutation_decision *);
void	dispatch_mutation_free(struct mutation_decision *);

const struct dir_authorization *dispatch_find_authorization(
	    const struct dir_authorization *, size_t, const char *institution,
	    const char *sector, const char *quality, const char *service,
	    kp_day today);

#endif
