/*
 * kruispunt - the reference directory in MariaDB: the lookups of the
 * request path, one connection and one set of prepared statements per worker.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_DIRECTORY_H
#define KP_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "dispatch.h"

struct kp_config;
struct directory;

struct dir_institution {
	char	id[INSTITUTION_LEN];
	char	name[201];
	char	sector[CODE_LEN];
	char	endpoint[501];
	bool	active;
};

/* What the directory says for one consult; owns its rows. */
struct dir_consult {
	struct dir_file			*files;
	struct dir_authorization	*auths;
	struct dir_availability		*avail;
	struct consult_facts		 facts;	/* points into the above */
};

/* What the directory says for one mutation; owns its rows. */
struct dir_mutation {
	struct dir_file			*files;
	struct dir_authorization	*auths;
	char				(*subscribers)[INSTITUTION_LEN];
	char				 service[CODE_LEN];
	char				 source[INSTITUTION_LEN];
	struct mutation_facts		 facts;
};

struct directory *directory_open(const struct kp_config *, char *err, size_t);
void		 directory_close(struct directory *);
const char	*directory_error(const struct directory *);
int		 directory_ping(struct directory *);

int	directory_institution(struct directory *, const char *id,
	    struct dir_institution *);
int	directory_certificate(struct directory *, const char *fingerprint,
	    struct dir_institution *, bool *revoked);
int	directory_quality_sector(struct directory *, const char *quality,
	    char sector[CODE_LEN]);
int	directory_consult(struct directory *, const char *ssin,
	    const char *service, const char *quality, struct dir_consult *);
void	directory_consult_free(struct dir_consult *);
int	directory_consult_claim(struct directory *, const char *sender,
	    const char *message_id, const char *expires, const char *ticket,
	    const char *ssin, const char *service, const char *quality,
	    struct dir_consult *, int *fresh);
int	directory_mutation(struct directory *, const char *ssin,
	    const char *mutation_type, struct dir_mutation *);
void	directory_mutation_free(struct dir_mutation *);

enum dir_cert_key { DIR_CERT_SKI, DIR_CERT_THUMBPRINT, DIR_CERT_SERIAL };

int	directory_certificates(struct directory *, enum dir_cert_key,
	    const char *value, int (*match)(void *, const char *pem,
	    const char *issuer), void *arg);
int	directory_register(struct directory *, const char *ssin,
	    const char *institution, const char *quality, const char *begin,
	    const char *end);
int	directory_unregister(struct directory *, const char *ssin,
	    const char *institution, const char *quality, const char *begin,
	    const char *end);
int	directory_list(struct directory *, const char *ssin,
	    const char *institution, void (*each)(void *, const char *quality,
	    const char *begin, const char *end), void *arg);
int	directory_message_seen(struct directory *, const char *sender,
	    const char *message_id, const char *expires, const char *ticket);
/* Expired MessageIds removed by one directory_purge_seen() at most. */
#define DIR_PURGE_LIMIT		1000
#define DIR_PURGE_LIMIT_TEXT	"1000"
long	directory_purge_seen(struct directory *);

/* The request-path lookups, for tests that EXPLAIN them. */
size_t	directory_query_count(void);
const char *directory_query_sql(size_t, const char **name);

#endif
