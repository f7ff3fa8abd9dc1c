/*
 * kruispunt - the refusal codes of wire contract v1.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_ERRORS_H
#define KP_ERRORS_H

/* Why an exchange was refused; the kp:Error Code of a SOAP fault. */
enum kp_error {
	KP_OK = 0,
	KP_INVALID_MESSAGE,
	KP_INVALID_SIGNATURE,
	KP_EXPIRED,
	KP_REPLAY,
	KP_UNKNOWN_SENDER,
	KP_INVALID_SSIN,
	KP_PERSON_NOT_INTEGRATED,
	KP_NOT_AUTHORIZED,
	KP_UNKNOWN_SERVICE,
	KP_TARGET_UNAVAILABLE,
	KP_INTERNAL,
};

#define KP_ERROR_COUNT	(KP_INTERNAL + 1)

const char	*kp_strerror(enum kp_error);
const char	*kp_error_text(enum kp_error);
int		 kp_error_is_sender_fault(enum kp_error);
int		 kp_error_parse(const char *, enum kp_error *);

#endif
