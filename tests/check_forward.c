/*
 * kruispunt tests - forward.c, the hub's client towards institutions,
 * against a small HTTP/1.1 server on 127.0.0.1 in a thread: answers reach
 * the call that asked, with more endpoints than a client keeps connections
 * for (the oldest dropped, the others moved: each must keep its own state);
 * kept-alive connections are reused; one the server closed while idle is
 * replaced by a new one without an error; one on which the server sent an
 * answer nobody asked for before closing it (an HTTP 408) is not used
 * again, so the next call gets its own answer; a server that does not
 * answer is a timeout.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <CUnit/CUnit.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common.h"
#include "forward.h"

#define MAXC	256

struct client {
	int	 fd;
	char	 buf[16384];
	size_t	 len;
	int	 served;	/* requests answered on this connection */
};

static int		 lfd = -1, port;
static pthread_t	 thread;
static atomic_int	 stop, accepted, requests;
static struct client	 clients[MAXC];

/* A whole request in c->buf: its length, else 0. */
static size_t
whole(const struct client *c)
{
	const char	*end, *cl;
	size_t		 head;
	long		 body = 0;

	if ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL)
		return 0;
	head = (size_t)(end - c->buf) + 4;
	for (cl = c->buf; cl < end; cl = strstr(cl, "\r\n") + 2)
		if (strncasecmp(cl, "Content-Length:", 15) == 0)
			body = strtol(cl + 15, NULL, 10);
	return c->len >= head + (size_t)body ? head + (size_t)body : 0;
}

/* The User-Agent of the last request (read by the tests). */
static pthread_mutex_t	 ua_mtx = PTHREAD_MUTEX_INITIALIZER;
static char		 ua_last[128];

static void
user_agent_keep(const char *req, size_t n)
{
	const char	*p, *end = req + n;
	size_t		 len;

	for (p = req; p < end && (p = memmem(p, (size_t)(end - p), "\r\n",
	    2)) != NULL; p += 2) {
		if ((size_t)(end - p) > 14 && strncasecmp(p + 2, "User-Agent:",
		    11) == 0) {
			p += 13;
			while (*p == ' ')
				p++;
			len = strcspn(p, "\r\n");
			pthread_mutex_lock(&ua_mtx);
			snprintf(ua_last, sizeof(ua_last), "%.*s", (int)len, p);
			pthread_mutex_unlock(&ua_mtx);
			return;
		}
	}
}

/* Answer a request: its path echoed; /silent gets nothing, /idle-close is
 * answered and its connection closed, as a server's idle timeout would;
 * /idle-408 is answered, then its connection gets an unasked-for 408 and
 * is closed, as some servers' idle timeouts do. */
static void
answer(struct client *c, size_t n)
{
	char	path[128] = "", body[256], out[512];
	int	len, blen;

	sscanf(c->buf, "POST %127s", path);
	user_agent_keep(c->buf, n);
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
	atomic_fetch_add(&requests, 1);
	if (strcmp(path, "/silent") == 0)
		return;
	c->served++;
	blen = snprintf(body, sizeof(body), "<ok path='%s' n='%d'/>", path,
	    c->served);
	len = snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\nContent-Type: "
	    "text/xml; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s", blen,
	    body);
	if (send(c->fd, out, (size_t)len, MSG_NOSIGNAL) != len ||
	    strcmp(path, "/idle-close") == 0) {
		close(c->fd);
		c->fd = -1;
	} else if (strcmp(path, "/idle-408") == 0) {
		usleep(10000);
		len = snprintf(out, sizeof(out), "HTTP/1.1 408 Request Timeout"
		    "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
		(void)send(c->fd, out, (size_t)len, MSG_NOSIGNAL);
		close(c->fd);
		c->fd = -1;
	}
}

static void *
serve(void *arg)
{
	struct pollfd	pfd[MAXC + 1];
	int		i, n, k, fd;
	ssize_t		r;
	size_t		w;

	(void)arg;
	while (!atomic_load(&stop)) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < MAXC; i++) {
			pfd[i + 1].fd = clients[i].fd;
			pfd[i + 1].events = POLLIN;
		}
		if ((n = poll(pfd, MAXC + 1, 50)) <= 0)
			continue;
		if (pfd[0].revents & POLLIN && (fd = accept(lfd, NULL, NULL)) != -1) {
			for (k = 0; k < MAXC && clients[k].fd != -1; k++)
				;
			if (k == MAXC)
				close(fd);
			else {
				memset(&clients[k], 0, sizeof(clients[k]));
				clients[k].fd = fd;
				atomic_fetch_add(&accepted, 1);
			}
		}
		for (i = 0; i < MAXC; i++) {
			struct client *c = &clients[i];

			if (c->fd == -1 || pfd[i + 1].fd != c->fd ||
			    !(pfd[i + 1].revents & (POLLIN | POLLHUP)))
				continue;
			r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
			if (r <= 0) {
				close(c->fd);
				c->fd = -1;
				continue;
			}
			c->len += (size_t)r;
			while (c->fd != -1 && (w = whole(c)) > 0)
				answer(c, w);
		}
	}
	return NULL;
}

static int
init(void)
{
	struct sockaddr_in	sa;
	socklen_t		sl = sizeof(sa);
	int			i;

	for (i = 0; i < MAXC; i++)
		clients[i].fd = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(lfd, 64) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) == -1)
		return 1;
	port = ntohs(sa.sin_port);
	return pthread_create(&thread, NULL, serve, NULL) != 0;
}

static int
clean(void)
{
	int	i;

	atomic_store(&stop, 1);
	pthread_join(thread, NULL);
	for (i = 0; i < MAXC; i++)
		if (clients[i].fd != -1)
			close(clients[i].fd);
	close(lfd);
	return 0;
}

static struct forward *
client(int timeout_ms)
{
	struct forward_options	o;

	memset(&o, 0, sizeof(o));
	o.connect_timeout_ms = 2000;
	o.timeout_ms = timeout_ms;
	o.max_response = 1024 * 1024;
	return forward_new(&o);
}

/* Call path; the answer's body (malloc'ed) or NULL with err printed. */
static char *
call(struct forward *f, const char *path, char *err, size_t errlen)
{
	struct forward_reply	 r;
	char			 url[128], *body;
	static const char	 req[] = "<s:Envelope xmlns:s='http://schemas."
	    "xmlsoap.org/soap/envelope/'><s:Body/></s:Envelope>";

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	err[0] = '\0';
	if (forward_call(f, url, "urn:test", 11, req, sizeof(req) - 1, &r, err,
	    errlen) == -1)
		return NULL;
	body = r.status == 200 ? r.body : NULL;
	if (body == NULL)
		forward_reply_clear(&r);
	return body;
}

/* 1 when endpoint /e<i> answers as the n-th request on its connection;
 * else 0, printed (label says which round). */
static int
answers(struct forward *f, int i, int n, const char *label)
{
	char	path[32], want[64], err[256], *b;
	int	ok;

	snprintf(path, sizeof(path), "/e%d", i);
	snprintf(want, sizeof(want), "<ok path='%s' n='%d'/>", path, n);
	b = call(f, path, err, sizeof(err));
	if (!(ok = b != NULL && strcmp(b, want) == 0))
		fprintf(stderr, "%s%s: %s (%s)\n", label, path, b ? b : "-", err);
	free(b);
	return ok;
}

/* Each answer is its own endpoint's, with more endpoints than the client
 * keeps connections for; kept-alive connections are reused. */
static void
test_many_endpoints(void)
{
	struct forward	*f = client(500);
	char		 err[256], *b;
	int		 i, a0, bad = 0;

	a0 = atomic_load(&accepted);
	for (i = 0; i < 80; i++)	/* 80: past the client's 64 */
		bad += !answers(f, i, 1, "");
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(atomic_load(&accepted) - a0, 80);
	/* the 64 kept (16..79) answer again on their connections, each call
	 * with its own deadline (a connection moved in the client's table
	 * that took another's state would find that one's, long past) */
	usleep(600000);
	for (i = 16; i < 80; i++)
		bad += !answers(f, i, 2, "again ");
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(atomic_load(&accepted) - a0, 80);	/* none new */
	/* a dropped one comes back on a new connection, and drops e16 */
	b = call(f, "/e0", err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(b);
	if (b != NULL)
		CU_ASSERT_STRING_EQUAL(b, "<ok path='/e0' n='1'/>");
	free(b);
	CU_ASSERT_EQUAL(atomic_load(&accepted) - a0, 81);
	b = call(f, "/e17", err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(b);
	if (b != NULL)
		CU_ASSERT_STRING_EQUAL(b, "<ok path='/e17' n='3'/>");
	free(b);
	forward_free(f);
}

/* Three calls to path, each answered as the first on its connection, each
 * on a new one: the server closed the last after its answer (and, for
 * /idle-408, sent an unasked-for 408 before that). */
static void
three_on_new_connections(const char *path, int timeout_ms)
{
	struct forward	*f = client(timeout_ms);
	char		 err[256], want[64], *b;
	int		 i, a0 = atomic_load(&accepted);

	snprintf(want, sizeof(want), "<ok path='%s' n='1'/>", path);
	for (i = 0; i < 3; i++) {
		b = call(f, path, err, sizeof(err));
		CU_ASSERT_PTR_NOT_NULL(b);
		if (b == NULL)
			fprintf(stderr, "%s %d: %s\n", path, i, err);
		else
			CU_ASSERT_STRING_EQUAL(b, want);
		free(b);
		usleep(40000);	/* the close (and the 408) reach the client */
	}
	CU_ASSERT_EQUAL(atomic_load(&accepted) - a0, 3);
	forward_free(f);
}

/* A kept-alive connection the server closed while idle: the next call
 * goes out on a new one and succeeds. */
static void
test_closed_while_idle(void)
{
	three_on_new_connections("/idle-close", 2000);
}

/* An unasked-for 408 and a close after an answer: the next call on that
 * endpoint gets its own answer, on a new connection, each time; also
 * without a timeout, where gSOAP's own sockets and its own look before
 * reuse (soap_poll) are used, and a request sent on the closed connection
 * is tried again on a new one. */
static void
test_stray_answer(void)
{
	three_on_new_connections("/idle-408", 2000);
	three_on_new_connections("/idle-408", 0);
}

/* No answer: the call ends at its timeout, as an error. */
static void
test_timeout(void)
{
	struct forward	*f = client(300);
	char		 err[256], *b;
	struct timespec	 t0, t1;
	long		 ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	b = call(f, "/silent", err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CU_ASSERT_PTR_NULL(b);
	CU_ASSERT(err[0] != '\0');
	CU_ASSERT(ms >= 250 && ms < 2000);
	free(b);
	forward_free(f);
}

/* Institutions' logs see the hub, not the library it is built on. */
static void
test_user_agent(void)
{
	struct forward	*f = client(1000);
	char		 err[256], ua[128], *b;

	pthread_mutex_lock(&ua_mtx);
	ua_last[0] = '\0';
	pthread_mutex_unlock(&ua_mtx);
	b = call(f, "/ua", err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(b);
	free(b);
	pthread_mutex_lock(&ua_mtx);
	snprintf(ua, sizeof(ua), "%s", ua_last);
	pthread_mutex_unlock(&ua_mtx);
	CU_ASSERT_STRING_EQUAL(ua, "kruispunt/" PACKAGE_VERSION);
	forward_free(f);
}

int
main(void)
{
	CU_pSuite	s;

	signal(SIGPIPE, SIG_IGN);	/* as in kruispuntd: EPIPE instead */
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("forward", init, clean);
	CU_add_test(s, "answers to their endpoints, past 64 connections",
	    test_many_endpoints);
	CU_add_test(s, "a connection closed while idle is replaced",
	    test_closed_while_idle);
	CU_add_test(s, "an unasked-for answer is not taken for the next",
	    test_stray_answer);
	CU_add_test(s, "no answer: a timeout", test_timeout);
	CU_add_test(s, "User-Agent: kruispunt and its version",
	    test_user_agent);
	return test_run();
}
