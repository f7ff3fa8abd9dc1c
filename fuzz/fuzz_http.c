/*
 * kruispunt fuzz - the HTTP request path of kruispuntd (src/server.c on
 * gSOAP): a real listener on 127.0.0.1 in this process, with a handler that
 * parses the body as the hub does; each input is sent raw on a new
 * connection (then the write side is shut) and the answer read to the end.
 * Limits are small so that the 413 paths are reached.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "envelope.h"
#include "log.h"
#include "server.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct server		*srv;
static int			 port;
static struct envelope_limits	 limits;

/* Silence libxml2's error printing. */
static void
quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

/* A worker state: nothing but a marker. */
static void *
worker_new(void *arg)
{
	(void)arg;
	return &limits;
}

/* Nothing to free. */
static void
worker_free(void *st)
{
	(void)st;
}

/* The handler: GET /health answers, POST bodies are parsed as envelopes. */
static void
handle(void *st, const struct server_request *req, struct server_reply *rep)
{
	struct envelope	*env = NULL;
	char		 reason[256];

	(void)st;
	if (strcmp(req->method, "GET") == 0) {
		server_reply_text(rep, req->path != NULL &&
		    strcmp(req->path, "/health") == 0 ? 200 : 404,
		    NULL, "OK\n");
		return;
	}
	if (envelope_parse(req->body, req->len, &limits, &env, reason,
	    sizeof(reason)) == KP_OK) {
		server_reply_text(rep, 200, "text/xml; charset=utf-8",
		    "<ok/>");
		envelope_free(env);
	} else
		server_reply_text(rep, 500, NULL, reason);
}

/* A request refused before the handler: nothing to record here. */
static void
refused(void *arg, const struct server_request *req, int status)
{
	(void)arg;
	(void)req;
	(void)status;
}

/* The listener's thread. */
static void *
run(void *arg)
{
	server_run(arg);
	return NULL;
}

/* Once: the server on an ephemeral port, in its own thread. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct server_options	 o;
	struct server_ops	 ops = { worker_new, worker_free, handle,
	    refused, NULL };
	pthread_t		 t;
	char			 err[256];

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	log_init("fuzz-http", 1, LOG_LEVEL_ERROR);
	xmlInitParser();
	xmlSetGenericErrorFunc(NULL, quiet);
	envelope_limits_default(&limits);
	memset(&o, 0, sizeof(o));
	o.listen = "127.0.0.1";
	o.port = 0;
	o.workers = 2;
	o.max_connections = 16;
	o.max_message_size = 4096;
	o.read_timeout_ms = 2000;
	o.send_timeout_ms = 2000;
	limits.max_size = (size_t)o.max_message_size;
	if ((srv = server_new(&o, &ops, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz-http: %s\n", err);
		exit(2);
	}
	port = server_port(srv);
	if (pthread_create(&t, NULL, run, srv) != 0)
		abort();
	return 0;
}

/*
 * A connection to the server from a new source address in 127.0.0.0/8 each
 * time: at about 1,000 connections a second the TIME_WAIT entries of one
 * address pair use up the ephemeral ports within minutes (connect() then
 * fails with EADDRNOTAVAIL, which is the harness's limit, not the server's).
 */
static int
connect_server(void)
{
	static uint32_t		next;
	struct sockaddr_in	sin;
	int			fd, tries;

	for (tries = 0; tries < 100; tries++) {
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			return -1;
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		next = next % 0xfffffd + 1;
		sin.sin_addr.s_addr = htonl(0x7f000000u | (next + 1));
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
			sin.sin_port = htons((uint16_t)port);
			sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
				return fd;
		}
		close(fd);
		usleep(10000);
	}
	return -1;
}

/* One input: raw bytes on a fresh connection; read until the server
 * closes or 8 s pass: a hang is a finding, since the server's read and send
 * timeouts are 2 s each (a loaded machine needs the slack). */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pollfd		pfd;
	char			buf[4096];
	size_t			off = 0;
	ssize_t			n;
	int			fd, waited = 0;

	if (size > 16384)
		return 0;
	if ((fd = connect_server()) == -1)
		abort();
	while (off < size) {
		n = send(fd, data + off, size - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, 100) == 0) {
			if (++waited > 80) {
				fprintf(stderr, "fuzz-http: no end of answer "
				    "within 8 s\n");
				abort();
			}
			continue;
		}
		if (recv(fd, buf, sizeof(buf), 0) <= 0)
			break;
	}
	close(fd);
	return 0;
}
