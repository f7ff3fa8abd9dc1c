/*
 * kruispunt - serialising a libxml2 document into one buffer, fast.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_XMLOUT_H
#define KP_XMLOUT_H

#include <stddef.h>

#include <libxml/tree.h>

/* The document as xmlDocDumpMemoryEnc(doc, ..., "UTF-8") writes it, in a
 * malloc'ed NUL-terminated buffer; -1 (nothing allocated) when the tree holds
 * a node this writer leaves to libxml2. */
int	xmlout_doc(xmlDocPtr, char **out, size_t *len);

#endif
