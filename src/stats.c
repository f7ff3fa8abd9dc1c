/*
 * kruispunt - policy-support statistics and pseudonymised research
 * extracts: the pure parts.
 *
 * Suppression. A count below the threshold is "small" and shown as "<N".
 * Published counts are tied to each other by links, and a count that is
 * not small is "hidden" (shown as "x") when showing it would let a reader
 * work a small count out by subtraction:
 *   - STATS_PART (a total and a count it adds up): a total is hidden as soon
 *     as one of its parts is small or hidden, whatever the others; so every
 *     shown total is made only of shown counts and says nothing about a
 *     suppressed one. Totals of totals follow, until nothing changes.
 *   - STATS_SUBSET (an overlap "A and B" within the count of A): when both
 *     are shown, their difference is the number of persons in A and not B;
 *     if that is from 1 to N-1, the overlap is hidden. (A difference of 0
 *     shows no person: it says that A lies within B.)
 * kruispunt(1) states the rule for readers.
 *
 * Pseudonyms are HMAC-SHA-256 of the SSIN under a secret key; the key file
 * must be private to its owner and hold at least STATS_KEY_MIN bytes.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "stats.h"
#include "xmalloc.h"

/* ------------------------------------------------------------------ */
/* Suppression                                                        */
/* ------------------------------------------------------------------ */

/* Apply one link; 1 when it hid a count. */
static int
stats_apply_link(struct stats_cell *c, const struct stats_link *l,
    uint64_t threshold)
{
	struct stats_cell	*outer = &c[l->outer], *inner = &c[l->inner];
	uint64_t		 diff;

	if (outer->state != STATS_SHOWN)
		return 0;
	if (l->kind == STATS_PART) {
		if (inner->state == STATS_SHOWN)
			return 0;
		outer->state = STATS_HIDDEN;
		return 1;
	}
	if (inner->state != STATS_SHOWN || outer->value < inner->value)
		return 0;
	diff = outer->value - inner->value;
	if (diff == 0 || diff >= threshold)
		return 0;
	inner->state = STATS_HIDDEN;
	return 1;
}

/* Mark the small counts, then hide what would reveal them (see above). */
void
stats_suppress(struct stats_cell *cells, size_t ncells,
    const struct stats_link *links, size_t nlinks, uint64_t threshold)
{
	size_t	i;
	int	changed;

	if (threshold < 1)
		threshold = 1;
	for (i = 0; i < ncells; i++)
		cells[i].state = cells[i].value < threshold ? STATS_SMALL :
		    STATS_SHOWN;
	do {
		changed = 0;
		for (i = 0; i < nlinks; i++)
			changed |= stats_apply_link(cells, &links[i], threshold);
	} while (changed);
}

/* The text of a cell: its value, "<N" or "x". */
const char *
stats_cell_text(const struct stats_cell *c, uint64_t threshold,
    char buf[STATS_CELL_TEXT])
{
	switch (c->state) {
	case STATS_SHOWN:
		snprintf(buf, STATS_CELL_TEXT, "%llu",
		    (unsigned long long)c->value);
		break;
	case STATS_SMALL:
		snprintf(buf, STATS_CELL_TEXT, "<%llu",
		    (unsigned long long)threshold);
		break;
	case STATS_HIDDEN:
		snprintf(buf, STATS_CELL_TEXT, "x");
		break;
	}
	return buf;
}

/* The nearest rank (1-based) of the percent-th percentile of n values. */
uint64_t
stats_rank(uint64_t n, unsigned int percent)
{
	uint64_t	r;

	if (n == 0)
		return 0;
	r = (n * percent + 99) / 100;
	return r < 1 ? 1 : r > n ? n : r;
}

/* ------------------------------------------------------------------ */
/* Keys and pseudonyms                                                */
/* ------------------------------------------------------------------ */

/* Read the secret key of pseudonyms; 0, or -1 with a message in err. */
int
stats_key_load(const char *path, unsigned char **keyp, size_t *lenp,
    char *err, size_t errlen)
{
	struct stat	 st;
	unsigned char	*key = NULL;
	ssize_t		 got;
	size_t		 len = 0;
	int		 fd, rc = -1;

	*keyp = NULL;
	*lenp = 0;
	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "key file %s: not a regular file", path);
		goto out;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		snprintf(err, errlen, "key file %s: readable or writable by "
		    "others (mode %04o); make it private: chmod 600 %s", path,
		    (unsigned int)(st.st_mode & 07777), path);
		goto out;
	}
	key = xmalloc(STATS_KEY_MAX + 1);
	while (len <= STATS_KEY_MAX && (got = read(fd, key + len,
	    STATS_KEY_MAX + 1 - len)) != 0) {
		if (got == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "key file %s: %s", path,
			    strerror(errno));
			goto out;
		}
		len += (size_t)got;
	}
	if (len > STATS_KEY_MAX) {
		snprintf(err, errlen, "key file %s: longer than %d bytes", path,
		    STATS_KEY_MAX);
		goto out;
	}
	/* an editor's final line end is not part of the secret */
	if (len > 0 && key[len - 1] == '\n')
		len--;
	if (len > 0 && key[len - 1] == '\r')
		len--;
	if (len < STATS_KEY_MIN) {
		snprintf(err, errlen, "key file %s: too short (%zu bytes; at "
		    "least %d are needed, e.g. openssl rand -out %s %d)", path,
		    len, STATS_KEY_MIN, path, STATS_KEY_MIN);
		goto out;
	}
	*keyp = key;
	*lenp = len;
	key = NULL;
	rc = 0;
out:
	if (key != NULL) {
		OPENSSL_cleanse(key, STATS_KEY_MAX + 1);
		free(key);
	}
	close(fd);
	return rc;
}

/* Wipe and free a key of stats_key_load. */
void
stats_key_free(unsigned char *key, size_t len)
{
	(void)len;
	if (key == NULL)
		return;
	OPENSSL_cleanse(key, STATS_KEY_MAX + 1);
	free(key);
}

/* The pseudonym of an SSIN as 32 bytes: HMAC-SHA-256 under the key. */
void
stats_pseudonym_raw(const unsigned char *key, size_t keylen, const char *ssin,
    unsigned char out[STATS_PSEUDONYM_RAW])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0;

	HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)ssin,
	    strlen(ssin), md, &mdlen);
	memcpy(out, md, STATS_PSEUDONYM_RAW);
}

/* 32 bytes of pseudonym in hex. */
void
stats_pseudonym_hex(const unsigned char raw[STATS_PSEUDONYM_RAW],
    char out[STATS_PSEUDONYM_LEN])
{
	static const char	hex[] = "0123456789abcdef";
	int			i;

	for (i = 0; i < STATS_PSEUDONYM_RAW; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * i] = '\0';
}

/* The pseudonym of an SSIN: HMAC-SHA-256 under the key, in hex. */
void
stats_pseudonym(const unsigned char *key, size_t keylen, const char *ssin,
    char out[STATS_PSEUDONYM_LEN])
{
	unsigned char	raw[STATS_PSEUDONYM_RAW];

	stats_pseudonym_raw(key, keylen, ssin, raw);
	stats_pseudonym_hex(raw, out);
}

/*
 * The 5-year age band at a date ("35-39"), top-coded at "90+"; "unknown"
 * for a date before the birth. An unknown birth month or day (BIS numbers)
 * counts as the first.
 */
const char *
stats_age_band(const struct ssin_info *si, int year, int month, int day,
    char buf[8])
{
	int	bm = si->month > 0 ? si->month : 1;
	int	bd = si->day > 0 ? si->day : 1;
	int	age = year - si->year;

	if (month < bm || (month == bm && day < bd))
		age--;
	if (age < 0)
		snprintf(buf, 8, "unknown");
	else if (age >= 90)
		snprintf(buf, 8, "90+");
	else
		snprintf(buf, 8, "%d-%d", age / 5 * 5, age / 5 * 5 + 4);
	return buf;
}

/* "M", "F", or "unknown" (BIS numbers given without the sex). */
const char *
stats_sex(const struct ssin_info *si)
{
	return si->sex == 'M' ? "M" : si->sex == 'F' ? "F" : "unknown";
}

/* ------------------------------------------------------------------ */
/* Counting persons                                                   */
/* ------------------------------------------------------------------ */

/* The 11 digits of an SSIN as a number; 0, or -1 if not 11 digits. */
int
stats_ssin_number(const char *s, uint64_t *out)
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < SSIN_LEN; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (s[i] != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Back from the number to the 11 digits. */
void
stats_ssin_text(uint64_t num, char out[SSIN_LEN + 1])
{
	int	i;

	for (i = SSIN_LEN - 1; i >= 0; i--) {
		out[i] = (char)('0' + num % 10);
		num /= 10;
	}
	out[SSIN_LEN] = '\0';
}

/*
 * Sort packed pairs: a least-significant-digit radix sort on 16-bit digits
 * (the values use 53 bits: 11 decimal digits and 16 bits of quality), a few
 * passes over memory where qsort would compare 10 million values 230 million
 * times.
 */
void
stats_sort(uint64_t *v, size_t n)
{
	uint64_t	*tmp, *src = v, *dst, *t;
	size_t		*count, i, sum, c;
	unsigned int	 shift;

	if (n < 2)
		return;
	tmp = xreallocarray(NULL, n, sizeof(*tmp));
	count = xcalloc(65536, sizeof(*count));
	dst = tmp;
	for (shift = 0; shift < 64; shift += 16) {
		memset(count, 0, 65536 * sizeof(*count));
		for (i = 0; i < n; i++)
			count[(src[i] >> shift) & 0xffff]++;
		if (count[(src[0] >> shift) & 0xffff] == n)
			continue;	/* this digit is the same everywhere */
		for (sum = 0, i = 0; i < 65536; i++) {
			c = count[i];
			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[count[(src[i] >> shift) & 0xffff]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
	free(count);
	free(tmp);
}

/*
 * Count the persons of sorted pairs: persons[q] holds the number of persons
 * with quality q, overlap[a * nqual + b] (a < b) the number with both a and
 * b. A person who holds one quality twice (at two institutions) counts once.
 */
void
stats_count_persons(const uint64_t *v, size_t n, unsigned int nqual,
    uint64_t *persons, uint64_t *overlap)
{
	unsigned int	*held, nheld, q, a, b;
	size_t		 i = 0;
	uint64_t	 who;

	memset(persons, 0, nqual * sizeof(*persons));
	memset(overlap, 0, (size_t)nqual * nqual * sizeof(*overlap));
	held = xcalloc(nqual + 1, sizeof(*held));
	while (i < n) {
		who = STATS_PACK_PERSON(v[i]);
		for (nheld = 0; i < n && STATS_PACK_PERSON(v[i]) == who; i++) {
			q = STATS_PACK_QUALITY(v[i]);
			if (q >= nqual || (nheld > 0 && held[nheld - 1] == q))
				continue;
			held[nheld++] = q;
		}
		for (a = 0; a < nheld; a++) {
			persons[held[a]]++;
			for (b = a + 1; b < nheld; b++)
				overlap[(size_t)held[a] * nqual + held[b]]++;
		}
	}
	free(held);
}
