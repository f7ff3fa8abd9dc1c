/*
 * kruispunt bench - durable audit appends per second (src/audit.c).
 *
 *   audit-bench -c CONF [-m group|single] [-t THREADS] [-n RECORDS]
 *               [-d SECONDS] [-N NODE]
 *
 * THREADS workers each append synthetic Consult records (one target, valid
 * SSINs, digests) through audit_append() and wait for each to be committed,
 * as the hub's workers do, until RECORDS are written or SECONDS have passed.
 *
 *   group   one audit log (one chain, one writer): what kruispuntd does; the
 *           writer commits whatever is queued in one transaction (group
 *           commit).
 *   single  the baseline: every thread has an audit log of its own (its own
 *           node, chain, writer and connection), so every record is its own
 *           transaction and its own commit.
 *
 * Prints one line of key=value pairs: records, seconds, records/s, and the
 * latency of audit_append (p50/p99/max, microseconds).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "config.h"
#include "ssin.h"
#include "xmalloc.h"

#define BENCH_MAX_THREADS	1024

struct bench {
	struct kp_config	*cf;
	const char		*node;
	int			 single;
	int			 threads;
	long			 count;
	double			 duration;
	struct audit_log	*log;		/* group mode */
	atomic_long		 next;
	atomic_int		 stop;		/* the time is up */
	pthread_barrier_t	 go;
};

struct worker {
	struct bench		*b;
	int			 index;
	pthread_t		 thread;
	struct audit_log	*log;
	int64_t			*lat;
	long			 n;
	long			 failed;
};

/* A valid SSIN (born before 2000) for person number p (0 <= p < 16.7 M). */
static void
person_ssin(unsigned long p, char out[12])
{
	char		first9[16];
	unsigned int	c;

	snprintf(first9, sizeof(first9), "%02lu%02lu%02lu%03lu", 40 + p % 50,
	    1 + (p / 50) % 12, 1 + (p / 600) % 28, 1 + (p / 16800) % 997);
	memcpy(out, first9, 9);
	c = (unsigned int)ssin_check_digits(first9, false) % 100;
	out[9] = (char)('0' + c / 10);
	out[10] = (char)('0' + c % 10);
	out[11] = '\0';
}

/* Fill r as the hub fills a Consult answered by one source. */
static void
synthetic_record(struct audit_record *r, long n, unsigned int *seed)
{
	struct audit_target	*t;
	char			 buf[64];

	audit_record_renew(r, "exchange", "Consult");
	snprintf(r->sender, sizeof(r->sender), "0200000142");
	audit_sha256_hex(&n, sizeof(n), r->sender_cert);
	snprintf(r->message_id, sizeof(r->message_id), "audit-bench-%ld-%u", n,
	    rand_r(seed));
	person_ssin((unsigned long)rand_r(seed) % 1000000, r->ssin);
	snprintf(r->quality, sizeof(r->quality), "INSURED");
	snprintf(r->service, sizeof(r->service), "UNEMPLOYMENT_STATUS");
	snprintf(r->period_begin, sizeof(r->period_begin), "2025-09-01");
	snprintf(r->period_end, sizeof(r->period_end), "2025-12-31");
	snprintf(r->decision, sizeof(r->decision), "OK");
	snprintf(r->reason, sizeof(r->reason), "answered by 1 of 1 sources");
	snprintf(r->authorization_id, sizeof(r->authorization_id), "AUTH-003");
	snprintf(r->legal_basis, sizeof(r->legal_basis),
	    "ISC deliberation 26/021 (sickness benefits)");
	snprintf(buf, sizeof(buf), "request %ld", n);
	audit_sha256_hex(buf, strlen(buf), r->request_digest);
	snprintf(buf, sizeof(buf), "answer %ld", n);
	audit_sha256_hex(buf, strlen(buf), r->answer_digest);
	t = audit_record_add_target(r);
	snprintf(t->institution, sizeof(t->institution), "0100000169");
	snprintf(t->status, sizeof(t->status), "OK");
	memcpy(t->answer_digest, r->answer_digest, AUDIT_HASH_LEN);
	r->answered_us = r->received_us + 800;
}

/*
 * Take the next record number; -1 when the count or the time is used up.
 * Lock-free: a mutex here would be the workers' own contention, not the
 * audit log's.
 */
static long
take(struct bench *b)
{
	long	n;

	if (atomic_load_explicit(&b->stop, memory_order_relaxed))
		return -1;
	n = atomic_fetch_add_explicit(&b->next, 1, memory_order_relaxed);
	return n < b->count ? n : -1;
}

/* One worker: append and wait, like a hub worker. */
static void *
worker_thread(void *arg)
{
	struct worker		*w = arg;
	struct bench		*b = w->b;
	struct audit_record	*r = xcalloc(1, sizeof(*r));
	unsigned int		 seed = (unsigned int)w->index * 7919u + 1;
	int64_t			 t0;
	long			 n;

	pthread_barrier_wait(&b->go);
	while ((n = take(b)) != -1) {
		synthetic_record(r, n, &seed);
		t0 = audit_now_us();
		if (audit_append(w->log, r) != 0) {
			w->failed++;
			break;	/* the store refused: no point going on */
		}
		w->lat[w->n++] = audit_now_us() - t0;
	}
	audit_record_release(r);
	free(r);
	return NULL;
}

/* Sleep until the time end_us or until count records are taken. */
static void
wait_until(int64_t end_us, atomic_long *next, long count)
{
	struct timespec	ts = { 0, 10 * 1000000L };
	int64_t		now;

	while ((now = audit_now_us()) < end_us && atomic_load(next) < count) {
		if (end_us - now < 10000)
			ts.tv_nsec = (long)(end_us - now) * 1000;
		nanosleep(&ts, NULL);
	}
}

/* qsort: ascending int64. */
static int
cmp64(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Open the logs the mode needs; exits on failure. */
static void
open_logs(struct bench *b, struct worker *w)
{
	char	err[256], node[65];
	int	i;

	if (!b->single &&
	    (b->log = audit_open(b->cf, b->node, err, sizeof(err))) == NULL) {
		fprintf(stderr, "audit-bench: %s\n", err);
		exit(1);
	}
	for (i = 0; i < b->threads; i++) {
		w[i].b = b;
		w[i].index = i;
		w[i].lat = xcalloc((size_t)b->count, sizeof(int64_t));
		w[i].log = b->log;
		if (!b->single)
			continue;
		snprintf(node, sizeof(node), "%s-%d", b->node, i);
		if ((w[i].log = audit_open(b->cf, node, err, sizeof(err))) ==
		    NULL) {
			fprintf(stderr, "audit-bench: %s\n", err);
			exit(1);
		}
	}
}

/* Say how to call the program and exit 2. */
static void
usage(void)
{
	fprintf(stderr, "usage: audit-bench -c CONF [-m group|single] "
	    "[-t THREADS] [-n RECORDS] [-d SECONDS] [-N NODE]\n");
	exit(2);
}

/* Parse, run the workers, report. */
int
main(int argc, char **argv)
{
	struct bench	 b;
	struct worker	*w;
	const char	*conf = NULL;
	int64_t		*all, t0;
	long		 n = 0, failed = 0;
	double		 secs;
	int		 ch, i, nerr = 0;

	memset(&b, 0, sizeof(b));
	b.node = "audit-bench";
	b.threads = 64;
	b.count = 100000;
	b.duration = 10;
	while ((ch = getopt(argc, argv, "c:m:t:n:d:N:")) != -1) {
		switch (ch) {
		case 'c': conf = optarg; break;
		case 'm':
			if (strcmp(optarg, "single") == 0)
				b.single = 1;
			else if (strcmp(optarg, "group") != 0)
				usage();
			break;
		case 't': b.threads = atoi(optarg); break;
		case 'n': b.count = atol(optarg); break;
		case 'd': b.duration = atof(optarg); break;
		case 'N': b.node = optarg; break;
		default: usage();
		}
	}
	if (conf == NULL || b.threads < 1 || b.threads > BENCH_MAX_THREADS ||
	    b.count < 1 || b.count > 100000000 || b.duration <= 0 ||
	    b.duration > 3600)
		usage();
	if ((b.cf = config_load(conf, CONF_DATABASE, stderr, &nerr)) == NULL)
		return 2;
	atomic_init(&b.next, 0);
	atomic_init(&b.stop, 0);
	pthread_barrier_init(&b.go, NULL, (unsigned)b.threads + 1);
	w = xcalloc((size_t)b.threads, sizeof(*w));
	open_logs(&b, w);
	for (i = 0; i < b.threads; i++)
		if (pthread_create(&w[i].thread, NULL, worker_thread, &w[i]))
			return 2;
	t0 = audit_now_us();
	pthread_barrier_wait(&b.go);
	wait_until(t0 + (int64_t)(b.duration * 1e6), &b.next, b.count);
	atomic_store(&b.stop, 1);
	for (i = 0; i < b.threads; i++)
		pthread_join(w[i].thread, NULL);
	secs = (double)(audit_now_us() - t0) / 1e6;
	for (i = 0; i < b.threads; i++)
		n += w[i].n;
	all = xcalloc((size_t)n + 1, sizeof(*all));
	for (n = 0, i = 0; i < b.threads; i++) {
		memcpy(all + n, w[i].lat, (size_t)w[i].n * sizeof(*all));
		n += w[i].n;
		failed += w[i].failed;
		if (b.single)
			audit_close(w[i].log);
	}
	audit_close(b.log);
	qsort(all, (size_t)n, sizeof(*all), cmp64);
	printf("mode=%s threads=%d records=%ld failed=%ld seconds=%.3f "
	    "rate=%.0f p50_us=%lld p99_us=%lld max_us=%lld\n",
	    b.single ? "single" : "group", b.threads, n, failed, secs,
	    (double)n / secs, (long long)(n ? all[n / 2] : 0),
	    (long long)(n ? all[(long)((double)n * 0.99)] : 0),
	    (long long)(n ? all[n - 1] : 0));
	free(all);
	config_free(b.cf);
	return failed ? 1 : 0;
}
