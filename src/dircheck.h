/*
 * kruispunt - consistency checks of the reference directory.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_DIRCHECK_H
#define KP_DIRCHECK_H

#include <mysql.h>

#include "output.h"

int	dircheck_run(MYSQL *, struct output *, unsigned long *problems,
	    char *err, size_t errlen);

#endif
