/*
 * kruispunt tests - gSOAP's own wsseapi.c, compiled as shipped: the build puts
 * the gsoap package's plugin directory on the include path (interop.am).
 * Nothing of it is copied here.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "wsseapi.c"
