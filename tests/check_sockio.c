/*
 * kruispunt tests - sockio: held output leaves with one send(), unheld
 * output with one send() per call, and a large message is not held;
 * sockio_send2 sends a header and a body as one record, and all of a body
 * whose sendmsg() was cut short by a signal, in order.
 * An AF_UNIX SOCK_SEQPACKET pair keeps the boundaries of each send(), so
 * the peer counts them.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <sys/socket.h>

#include <CUnit/CUnit.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "soapH.h"

#include "common.h"
#include "sockio.h"

static struct soap	*soap;
static int		 peer = -1;

static int
init(void)
{
	int	sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1)
		return 1;
	if ((soap = soap_new()) == NULL)
		return 1;
	soap->socket = sv[0];
	peer = sv[1];
	return sockio_blocking(sv[0], 2000, 2000) == -1 ||
	    sockio_timeouts(peer, 2000, 2000) == -1;
}

static int
clean(void)
{
	close(soap->socket);
	soap->socket = SOAP_INVALID_SOCKET;
	soap_free(soap);
	close(peer);
	return 0;
}

/* The next record the peer gets, in buf; its length, or -1. */
static ssize_t
record(char *buf, size_t len)
{
	return recv(peer, buf, len, 0);
}

/* True when no record is waiting. */
static int
none_waiting(void)
{
	char	c;

	return recv(peer, &c, 1, MSG_DONTWAIT) == -1 && errno == EAGAIN;
}

static void
test_held_is_one_send(void)
{
	struct sockio_out	o = { NULL, 0, 0, 0 };
	const char		*head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
	char			 buf[256];
	ssize_t			 n;

	o.hold = 1;
	CU_ASSERT_EQUAL(sockio_send_out(&o, soap, head, strlen(head), NULL,
	    NULL), SOAP_OK);
	CU_ASSERT_EQUAL(sockio_send_out(&o, soap, "hello", 5, NULL, NULL),
	    SOAP_OK);
	CU_ASSERT_TRUE(none_waiting());		/* nothing sent yet */
	CU_ASSERT_EQUAL(sockio_flush(&o, soap, NULL, NULL), SOAP_OK);
	CU_ASSERT_EQUAL(o.hold, 0);
	CU_ASSERT_EQUAL(o.len, 0);
	n = record(buf, sizeof(buf));
	CU_ASSERT_EQUAL(n, (ssize_t)(strlen(head) + 5));
	CU_ASSERT_EQUAL(memcmp(buf, head, strlen(head)), 0);
	CU_ASSERT_EQUAL(memcmp(buf + strlen(head), "hello", 5), 0);
	CU_ASSERT_TRUE(none_waiting());		/* one record, not two */
	sockio_out_free(&o);
}

static void
test_unheld_sends_at_once(void)
{
	struct sockio_out	o = { NULL, 0, 0, 0 };
	char			 buf[64];

	CU_ASSERT_EQUAL(sockio_send_out(&o, soap, "abc", 3, NULL, NULL),
	    SOAP_OK);
	CU_ASSERT_EQUAL(sockio_send_out(&o, soap, "de", 2, NULL, NULL),
	    SOAP_OK);
	CU_ASSERT_EQUAL(record(buf, sizeof(buf)), 3);
	CU_ASSERT_EQUAL(record(buf, sizeof(buf)), 2);
	CU_ASSERT_PTR_NULL(o.buf);		/* nothing was held */
	CU_ASSERT_EQUAL(sockio_flush(&o, soap, NULL, NULL), SOAP_OK);
	CU_ASSERT_TRUE(none_waiting());
}

/* A message larger than what is held: what was held leaves, then each
 * further piece as it comes; nothing more is held, and the buffer stays
 * small. */
static void
test_large_not_held(void)
{
	struct sockio_out	 o = { NULL, 0, 0, 0 };
	size_t			 chunk = 30000, i;
	char			*data = malloc(chunk), *buf = malloc(2 * chunk + 8);

	for (i = 0; i < chunk; i++)
		data[i] = (char)('a' + i % 26);
	o.hold = 1;
	CU_ASSERT_EQUAL(sockio_send_out(&o, soap, "HEAD", 4, NULL, NULL),
	    SOAP_OK);
	CU_ASSERT_EQUAL(sockio_send_out(&o, soap, data, chunk, NULL, NULL),
	    SOAP_OK);
	CU_ASSERT_EQUAL(sockio_send_out(&o, soap, data, chunk, NULL, NULL),
	    SOAP_OK);
	CU_ASSERT_TRUE(none_waiting());		/* 60,004 bytes: held */
	CU_ASSERT_EQUAL(sockio_send_out(&o, soap, data, chunk, NULL, NULL),
	    SOAP_OK);			/* 90,004: past 64 KB */
	CU_ASSERT_EQUAL(o.hold, 0);
	CU_ASSERT_EQUAL(o.len, 0);
	CU_ASSERT_EQUAL(record(buf, 2 * chunk + 4), (ssize_t)(2 * chunk + 4));
	CU_ASSERT_EQUAL(memcmp(buf, "HEAD", 4), 0);
	CU_ASSERT_EQUAL(record(buf, 2 * chunk), (ssize_t)chunk);
	CU_ASSERT_EQUAL(memcmp(buf, data, chunk), 0);
	CU_ASSERT_EQUAL(sockio_send_out(&o, soap, "tail", 4, NULL, NULL),
	    SOAP_OK);			/* the rest of the message: at once */
	CU_ASSERT_EQUAL(record(buf, 2 * chunk), 4);
	CU_ASSERT_EQUAL(sockio_flush(&o, soap, NULL, NULL), SOAP_OK);
	CU_ASSERT_TRUE(none_waiting());
	CU_ASSERT_TRUE(o.cap <= 64 * 1024);
	sockio_out_free(&o);
	CU_ASSERT_PTR_NULL(o.buf);
	free(data);
	free(buf);
}

static void
test_send_error(void)
{
	struct sockio_out	o = { NULL, 0, 0, 1 };
	int			sv[2];
	struct soap		*s = soap_new();

	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	s->socket = sv[0];
	close(sv[1]);			/* the peer is gone */
	CU_ASSERT_EQUAL(sockio_send_out(&o, s, "x", 1, NULL, NULL), SOAP_OK);
	CU_ASSERT_EQUAL(sockio_flush(&o, s, NULL, NULL), SOAP_EOF);
	CU_ASSERT_EQUAL(s->errnum, EPIPE);
	CU_ASSERT_EQUAL(o.len, 0);
	sockio_out_free(&o);
	close(sv[0]);
	s->socket = SOAP_INVALID_SOCKET;
	soap_free(s);
}

/* Header and body: one record, header first. */
static void
test_send2_one_record(void)
{
	const char	*head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
	char		 buf[256];

	CU_ASSERT_EQUAL(sockio_send2(soap->socket, head, strlen(head), "hello",
	    5), 0);
	CU_ASSERT_EQUAL(record(buf, sizeof(buf)), (ssize_t)(strlen(head) + 5));
	CU_ASSERT_EQUAL(memcmp(buf, head, strlen(head)), 0);
	CU_ASSERT_EQUAL(memcmp(buf + strlen(head), "hello", 5), 0);
	CU_ASSERT_TRUE(none_waiting());
	/* an empty body */
	CU_ASSERT_EQUAL(sockio_send2(soap->socket, "H", 1, "", 0), 0);
	CU_ASSERT_EQUAL(record(buf, sizeof(buf)), 1);
}

struct drain {
	int		 fd;
	char		*buf;
	size_t		 len, got;
	pthread_t	 sender;
};

static void
on_usr1(int sig)
{
	(void)sig;
}

static void *
drain(void *arg)
{
	struct drain	*d = arg;
	ssize_t		 n;

	/* after the first piece, a signal to the sender, blocked in
	 * sendmsg() with the socket full: the call returns with part of the
	 * data sent (or, when none was, EINTR) */
	while (d->got < d->len && (n = recv(d->fd, d->buf + d->got,
	    d->len - d->got, 0)) > 0) {
		if (d->got == 0) {
			pthread_kill(d->sender, SIGUSR1);
			usleep(20000);
		}
		d->got += (size_t)n;
	}
	return NULL;
}

/* A body much larger than the socket's buffer, its sendmsg() interrupted
 * by a signal (no SA_RESTART) once part of it is sent: the rest follows,
 * and all of it arrives, in order. */
static void
test_send2_partial(void)
{
	size_t		 blen = 1 << 19, i;
	char		*body = malloc(blen);
	int		 sv[2], small = 4096;
	struct drain	 d;
	struct sigaction sa, old;
	pthread_t	 t;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;	/* sa_flags 0: no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	CU_ASSERT_EQUAL_FATAL(sigaction(SIGUSR1, &sa, &old), 0);
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	for (i = 0; i < blen; i++)
		body[i] = (char)(i * 7 + i / 251);
	d.sender = pthread_self();
	d.fd = sv[1];
	d.len = 3 + blen;
	d.got = 0;
	d.buf = malloc(d.len);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, drain, &d), 0);
	CU_ASSERT_EQUAL(sockio_send2(sv[0], "abc", 3, body, blen), 0);
	shutdown(sv[0], SHUT_WR);	/* the reader stops at what was sent */
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(d.got, d.len);
	CU_ASSERT_EQUAL(memcmp(d.buf, "abc", 3), 0);
	CU_ASSERT_EQUAL(memcmp(d.buf + 3, body, blen), 0);
	close(sv[0]);
	close(sv[1]);
	free(d.buf);
	free(body);
	sigaction(SIGUSR1, &old, NULL);
}

static void
test_send2_error(void)
{
	int	sv[2];

	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	close(sv[1]);
	errno = 0;
	CU_ASSERT_EQUAL(sockio_send2(sv[0], "a", 1, "b", 1), -1);
	CU_ASSERT_EQUAL(errno, EPIPE);
	close(sv[0]);
}

int
main(void)
{
	CU_pSuite	s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("sockio", init, clean);
	CU_add_test(s, "held output leaves with one send()", test_held_is_one_send);
	CU_add_test(s, "output not held leaves at once", test_unheld_sends_at_once);
	CU_add_test(s, "a message larger than 64 KB is not held",
	    test_large_not_held);
	CU_add_test(s, "a send error is SOAP_EOF with errno", test_send_error);
	CU_add_test(s, "header and body: one record", test_send2_one_record);
	CU_add_test(s, "a send cut short by a signal: all of it, in order",
	    test_send2_partial);
	CU_add_test(s, "header and body to a closed peer: EPIPE",
	    test_send2_error);
	return test_run();
}
