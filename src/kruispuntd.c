/*
 * kruispuntd - the kruispunt hub daemon: main() and option handling.
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
	    "usage: kruispuntd [-dnv] [-c file] [-D subsystems]\n"
	    "  -c, --config FILE   configuration file (default: %s)\n"
	    "  -n, --check         check the configuration, print \"configuration OK\" and exit\n"
	    "  -d, --foreground    stay in the foreground and log to stderr\n"
	    "  -v, --verbose       log at debug level\n"
	    "  -D, --debug LIST    debug output only for these subsystems (comma-separated)\n"
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
		{ "foreground", no_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "debug", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char		*path = NULL, *debug = NULL;
	struct kp_config	*cf;
	int			 ch, check = 0, foreground = 0, verbose = 0, nerr;

	while ((ch = getopt_long(argc, argv, "c:ndvD:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'd':
			foreground = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'D':
			debug = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			version_print(stdout, "kruispuntd");
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "kruispuntd: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		return 2;
	}
	if (path == NULL)
		path = config_default_path();

	log_init("kruispuntd", 1, verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if ((cf = config_load(path, CONF_FOR_HUB, stderr, &nerr)) == NULL) {
		fprintf(stderr, "kruispuntd: %d problem%s in %s\n", nerr,
		    nerr == 1 ? "" : "s", path);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		config_free(cf);
		return 0;
	}
	if (debug != NULL)
		log_set_debug(debug);
	(void)foreground;
	/* The request pipeline (listener, dispatch, audit) is built by the
	 * hub pipeline work; until then only the configuration check runs. */
	log_warnx("kruispuntd %s cannot serve requests yet: this build has "
	    "only the configuration check (-n)", PACKAGE_VERSION);
	config_free(cf);
	return 1;
}
