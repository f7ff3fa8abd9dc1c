/*
 * kruispunt - replay protection: remember a key until a time, say if seen.
 *
 * replay_remember(r, sender, key, until, now) hashes (sender, key) with
 * SHA-256 and asks the backend whether that digest is already present and
 * unexpired; if not, it is remembered until `until`. The wsse module uses it
 * with key = the SHA-256 of the canonical SignedInfo (what the signature
 * covers, however its value is spelt) and until = the end of the
 * Timestamp's window, so
 * the same signed message is accepted once; the pipeline can reuse it for
 * MessageId-per-sender.
 *
 * In memory: a fixed-capacity open-addressing hash table (linear probing)
 * under one mutex. Expired slots are reused; when live plus expired slots
 * pass three quarters of the capacity, the table is rebuilt without the
 * expired ones. Memory never grows: when the live entries alone fill the
 * table, remember() answers REPLAY_ERROR and the message is refused (fail
 * closed; a replay cache that forgets early would let replays through). Size
 * it as at least peak messages/s x (max_message_age + 2 x clock_skew).
 *
 * Several hub nodes on one MariaDB: each node's memory only knows what that
 * node saw, so a message replayed to another node behind the load balancer
 * would pass. The shared backend is a table
 *
 *   CREATE TABLE replay (sender VARCHAR(64) NOT NULL,
 *       digest BINARY(32) NOT NULL, expires_at DATETIME(3) NOT NULL,
 *       PRIMARY KEY (sender, digest), KEY (expires_at));
 *
 * remember() is `INSERT INTO replay VALUES (?, ?, ?)`: success → REPLAY_NEW;
 * error 1062 (duplicate key) → look at expires_at: in the future → REPLAY_SEEN,
 * in the past → `UPDATE ... SET expires_at = ? WHERE sender = ? AND digest = ?
 * AND expires_at < NOW(3)` and REPLAY_NEW if one row changed; any other error
 * (including Galera's 1213 after retries, or "not in Primary Component") →
 * REPLAY_ERROR, so the hub fails closed. purge() runs
 * `DELETE FROM replay WHERE expires_at < NOW(3) LIMIT 1000` periodically per
 * node, in small batches so that Galera writesets stay small. The unique key
 * makes the check atomic across nodes; rows of different senders never
 * conflict, so there is no hot row. The in-memory store can stay in front of
 * it as a first filter (a hit there is a replay for sure).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <sys/mman.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "log.h"
#include "replay.h"
#include "xmalloc.h"

struct replay {
	const struct replay_backend	*backend;
	void				*state;
};

/* One remembered digest; until == 0 marks a never-used slot. */
struct slot {
	unsigned char	digest[REPLAY_DIGEST_LEN];
	int64_t		until;
};

struct memory {
	pthread_mutex_t	 lock;
	struct slot	*slots;
	struct slot	*spare;	/* for rebuilds, so they never allocate */
	size_t		 capacity;	/* a power of two */
	size_t		 used;		/* slots with until != 0 */
};

/* Wrap a backend and its state. */
struct replay *
replay_new(const struct replay_backend *backend, void *state)
{
	struct replay	*r = xcalloc(1, sizeof(*r));

	r->backend = backend;
	r->state = state;
	return r;
}

/* Free the store and its backend state. */
void
replay_free(struct replay *r)
{
	if (r == NULL)
		return;
	r->backend->free(r->state);
	free(r);
}

/* Hash sender and key into one digest, then ask the backend. */
enum replay_verdict
replay_remember(struct replay *r, const char *sender, const void *key,
    size_t keylen, int64_t until_ms, int64_t now_ms)
{
	unsigned char	 digest[REPLAY_DIGEST_LEN];
	unsigned int	 dlen;
	EVP_MD_CTX	*md;
	int		 ok;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return REPLAY_ERROR;
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(md, sender, strlen(sender) + 1) &&
	    EVP_DigestUpdate(md, key, keylen) &&
	    EVP_DigestFinal_ex(md, digest, &dlen);
	EVP_MD_CTX_free(md);
	if (!ok)
		return REPLAY_ERROR;
	return r->backend->remember(r->state, sender, digest, until_ms, now_ms);
}

/* Drop expired entries (the backend may also do it on its own). */
void
replay_purge(struct replay *r, int64_t now_ms)
{
	r->backend->purge(r->state, now_ms);
}

/* ------------------------------------------------------------------ */
/* The in-memory backend                                               */
/* ------------------------------------------------------------------ */

/* The home slot of a digest. */
static size_t
memory_home(const struct memory *m, const unsigned char *digest)
{
	uint64_t	h;

	memcpy(&h, digest, sizeof(h));
	return (size_t)h & (m->capacity - 1);
}

/* Put a digest in the first free or expired slot of its chain. */
static void
memory_place(struct memory *m, struct slot *slots, const unsigned char *digest,
    int64_t until)
{
	size_t	i = memory_home(m, digest);

	while (slots[i].until != 0)
		i = (i + 1) & (m->capacity - 1);
	memcpy(slots[i].digest, digest, REPLAY_DIGEST_LEN);
	slots[i].until = until;
}

/* Rebuild the table without expired entries. */
static void
memory_rebuild(struct memory *m, int64_t now_ms)
{
	struct slot	*old = m->slots;
	size_t		 i;

	memset(m->spare, 0, m->capacity * sizeof(*m->spare));
	m->used = 0;
	for (i = 0; i < m->capacity; i++) {
		if (old[i].until > now_ms) {
			memory_place(m, m->spare, old[i].digest, old[i].until);
			m->used++;
		}
	}
	m->slots = m->spare;
	m->spare = old;
}

/* Look the digest up along its chain; remember it when new. */
static enum replay_verdict
memory_lookup(struct memory *m, const unsigned char *digest, int64_t until,
    int64_t now_ms)
{
	size_t		 i = memory_home(m, digest), n;
	struct slot	*s;

	for (n = 0; n < m->capacity; n++, i = (i + 1) & (m->capacity - 1)) {
		s = &m->slots[i];
		if (s->until == 0)
			break;
		if (memcmp(s->digest, digest, REPLAY_DIGEST_LEN) != 0)
			continue;
		if (s->until > now_ms)
			return REPLAY_SEEN;
		s->until = until;	/* the same digest, expired: renew */
		return REPLAY_NEW;
	}
	if (n == m->capacity)
		return REPLAY_ERROR;
	memcpy(s->digest, digest, REPLAY_DIGEST_LEN);
	s->until = until;
	m->used++;
	return REPLAY_NEW;
}

/* When the table is full of live entries: a replay is still a replay. */
static enum replay_verdict
memory_lookup_only(struct memory *m, const unsigned char *digest,
    int64_t now_ms)
{
	size_t	i = memory_home(m, digest), n;

	for (n = 0; n < m->capacity; n++, i = (i + 1) & (m->capacity - 1)) {
		if (m->slots[i].until == 0)
			break;
		if (memcmp(m->slots[i].digest, digest, REPLAY_DIGEST_LEN) == 0 &&
		    m->slots[i].until > now_ms)
			return REPLAY_SEEN;
	}
	return REPLAY_ERROR;
}

/* remember() of the in-memory backend. */
static enum replay_verdict
memory_remember(void *state, const char *sender,
    const unsigned char digest[REPLAY_DIGEST_LEN], int64_t until_ms,
    int64_t now_ms)
{
	struct memory		*m = state;
	enum replay_verdict	 v;

	(void)sender;	/* already part of the digest */
	if (until_ms <= now_ms)
		until_ms = now_ms + 1;
	pthread_mutex_lock(&m->lock);
	if (m->used >= m->capacity - m->capacity / 4)
		memory_rebuild(m, now_ms);
	if (m->used >= m->capacity - m->capacity / 4)
		v = memory_lookup_only(m, digest, now_ms);
	else
		v = memory_lookup(m, digest, until_ms, now_ms);
	pthread_mutex_unlock(&m->lock);
	return v;
}

/* purge() of the in-memory backend. */
static void
memory_purge(void *state, int64_t now_ms)
{
	struct memory	*m = state;

	pthread_mutex_lock(&m->lock);
	memory_rebuild(m, now_ms);
	pthread_mutex_unlock(&m->lock);
}

/*
 * A table of n zeroed slots, its pages mapped now (MAP_POPULATE): a digest
 * lands on a random slot, so a table left to fault its pages in would take
 * a page fault on almost every remember() until all of them were touched
 * (measured: 2 % of the hub's CPU under load, and a fault on the exchange's
 * path). The memory is the table's for the life of the process anyway.
 * Out of memory is fatal, as in xcalloc().
 */
static struct slot *
table_new(size_t n)
{
	void	*p;

	if (n == 0 || n > SIZE_MAX / sizeof(struct slot))
		fatalx("replay cache: %zu slots", n);
	p = mmap(NULL, n * sizeof(struct slot), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		fatal("replay cache: mapping %zu bytes", n * sizeof(struct slot));
	return p;
}

static void
table_free(struct slot *t, size_t n)
{
	if (t != NULL)
		munmap(t, n * sizeof(struct slot));
}

/* free() of the in-memory backend. */
static void
memory_free(void *state)
{
	struct memory	*m = state;

	pthread_mutex_destroy(&m->lock);
	table_free(m->spare, m->capacity);
	table_free(m->slots, m->capacity);
	free(m);
}

static const struct replay_backend memory_backend = {
	"memory", memory_remember, memory_purge, memory_free
};

/* An in-memory store for at least capacity live entries (rounded up). */
struct replay *
replay_memory_new(size_t capacity)
{
	struct memory	*m = xcalloc(1, sizeof(*m));
	size_t		 n = 16;

	/* live entries may fill three quarters of the slots */
	while (n - n / 4 < capacity)
		n *= 2;
	m->capacity = n;
	m->slots = table_new(n);
	m->spare = table_new(n);
	pthread_mutex_init(&m->lock, NULL);
	return replay_new(&memory_backend, m);
}

/* How many unexpired entries the in-memory store holds (for tests, stats). */
size_t
replay_memory_count(struct replay *r, int64_t now_ms)
{
	struct memory	*m = r->state;
	size_t		 i, n = 0;

	if (r->backend != &memory_backend)
		return 0;
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->capacity; i++)
		n += m->slots[i].until > now_ms;
	pthread_mutex_unlock(&m->lock);
	return n;
}
