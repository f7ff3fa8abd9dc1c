/*
 * kruispunt - version and usage text shared by the three programs.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_VERSION_H
#define KP_VERSION_H

#include <stdio.h>

void	version_print(FILE *, const char *program);

#endif
