/*
 * kruispunt - the admin tool's commands on the reference directory:
 * migrate, import, export, check, add-cert, revoke-cert and explain.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "admin.h"
#include "certificate.h"
#include "config.h"
#include "db.h"
#include "dircheck.h"
#include "dircsv.h"
#include "directory.h"
#include "dispatch.h"
#include "migrate.h"
#include "output.h"
#include "period.h"
#include "ssin.h"

static int cmd_migrate(struct admin_ctx *, int, char **);
static int cmd_import(struct admin_ctx *, int, char **);
static int cmd_export(struct admin_ctx *, int, char **);
static int cmd_check(struct admin_ctx *, int, char **);
static int cmd_add_cert(struct admin_ctx *, int, char **);
static int cmd_revoke_cert(struct admin_ctx *, int, char **);
static int cmd_explain_consult(struct admin_ctx *, int, char **);
static int cmd_explain_mutation(struct admin_ctx *, int, char **);
static int cmd_explain_access(struct admin_ctx *, int, char **);

const struct admin_cmd admin_directory_cmds[] = {
	{ "directory migrate", "[--sql-dir DIR]", 0,
	  "create or upgrade the database schema", cmd_migrate },
	{ "directory import", "[--replace] TABLE FILE", 2,
	  "import a CSV file into a table, all or nothing", cmd_import },
	{ "directory export", "TABLE", 1,
	  "write a table as CSV to standard output", cmd_export },
	{ "directory check", "", 0,
	  "report inconsistencies; exit 1 if any", cmd_check },
	{ "directory add-cert", "INSTITUTION CERT.pem", 2,
	  "register an institution's certificate", cmd_add_cert },
	{ "directory revoke-cert", "FINGERPRINT", 1,
	  "mark a registered certificate revoked", cmd_revoke_cert },
	{ "directory explain consult",
	  "--requester ID --ssin N --service S --quality Q [--period B/E] [--date D]",
	  0, "show the decision on a consult and the rows behind it",
	  cmd_explain_consult },
	{ "directory explain mutation",
	  "--type M --ssin N [--source ID] [--date D]", 0,
	  "show who would be notified of a mutation, and why",
	  cmd_explain_mutation },
	{ "directory explain manage-access",
	  "--requester ID --quality Q", 0,
	  "show whether an institution may register persons in a quality",
	  cmd_explain_access },
	{ NULL, NULL, 0, NULL, NULL }
};

/* Parse options, then check the positional count; an exit status. */
static int
dir_opts(const char *command, int *argc, char **argv,
    const struct admin_opt *opts, int npos)
{
	if (admin_parse_opts(command, argc, argv, opts) == -1)
		return ADMIN_EXIT_USAGE;
	if (*argc != npos) {
		fprintf(stderr, "kruispunt %s: expected %d argument%s, got %d\n",
		    command, npos, npos == 1 ? "" : "s", *argc);
		return ADMIN_EXIT_USAGE;
	}
	return ADMIN_EXIT_OK;
}

static void
dir_finish(struct kp_config *cf, MYSQL *db)
{
	db_close(db);
	config_free(cf);
}

static int
cmd_migrate(struct admin_ctx *ctx, int argc, char **argv)
{
	const char		*dir = migrate_default_dir();
	struct admin_opt	 opts[] = { { "sql-dir", &dir, NULL },
				    { NULL, NULL, NULL } };
	struct kp_config	*cf;
	void			*db;
	char			 err[1024];
	int			 rc;

	if ((rc = dir_opts("directory migrate", &argc, argv, opts, 0)) != 0 ||
	    (rc = admin_open_db(ctx, &cf, &db)) != 0)
		return rc;
	if (migrate_run(db, dir, stdout, err, sizeof(err)) == -1) {
		fprintf(stderr, "kruispunt directory migrate: %s\n", err);
		rc = ADMIN_EXIT_FAIL;
	}
	dir_finish(cf, db);
	return rc;
}

static int
cmd_import(struct admin_ctx *ctx, int argc, char **argv)
{
	int			 replace = 0;
	struct admin_opt	 opts[] = { { "replace", NULL, &replace },
				    { NULL, NULL, NULL } };
	struct dircsv_result	 res;
	struct kp_config	*cf;
	void			*db;
	char			 err[1024];
	int			 rc;

	if ((rc = dir_opts("directory import", &argc, argv, opts, 2)) != 0)
		return rc;
	if (!dircsv_known_table(argv[0])) {
		fprintf(stderr, "kruispunt directory import: unknown table %s "
		    "(one of: %s)\n", argv[0], dircsv_tables());
		return ADMIN_EXIT_USAGE;
	}
	if ((rc = admin_open_db(ctx, &cf, &db)) != 0)
		return rc;
	switch (dircsv_import(db, argv[0], argv[1], replace != 0, stderr, &res,
	    err, sizeof(err))) {
	case 0:
		printf("imported %lu row%s into %s%s\n", res.rows,
		    res.rows == 1 ? "" : "s", argv[0],
		    replace ? " (replacing its contents)" : "");
		break;
	case 1:
		fprintf(stderr, "kruispunt directory import: %lu problem%s in "
		    "%s; nothing was imported\n", res.errors,
		    res.errors == 1 ? "" : "s", argv[1]);
		rc = ADMIN_EXIT_FAIL;
		break;
	default:
		fprintf(stderr, "kruispunt directory import: %s; nothing was "
		    "imported\n", err);
		rc = ADMIN_EXIT_FAIL;
		break;
	}
	dir_finish(cf, db);
	return rc;
}

static int
cmd_export(struct admin_ctx *ctx, int argc, char **argv)
{
	struct admin_opt	 opts[] = { { NULL, NULL, NULL } };
	struct kp_config	*cf;
	void			*db;
	char			 err[1024];
	int			 rc;

	if ((rc = dir_opts("directory export", &argc, argv, opts, 1)) != 0)
		return rc;
	if (!dircsv_known_table(argv[0])) {
		fprintf(stderr, "kruispunt directory export: unknown table %s "
		    "(one of: %s)\n", argv[0], dircsv_tables());
		return ADMIN_EXIT_USAGE;
	}
	if ((rc = admin_open_db(ctx, &cf, &db)) != 0)
		return rc;
	if (dircsv_export(db, argv[0], stdout, err, sizeof(err)) == -1) {
		fprintf(stderr, "kruispunt directory export: %s\n", err);
		rc = ADMIN_EXIT_FAIL;
	}
	dir_finish(cf, db);
	return rc;
}

static int
cmd_check(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char *const cols[] = { "kind", "object", "problem" };
	struct admin_opt	 opts[] = { { NULL, NULL, NULL } };
	struct kp_config	*cf;
	struct output		*o;
	unsigned long		 problems;
	void			*db;
	char			 err[1024];
	int			 rc;

	if ((rc = dir_opts("directory check", &argc, argv, opts, 0)) != 0 ||
	    (rc = admin_open_db(ctx, &cf, &db)) != 0)
		return rc;
	o = output_open(ctx->format, stdout, 3, cols);
	if (dircheck_run(db, o, &problems, err, sizeof(err)) == -1) {
		output_close(o);
		fprintf(stderr, "kruispunt directory check: %s\n", err);
		dir_finish(cf, db);
		return ADMIN_EXIT_FAIL;
	}
	output_close(o);
	if (ctx->format == OUTPUT_TABLE)
		printf("%lu problem%s\n", problems, problems == 1 ? "" : "s");
	dir_finish(cf, db);
	return problems > 0 ? ADMIN_EXIT_FAIL : ADMIN_EXIT_OK;
}

static int
cmd_add_cert(struct admin_ctx *ctx, int argc, char **argv)
{
	struct admin_opt	 opts[] = { { NULL, NULL, NULL } };
	struct cert_info	 info;
	struct kp_config	*cf;
	void			*db;
	char			 err[1024];
	int			 rc;

	if ((rc = dir_opts("directory add-cert", &argc, argv, opts, 2)) != 0 ||
	    (rc = admin_open_db(ctx, &cf, &db)) != 0)
		return rc;
	if (certificate_add(db, argv[0], argv[1], &info, err, sizeof(err)) == -1) {
		fprintf(stderr, "kruispunt directory add-cert: %s\n", err);
		rc = ADMIN_EXIT_FAIL;
	} else
		printf("registered to %s: %s\n  subject %s\n  issuer %s, serial "
		    "%s\n  valid %s to %s UTC\n", argv[0], info.fingerprint,
		    info.subject, info.issuer, info.serial, info.not_before,
		    info.not_after);
	dir_finish(cf, db);
	return rc;
}

static int
cmd_revoke_cert(struct admin_ctx *ctx, int argc, char **argv)
{
	struct admin_opt	 opts[] = { { NULL, NULL, NULL } };
	struct kp_config	*cf;
	void			*db;
	char			 err[1024];
	int			 rc;

	if ((rc = dir_opts("directory revoke-cert", &argc, argv, opts, 1)) != 0 ||
	    (rc = admin_open_db(ctx, &cf, &db)) != 0)
		return rc;
	switch (certificate_revoke(db, argv[0], err, sizeof(err))) {
	case 0:
		printf("revoked %s\n", argv[0]);
		break;
	case 1:
		fprintf(stderr, "kruispunt directory revoke-cert: no registered "
		    "certificate has fingerprint %s\n", argv[0]);
		rc = ADMIN_EXIT_FAIL;
		break;
	default:
		fprintf(stderr, "kruispunt directory revoke-cert: %s\n", err);
		rc = ADMIN_EXIT_FAIL;
	}
	dir_finish(cf, db);
	return rc;
}

/* ------------------------------------------------------------------ */
/* explain                                                             */
/* ------------------------------------------------------------------ */

static void
explain_file(const char *mark, const struct dir_file *f)
{
	char	p[32];

	period_format(&f->period, p, sizeof(p));
	printf("  %s %s  %-14s %-22s %s%s\n", mark, f->institution, f->sector,
	    f->quality, p, f->active ? "" : "  (institution inactive)");
}

static void
explain_auth(const char *mark, const struct dir_authorization *a)
{
	char	p[32];

	period_format(&a->valid, p, sizeof(p));
	printf("  %s %-12s requester %s%s%s  valid %s  legal basis: %s\n", mark,
	    a->id, a->requester_institution[0] ? a->requester_institution :
	    "sector ", a->requester_institution[0] ? "" : a->requester_sector,
	    "", p, a->legal_basis);
}

/* Resolve --date (default today) and the requester; an exit status. */
static int
explain_date(const char *cmd, const char *s, kp_day *today)
{
	if (s == NULL) {
		*today = day_today();
		return ADMIN_EXIT_OK;
	}
	if (day_parse(s, today) == -1) {
		fprintf(stderr, "kruispunt %s: --date %s is not a date "
		    "(YYYY-MM-DD)\n", cmd, s);
		return ADMIN_EXIT_USAGE;
	}
	return ADMIN_EXIT_OK;
}

static int
explain_need(const char *cmd, const char *name, const char *v)
{
	if (v != NULL)
		return 0;
	fprintf(stderr, "kruispunt %s: --%s is required\n", cmd, name);
	return -1;
}

static int
explain_open(struct admin_ctx *ctx, struct kp_config **cf,
    struct directory **dir)
{
	char	err[1024];
	int	nerr;

	if ((*cf = config_load(ctx->config_path, CONF_FOR_ADMIN, stderr,
	    &nerr)) == NULL)
		return ADMIN_EXIT_CONFIG;
	if ((*dir = directory_open(*cf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "kruispunt: %s\n", err);
		config_free(*cf);
		return ADMIN_EXIT_UNAVAILABLE;
	}
	return ADMIN_EXIT_OK;
}

static int
explain_requester(struct directory *dir, const char *cmd, const char *id,
    struct dir_institution *inst)
{
	int	rc = directory_institution(dir, id, inst);

	if (rc == 1)
		return 0;
	if (rc == 0)
		fprintf(stderr, "kruispunt %s: institution %s is not in the "
		    "directory\n", cmd, id);
	else
		fprintf(stderr, "kruispunt %s: %s\n", cmd, directory_error(dir));
	return -1;
}

static void
explain_consult_print(const struct consult_request *q,
    const struct consult_facts *f, const struct consult_decision *d)
{
	char	p[32], t[DAY_TEXT_LEN];
	size_t	i;

	period_format(&q->period, p, sizeof(p));
	day_format(q->today, t);
	printf("consult by %s (sector %s): service %s, quality %s, period %s, "
	    "on %s\n\n", q->requester, q->requester_sector, q->service,
	    q->quality, p, t);
	printf("files of the person (* the requester's, > a target):\n");
	for (i = 0; i < f->nfiles; i++) {
		size_t k;
		const char *mark = &f->files[i] == d->requester_file ? "*" : " ";
		for (k = 0; k < d->ntargets; k++)
			if (d->targets[k].file == &f->files[i])
				mark = ">";
		explain_file(mark, &f->files[i]);
	}
	if (f->nfiles == 0)
		printf("  (none)\n");
	printf("\nauthorisations for service %s in quality %s (* matched):\n",
	    q->service, q->quality);
	for (i = 0; i < f->nauths; i++)
		explain_auth(&f->auths[i] == d->authorization ? "*" : " ",
		    &f->auths[i]);
	if (f->nauths == 0)
		printf("  (none)\n");
	printf("\navailability of service %s:\n", q->service);
	for (i = 0; i < f->navail; i++)
		printf("    sector %s, institution %s, quality %s\n",
		    f->avail[i].sector, f->avail[i].institution[0] ?
		    f->avail[i].institution : "any", f->avail[i].quality[0] ?
		    f->avail[i].quality : "any");
	if (f->navail == 0)
		printf("  (none)\n");
	printf("\ndecision: ");
	if (d->code != KP_OK)
		printf("%s: %s\n", kp_strerror(d->code), d->reason);
	else if (d->ntargets == 0)
		printf("NOT_AVAILABLE_IN_NETWORK: %s\n", d->reason);
	else {
		printf("OK: routed to %zu institution%s under %s (%s)\n",
		    d->ntargets, d->ntargets == 1 ? "" : "s", d->authorization->id,
		    d->authorization->legal_basis);
		for (i = 0; i < d->ntargets; i++)
			printf("  -> %s (holds the file as %s)\n",
			    d->targets[i].file->institution,
			    d->targets[i].file->quality);
	}
}

static int
cmd_explain_consult(struct admin_ctx *ctx, int argc, char **argv)
{
	const char		*cmd = "directory explain consult";
	const char		*requester = NULL, *ssin = NULL, *service = NULL,
				*quality = NULL, *period = NULL, *date = NULL;
	struct admin_opt	 opts[] = {
		{ "requester", &requester, NULL }, { "ssin", &ssin, NULL },
		{ "service", &service, NULL }, { "quality", &quality, NULL },
		{ "period", &period, NULL }, { "date", &date, NULL },
		{ NULL, NULL, NULL } };
	struct consult_request	 q;
	struct consult_decision	 d;
	struct dir_institution	 inst;
	struct dir_consult	 c;
	struct kp_config	*cf;
	struct directory	*dir;
	char			 b[32], *slash;
	int			 rc;

	if ((rc = dir_opts(cmd, &argc, argv, opts, 0)) != 0)
		return rc;
	if (explain_need(cmd, "requester", requester) || explain_need(cmd,
	    "ssin", ssin) || explain_need(cmd, "service", service) ||
	    explain_need(cmd, "quality", quality))
		return ADMIN_EXIT_USAGE;
	memset(&q, 0, sizeof(q));
	if ((rc = explain_date(cmd, date, &q.today)) != 0)
		return rc;
	if (!ssin_valid(ssin)) {
		fprintf(stderr, "kruispunt %s: INVALID_SSIN: %s: %s\n", cmd,
		    ssin, ssin_strerror(ssin_parse(ssin, NULL)));
		return ADMIN_EXIT_FAIL;
	}
	if (period == NULL) {
		q.period.begin = q.period.end = q.today;
	} else {
		snprintf(b, sizeof(b), "%s", period);
		if ((slash = strchr(b, '/')) != NULL)
			*slash = '\0';
		if (period_parse(b, slash != NULL ? slash + 1 : NULL,
		    &q.period) == -1) {
			fprintf(stderr, "kruispunt %s: --period %s is not "
			    "BEGIN/END or BEGIN/ (YYYY-MM-DD)\n", cmd, period);
			return ADMIN_EXIT_USAGE;
		}
	}
	if ((rc = explain_open(ctx, &cf, &dir)) != 0)
		return rc;
	if (explain_requester(dir, cmd, requester, &inst) == -1 ||
	    directory_consult(dir, ssin, service, quality, &c) == -1) {
		if (directory_error(dir)[0])
			fprintf(stderr, "kruispunt %s: %s\n", cmd,
			    directory_error(dir));
		directory_close(dir);
		config_free(cf);
		return ADMIN_EXIT_FAIL;
	}
	q.requester = inst.id;
	q.requester_sector = inst.sector;
	q.service = service;
	q.quality = quality;
	dispatch_consult(&q, &c.facts, &d);
	explain_consult_print(&q, &c.facts, &d);
	rc = d.code == KP_OK ? ADMIN_EXIT_OK : ADMIN_EXIT_FAIL;
	dispatch_consult_free(&d);
	directory_consult_free(&c);
	directory_close(dir);
	config_free(cf);
	return rc;
}

static int
cmd_explain_mutation(struct admin_ctx *ctx, int argc, char **argv)
{
	const char		*cmd = "directory explain mutation";
	const char		*type = NULL, *ssin = NULL, *source = NULL,
				*date = NULL;
	struct admin_opt	 opts[] = {
		{ "type", &type, NULL }, { "ssin", &ssin, NULL },
		{ "source", &source, NULL }, { "date", &date, NULL },
		{ NULL, NULL, NULL } };
	struct mutation_request	 q;
	struct mutation_decision d;
	struct dir_mutation	 m;
	struct kp_config	*cf;
	struct directory	*dir;
	char			 t[DAY_TEXT_LEN];
	size_t			 i;
	int			 rc;

	if ((rc = dir_opts(cmd, &argc, argv, opts, 0)) != 0)
		return rc;
	if (explain_need(cmd, "type", type) || explain_need(cmd, "ssin", ssin))
		return ADMIN_EXIT_USAGE;
	memset(&q, 0, sizeof(q));
	if ((rc = explain_date(cmd, date, &q.today)) != 0)
		return rc;
	if (!ssin_valid(ssin)) {
		fprintf(stderr, "kruispunt %s: INVALID_SSIN: %s: %s\n", cmd,
		    ssin, ssin_strerror(ssin_parse(ssin, NULL)));
		return ADMIN_EXIT_FAIL;
	}
	if ((rc = explain_open(ctx, &cf, &dir)) != 0)
		return rc;
	if (directory_mutation(dir, ssin, type, &m) == -1) {
		fprintf(stderr, "kruispunt %s: %s\n", cmd, directory_error(dir));
		directory_close(dir);
		config_free(cf);
		return ADMIN_EXIT_FAIL;
	}
	q.source = source != NULL ? source : m.source;
	dispatch_mutation(&q, &m.facts, &d);
	day_format(q.today, t);
	printf("mutation %s about the person, published by %s, on %s\n", type,
	    q.source, t);
	if (m.facts.type_known) {
		printf("service %s, authentic source %s\n\nfiles of the person "
		    "(> a recipient):\n", m.service, m.source);
		for (i = 0; i < m.facts.nfiles; i++) {
			size_t k;
			const char *mark = " ";
			for (k = 0; k < d.nrecipients; k++)
				if (d.recipients[k].file == &m.facts.files[i])
					mark = ">";
			explain_file(mark, &m.facts.files[i]);
		}
		printf("\nsubscribers:");
		for (i = 0; i < m.facts.nsubscribers; i++)
			printf(" %s", m.subscribers[i]);
		printf("%s\n", m.facts.nsubscribers ? "" : " (none)");
	}
	printf("\ndecision: %s: %s\n", kp_strerror(d.code), d.reason);
	for (i = 0; i < d.nrecipients; i++)
		printf("  -> %s as %s, under %s (%s)\n",
		    d.recipients[i].file->institution,
		    d.recipients[i].file->quality,
		    d.recipients[i].authorization->id,
		    d.recipients[i].authorization->legal_basis);
	if (d.code == KP_OK)
		printf("%zu recipient%s\n", d.nrecipients,
		    d.nrecipients == 1 ? "" : "s");
	rc = d.code == KP_OK ? ADMIN_EXIT_OK : ADMIN_EXIT_FAIL;
	dispatch_mutation_free(&d);
	directory_mutation_free(&m);
	directory_close(dir);
	config_free(cf);
	return rc;
}

static int
cmd_explain_access(struct admin_ctx *ctx, int argc, char **argv)
{
	const char		*cmd = "directory explain manage-access";
	const char		*requester = NULL, *quality = NULL;
	struct admin_opt	 opts[] = {
		{ "requester", &requester, NULL }, { "quality", &quality, NULL },
		{ NULL, NULL, NULL } };
	struct access_request	 q;
	struct access_facts	 f;
	struct access_decision	 d;
	struct dir_institution	 inst;
	struct kp_config	*cf;
	struct directory	*dir;
	char			 sector[CODE_LEN];
	int			 rc;

	if ((rc = dir_opts(cmd, &argc, argv, opts, 0)) != 0)
		return rc;
	if (explain_need(cmd, "requester", requester) ||
	    explain_need(cmd, "quality", quality))
		return ADMIN_EXIT_USAGE;
	if ((rc = explain_open(ctx, &cf, &dir)) != 0)
		return rc;
	if (explain_requester(dir, cmd, requester, &inst) == -1 ||
	    (rc = directory_quality_sector(dir, quality, sector)) == -1) {
		directory_close(dir);
		config_free(cf);
		return ADMIN_EXIT_FAIL;
	}
	q.requester = inst.id;
	q.requester_sector = inst.sector;
	q.quality = quality;
	f.quality_known = rc == 1;
	f.quality_sector = sector;
	dispatch_manage_access(&q, &f, &d);
	printf("manage-access by %s (sector %s) in quality %s", inst.id,
	    inst.sector, quality);
	if (f.quality_known)
		printf(" (a quality of sector %s)", sector);
	printf("\ndecision: %s: %s\n", kp_strerror(d.code), d.reason);
	directory_close(dir);
	config_free(cf);
	return d.code == KP_OK ? ADMIN_EXIT_OK : ADMIN_EXIT_FAIL;
}
