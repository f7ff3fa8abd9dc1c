/*
 * kruispunt - the admin tool's policy-support statistics and research
 * extracts.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stddef.h>

#include "admin.h"

const struct admin_cmd admin_stats_cmds[] = {
	{ NULL, NULL, 0, NULL, NULL }
};
