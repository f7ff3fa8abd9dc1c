/*
 * kruispunt - the registered-certificate lookup that wsse_verify asks: is
 * this signer registered, and to which institution?
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_CERTLOOKUP_H
#define KP_CERTLOOKUP_H

#include <stdbool.h>

#include <openssl/x509.h>

#include "directory.h"
#include "wsse.h"

/* One per wsse context; the result of the last lookup stays here. */
struct certlookup {
	struct directory	*dir;
	int			 found;		/* registered */
	int			 failed;	/* the directory did not answer */
	struct dir_institution	 inst;		/* whom it is registered to */
	bool			 revoked;
};

void	certlookup_reset(struct certlookup *);
int	certlookup_fn(void *arg, const struct wsse_keyref *, X509 **cert);

#endif
