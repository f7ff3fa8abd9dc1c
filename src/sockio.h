/*
 * kruispunt - blocking send and receive on plain gSOAP connections, bounded
 * by the kernel's socket timeouts (server.c towards clients, forward.c
 * towards institutions).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_SOCKIO_H
#define KP_SOCKIO_H

#include <stddef.h>

struct soap;

/* Called before each wait for the peer: 0, or -1 with errno to give up. */
typedef int (*sockio_before_fn)(void *arg, int fd);

/* The socket blocking, with SO_RCVTIMEO and SO_SNDTIMEO of rcv_ms and
 * snd_ms (at least 1 ms each); 0, or -1 with errno. */
int	sockio_blocking(int fd, int rcv_ms, int snd_ms);
/* SO_RCVTIMEO and SO_SNDTIMEO alone; 0, or -1 with errno. */
int	sockio_timeouts(int fd, int rcv_ms, int snd_ms);

/*
 * In place of gSOAP's frecv and fsend, which select() before every recv()
 * and send() and would wait again on EAGAIN: one recv() (0 bytes and
 * soap->errnum set on an error, EAGAIN when the timeout passed), and
 * send() until all is sent (SOAP_EOF and soap->errnum on an error). before
 * (or NULL) runs before each wait.
 */
size_t	sockio_recv(struct soap *, char *, size_t, sockio_before_fn, void *);
int	sockio_send(struct soap *, const char *, size_t, sockio_before_fn,
	    void *);

#endif
