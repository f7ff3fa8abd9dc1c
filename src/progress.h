/*
 * kruispunt - a progress bar for long admin commands, on a terminal only.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_PROGRESS_H
#define KP_PROGRESS_H

#include <stdio.h>

struct progress;

struct progress	*progress_start(FILE *, const char *label, unsigned long total);
void		 progress_update(struct progress *, unsigned long done);
void		 progress_end(struct progress *);

#endif
