/*
 * kruispunt - the exclusive c14n transform the hub gives xmlsec.
 *
 * Every signature the hub checks or makes canonicalises three subtrees
 * (Body, Timestamp, SignedInfo). xmlsec's own exc-c14n transform hands the
 * node set to libxml2's xmlC14NExecute(), which walks the document and
 * calls back into xmlsec for every node, attribute and namespace; that was
 * 38 % of a signature check. This transform has the same algorithm URI and
 * the same behaviour: when the node set it is given is exactly one
 * element's subtree (what a same-document reference "#id" and SignedInfo
 * give; found by looking at the node set's structure, below), it writes the
 * canonical form with xmlout_exc_c14n(), InclusiveNamespaces prefix list
 * and all, and pushes it to the next transform (the digest or the
 * signature) in one piece. Any other node set, or a subtree xmlout
 * declines, goes to xmlC14NExecute() exactly as xmlsec's transform
 * does it. It takes the place of xmlsec's in xmlsec's registry
 * (wsse_c14n_register(), at initialisation); the DSig contexts of wsse.c
 * and wsse_sign.c enable it (wsse_c14n_enable()).
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/c14n.h>
#include <xmlsec/buffer.h>
#include <xmlsec/nodeset.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmltree.h>

#include "wsse_int.h"
#include "xmlout.h"

#define EXC_C14N_HREF	"http://www.w3.org/2001/10/xml-exc-c14n#"

static atomic_ullong	count_fast, count_libxml2;
static atomic_int	libxml2_only;	/* for benches: xmlsec's way */

/* The prefix list of ec:InclusiveNamespaces, as xmlsec keeps it: one
 * string per space-separated piece, NULL-terminated; NULL when absent. */
struct c14n_data {
	xmlChar	**prefixes;
};

#define C14N_DATA(t) \
	((struct c14n_data *)((xmlSecByte *)(t) + sizeof(xmlSecTransform)))

static int
c14n_initialize(xmlSecTransformPtr t)
{
	C14N_DATA(t)->prefixes = NULL;
	return 0;
}

static void
c14n_finalize(xmlSecTransformPtr t)
{
	xmlChar	**p = C14N_DATA(t)->prefixes;
	size_t	  i;

	if (p == NULL)
		return;
	for (i = 0; p[i] != NULL; i++)
		xmlFree(p[i]);
	free(p);
	C14N_DATA(t)->prefixes = NULL;
}

/* The ds:Transform element: at most one ec:InclusiveNamespaces with a
 * PrefixList, split on each single space as xmlsec splits it. */
static int
c14n_read_node(xmlSecTransformPtr t, xmlNodePtr node,
    xmlSecTransformCtxPtr tctx)
{
	struct c14n_data *d = C14N_DATA(t);
	xmlNodePtr	 cur;
	xmlChar		*list, *p, *sp;
	size_t		 n = 0;

	(void)tctx;
	cur = xmlSecGetNextElementNode(node->children);
	if (cur == NULL)
		return 0;
	if (!xmlSecCheckNodeName(cur, BAD_CAST "InclusiveNamespaces",
	    BAD_CAST EXC_C14N_HREF) ||
	    xmlSecGetNextElementNode(cur->next) != NULL ||
	    (list = xmlGetProp(cur, BAD_CAST "PrefixList")) == NULL)
		return -1;
	d->prefixes = calloc((size_t)xmlStrlen(list) + 2, sizeof(*d->prefixes));
	if (d->prefixes == NULL) {
		xmlFree(list);
		return -1;
	}
	for (p = list; *p != '\0'; p = sp) {
		if ((sp = (xmlChar *)xmlStrchr(p, ' ')) != NULL)
			*sp++ = '\0';
		else
			sp = p + xmlStrlen(p);
		d->prefixes[n++] = xmlStrdup(p);
	}
	xmlFree(list);
	if (n == 0) {			/* PrefixList="": no list */
		free(d->prefixes);
		d->prefixes = NULL;
	}
	return 0;
}

/*
 * What one node set (not the ring it is in) holds, as far as it matters
 * here: ALL (the document), an element (its subtree), or NULL (anything
 * else). Node sets are rings of sets combined in order, each by its
 * operation, starting from "everything" (xmlSecNodeSetContains()); a Tree
 * set holds its nodes and all below them.
 */
#define ALL	((xmlNodePtr)1)

static xmlNodePtr	ring_subtree(xmlSecNodeSetPtr);

static xmlNodePtr
one_set(xmlSecNodeSetPtr s)
{
	xmlNodePtr	n;
	int		i, root = 0;

	switch (s->type) {
	case xmlSecNodeSetList:
		return s->children != NULL ? ring_subtree(s->children) : NULL;
	case xmlSecNodeSetTree:
	case xmlSecNodeSetTreeWithoutComments:
		if (s->nodes == NULL)
			return ALL;
		if (s->nodes->nodeNr == 1 &&
		    (n = s->nodes->nodeTab[0])->type == XML_ELEMENT_NODE &&
		    n->doc == s->doc)
			return n;
		/* the children of the document, root element among them */
		for (i = 0; i < s->nodes->nodeNr; i++) {
			n = s->nodes->nodeTab[i];
			if (n->parent != (xmlNodePtr)s->doc)
				return NULL;
			root |= n == xmlDocGetRootElement(s->doc);
		}
		return root ? ALL : NULL;
	default:
		return NULL;
	}
}

static xmlNodePtr
ring_subtree(xmlSecNodeSetPtr ring)
{
	xmlSecNodeSetPtr cur = ring;
	xmlNodePtr	 acc = ALL, one;

	do {
		if (cur->op != xmlSecNodeSetIntersection ||
		    (one = one_set(cur)) == NULL)
			return NULL;
		if (acc == ALL)
			acc = one;
		else if (one != ALL && one != acc)
			return NULL;
		cur = cur->next;
	} while (cur != ring);
	return acc;
}

/* The element whose subtree the node set is; NULL for another set. */
static xmlNodePtr
subtree_of(xmlSecNodeSetPtr nodes)
{
	xmlNodePtr	e = ring_subtree(nodes);

	return e == ALL ? NULL : e;
}

/* Canonicalise nodes into the next transform (or our own output). */
static int
c14n_run(xmlSecTransformPtr t, xmlSecNodeSetPtr nodes,
    xmlSecTransformCtxPtr tctx, xmlSecBufferPtr own)
{
	xmlChar			**prefixes = C14N_DATA(t)->prefixes;
	xmlOutputBufferPtr	 buf;
	xmlNodePtr		 e;
	char			*out;
	size_t			 len;
	int			 r;

	if (!atomic_load_explicit(&libxml2_only, memory_order_relaxed) &&
	    (e = subtree_of(nodes)) != NULL &&
	    xmlout_exc_c14n(e, (const xmlChar *const *)prefixes, &out, &len) == 0) {
		atomic_fetch_add_explicit(&count_fast, 1, memory_order_relaxed);
		if (own != NULL)
			r = xmlSecBufferAppend(own, (xmlSecByte *)out, (xmlSecSize)len);
		else
			r = xmlSecTransformPushBin(t->next, (xmlSecByte *)out,
			    (xmlSecSize)len, 1, tctx);
		free(out);
		return r < 0 ? -1 : 0;
	}
	atomic_fetch_add_explicit(&count_libxml2, 1, memory_order_relaxed);
	buf = own != NULL ? xmlSecBufferCreateOutputBuffer(own) :
	    xmlSecTransformCreateOutputBuffer(t->next, tctx);
	if (buf == NULL)
		return -1;
	r = xmlC14NExecute(nodes->doc,
	    (xmlC14NIsVisibleCallback)xmlSecNodeSetContains, nodes,
	    XML_C14N_EXCLUSIVE_1_0, prefixes, 0, buf);
	if (xmlOutputBufferClose(buf) < 0 || r < 0)
		return -1;
	return 0;
}

static int
c14n_push_xml(xmlSecTransformPtr t, xmlSecNodeSetPtr nodes,
    xmlSecTransformCtxPtr tctx)
{
	if (nodes == NULL || nodes->doc == NULL)
		return -1;
	switch (t->status) {
	case xmlSecTransformStatusNone:
		t->status = xmlSecTransformStatusWorking;
		break;
	case xmlSecTransformStatusWorking:
	case xmlSecTransformStatusFinished:
		return 0;
	default:
		return -1;
	}
	if (c14n_run(t, nodes, tctx, t->next != NULL ? NULL : &t->outBuf) != 0)
		return -1;
	t->status = xmlSecTransformStatusFinished;
	return 0;
}

/* Pulled from: canonicalise the previous transform's nodes once, then
 * hand the bytes out chunk by chunk. */
static int
c14n_pop_bin(xmlSecTransformPtr t, xmlSecByte *data, xmlSecSize max,
    xmlSecSize *size, xmlSecTransformCtxPtr tctx)
{
	xmlSecSize	n;

	if (t->status == xmlSecTransformStatusNone) {
		if (t->prev == NULL) {
			*size = 0;
			t->status = xmlSecTransformStatusFinished;
			return 0;
		}
		if (xmlSecTransformPopXml(t->prev, &t->inNodes, tctx) < 0 ||
		    t->inNodes == NULL ||
		    c14n_run(t, t->inNodes, tctx, &t->outBuf) != 0)
			return -1;
		t->status = xmlSecTransformStatusWorking;
	}
	if (t->status == xmlSecTransformStatusFinished) {
		*size = 0;
		return 0;
	}
	if (t->status != xmlSecTransformStatusWorking)
		return -1;
	n = xmlSecBufferGetSize(&t->outBuf);
	if (n > max)
		n = max;
	if (n > XMLSEC_TRANSFORM_BINARY_CHUNK)
		n = XMLSEC_TRANSFORM_BINARY_CHUNK;
	if (n > 0) {
		memcpy(data, xmlSecBufferGetData(&t->outBuf), n);
		if (xmlSecBufferRemoveHead(&t->outBuf, n) < 0)
			return -1;
	} else
		t->status = xmlSecTransformStatusFinished;
	*size = n;
	return 0;
}

static xmlSecTransformKlass exc_c14n_klass = {
	sizeof(xmlSecTransformKlass),
	sizeof(xmlSecTransform) + sizeof(struct c14n_data),
	BAD_CAST "exc-c14n",
	BAD_CAST EXC_C14N_HREF,
	xmlSecTransformUsageC14NMethod | xmlSecTransformUsageDSigTransform,
	c14n_initialize,
	c14n_finalize,
	c14n_read_node,
	NULL,				/* writeNode */
	NULL,				/* setKeyReq */
	NULL,				/* setKey */
	NULL,				/* verify */
	xmlSecTransformDefaultGetDataType,
	NULL,				/* pushBin */
	c14n_pop_bin,
	c14n_push_xml,
	NULL,				/* popXml */
	NULL,				/* execute */
	NULL, NULL
};

/*
 * Put this transform in xmlsec's registry in place of its own exc-c14n:
 * xmlsec finds the transform an Algorithm names in the registry, first
 * match, and only then checks it against a context's enabled list. Once,
 * at initialisation, before any other thread uses xmlsec.
 */
int
wsse_c14n_register(void)
{
	xmlSecPtrListPtr ids = xmlSecTransformIdsGet();
	xmlSecSize	 i, n = xmlSecPtrListGetSize(ids);

	for (i = 0; i < n; i++)
		if (xmlSecPtrListGetItem(ids, i) == (xmlSecPtr)xmlSecTransformExclC14NId)
			return xmlSecPtrListSet(ids, (xmlSecPtr)&exc_c14n_klass, i) < 0 ?
			    -1 : 0;
	return -1;
}

int
wsse_c14n_enable(xmlSecDSigCtxPtr d)
{
	return xmlSecDSigCtxEnableReferenceTransform(d, &exc_c14n_klass) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(d, &exc_c14n_klass) < 0 ?
	    -1 : 0;
}

void
wsse_c14n_counts(uint64_t *fast, uint64_t *libxml2)
{
	*fast = atomic_load(&count_fast);
	*libxml2 = atomic_load(&count_libxml2);
}

/* Exclusive c14n of an element's subtree (no prefix list) by kruispunt's
 * writer, counted as the klass counts; -1 when it leaves the element to
 * libxml2, or in the benches' libxml2-only mode. */
int
wsse_c14n_subtree(const xmlNode *n, char **out, size_t *len)
{
	if (atomic_load_explicit(&libxml2_only, memory_order_relaxed) ||
	    xmlout_exc_c14n(n, NULL, out, len) == -1)
		return -1;
	atomic_fetch_add_explicit(&count_fast, 1, memory_order_relaxed);
	return 0;
}

void
wsse_c14n_libxml2_only(int on)
{
	atomic_store(&libxml2_only, on != 0);
}
