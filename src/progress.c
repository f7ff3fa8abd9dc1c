/*
 * kruispunt - a progress bar for long admin commands, on a terminal only.
 *
 * "label [#####.....]  42% 420000/1000000 rows  85000/s  7s left", redrawn
 * at most ten times a second with a carriage return. When the stream is not
 * a terminal (a pipe, a CI log) nothing is written.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"
#include "xmalloc.h"

struct progress {
	FILE		*fp;
	const char	*label;
	unsigned long	 total;
	double		 start;
	double		 last;
	int		 active;
};

static double
progress_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Start a bar on fp for total items (0 if unknown). */
struct progress *
progress_start(FILE *fp, const char *label, unsigned long total)
{
	struct progress	*p = xcalloc(1, sizeof(*p));

	p->fp = fp;
	p->label = label;
	p->total = total;
	p->start = progress_now();
	p->active = isatty(fileno(fp));
	return p;
}

static void
progress_draw(struct progress *p, unsigned long done, double now)
{
	char	bar[31];
	double	elapsed = now - p->start, rate, frac;
	int	i, fill;

	rate = elapsed > 0 ? (double)done / elapsed : 0;
	frac = p->total > 0 ? (double)done / (double)p->total : 0;
	if (frac > 1)
		frac = 1;
	fill = (int)(frac * 30);
	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	fprintf(p->fp, "\r%s [%s] %3d%% %lu/%lu rows  %.0f/s", p->label, bar,
	    (int)(frac * 100), done, p->total, rate);
	if (rate > 0 && p->total > done)
		fprintf(p->fp, "  %.0fs left ", (double)(p->total - done) / rate);
	else
		fputs("            ", p->fp);
	fflush(p->fp);
}

/* Note that done items are finished. */
void
progress_update(struct progress *p, unsigned long done)
{
	double	now;

	if (!p->active)
		return;
	now = progress_now();
	if (now - p->last < 0.1 && done < p->total)
		return;
	p->last = now;
	progress_draw(p, done, now);
}

/* Finish the bar (a last full redraw and a newline) and free it. */
void
progress_end(struct progress *p)
{
	if (p->active) {
		progress_draw(p, p->total, progress_now());
		fputc('\n', p->fp);
	}
	free(p);
}
