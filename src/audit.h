/*
 * kruispunt - the audit trail: records in a hash chain per hub node, written
 * durably (group commit) before any answer leaves.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_AUDIT_H
#define KP_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#define AUDIT_TICKET_LEN	37
#define AUDIT_HASH_LEN		65

struct kp_config;

struct audit_target {
	char	institution[11];
	char	status[33];
	char	answer_digest[AUDIT_HASH_LEN];	/* "" when no answer */
};

/* A notification to queue with the record, in the same transaction. */
struct audit_outbox {
	char	 delivery_id[AUDIT_TICKET_LEN];
	char	 recipient[11];
	char	 quality[33];
	char	 authorization_id[65];
	char	 source[11];
	char	 mutation_type[33];
	char	 ssin[12];
	char	 effective_date[11];
	char	*payload;		/* the Payload's children, or NULL */
};

/* One exchange or delivery. Empty strings are stored as NULL. */
struct audit_record {
	char			ticket[AUDIT_TICKET_LEN];
	const char		*kind;		/* "exchange" or "delivery" */
	const char		*operation;	/* Consult, ManageAccess, ... */
	int64_t			received_us;	/* microseconds since the epoch */
	int64_t			answered_us;
	char			sender[11];
	char			sender_cert[AUDIT_HASH_LEN];
	char			message_id[129];
	char			ssin[12];
	char			quality[33];
	char			service[33];
	char			period_begin[11];
	char			period_end[11];
	char			decision[33];	/* OK, PARTIAL, ..., or a code */
	char			reason[256];
	char			authorization_id[65];
	char			legal_basis[129];
	char			request_digest[AUDIT_HASH_LEN];
	char			answer_digest[AUDIT_HASH_LEN];
	struct audit_target	*targets;	/* audit_record_add_target() */
	int			ntargets;
	int			cap_targets;
	struct audit_outbox	*outbox;	/* written with the record */
	int			noutbox;
	const char		*also;		/* SQL run in the same transaction */
	/* set by audit_append */
	uint64_t		seq;
	char			prev_hash[AUDIT_HASH_LEN];
	char			hash[AUDIT_HASH_LEN];
};

struct audit_log;

void		 audit_ticket_new(char out[AUDIT_TICKET_LEN]);
void		 audit_record_init(struct audit_record *, const char *kind,
		    const char *operation);
void		 audit_record_clear(struct audit_record *);
void		 audit_record_renew(struct audit_record *, const char *kind,
		    const char *operation);
struct audit_target *audit_record_add_target(struct audit_record *);
void		 audit_record_release(struct audit_record *);
void		 audit_time_format(int64_t us, char out[27]);
int64_t		 audit_now_us(void);
void		 audit_sha256_hex(const void *, size_t, char out[AUDIT_HASH_LEN]);
void		 audit_hash(const char *node, const struct audit_record *,
		    char out[AUDIT_HASH_LEN]);
struct audit_log *audit_open(const struct kp_config *, const char *node,
		    char *err, size_t errlen);
int		 audit_append(struct audit_log *, struct audit_record *);
struct audit_pending;
struct audit_pending *audit_append_begin(struct audit_log *,
		    struct audit_record *);
int		 audit_append_end(struct audit_pending *);
int		 audit_append_group(struct audit_log *, struct audit_record *,
		    int n);
int		 audit_healthy(struct audit_log *);
void		 audit_checkpoint_text(const char *node, uint64_t seq,
		    const char *hash, char *out, size_t len);
void		 audit_close(struct audit_log *);

#endif
