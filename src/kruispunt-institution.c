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
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "institution.h"
#include "log.h"
#include "version.h"

/* Print the options. */
static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: kruispunt-institution [-dnv] [-c file] [-p pidfile]\n"
	    "  -c, --config FILE   configuration file (default: %s)\n"
	    "  -d, --foreground    stay in the foreground and log to stderr\n"
	    "  -n, --check         check the configuration, print \"configuration OK\" and exit\n"
	    "  -p, --pid-file FILE write the process id to FILE\n"
	    "  -v, --verbose       log at debug level\n"
	    "  -h, --help          show this help and exit\n"
	    "  -V, --version       show the version and exit\n",
	    config_default_path());
}

/* Set up, leave the terminal unless foreground, serve; an exit status. */
static int
serve(struct kp_config *cf, int foreground, int verbose, const char *pidfile)
{
	struct institution	*inst;
	char			 err[512];
	int			 rc = 1;

	if ((inst = institution_new(cf, err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		return 1;
	}
	if (!foreground) {
		if (daemon_detach() == -1) {
			log_warn("cannot become a daemon");
			goto cleanup;
		}
		log_init("kruispunt-institution", 0,
		    verbose ? LOG_LEVEL_DEBUG : (enum log_level)cf->log_level);
	}
	if (pidfile != NULL && daemon_pidfile(pidfile) == -1)
		goto cleanup;
	rc = institution_run(inst) == 0 ? 0 : 1;
	if (pidfile != NULL)
		unlink(pidfile);
cleanup:
	institution_free(inst);
	return rc;
}

/* Options, configuration, then serve. */
int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'n' },
		{ "foreground", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char		*path = NULL, *pidfile = NULL;
	struct kp_config	*cf;
	int			 ch, check = 0, verbose = 0, foreground = 0, nerr;
	int			 rc;

	while ((ch = getopt_long(argc, argv, "c:dnp:vhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'p':
			pidfile = optarg;
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
	if (!verbose)
		log_set_level((enum log_level)cf->log_level);
	if (cf->log_debug != NULL && *cf->log_debug != '\0')
		log_set_debug(cf->log_debug);
	rc = serve(cf, foreground, verbose, pidfile);
	config_free(cf);
	return rc;
}
