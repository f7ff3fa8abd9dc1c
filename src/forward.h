/*
 * kruispunt - outbound SOAP calls (raw bytes over HTTP or HTTPS, on gSOAP),
 * with a kept-alive connection per endpoint.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_FORWARD_H
#define KP_FORWARD_H

#include <stddef.h>

struct forward_options {
	int		 connect_timeout_ms;
	int		 timeout_ms;		/* send and receive */
	long		 max_response;		/* bytes */
	const char	*ca_file;		/* for https endpoints */
	const char	*tls_cert;		/* a client certificate for */
	const char	*tls_key;		/* https endpoints, or NULL */
};

struct forward_reply {
	int	 status;		/* HTTP status; 0 when none came */
	char	*body;			/* malloc'ed */
	size_t	 len;
};

struct forward;

struct forward	*forward_new(const struct forward_options *);
void		 forward_free(struct forward *);
int		 forward_call(struct forward *, const char *endpoint,
		    const char *action, int soap_version, const char *body,
		    size_t len, struct forward_reply *, char *err, size_t errlen);
void		 forward_reply_clear(struct forward_reply *);

#endif
