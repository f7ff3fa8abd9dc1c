/*
 * kruispunt - `kruispunt send`: a client for institution developers that
 * signs a request, sends it to a hub, verifies and prints the answer.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stddef.h>

#include "admin.h"

const struct admin_cmd admin_send_cmds[] = {
	{ NULL, NULL, 0, NULL, NULL }
};
