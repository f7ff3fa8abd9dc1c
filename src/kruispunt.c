/*
 * kruispunt - the admin and audit tool: main() and option handling.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "admin.h"
#include "config.h"
#include "log.h"
#include "version.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: kruispunt [-c file] [--format table|csv|json] command [argument...]\n"
	    "  -c, --config FILE   configuration file (default: %s)\n"
	    "  -f, --format FMT    output: table (default), csv or json\n"
	    "  -h, --help          show this help and exit\n"
	    "  -V, --version       show the version and exit\n\n",
	    config_default_path());
	admin_help(fp);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct admin_ctx	ctx = { NULL, OUTPUT_TABLE };
	int			ch;

	/* a peer that closes (a TLS handshake refused) is an error to report
	 * (exit 4), not a reason to die of SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt_long(argc, argv, "+c:f:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			ctx.config_path = optarg;
			break;
		case 'f':
			if (output_format_parse(optarg, &ctx.format) == -1) {
				fprintf(stderr, "kruispunt: unknown format '%s' "
				    "(table, csv or json)\n", optarg);
				return ADMIN_EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return ADMIN_EXIT_OK;
		case 'V':
			version_print(stdout, "kruispunt");
			return ADMIN_EXIT_OK;
		default:
			usage(stderr);
			return ADMIN_EXIT_USAGE;
		}
	}
	if (ctx.config_path == NULL)
		ctx.config_path = config_default_path();
	log_init("kruispunt", 1, LOG_LEVEL_WARNING);
	return admin_run(&ctx, argc - optind, argv + optind);
}
