/*
 * kruispunt - the hub's exchange pipeline: parse, verify, identify, decide,
 * forward, audit, sign, answer.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_HUB_H
#define KP_HUB_H

#include "server.h"

struct kp_config;
struct hub;

const char	*hub_data_dir(void);
struct hub	*hub_new(const struct kp_config *, char *err, size_t errlen);
void		 hub_free(struct hub *);
void		 hub_server_ops(struct hub *, struct server_ops *);
void		 hub_reload(struct hub *);

#endif
