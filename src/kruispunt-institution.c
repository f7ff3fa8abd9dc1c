/*
 * kruispunt-institution - the reference institution endpoint: main() and
 * option handling.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "log.h"
#include "version.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: kruispunt-institution [-nv] [-c file]\n"
	    "  -c, --config FILE   configuration file (default: %s)\n"
	    "  -n, --check         check the configuration, print \"configuration OK\" and exit\n"
	    "  -v, --verbose       log at debug level\n"
	    "  -h, --help          show this help and exit\n"
	    "  -V, --version       show the version and exit\n",
	    config_default_path());
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char		*path = NULL;
	struct kp_config	*cf;
	int			 ch, check = 0, verbose = 0, nerr;

	while ((ch = getopt_long(argc, argv, "c:nvhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			version_print(stdout, "kruispunt-institution");
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "kruispunt-institution: unexpected argument "
		    "'%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (path == NULL)
		path = config_default_path();

	log_init("kruispunt-institution", 1,
	    verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if ((cf = config_load(path, CONF_FOR_INSTITUTION, stderr, &nerr)) == NULL) {
		fprintf(stderr, "kruispunt-institution: %d problem%s in %s\n",
		    nerr, nerr == 1 ? "" : "s", path);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		config_free(cf);
		return 0;
	}
	log_warnx("kruispunt-institution %s cannot serve requests yet: this "
	    "build has only the configuration check (-n)", PACKAGE_VERSION);
	config_free(cf);
	return 1;
}
