/*
 * kruispunt - the refusal codes of wire contract v1.
 *
 * The switches have no default case, so the compiler names a code that one
 * of them forgot.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <string.h>

#include "errors.h"

/* The code as it travels in kp:Error/Code and in the audit record. */
const char *
kp_strerror(enum kp_error e)
{
	switch (e) {
	case KP_OK:
		return "OK";
	case KP_INVALID_MESSAGE:
		return "INVALID_MESSAGE";
	case KP_INVALID_SIGNATURE:
		return "INVALID_SIGNATURE";
	case KP_EXPIRED:
		return "EXPIRED";
	case KP_REPLAY:
		return "REPLAY";
	case KP_UNKNOWN_SENDER:
		return "UNKNOWN_SENDER";
	case KP_INVALID_SSIN:
		return "INVALID_SSIN";
	case KP_PERSON_NOT_INTEGRATED:
		return "PERSON_NOT_INTEGRATED";
	case KP_NOT_AUTHORIZED:
		return "NOT_AUTHORIZED";
	case KP_UNKNOWN_SERVICE:
		return "UNKNOWN_SERVICE";
	case KP_TARGET_UNAVAILABLE:
		return "TARGET_UNAVAILABLE";
	case KP_INTERNAL:
		return "INTERNAL";
	}
	return "INTERNAL";
}

/* A sentence for people: the faultstring and the tools' explanations. */
const char *
kp_error_text(enum kp_error e)
{
	switch (e) {
	case KP_OK:
		return "accepted";
	case KP_INVALID_MESSAGE:
		return "the message is not a well-formed SOAP message of wire "
		    "contract v1, or it is too large";
	case KP_INVALID_SIGNATURE:
		return "the WS-Security signature is missing, invalid, too weak, "
		    "or does not cover the Body and the Timestamp";
	case KP_EXPIRED:
		return "the wsu:Timestamp is missing, expired, or too far in the "
		    "future";
	case KP_REPLAY:
		return "this message or its MessageId was already received";
	case KP_UNKNOWN_SENDER:
		return "the signing certificate is not registered to an active "
		    "institution";
	case KP_INVALID_SSIN:
		return "the SSIN is not a valid national register or BIS number";
	case KP_PERSON_NOT_INTEGRATED:
		return "the sender holds no file on this person in this quality "
		    "over this period";
	case KP_NOT_AUTHORIZED:
		return "no authorisation allows this exchange";
	case KP_UNKNOWN_SERVICE:
		return "the service or mutation type is not in the directory";
	case KP_TARGET_UNAVAILABLE:
		return "the institution that holds the data did not answer";
	case KP_INTERNAL:
		return "the hub could not complete the exchange; nothing was "
		    "passed on";
	}
	return "unknown error";
}

/* 1 when the sender is at fault (SOAP Client/Sender), 0 for Server/Receiver. */
int
kp_error_is_sender_fault(enum kp_error e)
{
	switch (e) {
	case KP_INVALID_MESSAGE:
	case KP_INVALID_SIGNATURE:
	case KP_EXPIRED:
	case KP_REPLAY:
	case KP_UNKNOWN_SENDER:
	case KP_INVALID_SSIN:
	case KP_PERSON_NOT_INTEGRATED:
	case KP_NOT_AUTHORIZED:
	case KP_UNKNOWN_SERVICE:
		return 1;
	case KP_OK:
	case KP_TARGET_UNAVAILABLE:
	case KP_INTERNAL:
		return 0;
	}
	return 0;
}

/* Parse a code name; 0 on success, -1 if unknown. */
int
kp_error_parse(const char *s, enum kp_error *out)
{
	int	i;

	for (i = 0; i < KP_ERROR_COUNT; i++) {
		if (strcmp(s, kp_strerror((enum kp_error)i)) == 0) {
			*out = (enum kp_error)i;
			return 0;
		}
	}
	return -1;
}
