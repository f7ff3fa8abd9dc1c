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

/*
 * Output held back: gSOAP writes an HTTP message's header and its body
 * with separate fsend calls, two send()s that make the peer wake up and
 * recv() twice. With hold set, sockio_send_out keeps what it is given (up
 * to 64 KB; a larger message stops being held and goes out piece by
 * piece, as without hold), and sockio_flush sends what is held with one
 * send() (SOAP_OK, or SOAP_EOF as sockio_send) and clears hold. Without
 * hold it is sockio_send.
 */
struct sockio_out {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	int	 hold;
};

int	sockio_send_out(struct sockio_out *, struct soap *, const char *,
	    size_t, sockio_before_fn, void *);
int	sockio_flush(struct sockio_out *, struct soap *, sockio_before_fn,
	    void *);
void	sockio_out_free(struct sockio_out *);

/*
 * Two pieces (an HTTP header and a body) with one sendmsg(), and more only
 * when the socket takes part of them; no copy. 0, or -1 with errno (EAGAIN
 * when the socket's send timeout passed, EPIPE when the peer closed).
 */
int	sockio_send2(int fd, const void *, size_t, const void *, size_t);

/* The Server field of the servers' answers. */
#define SOCKIO_SERVER	"kruispunt"

/*
 * The HTTP header gSOAP writes for soap (and the contexts copied from it)
 * says Server: kruispunt and User-Agent: kruispunt/VERSION, not gSOAP's
 * name and version.
 */
void	sockio_name_headers(struct soap *);

#endif
