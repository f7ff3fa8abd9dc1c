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
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "db.h"
#include "hub.h"
#include "log.h"
#include "server.h"
#include "version.h"

static struct server	*srv;
static struct hub	*hub;

static void
on_stop(void *arg)
{
	(void)arg;
	server_stop(srv);
}

static void
on_reload(void *arg)
{
	char	err[256];

	(void)arg;
	hub_reload(hub);
	if (server_reload_tls(srv, err, sizeof(err)) == -1)
		log_warnx("SIGHUP: %s; the listener keeps its certificate", err);
}

/*
 * The start failed: because SIGTERM or SIGINT ended the wait for the
 * database (exit 0), or for err (exit 1).
 */
static int
start_failed(const char *err)
{
	if (!daemon_stop_pending())
		fatalx("%s", err);
	log_info("kruispuntd stopped by a signal while it was starting (%s)",
	    err);
	return 0;
}

/* Run the hub until SIGTERM; the exit status. */
static int
serve(struct kp_config *cf, int foreground)
{
	struct server_options	 so;
	struct server_ops	 ops;
	char			 err[1024];

	daemon_signals_block();
	if (!foreground && daemon_detach() == -1)
		fatal("cannot run as a daemon");
	log_init("kruispuntd", foreground, (enum log_level)cf->log_level);
	if (cf->log_debug != NULL)
		log_set_debug(cf->log_debug);
	/* the database may still be starting, or behind a proxy that has not
	 * checked its servers yet: the connections made now are tried again */
	db_start_wait(cf->db_start_wait, daemon_stop_pending);
	if ((hub = hub_new(cf, err, sizeof(err))) == NULL)
		return start_failed(err);
	memset(&so, 0, sizeof(so));
	so.listen = cf->hub_listen;
	so.port = cf->hub_port;
	so.workers = cf->hub_workers;
	so.max_connections = cf->hub_max_connections;
	so.max_message_size = cf->max_message_size;
	so.read_timeout_ms = cf->read_timeout;
	so.send_timeout_ms = cf->send_timeout;
	so.tls = cf->tls_enabled;
	so.tls_certificate = cf->tls_certificate;
	so.tls_key = cf->tls_key;
	so.tls_client_auth = cf->tls_client_auth;
	so.tls_client_ca = cf->tls_client_ca;
	hub_server_ops(hub, &ops);
	if ((srv = server_new(&so, &ops, err, sizeof(err))) == NULL) {
		hub_free(hub);
		return start_failed(err);
	}
	db_start_wait(0, NULL);
	if (cf->hub_pid_file != NULL && daemon_pidfile(cf->hub_pid_file) == -1)
		fatalx("cannot write the pid file %s", cf->hub_pid_file);
	if (daemon_signals_start(on_stop, on_reload, NULL) == -1)
		fatalx("cannot start the signal thread");
	log_info("kruispuntd %s node=%s listening on %s://%s:%d workers=%d",
	    PACKAGE_VERSION, cf->hub_node, cf->tls_enabled ? "https" : "http",
	    cf->hub_listen, server_port(srv), cf->hub_workers);
	server_run(srv);
	daemon_signals_stop();
	server_free(srv);
	hub_free(hub);
	if (cf->hub_pid_file != NULL)
		unlink(cf->hub_pid_file);
	log_info("kruispuntd stopped");
	return 0;
}

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
	if (verbose)
		cf->log_level = LOG_LEVEL_DEBUG;
	if (debug != NULL) {
		free(cf->log_debug);
		cf->log_debug = strdup(debug);
	}
	ch = serve(cf, foreground);
	config_free(cf);
	return ch;
}
