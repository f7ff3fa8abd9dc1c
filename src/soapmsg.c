/*
 * kruispunt - building and reading SOAP messages with libxml2: envelopes of
 * either SOAP version, faults with a kp:Error detail, child values, payload
 * copies, digests and serialisation.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/xmlsave.h>

#include "audit.h"
#include "envelope.h"
#include "soapmsg.h"
#include "xmalloc.h"
#include "xmlout.h"

/* A new envelope with an empty Header and Body; *body gets the Body. */
xmlDocPtr
soapmsg_new(int soap_version, xmlNodePtr *body)
{
	xmlDocPtr	doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr	env;
	xmlNsPtr	ns;

	env = xmlNewNode(NULL, BAD_CAST "Envelope");
	ns = xmlNewNs(env, BAD_CAST (soap_version == 12 ? ENVELOPE_NS_SOAP12 :
	    ENVELOPE_NS_SOAP11), BAD_CAST "soap");
	xmlSetNs(env, ns);
	xmlDocSetRootElement(doc, env);
	xmlNewChild(env, ns, BAD_CAST "Header", NULL);
	*body = xmlNewChild(env, ns, BAD_CAST "Body", NULL);
	return doc;
}

/* Add <name> in namespace ns (declared on first use) with text (may be NULL). */
xmlNodePtr
soapmsg_add(xmlNodePtr parent, const char *nsuri, const char *name,
    const char *text)
{
	xmlNsPtr	ns;
	xmlNodePtr	n;
	const char	*prefix = strcmp(nsuri, KP_NS) == 0 ? "kp" :
	    strcmp(nsuri, KI_NS) == 0 ? "ki" : NULL;

	ns = xmlSearchNsByHref(parent->doc, parent, BAD_CAST nsuri);
	n = xmlNewChild(parent, ns, BAD_CAST name, NULL);
	if (ns == NULL) {
		ns = xmlNewNs(n, BAD_CAST nsuri, BAD_CAST prefix);
		xmlSetNs(n, ns);
	}
	if (text != NULL)
		xmlNodeAddContent(n, BAD_CAST text);	/* escapes */
	return n;
}

/* Add a kp: element. */
xmlNodePtr
soapmsg_add_kp(xmlNodePtr parent, const char *name, const char *text)
{
	return soapmsg_add(parent, KP_NS, name, text);
}

/* A fault of the request's SOAP version, with a kp:Error detail. */
xmlDocPtr
soapmsg_fault(int soap_version, enum kp_error code, const char *reason,
    const char *ticket)
{
	xmlDocPtr	doc;
	xmlNodePtr	body, fault, n, err;
	xmlNsPtr	env;
	char		text[512];
	int		sender = kp_error_is_sender_fault(code);

	doc = soapmsg_new(soap_version, &body);
	env = body->ns;
	snprintf(text, sizeof(text), "%s: %s", kp_strerror(code),
	    reason != NULL && *reason ? reason : kp_error_text(code));
	fault = xmlNewChild(body, env, BAD_CAST "Fault", NULL);
	if (soap_version == 12) {
		n = xmlNewChild(fault, env, BAD_CAST "Code", NULL);
		xmlNewTextChild(n, env, BAD_CAST "Value", BAD_CAST
		    (sender ? "soap:Sender" : "soap:Receiver"));
		n = xmlNewChild(fault, env, BAD_CAST "Reason", NULL);
		n = xmlNewTextChild(n, env, BAD_CAST "Text", BAD_CAST text);
		xmlNodeSetLang(n, BAD_CAST "en");
		n = xmlNewChild(fault, env, BAD_CAST "Detail", NULL);
	} else {
		/* SOAP 1.1's faultcode, faultstring and detail are in no
		 * namespace; xmlNewChild() with no namespace would put them
		 * in soap:'s, which gSOAP's wsse plugin, for one, refuses. */
		xmlAddChild(fault, xmlNewDocRawNode(doc, NULL,
		    BAD_CAST "faultcode", BAD_CAST
		    (sender ? "soap:Client" : "soap:Server")));
		xmlAddChild(fault, xmlNewDocRawNode(doc, NULL,
		    BAD_CAST "faultstring", BAD_CAST text));
		n = xmlAddChild(fault, xmlNewDocRawNode(doc, NULL,
		    BAD_CAST "detail", NULL));
	}
	err = soapmsg_add_kp(n, "Error", NULL);
	soapmsg_add_kp(err, "Code", kp_strerror(code));
	soapmsg_add_kp(err, "Ticket", ticket);
	return doc;
}

/* Copy the element children of from (a Payload) under to. */
int
soapmsg_copy_children(xmlNodePtr to, xmlNodePtr from)
{
	xmlNodePtr	c, copy;

	for (c = from->children; c != NULL; c = c->next) {
		if ((copy = xmlDocCopyNode(c, to->doc, 1)) == NULL)
			return -1;
		xmlAddChild(to, copy);
	}
	xmlReconciliateNs(to->doc, to);
	return 0;
}

/* The first child element ns:name of n, or NULL. */
xmlNodePtr
soapmsg_child(xmlNodePtr n, const char *ns, const char *name)
{
	xmlNodePtr	c;

	if (n == NULL)
		return NULL;
	for (c = n->children; c != NULL; c = c->next)
		if (envelope_is(c, ns, name))
			return c;
	return NULL;
}

/* The text of child ns:name into buf, or NULL when there is none. */
const char *
soapmsg_text(xmlNodePtr n, const char *ns, const char *name, char *buf,
    size_t len)
{
	xmlNodePtr	c = soapmsg_child(n, ns, name);
	xmlChar		*v;

	if (c == NULL)
		return NULL;
	v = xmlNodeGetContent(c);
	snprintf(buf, len, "%s", v != NULL ? (const char *)v : "");
	xmlFree(v);
	return buf;
}

/* Serialise a document (UTF-8, no indentation); out is malloc'ed. The
 * fast writer of xmlout.c, or libxml2 for what it leaves. */
int
soapmsg_serialize(xmlDocPtr doc, char **out, size_t *len)
{
	xmlChar	*mem = NULL;
	int	 n = 0;

	if (xmlout_doc(doc, out, len) == 0)
		return 0;
	xmlDocDumpMemoryEnc(doc, &mem, &n, "UTF-8");
	if (mem == NULL)
		return -1;
	*out = xmalloc((size_t)n + 1);
	memcpy(*out, mem, (size_t)n);
	(*out)[n] = '\0';
	*len = (size_t)n;
	xmlFree(mem);
	return 0;
}

static int
digest_visible(void *root, xmlNodePtr node, xmlNodePtr parent)
{
	xmlNodePtr	n = node->type == XML_NAMESPACE_DECL ? parent : node;

	for (; n != NULL; n = n->parent)
		if (n == (xmlNodePtr)root)
			return 1;
	return 0;
}

/*
 * SHA-256 (hex) of the exclusive canonical form of n's subtree, or of its
 * element children's one after the other, written by xmlout (one pass,
 * the bytes libxml2's xmlC14NExecute() gives: tests/check_xmlout.c); 0, or
 * -1 when xmlout leaves the tree to libxml2.
 */
static int
own_digest(xmlNodePtr n, int children, char out[65])
{
	xmlNodePtr	 c;
	char		*all = NULL, *one;
	size_t		 len = 0, k;

	if (!children) {
		if (xmlout_exc_c14n(n, NULL, &all, &len) != 0)
			return -1;
	} else
		for (c = n->children; c != NULL; c = c->next) {
			if (c->type != XML_ELEMENT_NODE)
				continue;
			if (xmlout_exc_c14n(c, NULL, &one, &k) != 0) {
				free(all);
				return -1;
			}
			all = xreallocarray(all, len + k + 1, 1);
			memcpy(all + len, one, k);
			len += k;
			free(one);
		}
	audit_sha256_hex(all != NULL ? all : "", len, out);
	free(all);
	return 0;
}

/* SHA-256 (hex) of the exclusive canonical form of a subtree; of the empty
 * string when n is NULL. */
void
soapmsg_digest(xmlNodePtr n, char out[65])
{
	xmlOutputBufferPtr	buf;
	const xmlChar		*data;

	if (n == NULL) {
		audit_sha256_hex("", 0, out);
		return;
	}
	if (own_digest(n, 0, out) == 0)
		return;
	buf = xmlAllocOutputBuffer(NULL);
	if (buf == NULL || xmlC14NExecute(n->doc, digest_visible, n,
	    XML_C14N_EXCLUSIVE_1_0, NULL, 0, buf) < 0) {
		if (buf != NULL)
			xmlOutputBufferClose(buf);
		out[0] = '\0';
		return;
	}
	data = xmlOutputBufferGetContent(buf);
	audit_sha256_hex(data, xmlOutputBufferGetSize(buf), out);
	xmlOutputBufferClose(buf);
}

/* Visible to the payload digest: what is inside a Payload's elements. */
static int
payload_visible(void *payload, xmlNodePtr node, xmlNodePtr parent)
{
	xmlNodePtr	n = node->type == XML_NAMESPACE_DECL ? parent : node;

	if (n == (xmlNodePtr)payload)
		return 0;
	if (n->parent == (xmlNodePtr)payload && n->type != XML_ELEMENT_NODE)
		return 0;
	for (; n != NULL; n = n->parent)
		if (n == (xmlNodePtr)payload)
			return 1;
	return 0;
}

/*
 * SHA-256 (hex) of the exclusive canonical form of a Payload's child
 * elements, in order: the payload as the institutions see it, whatever
 * envelope carried it (the hub and kruispunt-institution log the same
 * value). "" when there is no Payload.
 */
void
soapmsg_payload_digest(xmlNodePtr payload, char out[65])
{
	xmlOutputBufferPtr	buf;

	out[0] = '\0';
	if (payload == NULL || own_digest(payload, 1, out) == 0 ||
	    (buf = xmlAllocOutputBuffer(NULL)) == NULL)
		return;
	if (xmlC14NExecute(payload->doc, payload_visible, payload,
	    XML_C14N_EXCLUSIVE_1_0, NULL, 0, buf) >= 0)
		audit_sha256_hex(xmlOutputBufferGetContent(buf),
		    xmlOutputBufferGetSize(buf), out);
	xmlOutputBufferClose(buf);
}

/* The HTTP content type of a SOAP version. */
const char *
soapmsg_content_type(int soap_version)
{
	return soap_version == 12 ? "application/soap+xml; charset=utf-8" :
	    "text/xml; charset=utf-8";
}

/*
 * If body holds a SOAP fault, its kp:Error code and ticket (empty if absent)
 * and its text; returns 1 for a fault, 0 otherwise.
 */
int
soapmsg_read_fault(xmlNodePtr body, char *code, size_t codelen, char *ticket,
    size_t ticketlen, char *text, size_t textlen)
{
	xmlNodePtr	fault = envelope_first_element(body), d, err, r;
	xmlChar		*v;

	code[0] = ticket[0] = text[0] = '\0';
	if (fault == NULL || fault->ns == NULL ||
	    !xmlStrEqual(fault->name, BAD_CAST "Fault"))
		return 0;
	for (d = envelope_first_element(fault); d != NULL;
	    d = envelope_next_element(d)) {
		if (xmlStrEqual(d->name, BAD_CAST "faultstring"))
			r = d;
		else if (xmlStrEqual(d->name, BAD_CAST "Reason"))
			r = envelope_first_element(d);
		else
			r = NULL;
		if (r != NULL && (v = xmlNodeGetContent(r)) != NULL) {
			snprintf(text, textlen, "%s", (const char *)v);
			xmlFree(v);
		}
		if (!xmlStrEqual(d->name, BAD_CAST "detail") &&
		    !xmlStrEqual(d->name, BAD_CAST "Detail"))
			continue;
		if ((err = soapmsg_child(d, KP_NS, "Error")) != NULL) {
			soapmsg_text(err, KP_NS, "Code", code, codelen);
			soapmsg_text(err, KP_NS, "Ticket", ticket, ticketlen);
		}
	}
	return 1;
}
