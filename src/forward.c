/*
 * kruispunt - outbound SOAP calls (raw bytes over HTTP or HTTPS, on gSOAP),
 * with a kept-alive connection per endpoint.
 *
 * The hub forwards an envelope it built and signed itself, as bytes: no
 * typed serialisation on the way (DESIGN.md: the payload travels as an
 * opaque subtree). Each worker owns one struct forward, so its connections
 * are never shared between threads; a call to an endpoint reuses the
 * endpoint's connection (first TLS call ~8 ms, next ~1 ms) and reconnects
 * when the peer closed it. The connect and the whole exchange are bounded
 * by timeouts, and the answer's size by max_response (the input ends there,
 * so a hostile institution cannot make the hub buffer without bound).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ssl.h>

#include "soapH.h"

#include "forward.h"
#include "sockio.h"
#include "xmalloc.h"

#define FORWARD_MAX_CONNS	64

struct forward_conn {
	char		 endpoint[512];
	struct soap	*soap;
	size_t		 received;
	int		 too_large;
	long		 max;
	size_t		(*frecv)(struct soap *, char *, size_t);
	/* plain HTTP: our own send and receive (see forward_open) */
	SOAP_SOCKET	(*fopen)(struct soap *, const char *, const char *, int);
	int		 timeout_ms;	/* the whole call */
	int		 armed_ms;	/* the socket's SO_RCVTIMEO/SO_SNDTIMEO */
	int64_t		 deadline_us;	/* of the call in progress */
	struct sockio_out out;		/* a request held for one send() */
};

/*
 * Plain HTTP endpoints do without gSOAP's send, receive and transfer
 * timeouts, which cost a select() before every send() and recv(): the
 * socket blocks, with SO_RCVTIMEO and SO_SNDTIMEO, and forward_recv_plain
 * and forward_send_plain check the call's deadline (connect, send and
 * answer within timeout_ms, as gSOAP's transfer_timeout bounded them). The
 * socket timeouts start at timeout_ms and are lowered to what is left of
 * the call when a slow answer leaves less than FORWARD_SLACK_MS more than
 * that, so no wait ends more than FORWARD_SLACK_MS after the deadline;
 * most calls need no setsockopt() at all. HTTPS keeps gSOAP's timeouts.
 */
#define FORWARD_SLACK_MS	50

static int64_t
forward_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Set the socket's receive and send timeouts to ms; 0 or -1. */
static int
forward_arm(struct forward_conn *c, SOAP_SOCKET sk, int ms)
{
	if (sockio_timeouts(sk, ms, ms) == -1)
		return -1;
	c->armed_ms = ms < 1 ? 1 : ms;
	return 0;
}

/* Before a wait (a sockio_before_fn, arg the connection): 0, or -1
 * (errno ETIMEDOUT) when the deadline passed. */
static int
forward_left(void *arg, int sk)
{
	struct forward_conn *c = arg;
	int64_t	left = c->deadline_us - forward_now_us();

	if (left <= 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (left / 1000 + FORWARD_SLACK_MS < c->armed_ms &&
	    forward_arm(c, sk, (int)((left + 999) / 1000)) == -1)
		return -1;
	return 0;
}

/* gSOAP's connect, then a blocking socket with the call's timeouts. */
static SOAP_SOCKET
forward_open(struct soap *soap, const char *endpoint, const char *host,
    int port)
{
	struct forward_conn	*c = soap->user;
	SOAP_SOCKET		 sk = c->fopen(soap, endpoint, host, port);

	if (!soap_valid_socket(sk))
		return sk;
	if (sockio_blocking(sk, c->timeout_ms, c->timeout_ms) == -1 ||
	    (c->armed_ms = c->timeout_ms < 1 ? 1 : c->timeout_ms,
	    forward_left(c, sk) == -1)) {
		soap->errnum = errno;
		soap->error = SOAP_TCP_ERROR;
		soap->fclosesocket(soap, sk);
		return SOAP_INVALID_SOCKET;
	}
	return sk;
}

static size_t
forward_recv_plain(struct soap *soap, char *buf, size_t len)
{
	return sockio_recv(soap, buf, len, forward_left, soap->user);
}

static int
forward_send_plain(struct soap *soap, const char *buf, size_t len)
{
	struct forward_conn	*c = soap->user;

	return sockio_send_out(&c->out, soap, buf, len, forward_left, c);
}

/*
 * gSOAP's check of a kept-alive connection before it is used again, which
 * costs a select() per call: skipped on plain connections, which
 * forward_stale() looks at instead. A connection the institution closes
 * after that look fails before any byte of an answer comes, and
 * forward_call then tries once more on a new one.
 */
static int
forward_poll_none(struct soap *soap)
{
	(void)soap;
	return SOAP_OK;
}

/*
 * Before a kept-alive plain connection is used again: is anything there to
 * read? Between two calls an institution can only have closed it, or have
 * sent bytes nobody asked for, such as a "408 Request Timeout" just before
 * it closes; the next call would take those for its answer. Such a
 * connection is not used again. One recv() that does not wait. (HTTPS
 * and calls without a timeout keep gSOAP's own look, soap_poll.)
 */
static int
forward_stale(SOAP_SOCKET sk)
{
	char	b;

	if (recv(sk, &b, 1, MSG_PEEK | MSG_DONTWAIT) >= 0)
		return 1;	/* bytes, or the peer's close */
	return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

struct forward {
	struct forward_options	 opt;
	struct forward_conn	 conns[FORWARD_MAX_CONNS];
	int			 nconns;
};

/* A client for one worker. */
struct forward *
forward_new(const struct forward_options *opt)
{
	struct forward	*f = xcalloc(1, sizeof(*f));

	f->opt = *opt;
	return f;
}

static void
conn_close(struct forward_conn *c)
{
	if (c->soap == NULL)
		return;
	soap_destroy(c->soap);
	soap_end(c->soap);
	soap_free(c->soap);
	c->soap = NULL;
	sockio_out_free(&c->out);
}

/* Close every connection and free the client. */
void
forward_free(struct forward *f)
{
	int	i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nconns; i++)
		conn_close(&f->conns[i]);
	free(f);
}

/* Receive hook: ends the input past the size limit. */
static size_t
forward_recv(struct soap *soap, char *buf, size_t len)
{
	struct forward_conn	*c = soap->user;
	size_t			 n;

	if (c->too_large)
		return 0;
	n = c->frecv(soap, buf, len);
	c->received += n;
	if (c->received > (size_t)c->max + 64 * 1024) {
		c->too_large = 1;
		return 0;
	}
	return n;
}

static struct forward_conn *
forward_conn(struct forward *f, const char *endpoint, char *err, size_t errlen)
{
	struct forward_conn	*c = NULL;
	struct soap		*soap;
	int			 i;

	for (i = 0; i < f->nconns; i++)
		if (strcmp(f->conns[i].endpoint, endpoint) == 0)
			return &f->conns[i];
	if (f->nconns < FORWARD_MAX_CONNS)
		c = &f->conns[f->nconns++];
	else {
		/* full: drop the oldest */
		conn_close(&f->conns[0]);
		memmove(&f->conns[0], &f->conns[1],
		    (FORWARD_MAX_CONNS - 1) * sizeof(f->conns[0]));
		for (i = 0; i < FORWARD_MAX_CONNS - 1; i++)
			f->conns[i].soap->user = &f->conns[i];	/* moved */
		c = &f->conns[FORWARD_MAX_CONNS - 1];
	}
	memset(c, 0, sizeof(*c));
	snprintf(c->endpoint, sizeof(c->endpoint), "%s", endpoint);
	soap = soap_new1(SOAP_IO_KEEPALIVE | SOAP_IO_BUFFER);
	sockio_name_headers(soap);
	soap->connect_timeout = -f->opt.connect_timeout_ms * 1000;
	soap->send_timeout = -f->opt.timeout_ms * 1000;
	soap->recv_timeout = -f->opt.timeout_ms * 1000;
	soap->transfer_timeout = (f->opt.timeout_ms + 999) / 1000;
	if (strncmp(endpoint, "https:", 6) == 0 &&
	    soap_ssl_client_context(soap, SOAP_SSL_DEFAULT | SOAP_TLSv1_2 |
	    SOAP_TLSv1_3, NULL, NULL, f->opt.ca_file, NULL, NULL) != SOAP_OK) {
		snprintf(err, errlen, "TLS client context for %s failed", endpoint);
		soap_free(soap);
		f->nconns--;
		return NULL;
	}
	if (strncmp(endpoint, "https:", 6) == 0 && f->opt.tls_cert != NULL &&
	    (SSL_CTX_use_certificate_chain_file(soap->ctx,
	    f->opt.tls_cert) != 1 || SSL_CTX_use_PrivateKey_file(soap->ctx,
	    f->opt.tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(soap->ctx) != 1)) {
		snprintf(err, errlen, "TLS client certificate %s with key %s "
		    "cannot be used", f->opt.tls_cert, f->opt.tls_key);
		soap_free(soap);
		f->nconns--;
		return NULL;
	}
	c->soap = soap;
	c->max = f->opt.max_response;
	c->frecv = soap->frecv;
	soap->frecv = forward_recv;
	soap->user = c;
	if (strncmp(endpoint, "https:", 6) != 0 && f->opt.timeout_ms > 0) {
		soap->send_timeout = 0;
		soap->recv_timeout = 0;
		soap->transfer_timeout = 0;
		c->timeout_ms = f->opt.timeout_ms;
		c->fopen = soap->fopen;
		soap->fopen = forward_open;
		c->frecv = forward_recv_plain;
		soap->fsend = forward_send_plain;
		soap->fpoll = forward_poll_none;
	}
	return c;
}

static void
forward_error(struct soap *soap, char *err, size_t errlen)
{
	const char	*s = soap->error == SOAP_TCP_ERROR ? "connection failed" :
	    soap->error == SOAP_EOF ? "connection closed or timed out" :
	    soap->error == SOAP_SSL_ERROR ? "TLS error" : NULL;

	if (s != NULL)
		snprintf(err, errlen, "%s (gSOAP error %d)", s, soap->error);
	else
		snprintf(err, errlen, "gSOAP error %d", soap->error);
}

/* Send what the request left held; SOAP_OK, or SOAP_EOF as gSOAP's send. */
static int
forward_flush(struct forward_conn *c)
{
	if (sockio_flush(&c->out, c->soap, forward_left, c) == SOAP_OK)
		return SOAP_OK;
	c->soap->error = SOAP_EOF;
	return SOAP_EOF;
}

/*
 * POST body to endpoint; 0 with the reply (any HTTP status), or -1 with err
 * when no reply came (refused, timed out, too large, TLS failure).
 */
int
forward_call(struct forward *f, const char *endpoint, const char *action,
    int soap_version, const char *body, size_t len, struct forward_reply *r,
    char *err, size_t errlen)
{
	struct forward_conn	*c;
	struct soap		*soap;
	char			*in, ctype[300];
	size_t			 inlen = 0;
	int			 attempt, reused;

	memset(r, 0, sizeof(*r));
	if ((c = forward_conn(f, endpoint, err, errlen)) == NULL)
		return -1;
	soap = c->soap;
	if (soap_version == 12)
		snprintf(ctype, sizeof(ctype), "application/soap+xml; "
		    "charset=utf-8; action=\"%s\"", action != NULL ? action : "");
	else
		snprintf(ctype, sizeof(ctype), "text/xml; charset=utf-8");
	/*
	 * One retry, only for a kept-alive connection that the peer had
	 * closed: the call failed before any byte of an answer came. A
	 * timeout or a fresh connection is never retried (the institution
	 * may be slow; asking twice would only add load).
	 */
	if (c->timeout_ms > 0) {
		c->deadline_us = forward_now_us() + (int64_t)c->timeout_ms * 1000;
		if (soap_valid_socket(soap->socket) &&
		    (forward_stale(soap->socket) ||
		    (c->armed_ms != c->timeout_ms &&
		    forward_arm(c, soap->socket, c->timeout_ms) == -1)))
			soap_force_closesock(soap);	/* a new one, then */
	}
	for (attempt = 0; attempt < 2; attempt++) {
		reused = soap_valid_socket(soap->socket);
		c->received = 0;
		c->too_large = 0;
		soap->http_content = ctype;
		soap->length = len;
		c->out.hold = c->timeout_ms > 0;	/* plain: one send() */
		if (soap_POST(soap, endpoint, soap_version == 12 ? NULL : action,
		    ctype) != SOAP_OK || soap_send_raw(soap, body, len) !=
		    SOAP_OK || soap_end_send(soap) != SOAP_OK ||
		    forward_flush(c) != SOAP_OK) {
			c->out.hold = 0;
			c->out.len = 0;
			/* a kept-alive connection the peer closed: once more */
			if (attempt == 0 && reused && soap->error == SOAP_EOF &&
			    c->received == 0 && soap->errnum != ETIMEDOUT &&
			    soap->errnum != EAGAIN) {
				soap_closesock(soap);
				continue;
			}
			forward_error(soap, err, errlen);
			soap_closesock(soap);
			return -1;
		}
		if (soap_begin_recv(soap) != SOAP_OK &&
		    soap->error != SOAP_OK && soap->status < 400) {
			if (attempt == 0 && reused && soap->error == SOAP_EOF &&
			    c->received == 0 && soap->errnum != ETIMEDOUT &&
			    soap->errnum != EAGAIN) {
				soap_closesock(soap);
				continue;
			}
			forward_error(soap, err, errlen);
			soap_closesock(soap);
			return -1;
		}
		break;
	}
	if (attempt == 2) {
		forward_error(soap, err, errlen);
		return -1;
	}
	in = soap_http_get_body(soap, &inlen);
	if (c->too_large || inlen > (size_t)c->max) {
		snprintf(err, errlen, "answer larger than %ld bytes", c->max);
		soap_closesock(soap);
		soap_end(soap);
		return -1;
	}
	soap_end_recv(soap);
	r->status = soap->status;
	r->len = inlen;
	r->body = xmalloc(inlen + 1);
	memcpy(r->body, in != NULL ? in : "", inlen);
	r->body[inlen] = '\0';
	if (!soap->keep_alive)
		soap_closesock(soap);
	/* the answer's buffer; the rest is reset by the next soap_begin_recv
	 * (as in server.c) */
	soap_destroy(soap);
	soap_dealloc(soap, NULL);
	return 0;
}

/* Free a reply's body. */
void
forward_reply_clear(struct forward_reply *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}
