/*
 * kruispunt - the admin and audit tool's commands.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_ADMIN_H
#define KP_ADMIN_H

#include "output.h"

/* Exit statuses scripts can rely on. */
#define ADMIN_EXIT_OK		0	/* done; every check passed */
#define ADMIN_EXIT_FAIL		1	/* done, and something checked is wrong */
#define ADMIN_EXIT_USAGE	2	/* bad command line */
#define ADMIN_EXIT_CONFIG	3	/* bad configuration */
#define ADMIN_EXIT_UNAVAILABLE	4	/* the database could not be reached */

struct admin_ctx {
	const char		*config_path;
	enum output_format	 format;
};

/* One command: the words that select it, what follows, and its handler. */
struct admin_cmd {
	const char	*phrase;
	const char	*args;
	int		 min_args;
	const char	*help;
	int		(*fn)(struct admin_ctx *, int, char **);
};

/* Each area of the tool has a table, ended by an entry with phrase NULL. */
extern const struct admin_cmd admin_directory_cmds[];
extern const struct admin_cmd admin_wsse_cmds[];
extern const struct admin_cmd admin_send_cmds[];
extern const struct admin_cmd admin_outbox_cmds[];
extern const struct admin_cmd admin_audit_cmds[];
extern const struct admin_cmd admin_stats_cmds[];

/* A --name option of a command: with a value, or a flag. */
struct admin_opt {
	const char	 *name;
	const char	**value;	/* NULL for a flag */
	int		 *flag;
};

struct kp_config;

int	admin_run(struct admin_ctx *, int argc, char **argv);
int	admin_parse_opts(const char *command, int *argc, char **argv,
	    const struct admin_opt *);
int	admin_open_db(struct admin_ctx *, struct kp_config **, void **db);
void	admin_help(FILE *);

#endif
