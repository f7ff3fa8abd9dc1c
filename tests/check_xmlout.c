/*
 * kruispunt tests - the fast serialiser (xmlout.h) writes exactly the bytes
 * libxml2's xmlDocDumpMemoryEnc(..., "UTF-8") writes: for every sample
 * message, for the documents soapmsg builds, for hand-made trees with every
 * kind of node and every character that needs escaping, and for a thousand
 * random trees; it declines (and soapmsg_serialize() falls back to libxml2)
 * for what it does not write itself.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <CUnit/CUnit.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "common.h"
#include "soapmsg.h"
#include "xmalloc.h"
#include "xmlout.h"

/* 1 when xmlout_doc() wrote what libxml2 writes; details on stderr if not. */
static int
same_as_libxml2(xmlDocPtr doc, const char *what)
{
	xmlChar	*ref = NULL;
	char	*out = NULL;
	size_t	 len = 0;
	int	 n = 0, same;

	xmlDocDumpMemoryEnc(doc, &ref, &n, "UTF-8");
	if (ref == NULL || xmlout_doc(doc, &out, &len) != 0) {
		fprintf(stderr, "%s: %s\n", what, ref == NULL ? "libxml2 "
		    "wrote nothing" : "xmlout declined");
		xmlFree(ref);
		return 0;
	}
	same = len == (size_t)n && memcmp(out, ref, len) == 0 &&
	    out[len] == '\0';
	if (!same)
		fprintf(stderr, "%s differs:\nlibxml2: %s\nxmlout:  %s\n", what,
		    (const char *)ref, out);
	xmlFree(ref);
	free(out);
	return same;
}

/* Parse as envelope.c does (no entity or CDATA folding). */
static xmlDocPtr
parse(const char *xml, size_t len)
{
	return xmlReadMemory(xml, (int)len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

static int
same_parsed(const char *xml, const char *what)
{
	xmlDocPtr	doc = parse(xml, strlen(xml));
	int		same;

	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	same = same_as_libxml2(doc, what);
	xmlFreeDoc(doc);
	return same;
}

/* Every well-formed file of a tests/data directory. */
static int
same_for_dir(const char *sub)
{
	char		*dir = test_data_path(sub), *path, *xml;
	DIR		*d;
	struct dirent	*e;
	FILE		*fp;
	long		 size;
	int		 count = 0;
	xmlDocPtr	 doc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d = opendir(dir));
	while ((e = readdir(d)) != NULL) {
		if (strstr(e->d_name, ".xml") == NULL)
			continue;
		xasprintf(&path, "%s/%s", dir, e->d_name);
		CU_ASSERT_PTR_NOT_NULL_FATAL(fp = fopen(path, "rb"));
		fseek(fp, 0, SEEK_END);
		size = ftell(fp);
		rewind(fp);
		xml = xmalloc((size_t)size + 1);
		CU_ASSERT_EQUAL(fread(xml, 1, (size_t)size, fp), (size_t)size);
		fclose(fp);
		if ((doc = parse(xml, (size_t)size)) != NULL) {
			CU_ASSERT(same_as_libxml2(doc, path));
			xmlFreeDoc(doc);
			count++;
		}
		free(xml);
		free(path);
	}
	closedir(d);
	free(dir);
	return count;
}

static void
test_sample_messages(void)
{
	CU_ASSERT(same_for_dir("messages") >= 10);
	CU_ASSERT(same_for_dir("messages/bad") >= 5);
	CU_ASSERT(same_for_dir("wsse") >= 3);
	CU_ASSERT(same_for_dir("institution") >= 5);
}

static void
test_built_messages(void)
{
	xmlDocPtr	doc;
	xmlNodePtr	body, req;
	int		v;

	for (v = 11; v <= 12; v++) {
		doc = soapmsg_fault(v, KP_NOT_AUTHORIZED,
		    "a & <b> \"q\" 'x'\t\r\n\xc3\xa9", "t-1");
		CU_ASSERT(same_as_libxml2(doc, "fault"));
		xmlFreeDoc(doc);
		doc = soapmsg_new(v, &body);
		req = soapmsg_add_kp(body, "ConsultRequest", NULL);
		soapmsg_add_kp(req, "MessageId", "m-1 & <2>");
		soapmsg_add_kp(req, "Empty", "");
		soapmsg_add(req, KI_NS, "Other", "\xe4\xb8\xad ]]> --");
		xmlNewNsProp(req, xmlSearchNsByHref(doc, req, BAD_CAST KP_NS),
		    BAD_CAST "at", BAD_CAST "v\"<&>\t\n\r'");
		xmlNewProp(req, BAD_CAST "plain", BAD_CAST "");
		CU_ASSERT(same_as_libxml2(doc, "request"));
		xmlFreeDoc(doc);
	}
}

static void
test_every_node_kind(void)
{
	CU_ASSERT(same_parsed("<?xml version='1.0' standalone='yes'?>\n"
	    "<!-- top --><?top-pi data?><r xmlns='urn:d' xmlns:p='urn:p' "
	    "p:a='1' b=\"x&apos;y&quot;z&#9;&#10;&#13;&lt;&gt;&amp;\">"
	    "text &amp; &lt; &gt; &#13; \xc3\xa9"
	    "<![CDATA[<raw & stuff>]]><![CDATA[]]><!----><!-- c -->"
	    "<?pi?><?pi2 with data?><e/><p:e p:x='&#xE9;'/>"
	    "<n xmlns=''><deep><deeper>t</deeper></deep></n>"
	    "<x:y xmlns:x='urn:x&apos;s'/>\n  \n</r><!-- after -->",
	    "every kind"));
	CU_ASSERT(same_parsed("<?xml version='1.0' standalone='no'?><a/>",
	    "standalone no"));
	CU_ASSERT(same_parsed("<?xml version='1.0' encoding='ISO-8859-1'?>"
	    "<a b='\xe9'>\xe9</a>", "latin-1 in, UTF-8 out"));
	CU_ASSERT(same_parsed("<a xml:lang='nl' xmlns:xml="
	    "'http://www.w3.org/XML/1998/namespace'/>", "the xml prefix"));
}

/* What the writer leaves to libxml2, and soapmsg_serialize() then does. */
static void
test_declines(void)
{
	xmlDocPtr	doc;
	xmlNodePtr	r;
	char		*out;
	size_t		 len;
	xmlChar		*ref;
	int		 n;

	doc = xmlNewDoc(BAD_CAST "1.0");
	r = xmlNewDocNode(doc, NULL, BAD_CAST "r", NULL);
	xmlDocSetRootElement(doc, r);
	xmlAddChild(r, xmlNewCDataBlock(doc, BAD_CAST "a]]>b", 5));
	CU_ASSERT_EQUAL(xmlout_doc(doc, &out, &len), -1);
	CU_ASSERT_EQUAL(soapmsg_serialize(doc, &out, &len), 0);
	xmlDocDumpMemoryEnc(doc, &ref, &n, "UTF-8");
	CU_ASSERT(len == (size_t)n && memcmp(out, ref, len) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "<![CDATA[a]]]]><![CDATA[>b]]>"));
	free(out);
	xmlFree(ref);
	xmlFreeDoc(doc);

	doc = parse("<!DOCTYPE r><r/>", 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_EQUAL(xmlout_doc(doc, &out, &len), -1);
	CU_ASSERT_EQUAL(soapmsg_serialize(doc, &out, &len), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "<!DOCTYPE r>"));
	free(out);
	xmlFreeDoc(doc);
}

/* A small deterministic generator, so that a failure can be replayed. */
static unsigned long	seed = 20261128;

static unsigned
rnd(unsigned n)
{
	seed = seed * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned)(seed >> 33) % n;
}

/* Random text from a set of pieces that need escaping or are multi-byte. */
static void
random_text(char *buf, size_t len)
{
	static const char *const piece[] = { "a", "bc", " ", "&", "<", ">",
	    "\"", "'", "\t", "\n", "\r", "]]", "--", "\xc3\xa9", "\xe2\x82\xac",
	    "\xf0\x9f\x98\x80", "x=y", ";" };
	size_t	 used = 0, k;
	unsigned count = rnd(12);
	const char *p;

	buf[0] = '\0';
	while (count-- > 0) {
		p = piece[rnd(sizeof(piece) / sizeof(piece[0]))];
		if (used + (k = strlen(p)) + 1 >= len)
			break;
		memcpy(buf + used, p, k + 1);
		used += k;
	}
}

static void
random_children(xmlDocPtr doc, xmlNodePtr parent, xmlNsPtr *ns, int depth)
{
	static const char *const names[] = { "a", "Body", "Payload", "d",
	    "x-y", "z.1" };
	char		text[128];
	unsigned	i, count = depth > 5 ? 0 : rnd(5);
	xmlNodePtr	n;

	for (i = 0; i < count; i++) {
		random_text(text, sizeof(text));
		switch (rnd(8)) {
		case 0: case 1: case 2:
			n = xmlNewDocNode(doc, rnd(3) ? ns[rnd(3)] : NULL,
			    BAD_CAST names[rnd(6)], NULL);
			if (rnd(2))
				xmlNewProp(n, BAD_CAST "k", BAD_CAST text);
			if (rnd(3) == 0)
				xmlNewNsProp(n, ns[rnd(3)], BAD_CAST "q",
				    BAD_CAST text);
			xmlAddChild(parent, n);
			random_children(doc, n, ns, depth + 1);
			break;
		case 3: case 4:
			xmlAddChild(parent, xmlNewDocText(doc, BAD_CAST text));
			break;
		case 5:
			if (strstr(text, "--") == NULL && text[strlen(text) ?
			    strlen(text) - 1 : 0] != '-')
				xmlAddChild(parent, xmlNewDocComment(doc,
				    BAD_CAST text));
			break;
		case 6:
			if (strstr(text, "]]>") == NULL)
				xmlAddChild(parent, xmlNewCDataBlock(doc,
				    BAD_CAST text, (int)strlen(text)));
			break;
		default:
			xmlAddChild(parent, xmlNewDocPI(doc, BAD_CAST "pi",
			    rnd(2) ? NULL : BAD_CAST "data"));
			break;
		}
	}
}

static void
test_random_trees(void)
{
	xmlDocPtr	doc;
	xmlNodePtr	root;
	xmlNsPtr	ns[3];
	char		what[64];
	int		i, bad = 0;

	for (i = 0; i < 1000; i++) {
		doc = xmlNewDoc(BAD_CAST "1.0");
		root = xmlNewDocNode(doc, NULL, BAD_CAST "Envelope", NULL);
		xmlDocSetRootElement(doc, root);
		ns[0] = xmlNewNs(root, BAD_CAST "urn:kruispunt:hub:1", BAD_CAST "kp");
		ns[1] = xmlNewNs(root, BAD_CAST "urn:other", NULL);
		ns[2] = xmlNewNs(root, BAD_CAST "urn:third", BAD_CAST "t");
		xmlSetNs(root, ns[rnd(3)]);
		random_children(doc, root, ns, 0);
		snprintf(what, sizeof(what), "random tree %d", i);
		bad += !same_as_libxml2(doc, what);
		xmlFreeDoc(doc);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

int
main(void)
{
	CU_pSuite	s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("xmlout", NULL, NULL);
	CU_add_test(s, "the sample messages, byte for byte", test_sample_messages);
	CU_add_test(s, "faults and requests soapmsg builds", test_built_messages);
	CU_add_test(s, "every kind of node and escape", test_every_node_kind);
	CU_add_test(s, "what it leaves to libxml2", test_declines);
	CU_add_test(s, "a thousand random trees", test_random_trees);
	return test_run();
}
