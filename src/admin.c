/*
 * kruispunt - the admin and audit tool's commands.
 *
 * A table of command phrases and their handlers (as OpenSMTPD's smtpctl);
 * `kruispunt help` is generated from the same table, so it cannot drift from
 * what the tool accepts.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "config.h"
#include "db.h"
#include "enterprise.h"
#include "output.h"
#include "ssin.h"

static int cmd_help(struct admin_ctx *, int, char **);
static int cmd_ssin_check(struct admin_ctx *, int, char **);
static int cmd_enterprise_check(struct admin_ctx *, int, char **);
static int cmd_database_ping(struct admin_ctx *, int, char **);

static const struct admin_cmd admin_base_cmds[] = {
	{ "help", "", 0, "list the commands", cmd_help },
	{ "ssin check", "SSIN...", 1,
	  "check SSIN and BIS numbers; exit 1 if any is invalid",
	  cmd_ssin_check },
	{ "enterprise check", "NUMBER...", 1,
	  "check enterprise numbers; exit 1 if any is invalid",
	  cmd_enterprise_check },
	{ "database ping", "", 0,
	  "connect to the database of the configuration and show its version",
	  cmd_database_ping },
	{ NULL, NULL, 0, NULL, NULL }
};

static const struct admin_cmd *const admin_tables[] = {
	admin_base_cmds,
	admin_directory_cmds,
	admin_wsse_cmds,
	admin_send_cmds,
	admin_outbox_cmds,
	admin_audit_cmds,
	admin_stats_cmds,
};

#define NTABLES	(sizeof(admin_tables) / sizeof(admin_tables[0]))

/* Print every command with its arguments and purpose. */
void
admin_help(FILE *fp)
{
	const struct admin_cmd	*c;
	size_t			 t;
	char			 buf[128];

	fprintf(fp, "commands:\n");
	for (t = 0; t < NTABLES; t++) {
		for (c = admin_tables[t]; c->phrase != NULL; c++) {
			snprintf(buf, sizeof(buf), "%s%s%s", c->phrase,
			    *c->args ? " " : "", c->args);
			fprintf(fp, "  %-36s %s\n", buf, c->help);
		}
	}
}

static int
cmd_help(struct admin_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	admin_help(stdout);
	return ADMIN_EXIT_OK;
}

static int
cmd_ssin_check(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char *const cols[] = {
		"ssin", "verdict", "kind", "birth_date", "sex"
	};
	struct output	*o;
	struct ssin_info info;
	enum ssin_status st;
	char		 date[16];
	int		 i, bad = 0;

	o = output_open(ctx->format, stdout, 5, cols);
	for (i = 0; i < argc; i++) {
		const char *row[5] = { argv[i], NULL, NULL, NULL, NULL };
		if ((st = ssin_parse(argv[i], &info)) != SSIN_OK) {
			bad++;
			row[1] = ssin_strerror(st);
			output_row(o, row);
			continue;
		}
		snprintf(date, sizeof(date), "%04d-%02d-%02d", info.year,
		    info.month, info.day);
		row[1] = "valid";
		row[2] = info.kind == SSIN_BIS ? "bis" : "national-register";
		row[3] = date;
		row[4] = info.sex == 'M' ? "M" : info.sex == 'F' ? "F" : "unknown";
		output_row(o, row);
	}
	output_close(o);
	return bad ? ADMIN_EXIT_FAIL : ADMIN_EXIT_OK;
}

static int
cmd_enterprise_check(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char *const cols[] = { "enterprise_number", "verdict" };
	struct output	*o;
	int		 i, bad = 0;

	o = output_open(ctx->format, stdout, 2, cols);
	for (i = 0; i < argc; i++) {
		int ok = enterprise_number_valid(argv[i]);
		const char *row[2] = { argv[i], ok ? "valid" : "invalid" };
		bad += !ok;
		output_row(o, row);
	}
	output_close(o);
	return bad ? ADMIN_EXIT_FAIL : ADMIN_EXIT_OK;
}

static int
cmd_database_ping(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char *const cols[] = { "database", "server", "version" };
	struct kp_config *cf;
	struct output	 *o;
	void		 *db;
	int		  rc;

	(void)argc;
	(void)argv;
	if ((rc = admin_open_db(ctx, &cf, &db)) != ADMIN_EXIT_OK)
		return rc;
	{
		const char *row[3] = { cf->db_name,
		    cf->db_socket != NULL ? cf->db_socket : cf->db_host,
		    mysql_get_server_info(db) };
		o = output_open(ctx->format, stdout, 3, cols);
		output_row(o, row);
		output_close(o);
	}
	db_close(db);
	config_free(cf);
	return ADMIN_EXIT_OK;
}

/*
 * Take the --options of a command out of argv (compacting the rest, the
 * positional arguments, to its front). "--name value" and "--name=value" are
 * both accepted; "--" ends the options. 0, or -1 after a message.
 */
int
admin_parse_opts(const char *command, int *argc, char **argv,
    const struct admin_opt *opts)
{
	const struct admin_opt	*o;
	int			 i, n = 0, rest = 0;
	size_t			 len;
	char			*eq;

	for (i = 0; i < *argc; i++) {
		if (rest || strncmp(argv[i], "--", 2) != 0 || argv[i][2] == '\0') {
			if (!rest && strcmp(argv[i], "--") == 0) {
				rest = 1;
				continue;
			}
			argv[n++] = argv[i];
			continue;
		}
		eq = strchr(argv[i], '=');
		len = eq != NULL ? (size_t)(eq - argv[i] - 2) : strlen(argv[i] + 2);
		for (o = opts; o->name != NULL; o++)
			if (strlen(o->name) == len &&
			    strncmp(o->name, argv[i] + 2, len) == 0)
				break;
		if (o->name == NULL) {
			fprintf(stderr, "kruispunt %s: unknown option %s\n",
			    command, argv[i]);
			return -1;
		}
		if (o->value == NULL) {
			if (eq != NULL) {
				fprintf(stderr, "kruispunt %s: --%s takes no "
				    "value\n", command, o->name);
				return -1;
			}
			*o->flag = 1;
		} else if (eq != NULL)
			*o->value = eq + 1;
		else if (i + 1 < *argc)
			*o->value = argv[++i];
		else {
			fprintf(stderr, "kruispunt %s: --%s needs a value\n",
			    command, o->name);
			return -1;
		}
	}
	*argc = n;
	return 0;
}

/* Load the configuration and connect to its database; an exit status. */
int
admin_open_db(struct admin_ctx *ctx, struct kp_config **cf, void **dbp)
{
	char	err[512];
	int	nerr;
	MYSQL	*db;

	if ((*cf = config_load(ctx->config_path, CONF_FOR_ADMIN, stderr,
	    &nerr)) == NULL) {
		fprintf(stderr, "kruispunt: %d problem%s in %s\n", nerr,
		    nerr == 1 ? "" : "s", ctx->config_path);
		return ADMIN_EXIT_CONFIG;
	}
	if ((db = db_connect(*cf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "kruispunt: %s\n", err);
		config_free(*cf);
		*cf = NULL;
		return ADMIN_EXIT_UNAVAILABLE;
	}
	*dbp = db;
	return ADMIN_EXIT_OK;
}

/* How many words of phrase match argv; 0 if not all of them. */
static int
admin_match(const char *phrase, int argc, char **argv)
{
	char	 buf[128], *word, *save = NULL;
	int	 n = 0;

	snprintf(buf, sizeof(buf), "%s", phrase);
	for (word = strtok_r(buf, " ", &save); word != NULL;
	    word = strtok_r(NULL, " ", &save)) {
		if (n >= argc || strcmp(word, argv[n]) != 0)
			return 0;
		n++;
	}
	return n;
}

/* Run the command named by argv. */
int
admin_run(struct admin_ctx *ctx, int argc, char **argv)
{
	const struct admin_cmd	*c;
	size_t			 t;
	int			 n;

	if (argc == 0) {
		fprintf(stderr, "kruispunt: no command given\n");
		admin_help(stderr);
		return ADMIN_EXIT_USAGE;
	}
	for (t = 0; t < NTABLES; t++) {
		for (c = admin_tables[t]; c->phrase != NULL; c++) {
			if ((n = admin_match(c->phrase, argc, argv)) == 0)
				continue;
			if (argc - n < c->min_args || (c->min_args == 0 &&
			    argc - n > 0 && *c->args == '\0')) {
				fprintf(stderr, "usage: kruispunt %s %s\n",
				    c->phrase, c->args);
				return ADMIN_EXIT_USAGE;
			}
			return c->fn(ctx, argc - n, argv + n);
		}
	}
	fprintf(stderr, "kruispunt: unknown command '%s'\n", argv[0]);
	admin_help(stderr);
	return ADMIN_EXIT_USAGE;
}
