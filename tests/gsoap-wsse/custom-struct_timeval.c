/*
 * kruispunt tests - gSOAP's custom serialiser for struct timeval, which the
 * SAML part of wsse.h needs, compiled as shipped from the gsoap package's
 * custom directory (interop.am). Nothing of it is copied here.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "custom/struct_timeval.c"
