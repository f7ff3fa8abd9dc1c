/*
 * kruispunt - reading the audit trail back: the chain check and the audit
 * officers' queries.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_AUDITREAD_H
#define KP_AUDITREAD_H

#include <stdio.h>

#include <mysql.h>

#include "output.h"

#include <openssl/x509.h>

struct auditread_verify {
	unsigned long	records;	/* read */
	unsigned long	problems;	/* found */
	unsigned long	checkpoints;	/* checked */
	unsigned long	unsigned_tail;	/* records after the last checkpoint */
	double		seconds;
};

int	auditread_verify(MYSQL *, MYSQL *, const char *node, X509 *hub_cert,
	    FILE *out, struct auditread_verify *, char *err, size_t errlen);

#endif
