/*
 * kruispunt - the HTTP(S) listener of kruispuntd and kruispunt-institution,
 * on gSOAP: connections, keep-alive, limits, TLS, a pool of worker states.
 *
 * One thread per connection (at most max_connections; the accept loop waits
 * for a free slot), each with its own gSOAP context copied from the
 * listener's. A connection thread reads a request's raw bytes
 * (soap_begin_recv, soap_http_get_body), then borrows one of the `workers`
 * worker states (the expensive part: a database connection, an XML security
 * context) for the time of the exchange, and answers with raw bytes. The
 * request size is checked against the limit from the Content-Length before
 * the body is read, and the body's length again after (gSOAP truncates a
 * chunked body at recv_maxlength without an error): too large is HTTP 413 and
 * the connection is closed. Idle keep-alive connections end after the read
 * timeout.
 *
 * server_stop() (from a signal handler's flag) stops accepting, shuts the
 * idle connections, and lets the exchanges in flight finish; server_run()
 * returns when the last one did and its thread has been joined. Connection
 * threads are joined, not detached: a thread's exit runs the libraries'
 * thread-local clean-up (OpenSSL's per-thread random generators and error
 * state, libxml2's), and a process that exits before that is done loses
 * it (LeakSanitizer saw it as a leak of two DRBGs).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "soapH.h"

#include "config.h"
#include "log.h"
#include "server.h"
#include "sockio.h"
#include "xmalloc.h"

struct conn {
	struct server	*srv;
	struct soap	*soap;
	int		 busy;
	size_t		 received;	/* bytes of this request so far */
	int		 too_large;
	size_t		(*frecv)(struct soap *, char *, size_t);
	int		 plain;		/* our send and receive (conn_plain) */
	struct conn	*next, *prev;
	pthread_t	 thread;
	X509		*peer_cert;
	char		 peer[64];
};

struct server {
	struct server_options	 opt;
	struct server_ops	 ops;
	struct soap		*master;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 changed;	/* a slot freed, or stop */
	pthread_cond_t		 state_freed;	/* one waiter per state */
	void			**states;
	int			 nstates;
	int			 nfree;
	void			**free_states;
	int			 active;	/* connection threads */
	struct conn		*conns;
	struct conn		*finished;	/* threads ending, to be joined */
	atomic_int		 stop;
	/* TLS reload: a new context waits here (under mtx) until the accept
	 * loop puts it in place; the replaced ones live until server_free,
	 * as connections accepted before the reload still use them */
	SSL_CTX			*next_ctx;
	SSL_CTX			**old_ctx;
	int			 nold_ctx;
};

/* ------------------------------------------------------------------ */
/* Worker states                                                       */
/* ------------------------------------------------------------------ */

static void *
state_acquire(struct server *s)
{
	void	*st;

	pthread_mutex_lock(&s->mtx);
	while (s->nfree == 0)
		pthread_cond_wait(&s->state_freed, &s->mtx);
	st = s->free_states[--s->nfree];
	pthread_mutex_unlock(&s->mtx);
	return st;
}

/* A state back in the pool wakes one connection waiting for one (a
 * broadcast woke them all, to find one state: with more connections than
 * workers, a futex storm for nothing). */
static void
state_release(struct server *s, void *st)
{
	pthread_mutex_lock(&s->mtx);
	s->free_states[s->nfree++] = st;
	pthread_cond_signal(&s->state_freed);
	pthread_mutex_unlock(&s->mtx);
}

/* ------------------------------------------------------------------ */
/* Replies                                                             */
/* ------------------------------------------------------------------ */

/* Fill a reply with a copy of text. */
void
server_reply_text(struct server_reply *r, int status, const char *content_type,
    const char *text)
{
	free(r->body);
	r->status = status;
	r->content_type = content_type;
	r->len = strlen(text);
	r->body = xstrndup(text, r->len);
}

/* The reason phrase of a status the servers answer with (server_reply). */
static const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return status < 400 ? "OK" : "Error";
	}
}

/*
 * A reply on a plain connection: its HTTP header written here, and header
 * and body handed to the kernel with one sendmsg(), without a copy. gSOAP's
 * way (soap_response() and soap_send_raw()) stores a body of known length
 * in a block of its own to count it, and the block's allocation and copy
 * were 2 % of the hub's CPU. The header is what gSOAP writes, but for the
 * Server field. Connection: close when the request asked for it (or was
 * HTTP/1.0 without keep-alive) or when the connection is being refused.
 */
static int
conn_send_direct(struct conn *c, const struct server_reply *r,
    const char *ctype)
{
	char	head[512];
	int	n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n"
	    "Server: " SOCKIO_SERVER "\r\nX-Frame-Options: SAMEORIGIN\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n"
	    "Connection: %s\r\n\r\n", r->status, http_reason(r->status),
	    ctype, r->len, c->soap->keep_alive != 0 ? "keep-alive" : "close");
	if (n < 0 || (size_t)n >= sizeof(head))
		errno = EMSGSIZE;
	else if (sockio_send2(c->soap->socket, head, (size_t)n,
	    r->body != NULL ? r->body : "", r->len) == 0)
		return 0;
	c->soap->errnum = errno;
	c->soap->error = SOAP_EOF;
	return -1;
}

/* Send a reply; on a plain connection its header and body leave with one
 * system call (conn_send_direct). */
static int
conn_send(struct conn *c, const struct server_reply *r)
{
	struct soap	*soap = c->soap;
	const char	*ctype = r->content_type != NULL ? r->content_type :
			    "text/plain; charset=utf-8";

	if (c->plain)
		return conn_send_direct(c, r, ctype);
	soap->http_content = ctype;
	soap->length = r->len;
	return soap_response(soap, SOAP_FILE + (r->status == 200 ? 0 :
	    r->status)) || soap_send_raw(soap, r->body != NULL ? r->body : "",
	    r->len) || soap_end_send(soap) ? -1 : 0;
}

static void
conn_handle(struct conn *c, const char *method, const char *body, size_t len,
    struct server_reply *reply)
{
	struct server		*s = c->srv;
	struct server_request	 req;
	struct timespec		 t0, t1;
	void			*st;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = c->soap->path;
	req.soap_action = c->soap->action;
	req.body = body;
	req.len = len;
	req.peer_cert = c->peer_cert;
	memcpy(req.peer, c->peer, sizeof(req.peer));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	st = state_acquire(s);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	req.waited_us = (long long)(t1.tv_sec - t0.tv_sec) * 1000000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000;
	s->ops.handle(st, &req, reply);
	state_release(s, st);
}

/* gSOAP's GET hook: answer from the handler; SOAP_OK makes it SOAP_STOP. */
static int
conn_get(struct soap *soap)
{
	struct conn		*c = soap->user;
	struct server_reply	 reply = { 404, NULL, NULL, 0 };

	soap_end_recv(soap);
	conn_handle(c, "GET", NULL, 0, &reply);
	if (conn_send(c, &reply) == -1) {
		free(reply.body);
		return soap->error;
	}
	free(reply.body);
	return SOAP_OK;
}

static void
conn_refuse(struct conn *c, int status, const char *text)
{
	struct server_request	req;
	struct server_reply	reply = { status, NULL, NULL, 0 };

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = c->soap->path;
	memcpy(req.peer, c->peer, sizeof(req.peer));
	if (c->srv->ops.refused != NULL)
		c->srv->ops.refused(c->srv->ops.arg, &req, status);
	server_reply_text(&reply, status, "text/plain; charset=utf-8", text);
	c->soap->keep_alive = 0;
	conn_send(c, &reply);
	free(reply.body);
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */
/* ------------------------------------------------------------------ */

static void
conn_set_busy(struct conn *c, int busy)
{
	pthread_mutex_lock(&c->srv->mtx);
	c->busy = busy;
	pthread_mutex_unlock(&c->srv->mtx);
}

/* The HTTP headers a request may have on top of max_message_size. */
#define HEADER_ALLOWANCE	(64 * 1024)

/*
 * gSOAP's receive hook, wrapped: counts the bytes of the request and ends
 * the input when they pass the limit, so that a chunked body (whose size is
 * not announced) never makes the hub buffer more than the limit.
 */
static size_t
conn_recv(struct soap *soap, char *buf, size_t len)
{
	struct conn	*c = soap->user;
	size_t		 n;

	if (c->too_large)
		return 0;
	n = c->frecv(soap, buf, len);
	c->received += n;
	if (c->received > (size_t)c->srv->opt.max_message_size +
	    HEADER_ALLOWANCE) {
		c->too_large = 1;
		return 0;
	}
	return n;
}

/*
 * Plain HTTP connections do without gSOAP's timeouts: with recv_timeout and
 * send_timeout set, gSOAP makes the socket non-blocking and calls select()
 * before every recv() and send(), a system call more each time. Instead the
 * socket blocks, with the kernel's SO_RCVTIMEO and SO_SNDTIMEO set to the
 * same limits, and these two functions take the place of gSOAP's: a recv()
 * or a send() that waits longer than its timeout fails with EAGAIN, which
 * ends the connection (gSOAP's own functions would wait again on EAGAIN).
 * Every wait for the peer is bounded as before: an idle keep-alive or
 * stalled client by read_timeout per read, a client that does not read its
 * answer by send_timeout per write. TLS connections keep gSOAP's (OpenSSL
 * needs the non-blocking socket there).
 */
static size_t
conn_recv_plain(struct soap *soap, char *buf, size_t len)
{
	return sockio_recv(soap, buf, len, NULL, NULL);
}

static int
conn_send_plain(struct soap *soap, const char *buf, size_t len)
{
	return sockio_send(soap, buf, len, NULL, NULL);
}

/* A plain connection: blocking, kernel timeouts, our send and receive;
 * 0, or -1 when the socket refuses the options (gSOAP's stay then). */
static int
conn_plain(struct conn *c)
{
	struct soap	*soap = c->soap;

	if (sockio_blocking(soap->socket, c->srv->opt.read_timeout_ms,
	    c->srv->opt.send_timeout_ms) == -1)
		return -1;
	soap->recv_timeout = 0;
	soap->send_timeout = 0;
	c->frecv = conn_recv_plain;
	soap->fsend = conn_send_plain;
	c->plain = 1;
	return 0;
}

/* Serve the requests of one connection until it closes. */
static void
conn_serve(struct conn *c)
{
	struct server		*s = c->srv;
	struct soap		*soap = c->soap;
	struct server_reply	 reply;
	char			*body;
	size_t			 len;

	for (;;) {
		if (atomic_load(&s->stop))
			break;
		soap->fget = conn_get;
		soap->user = c;
		c->received = 0;
		c->too_large = 0;
		if (soap_begin_recv(soap) != SOAP_OK) {
			conn_set_busy(c, 1);
			/* a GET, answered; kept alive as its header said
			 * (gSOAP's -1, a new HTTP/1.1 connection, too) */
			if (soap->error == SOAP_STOP && soap->keep_alive != 0)
				goto next;
			if (soap->error >= SOAP_GET_METHOD &&
			    soap->error <= SOAP_HTTP_METHOD)
				conn_refuse(c, 405, "method not allowed\n");
			break;
		}
		conn_set_busy(c, 1);
		if (soap->length > (ULONG64)s->opt.max_message_size) {
			conn_refuse(c, 413, "message too large\n");
			break;
		}
		len = 0;
		body = soap_http_get_body(soap, &len);
		if (c->too_large || len > (size_t)s->opt.max_message_size) {
			c->too_large = 0;
			conn_refuse(c, 413, "message too large\n");
			break;
		}
		if (body == NULL || soap_end_recv(soap) != SOAP_OK)
			break;
		memset(&reply, 0, sizeof(reply));
		conn_handle(c, "POST", body, len, &reply);
		if (conn_send(c, &reply) == -1) {
			free(reply.body);
			break;
		}
		free(reply.body);
next:
		/* the request's body and the like; gSOAP's other temporary
		 * state (hash tables of ids and pointers, unused by raw bytes)
		 * is reset by the next soap_begin_recv, which soap_end would
		 * have done a second time per request */
		soap_destroy(soap);
		soap_dealloc(soap, NULL);
		conn_set_busy(c, 0);
		if (!soap->keep_alive)
			break;
	}
}

static void *
conn_thread(void *arg)
{
	struct conn	*c = arg;
	struct server	*s = c->srv;
	SSL		*ssl;

	c->frecv = c->soap->frecv;
	c->soap->frecv = conn_recv;
	c->soap->user = c;
	if (!s->opt.tls && c->srv->opt.read_timeout_ms > 0 &&
	    c->srv->opt.send_timeout_ms > 0 && conn_plain(c) == -1)
		log_debug("server", "socket options for %s: %s", c->peer,
		    strerror(errno));
	if (s->opt.tls && soap_ssl_accept(c->soap) != SOAP_OK) {
		log_debug("server", "TLS handshake with %s failed", c->peer);
	} else {
		if (s->opt.tls && (ssl = c->soap->ssl) != NULL)
			c->peer_cert = SSL_get1_peer_certificate(ssl);
		conn_serve(c);
	}
	X509_free(c->peer_cert);

	/* out of the list before its context is freed: the listener, when
	 * it stops, shuts the sockets of the connections in the list */
	pthread_mutex_lock(&s->mtx);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&s->mtx);
	soap_destroy(c->soap);
	soap_end(c->soap);
	soap_free(c->soap);

	pthread_mutex_lock(&s->mtx);
	/* the listener joins this thread and frees c (server_reap) */
	c->prev = NULL;
	c->next = s->finished;
	s->finished = c;
	s->active--;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->mtx);
	return NULL;
}

/* Join the connection threads that ended and free their state. Called by
 * the thread that created them (server_run), so every c->thread is set. */
static void
server_reap(struct server *s)
{
	struct conn	*c, *next;

	pthread_mutex_lock(&s->mtx);
	c = s->finished;
	s->finished = NULL;
	pthread_mutex_unlock(&s->mtx);
	for (; c != NULL; c = next) {
		next = c->next;
		pthread_join(c->thread, NULL);
		free(c);
	}
}

/* ------------------------------------------------------------------ */
/* The listener                                                        */
/* ------------------------------------------------------------------ */

/* Give soap a server TLS context from the configured files; 0 or -1. */
static int
server_tls(struct server *s, struct soap *soap, char *err, size_t errlen)
{
	unsigned short	flags = SOAP_TLSv1_2 | SOAP_TLSv1_3;
	SSL_CTX		*ctx;

	if (s->opt.tls_client_auth == CLIENT_AUTH_REQUIRE)
		flags |= SOAP_SSL_REQUIRE_CLIENT_AUTHENTICATION;
	if (soap_ssl_server_context(soap, flags, NULL, NULL,
	    s->opt.tls_client_auth != CLIENT_AUTH_NONE ? s->opt.tls_client_ca :
	    NULL, NULL, NULL, NULL, "kruispunt") != SOAP_OK) {
		snprintf(err, errlen, "TLS: cannot set up the server context");
		return -1;
	}
	ctx = soap->ctx;
	if (SSL_CTX_use_certificate_chain_file(ctx, s->opt.tls_certificate) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, s->opt.tls_key,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "TLS: cannot use certificate %s with key "
		    "%s", s->opt.tls_certificate, s->opt.tls_key);
		return -1;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (s->opt.tls_client_auth == CLIENT_AUTH_OPTIONAL)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return 0;
}

/*
 * Read the TLS certificate, key and client CAs again (SIGHUP): connections
 * accepted from now on use them, those open keep theirs. 0, or -1 with err
 * and the old ones still in use. Any thread.
 */
int
server_reload_tls(struct server *s, char *err, size_t errlen)
{
	struct soap	*tmp;
	SSL_CTX		*ctx;

	if (!s->opt.tls)
		return 0;
	if ((tmp = soap_new()) == NULL) {
		snprintf(err, errlen, "TLS: out of memory");
		return -1;
	}
	if (server_tls(s, tmp, err, errlen) == -1) {
		soap_free(tmp);
		return -1;
	}
	ctx = tmp->ctx;
	tmp->ctx = NULL;	/* ours now, not tmp's to free */
	soap_free(tmp);
	pthread_mutex_lock(&s->mtx);
	if (s->next_ctx != NULL)
		SSL_CTX_free(s->next_ctx);	/* never put in place */
	s->next_ctx = ctx;
	pthread_mutex_unlock(&s->mtx);
	return 0;
}

/* In the accept loop: put a reloaded TLS context in place. */
static void
server_take_tls(struct server *s)
{
	pthread_mutex_lock(&s->mtx);
	if (s->next_ctx != NULL) {
		s->old_ctx = xreallocarray(s->old_ctx, (size_t)s->nold_ctx + 1,
		    sizeof(*s->old_ctx));
		s->old_ctx[s->nold_ctx++] = s->master->ctx;
		s->master->ctx = s->next_ctx;
		s->next_ctx = NULL;
		log_info("server: TLS certificate %s reloaded",
		    s->opt.tls_certificate);
	}
	pthread_mutex_unlock(&s->mtx);
}

/* Set up the listener and the worker states; NULL with err. */
struct server *
server_new(const struct server_options *opt, const struct server_ops *ops,
    char *err, size_t errlen)
{
	struct server	*s = xcalloc(1, sizeof(*s));
	int		 i;

	s->opt = *opt;
	s->ops = *ops;
	pthread_mutex_init(&s->mtx, NULL);
	pthread_cond_init(&s->changed, NULL);
	pthread_cond_init(&s->state_freed, NULL);
	s->master = soap_new1(SOAP_IO_KEEPALIVE | SOAP_IO_BUFFER);
	s->master->bind_flags = SO_REUSEADDR;
	s->master->accept_timeout = -200000;	/* poll the stop flag */
	s->master->recv_timeout = -opt->read_timeout_ms * 1000;
	s->master->send_timeout = -opt->send_timeout_ms * 1000;
	s->master->max_keep_alive = 10000;
	sockio_name_headers(s->master);
	if (opt->tls && server_tls(s, s->master, err, errlen) == -1)
		goto fail;
	if (!soap_valid_socket(soap_bind(s->master, opt->listen, opt->port,
	    opt->max_connections))) {
		snprintf(err, errlen, "cannot listen on %s port %d: %s",
		    opt->listen, opt->port, strerror(s->master->errnum));
		goto fail;
	}
	s->nstates = opt->workers;
	s->states = xcalloc((size_t)s->nstates, sizeof(void *));
	s->free_states = xcalloc((size_t)s->nstates, sizeof(void *));
	for (i = 0; i < s->nstates; i++) {
		if ((s->states[i] = ops->worker_new(ops->arg)) == NULL) {
			snprintf(err, errlen, "cannot set up worker %d", i + 1);
			goto fail;
		}
		s->free_states[s->nfree++] = s->states[i];
	}
	return s;
fail:
	server_free(s);
	return NULL;
}

/* The port actually bound (for port 0 in tests). */
int
server_port(const struct server *s)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	if (getsockname(s->master->master, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void
server_accept_one(struct server *s)
{
	struct conn	*c;
	pthread_attr_t	 attr;
	unsigned int	 ip;

	if (!soap_valid_socket(soap_accept(s->master))) {
		if (s->master->errnum != 0 && !atomic_load(&s->stop)) {
			log_warnx("server: accept: %s", strerror(s->master->errnum));
			usleep(10000);
		}
		return;
	}
	if (s->opt.tls)
		server_take_tls(s);
	c = xcalloc(1, sizeof(*c));
	c->srv = s;
	c->soap = soap_copy(s->master);
	s->master->socket = SOAP_INVALID_SOCKET;
	ip = c->soap->ip;
	snprintf(c->peer, sizeof(c->peer), "%u.%u.%u.%u", ip >> 24 & 255,
	    ip >> 16 & 255, ip >> 8 & 255, ip & 255);
	pthread_mutex_lock(&s->mtx);
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->active++;
	pthread_mutex_unlock(&s->mtx);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 1024 * 1024);
	if (pthread_create(&c->thread, &attr, conn_thread, c) != 0) {
		log_warnx("server: cannot start a connection thread");
		pthread_mutex_lock(&s->mtx);
		s->conns = c->next;
		if (c->next != NULL)
			c->next->prev = NULL;
		s->active--;
		pthread_mutex_unlock(&s->mtx);
		soap_free(c->soap);
		free(c);
	}
	pthread_attr_destroy(&attr);
}

/* Accept and serve until server_stop(); then wait for the exchanges in
 * flight. */
int
server_run(struct server *s)
{
	struct conn	*c;
	struct timespec	 deadline;

	while (!atomic_load(&s->stop)) {
		pthread_mutex_lock(&s->mtx);
		while (s->active >= s->opt.max_connections &&
		    !atomic_load(&s->stop)) {
			clock_gettime(CLOCK_REALTIME, &deadline);
			deadline.tv_nsec += 200000000;
			if (deadline.tv_nsec >= 1000000000) {
				deadline.tv_sec++;
				deadline.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&s->changed, &s->mtx, &deadline);
		}
		pthread_mutex_unlock(&s->mtx);
		if (!atomic_load(&s->stop))
			server_accept_one(s);
		server_reap(s);
	}
	/* Stop: idle connections are shut, busy ones finish their exchange. */
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 30;
	pthread_mutex_lock(&s->mtx);
	while (s->active > 0) {
		for (c = s->conns; c != NULL; c = c->next)
			if (!c->busy && soap_valid_socket(c->soap->socket))
				shutdown(c->soap->socket, SHUT_RDWR);
		if (pthread_cond_timedwait(&s->changed, &s->mtx, &deadline) ==
		    ETIMEDOUT) {
			log_warnx("server: %d connection%s still busy after 30 s",
			    s->active, s->active == 1 ? "" : "s");
			break;
		}
	}
	pthread_mutex_unlock(&s->mtx);
	/* the threads that ended are joined: their thread-local clean-up is
	 * done before the caller frees anything or the process exits */
	server_reap(s);
	return 0;
}

/* Ask server_run() to return (safe from a signal-handling thread). */
void
server_stop(struct server *s)
{
	atomic_store(&s->stop, 1);
}

/* Free the server and its worker states (after server_run returned). */
void
server_free(struct server *s)
{
	int	i;

	if (s == NULL)
		return;
	server_reap(s);
	for (i = 0; s->states != NULL && i < s->nstates; i++)
		if (s->states[i] != NULL)
			s->ops.worker_free(s->states[i]);
	free(s->states);
	free(s->free_states);
	for (i = 0; i < s->nold_ctx; i++)
		SSL_CTX_free(s->old_ctx[i]);
	free(s->old_ctx);
	SSL_CTX_free(s->next_ctx);
	if (s->master != NULL) {
		soap_destroy(s->master);
		soap_end(s->master);
		soap_free(s->master);
	}
	pthread_mutex_destroy(&s->mtx);
	pthread_cond_destroy(&s->changed);
	pthread_cond_destroy(&s->state_freed);
	free(s);
}
