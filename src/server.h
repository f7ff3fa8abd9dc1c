/*
 * kruispunt - the HTTP(S) listener of kruispuntd and kruispunt-institution,
 * on gSOAP: connections, keep-alive, limits, TLS, a pool of worker states.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_SERVER_H
#define KP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

struct server_request {
	const char	*method;	/* "GET" or "POST" */
	const char	*path;		/* "/kruispunt", "/health", "/?wsdl" */
	const char	*soap_action;	/* NULL when absent */
	const char	*body;
	size_t		 len;
	char		 peer[64];	/* client address */
	X509		*peer_cert;	/* TLS client certificate, or NULL */
	long long	 waited_us;	/* for a worker state, once read */
};

struct server_reply {
	int		 status;	/* HTTP status */
	const char	*content_type;
	char		*body;		/* malloc'ed; freed by the server */
	size_t		 len;
};

/* What a program plugs into the server. */
struct server_ops {
	/* a worker state (its own database connection, XML security
	 * context, ...); NULL on failure with a message logged */
	void	*(*worker_new)(void *arg);
	void	 (*worker_free)(void *state);
	/* answer one request; never blocks forever */
	void	 (*handle)(void *state, const struct server_request *,
		    struct server_reply *);
	/* answer a request refused before the handler (413, timeouts) */
	void	 (*refused)(void *arg, const struct server_request *,
		    int status);
	void	 *arg;
};

struct server_options {
	const char	*listen;
	int		 port;
	int		 workers;		/* worker states */
	int		 max_connections;
	long		 max_message_size;
	int		 read_timeout_ms;
	int		 send_timeout_ms;
	bool		 tls;
	const char	*tls_certificate;
	const char	*tls_key;
	int		 tls_client_auth;	/* enum conf_client_auth */
	const char	*tls_client_ca;
};

struct server;

struct server	*server_new(const struct server_options *,
		    const struct server_ops *, char *err, size_t errlen);
int		 server_run(struct server *);
void		 server_stop(struct server *);
int		 server_reload_tls(struct server *, char *err, size_t errlen);
void		 server_free(struct server *);
int		 server_port(const struct server *);
void		 server_reply_text(struct server_reply *, int status,
		    const char *content_type, const char *text);

#endif
