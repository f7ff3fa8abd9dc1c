/*
 * kruispunt fuzz - kruispunt's exclusive c14n (xmlout_exc_c14n(), what
 * every signature the hub checks or makes is computed over) against
 * libxml2's xmlC14NExecute() on the same subtree: any document the hub
 * would parse, every element of it (at most 64), with an InclusiveNamespaces
 * prefix list chosen by the first byte, the tree pruned as the hub prunes
 * it; a difference aborts.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>

#include "xmlout.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xmlInitParser();
	xmlSetGenericErrorFunc(NULL, quiet);
	return 0;
}

/* The node set of a reference "#id": the element and all below it. */
static int
in_subtree(void *top, xmlNodePtr node, xmlNodePtr parent)
{
	xmlNodePtr	n = node->type == XML_NAMESPACE_DECL ? parent : node;

	for (; n != NULL; n = n->parent)
		if (n == top)
			return 1;
	return 0;
}

/*
 * libxml2 checks every element it walks for relative namespace names; the
 * hub prunes the tree to the path down to the referenced element before
 * each pass (wsse_prune_begin()), so that it walks that path and the
 * subtree only. The same here: each ancestor made its parent's only child
 * for the comparison (at most 256 levels), then put back.
 */
struct level {
	xmlNodePtr	node, prev, next, first, last;
};

static size_t
prune(xmlNodePtr e, struct level *l)
{
	xmlNodePtr	a;
	size_t		n = 0;

	for (a = e; a->parent != NULL && n < 256; a = a->parent, n++) {
		l[n].node = a;
		l[n].prev = a->prev;
		l[n].next = a->next;
		l[n].first = a->parent->children;
		l[n].last = a->parent->last;
		a->prev = a->next = NULL;
		a->parent->children = a->parent->last = a;
	}
	return n;
}

static void
unprune(struct level *l, size_t n)
{
	while (n-- > 0) {
		l[n].node->prev = l[n].prev;
		l[n].node->next = l[n].next;
		l[n].node->parent->children = l[n].first;
		l[n].node->parent->last = l[n].last;
	}
}

static void
compare(xmlNodePtr e, const xmlChar *const *prefixes)
{
	static struct level levels[256];
	size_t		n;
	xmlBufferPtr		 b = xmlBufferCreate();
	xmlOutputBufferPtr	 o = xmlOutputBufferCreateBuffer(b, NULL);
	char			*out;
	size_t			 len;
	int			 r;

	n = prune(e, levels);
	r = xmlC14NExecute(e->doc, in_subtree, e, XML_C14N_EXCLUSIVE_1_0,
	    (xmlChar **)(uintptr_t)prefixes, 0, o);
	unprune(levels, n);
	xmlOutputBufferClose(o);
	if (xmlout_exc_c14n(e, prefixes, &out, &len) == 0) {
		if (r < 0 || len != (size_t)xmlBufferLength(b) ||
		    memcmp(out, xmlBufferContent(b), len) != 0) {
			fprintf(stderr, "c14n differs for <%s>:\nlibxml2: %s\n"
			    "xmlout:  %.*s\n", (const char *)e->name, r < 0 ?
			    "(failed)" : (const char *)xmlBufferContent(b),
			    (int)len, out);
			abort();
		}
		free(out);
	}
	xmlBufferFree(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const xmlChar *const l1[] = { BAD_CAST "kp", BAD_CAST "soapenv",
	    NULL };
	static const xmlChar *const l2[] = { BAD_CAST "#default", BAD_CAST "p",
	    BAD_CAST "", NULL };
	static const xmlChar *const l3[] = { BAD_CAST "q", BAD_CAST "xml",
	    BAD_CAST "s", NULL };
	static const xmlChar *const *const lists[4] = { NULL, l1, l2, l3 };
	xmlParserCtxtPtr ctxt;
	xmlDocPtr	 doc;
	xmlNodePtr	 n;
	int		 count = 0;

	if (size < 1 || size > 64 * 1024)
		return 0;
	if ((ctxt = xmlNewParserCtxt()) == NULL)
		return 0;
	doc = xmlCtxtReadMemory(ctxt, (const char *)data + 1, (int)size - 1,
	    NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
	    XML_PARSE_NOWARNING | XML_PARSE_COMPACT);
	/* what the hub parses: well-formed, namespace-well-formed */
	if (doc != NULL && ctxt->wellFormed && ctxt->nsWellFormed)
		for (n = xmlDocGetRootElement(doc); n != NULL && count < 64;) {
			if (n->type == XML_ELEMENT_NODE) {
				compare(n, lists[data[0] & 3]);
				count++;
				if (n->children != NULL) {
					n = n->children;
					continue;
				}
			}
			while (n != NULL && n->next == NULL)
				n = n->parent != NULL &&
				    n->parent->type == XML_ELEMENT_NODE ?
				    n->parent : NULL;
			if (n != NULL)
				n = n->next;
		}
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return 0;
}
