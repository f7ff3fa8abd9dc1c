/*
 * kruispunt - Belgian enterprise numbers (KBO/BCE), which identify institutions.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_ENTERPRISE_H
#define KP_ENTERPRISE_H

#include <stdbool.h>

#define ENTERPRISE_LEN	10

bool	enterprise_number_valid(const char *);
int	enterprise_check_digits(const char *first8);

#endif
