/*
 * kruispunt - running as a daemon: detaching, the pid file, signals.
 *
 * Signals are blocked in every thread (daemon_signals_block before any
 * thread starts) and taken by one thread with sigwait(): SIGTERM and SIGINT
 * call stop (the server finishes the exchanges in flight), SIGHUP calls
 * reload. SIGPIPE is ignored: a peer closing mid-write must not kill the
 * process. The signal thread is joined before the program frees what the
 * hooks use and exits (daemon_signals_stop).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

struct sigthread {
	void	(*stop)(void *);
	void	(*reload)(void *);
	void	*arg;
};

static pthread_t	sig_thread;
static int		sig_started;
static atomic_int	sig_quit;	/* daemon_signals_stop: end quietly */
static atomic_int	sig_done;	/* the signal thread left its loop */

/* Detach from the terminal; 0 in the daemon, -1 on failure. */
int
daemon_detach(void)
{
	pid_t	pid;
	int	fd;

	if ((pid = fork()) == -1)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		return -1;
	umask(027);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return 0;
}

/* Write our pid to path (replacing a stale file); 0 or -1. */
int
daemon_pidfile(const char *path)
{
	FILE	*fp;

	if ((fp = fopen(path, "w")) == NULL) {
		log_warn("pid file %s", path);
		return -1;
	}
	fprintf(fp, "%ld\n", (long)getpid());
	if (fclose(fp) != 0) {
		log_warn("pid file %s", path);
		return -1;
	}
	return 0;
}

/* Block the handled signals in this thread and the ones it will start. */
void
daemon_signals_block(void)
{
	sigset_t	set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/*
 * True when SIGTERM or SIGINT came and waits, blocked, for the signal
 * thread (not started yet, as while kruispuntd waits for its database).
 */
int
daemon_stop_pending(void)
{
	sigset_t	set;

	return sigpending(&set) == 0 && (sigismember(&set, SIGTERM) == 1 ||
	    sigismember(&set, SIGINT) == 1);
}

static void *
daemon_sigwait(void *arg)
{
	struct sigthread	*t = arg;
	sigset_t		 set;
	int			 sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (atomic_load(&sig_quit))
			break;
		if (sig == SIGHUP) {
			log_info("SIGHUP: reloading");
			t->reload(t->arg);
			continue;
		}
		log_info("%s: finishing the exchanges in flight, then stopping",
		    sig == SIGTERM ? "SIGTERM" : "SIGINT");
		t->stop(t->arg);
		break;
	}
	atomic_store(&sig_done, 1);
	free(t);
	return NULL;
}

/* Start the signal thread; 0 or -1. */
int
daemon_signals_start(void (*stop)(void *), void (*reload)(void *), void *arg)
{
	struct sigthread	*t = malloc(sizeof(*t));
	pthread_t		 th;

	if (t == NULL)
		return -1;
	t->stop = stop;
	t->reload = reload;
	t->arg = arg;
	if (pthread_create(&th, NULL, daemon_sigwait, t) != 0) {
		free(t);
		return -1;
	}
	sig_thread = th;
	sig_started = 1;
	return 0;
}

/* Join the signal thread: it has ended after SIGTERM/SIGINT, or is told
 * to end now (without calling a hook). From the thread that started it. */
void
daemon_signals_stop(void)
{
	if (!sig_started)
		return;
	if (!atomic_load(&sig_done)) {
		atomic_store(&sig_quit, 1);
		pthread_kill(sig_thread, SIGTERM);
	}
	pthread_join(sig_thread, NULL);
	sig_started = 0;
}
