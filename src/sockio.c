/*
 * kruispunt - blocking send and receive on plain gSOAP connections (see
 * sockio.h).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "soapH.h"

#include "sockio.h"
#include "xmalloc.h"

/* At most this much is held: a larger message leaves with a send() for
 * what was held and one for each further piece (no copy of it all). */
#define SOCKIO_HOLD_MAX	(64 * 1024)

static void
ms_timeval(int ms, struct timeval *tv)
{
	if (ms < 1)
		ms = 1;
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

int
sockio_timeouts(int fd, int rcv_ms, int snd_ms)
{
	struct timeval	rcv, snd;

	ms_timeval(rcv_ms, &rcv);
	ms_timeval(snd_ms, &snd);
	return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv)) ==
	    -1 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd)) ==
	    -1 ? -1 : 0;
}

int
sockio_blocking(int fd, int rcv_ms, int snd_ms)
{
	int	fl;

	return (fl = fcntl(fd, F_GETFL)) == -1 ||
	    sockio_timeouts(fd, rcv_ms, snd_ms) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1 ? -1 : 0;
}

size_t
sockio_recv(struct soap *soap, char *buf, size_t len, sockio_before_fn before,
    void *arg)
{
	ssize_t	n;

	do {
		if (before != NULL && before(arg, soap->socket) == -1) {
			soap->errnum = errno;
			return 0;
		}
	} while ((n = recv(soap->socket, buf, len, 0)) == -1 && errno == EINTR);
	if (n >= 0)
		return (size_t)n;
	soap->errnum = errno;	/* EAGAIN: the timeout passed */
	return 0;
}

int
sockio_send(struct soap *soap, const char *buf, size_t len,
    sockio_before_fn before, void *arg)
{
	ssize_t	n;

	while (len > 0) {
		if (before != NULL && before(arg, soap->socket) == -1) {
			soap->errnum = errno;
			return SOAP_EOF;
		}
		if ((n = send(soap->socket, buf, len, MSG_NOSIGNAL)) > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (n == -1 && errno == EINTR)
			continue;
		else {
			soap->errnum = n == -1 ? errno : EPIPE;
			return SOAP_EOF;	/* EAGAIN: the timeout passed */
		}
	}
	return SOAP_OK;
}

int
sockio_send_out(struct sockio_out *o, struct soap *soap, const char *buf,
    size_t len, sockio_before_fn before, void *arg)
{
	size_t	cap;

	if (o->hold && len > SOCKIO_HOLD_MAX - o->len) {
		/* too large to hold: what was held, then the rest directly */
		o->hold = 0;
		if (o->len > 0 && sockio_send(soap, o->buf, o->len, before,
		    arg) != SOAP_OK) {
			o->len = 0;
			return SOAP_EOF;
		}
		o->len = 0;
	}
	if (!o->hold)
		return sockio_send(soap, buf, len, before, arg);
	if (len > o->cap - o->len) {
		for (cap = o->cap > 0 ? o->cap : 8192; len > cap - o->len;)
			cap *= 2;
		o->buf = xreallocarray(o->buf, cap, 1);
		o->cap = cap;
	}
	memcpy(o->buf + o->len, buf, len);
	o->len += len;
	return SOAP_OK;
}

int
sockio_flush(struct sockio_out *o, struct soap *soap, sockio_before_fn before,
    void *arg)
{
	int	rc = SOAP_OK;

	o->hold = 0;
	if (o->len > 0)
		rc = sockio_send(soap, o->buf, o->len, before, arg);
	o->len = 0;
	return rc;
}

void
sockio_out_free(struct sockio_out *o)
{
	free(o->buf);
	o->buf = NULL;
	o->len = 0;
	o->cap = 0;
	o->hold = 0;
}

int
sockio_send2(int fd, const void *a, size_t alen, const void *b, size_t blen)
{
	struct iovec	 iov[2];
	struct msghdr	 msg;
	ssize_t		 n;
	size_t		 k;

	iov[0].iov_base = (void *)a;
	iov[0].iov_len = alen;
	iov[1].iov_base = (void *)b;
	iov[1].iov_len = blen;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = 2;
	while (iov[0].iov_len + iov[1].iov_len > 0) {
		if ((n = sendmsg(fd, &msg, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		for (k = (size_t)n; k > 0;) {
			struct iovec *v = iov[0].iov_len > 0 ? &iov[0] : &iov[1];
			size_t step = k < v->iov_len ? k : v->iov_len;

			v->iov_base = (char *)v->iov_base + step;
			v->iov_len -= step;
			k -= step;
		}
	}
	return 0;
}

/* gSOAP's own writer of one header field: the same for every context. */
typedef int (*posthdr_fn)(struct soap *, const char *, const char *);
static _Atomic(posthdr_fn) gsoap_posthdr;

/*
 * gSOAP names itself and its version in the Server field of the answers
 * it writes (TLS connections) and the User-Agent of its requests; those
 * name kruispunt instead.
 */
static int
sockio_posthdr(struct soap *soap, const char *key, const char *val)
{
	if (key != NULL && strcmp(key, "Server") == 0)
		val = SOCKIO_SERVER;
	else if (key != NULL && strcmp(key, "User-Agent") == 0)
		val = "kruispunt/" PACKAGE_VERSION;
	return atomic_load(&gsoap_posthdr)(soap, key, val);
}

void
sockio_name_headers(struct soap *soap)
{
	if (soap->fposthdr != sockio_posthdr)	/* never itself */
		atomic_store(&gsoap_posthdr, soap->fposthdr);
	soap->fposthdr = sockio_posthdr;
}
