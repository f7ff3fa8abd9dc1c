/*
 * kruispunt - policy-support statistics and pseudonymised research
 * extracts: small-count suppression, keyed pseudonyms, age bands, and the
 * per-person counting behind `kruispunt stats`. Pure functions, testable
 * without a database.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_STATS_H
#define KP_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "ssin.h"

#define STATS_KEY_MIN		32	/* bytes of secret in a key file */
#define STATS_KEY_MAX		4096
#define STATS_PSEUDONYM_RAW	32	/* bytes of HMAC-SHA-256 */
#define STATS_PSEUDONYM_LEN	65	/* 64 hex digits and a NUL */
#define STATS_CELL_TEXT		24
#define STATS_TOTAL		"total"	/* the label of a total's dimension */

/* Whether a published count may be shown. */
enum stats_state {
	STATS_SHOWN,
	STATS_SMALL,	/* below the threshold: shown as "<N" */
	STATS_HIDDEN,	/* would reveal a small count: shown as "x" */
};

struct stats_cell {
	uint64_t		value;
	enum stats_state	state;
};

/* How two published counts of one table relate. */
enum stats_link_kind {
	/* inner is one of the counts outer adds up */
	STATS_PART,
	/* inner's persons are among outer's (an overlap and a quality) */
	STATS_SUBSET,
};

struct stats_link {
	size_t			outer;
	size_t			inner;
	enum stats_link_kind	kind;
};

void		 stats_suppress(struct stats_cell *, size_t ncells,
		    const struct stats_link *, size_t nlinks,
		    uint64_t threshold);
const char	*stats_cell_text(const struct stats_cell *, uint64_t threshold,
		    char buf[STATS_CELL_TEXT]);
uint64_t	 stats_rank(uint64_t n, unsigned int percent);

/* Keys and pseudonyms. */
int		 stats_key_load(const char *path, unsigned char **key,
		    size_t *len, char *err, size_t errlen);
void		 stats_key_free(unsigned char *key, size_t len);
void		 stats_pseudonym(const unsigned char *key, size_t keylen,
		    const char *ssin, char out[STATS_PSEUDONYM_LEN]);
void		 stats_pseudonym_raw(const unsigned char *key, size_t keylen,
		    const char *ssin, unsigned char out[STATS_PSEUDONYM_RAW]);
void		 stats_pseudonym_hex(const unsigned char raw[STATS_PSEUDONYM_RAW],
		    char out[STATS_PSEUDONYM_LEN]);
const char	*stats_age_band(const struct ssin_info *, int year, int month,
		    int day, char buf[8]);
const char	*stats_sex(const struct ssin_info *);

/*
 * The persons of the directory at a date, as (person, quality) pairs packed
 * in one integer each: the SSIN's 11 digits times 2^16 plus the quality's
 * index. Sorting them groups each person's qualities.
 */
#define STATS_PACK(ssin_num, q)	(((uint64_t)(ssin_num) << 16) | (uint64_t)(q))
#define STATS_PACK_PERSON(v)	((v) >> 16)
#define STATS_PACK_QUALITY(v)	((unsigned int)((v) & 0xffff))
#define STATS_MAX_QUALITIES	0xffff

int		 stats_ssin_number(const char *ssin, uint64_t *out);
void		 stats_ssin_text(uint64_t num, char out[SSIN_LEN + 1]);
void		 stats_sort(uint64_t *, size_t n);
void		 stats_count_persons(const uint64_t *sorted, size_t n,
		    unsigned int nqual, uint64_t *persons, uint64_t *overlap);

#endif
