/*
 * kruispunt - the admin tool's commands for institution developers:
 * signing and verifying WS-Security messages.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stddef.h>

#include "admin.h"

const struct admin_cmd admin_wsse_cmds[] = {
	{ NULL, NULL, 0, NULL, NULL }
};
