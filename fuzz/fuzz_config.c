/*
 * kruispunt fuzz - kruispunt.conf parsing and validation (src/config.c on
 * libinih), every section asked for. The input is written to a private
 * temporary file, since config_load() reads a path.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	 path[64];
static FILE	*devnull;

/* Once: the temporary file and a sink for the validation messages. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int	fd;

	(void)argc;
	(void)argv;
	log_init("fuzz-config", 1, LOG_LEVEL_ERROR);
	snprintf(path, sizeof(path), "/tmp/kp-fuzz-config.XXXXXX");
	if ((fd = mkstemp(path)) == -1)
		abort();
	close(fd);
	if ((devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	return 0;
}

/* One input: a whole configuration file, loaded for every program. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned	 sets[] = { CONF_FOR_HUB, CONF_FOR_ADMIN,
	    CONF_FOR_INSTITUTION, 0xffff };
	struct kp_config	*c;
	FILE			*fp;
	int			 nerrors;
	size_t			 i;

	if (size > 64 * 1024)
		return 0;
	if ((fp = fopen(path, "w")) == NULL)
		abort();
	fwrite(data, 1, size, fp);
	fclose(fp);
	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		nerrors = 0;
		c = config_load(path, sets[i], devnull, &nerrors);
		if (c != NULL && nerrors != 0)
			abort();
		config_free(c);
	}
	return 0;
}
