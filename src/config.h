/*
 * kruispunt - kruispunt.conf(5): an INI file read with libinih into one struct.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_CONFIG_H
#define KP_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

/* The sections a program needs; values of the others are not checked. */
#define CONF_HUB		0x0001
#define CONF_TLS		0x0002
#define CONF_SIGNING		0x0004
#define CONF_TRUST		0x0008
#define CONF_LIMITS		0x0010
#define CONF_DATABASE		0x0020
#define CONF_LOG		0x0040
#define CONF_INSTITUTION	0x0080
#define CONF_NOTIFY		0x0100
#define CONF_STATS		0x0200

#define CONF_FOR_HUB	(CONF_HUB | CONF_TLS | CONF_SIGNING | CONF_TRUST | \
			 CONF_LIMITS | CONF_DATABASE | CONF_LOG | CONF_NOTIFY)
#define CONF_FOR_ADMIN	(CONF_DATABASE | CONF_LOG | CONF_NOTIFY | CONF_STATS)
#define CONF_FOR_INSTITUTION (CONF_INSTITUTION | CONF_LIMITS | CONF_LOG)

enum conf_client_auth {
	CLIENT_AUTH_NONE = 0,
	CLIENT_AUTH_OPTIONAL,
	CLIENT_AUTH_REQUIRE,
};

/* Durations are in milliseconds, sizes in bytes. */
struct kp_config {
	char	*path;
	unsigned sections;

	/* [hub] */
	char	*hub_node;
	char	*hub_listen;
	int	 hub_port;
	char	*hub_public_url;
	int	 hub_workers;
	int	 hub_max_connections;
	char	*hub_pid_file;
	int	 hub_checkpoint_records;
	int	 hub_checkpoint_interval;

	/* [tls] */
	bool	 tls_enabled;
	char	*tls_certificate;
	char	*tls_key;
	int	 tls_client_auth;
	char	*tls_client_ca;

	/* [signing] */
	char	*signing_key;
	char	*signing_certificate;

	/* [trust] */
	char	*trust_ca_file;
	char	*trust_crl_file;

	/* [limits] */
	long	 max_message_size;
	int	 max_depth;
	int	 max_attributes;
	int	 clock_skew;
	int	 max_message_age;
	int	 read_timeout;
	int	 send_timeout;
	int	 connect_timeout;
	int	 target_timeout;

	/* [database] */
	char	*db_socket;
	char	*db_host;
	int	 db_port;
	char	*db_user;
	char	*db_password;
	char	*db_password_file;
	char	*db_name;
	int	 db_connect_timeout;
	int	 db_start_wait;
	int	 db_directory_cache;

	/* [log] */
	int	 log_level;
	char	*log_debug;

	/* [notify] */
	int	 notify_workers;
	int	 notify_max_attempts;
	int	 notify_backoff_min;
	int	 notify_backoff_max;
	int	 notify_lease;
	int	 notify_batch;
	int	 notify_lanes;

	/* [stats] */
	int	 stats_threshold;

	/* [institution] */
	char	*inst_id;
	char	*inst_listen;
	int	 inst_port;
	char	*inst_data;
	char	*inst_mutation_log;
	char	*inst_key;
	char	*inst_certificate;
	char	*inst_ca_file;
	char	*inst_hub_certificate;
};

const char		*config_default_path(void);
struct kp_config	*config_load(const char *path, unsigned sections,
			    FILE *errfp, int *nerrors);
struct kp_config	*config_defaults(unsigned sections);
void			 config_free(struct kp_config *);

#endif
