/*
 * kruispunt - running as a daemon: detaching, the pid file, signals.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_DAEMON_H
#define KP_DAEMON_H

int	daemon_detach(void);
int	daemon_pidfile(const char *path);
void	daemon_signals_block(void);
int	daemon_stop_pending(void);
int	daemon_signals_start(void (*stop)(void *), void (*reload)(void *),
	    void *arg);
void	daemon_signals_stop(void);

#endif
