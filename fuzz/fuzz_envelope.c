/*
 * kruispunt fuzz - the hardened envelope parser (src/envelope.c) and what
 * the hub reads from a parsed message before any signature check: routing
 * fields, the payload digest, a fault's code and ticket, re-serialisation.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "envelope.h"
#include "log.h"
#include "soapmsg.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct envelope_limits limits;

/* Silence libxml2's error printing; the parser's verdict is what counts. */
static void
quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

/* Once: libxml2 and the default [limits]. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz-envelope", 1, LOG_LEVEL_ERROR);
	xmlInitParser();
	xmlSetGenericErrorFunc(NULL, quiet);
	envelope_limits_default(&limits);
	limits.max_size = 256 * 1024;
	return 0;
}

/* Read the fields the hub would route on, from a request element. */
static void
read_fields(xmlNodePtr req)
{
	static const char *const names[] = { "MessageId", "Service", "Ssin",
	    "Quality", "Action", "MutationType", "EffectiveDate", "Ticket" };
	char		buf[128];
	size_t		i;
	xmlNodePtr	n;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		(void)soapmsg_text(req, KP_NS, names[i], buf, sizeof(buf));
		(void)soapmsg_text(req, KI_NS, names[i], buf, sizeof(buf));
	}
	if ((n = soapmsg_child(req, KP_NS, "Period")) != NULL) {
		(void)soapmsg_text(n, KP_NS, "Begin", buf, sizeof(buf));
		(void)soapmsg_text(n, KP_NS, "End", buf, sizeof(buf));
	}
}

/* One input: a whole HTTP body. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envelope	*env = NULL;
	enum kp_error	 e;
	char		 reason[256], digest[65], code[64], ticket[64], text[256];
	char		*out;
	size_t		 outlen;
	xmlNodePtr	 n;

	e = envelope_parse((const char *)data, size, &limits, &env, reason,
	    sizeof(reason));
	if (e != KP_OK) {
		if (env != NULL)
			abort();
		return 0;
	}
	if (env == NULL || env->body == NULL || env->root == NULL)
		abort();
	if (env->payload != NULL) {
		read_fields(env->payload);
		if ((n = soapmsg_child(env->payload, KP_NS, "Payload")) != NULL)
			soapmsg_payload_digest(n, digest);
		soapmsg_digest(env->payload, digest);
	}
	(void)soapmsg_read_fault(env->body, code, sizeof(code), ticket,
	    sizeof(ticket), text, sizeof(text));
	if (soapmsg_serialize(env->doc, &out, &outlen) == 0)
		free(out);
	envelope_free(env);
	return 0;
}
