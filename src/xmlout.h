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

/* The element and its subtree as Exclusive XML Canonicalization 1.0 without
 * comments gives it (the node set of a same-document reference "#id"),
 * with the InclusiveNamespaces prefixes (NULL-terminated, as xmlsec keeps
 * them; NULL for none), in a malloc'ed buffer (not NUL-terminated); -1
 * (nothing allocated) for what it leaves to libxml2's xmlC14NExecute() (see
 * xmlout.c). */
int	xmlout_exc_c14n(const xmlNode *, const xmlChar *const *prefixes,
	    char **out, size_t *len);

#endif
