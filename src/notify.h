/*
 * kruispunt - the signal function's delivery side: workers that send the
 * outbox's notifications to their recipients, with retries.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_NOTIFY_H
#define KP_NOTIFY_H

#include <stdint.h>

struct kp_config;
struct audit_log;
struct replay;
struct notify;

struct notify	*notify_start(const struct kp_config *, struct audit_log *,
		    struct replay *, char *err, size_t errlen);
void		 notify_wake(struct notify *);
void		 notify_stop(struct notify *);
int64_t		 notify_backoff_ms(int attempts, int64_t min_ms, int64_t max_ms,
		    unsigned int random);

#endif
