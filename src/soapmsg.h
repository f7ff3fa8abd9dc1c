/*
 * kruispunt - building and reading SOAP messages with libxml2: envelopes of
 * either SOAP version, faults with a kp:Error detail, child values, payload
 * copies, digests and serialisation.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_SOAPMSG_H
#define KP_SOAPMSG_H

#include <stddef.h>

#include <libxml/tree.h>

#include "errors.h"

#define KP_NS	"urn:kruispunt:hub:1"
#define KI_NS	"urn:kruispunt:institution:1"

xmlDocPtr	 soapmsg_new(int soap_version, xmlNodePtr *body);
xmlNodePtr	 soapmsg_add(xmlNodePtr parent, const char *ns, const char *name,
		    const char *text);
xmlNodePtr	 soapmsg_add_kp(xmlNodePtr parent, const char *name,
		    const char *text);
xmlDocPtr	 soapmsg_fault(int soap_version, enum kp_error,
		    const char *reason, const char *ticket);
int		 soapmsg_copy_children(xmlNodePtr to, xmlNodePtr from);
xmlNodePtr	 soapmsg_child(xmlNodePtr, const char *ns, const char *name);
const char	*soapmsg_text(xmlNodePtr, const char *ns, const char *name,
		    char *buf, size_t len);
int		 soapmsg_serialize(xmlDocPtr, char **out, size_t *len);
void		 soapmsg_digest(xmlNodePtr, char out[65]);
void		 soapmsg_payload_digest(xmlNodePtr payload, char out[65]);
const char	*soapmsg_content_type(int soap_version);
int		 soapmsg_read_fault(xmlNodePtr body, char *code, size_t codelen,
		    char *ticket, size_t ticketlen, char *text, size_t textlen);

#endif
