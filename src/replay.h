/*
 * kruispunt - replay protection: remember a key until a time, say if seen.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_REPLAY_H
#define KP_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#define REPLAY_DIGEST_LEN	32	/* SHA-256 */

/* What replay_remember() found. */
enum replay_verdict {
	REPLAY_NEW = 0,		/* first time: now remembered */
	REPLAY_SEEN = 1,	/* already present and not expired */
	REPLAY_ERROR = -1,	/* cannot tell (store full or unreachable): refuse */
};

/*
 * A store of (sender, digest) pairs with an expiry. The in-memory store is
 * below; a shared one (a MariaDB `replay` table, see replay.c) plugs in
 * through the same three functions.
 */
struct replay_backend {
	const char	*name;
	enum replay_verdict (*remember)(void *state, const char *sender,
			    const unsigned char digest[REPLAY_DIGEST_LEN],
			    int64_t until_ms, int64_t now_ms);
	void		(*purge)(void *state, int64_t now_ms);
	void		(*free)(void *state);
};

struct replay;

struct replay		*replay_new(const struct replay_backend *, void *state);
struct replay		*replay_memory_new(size_t capacity);
void			 replay_free(struct replay *);
enum replay_verdict	 replay_remember(struct replay *, const char *sender,
			    const void *key, size_t keylen, int64_t until_ms,
			    int64_t now_ms);
void			 replay_purge(struct replay *, int64_t now_ms);
size_t			 replay_memory_count(struct replay *, int64_t now_ms);

#endif
