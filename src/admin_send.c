/*
 * kruispunt - `kruispunt send`: a client for institution developers that
 * signs a request, sends it to a hub, verifies and prints the answer.
 *
 *   kruispunt send consult --key K --cert C --ca CA [--hub-cert H]
 *       [--tls-cert TC --tls-key TK]
 *       --service S --ssin N --quality Q [--period B/E] [--payload FILE]
 *       [--message-id ID] [--soap12] [--timeout S] URL
 *   kruispunt send manage-access ... --action REGISTER|UNREGISTER|LIST
 *       --ssin N [--quality Q] [--period B/E] URL
 *   kruispunt send publish-mutation ... --type M --ssin N --effective D
 *       [--payload FILE] URL
 *
 * The request is filled in as the typed struct that gSOAP generated from
 * wsdl/kruispunt.wsdl and written by the generated serialiser; the envelope
 * around it is signed with the code the hub runs (wsse). The answer's
 * signature is checked (trust anchors --ca; with --hub-cert the signer must
 * be exactly that certificate) before anything in it is believed; then the
 * answer is read with the generated deserialiser (payloads from the verified
 * libxml2 tree, so that their namespaces stay whole) and printed as
 * field/value rows, or as CSV or JSON with --format.
 *
 * Exit: 0 an answer, 1 a fault (or an answer that is not acceptable),
 * 2 a usage error, 4 the hub could not be reached.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "soapH.h"

#include "admin.h"
#include "audit.h"
#include "envelope.h"
#include "forward.h"
#include "institution.h"
#include "output.h"
#include "period.h"
#include "soapmsg.h"
#include "wsse.h"
#include "xmalloc.h"

#define SEND_MAX_ANSWER		(64L * 1024 * 1024)
#define SEND_MAX_PAYLOAD	(16L * 1024 * 1024)

static int cmd_consult(struct admin_ctx *, int, char **);
static int cmd_manage_access(struct admin_ctx *, int, char **);
static int cmd_publish_mutation(struct admin_ctx *, int, char **);

const struct admin_cmd admin_send_cmds[] = {
	{ "send consult", "--service S --ssin N --quality Q [opt] URL", 0,
	  "sign a Consult, send it to a hub, verify and show the answer",
	  cmd_consult },
	{ "send manage-access", "--action A --ssin N [opt] URL", 0,
	  "sign a ManageAccess (REGISTER, UNREGISTER, LIST) and send it",
	  cmd_manage_access },
	{ "send publish-mutation", "--type M --ssin N --effective D [opt] URL",
	  0,
	  "sign a PublishMutation, send it, verify and show the ticket",
	  cmd_publish_mutation },
	{ NULL, NULL, 0, NULL, NULL }
};

/* The options of the three commands. */
struct send_args {
	const char	*cmd;
	const char	*key, *cert, *ca, *hub_cert, *tls_cert, *tls_key;
	const char	*message_id, *timeout, *format;
	const char	*service, *ssin, *quality, *period, *payload;
	const char	*action, *type, *effective;
	int		 soap12;
	const char	*url;
	char		 msgid[AUDIT_TICKET_LEN];
	char		 begin[DAY_TEXT_LEN], end[DAY_TEXT_LEN];
	struct kp__Period period_v;
	struct kp__Payload payload_v;
	char		*payload_xml;
};

/* What one exchange with the hub needs and gives. */
struct send_ctx {
	struct admin_ctx	*actx;
	struct send_args	*a;
	struct soap		*soap;
	struct envelope		*answer;	/* verified */
	struct output		*out;
};

#define SEND_COMMON_OPTS(a) \
	{ "key", &(a).key, NULL }, \
	{ "cert", &(a).cert, NULL }, \
	{ "ca", &(a).ca, NULL }, \
	{ "hub-cert", &(a).hub_cert, NULL }, \
	{ "tls-cert", &(a).tls_cert, NULL }, \
	{ "tls-key", &(a).tls_key, NULL }, \
	{ "message-id", &(a).message_id, NULL }, \
	{ "timeout", &(a).timeout, NULL }, \
	{ "format", &(a).format, NULL }, \
	{ "soap12", NULL, &(a).soap12 }

/* ------------------------------------------------------------------ */
/* Typed reading and writing with the generated (de)serialisers         */
/* ------------------------------------------------------------------ */

/*
 * gSOAP's soap_read_X and soap_write_X macros end in a comma expression
 * that -Wunused-value flags; their code is gSOAP's, so the warning is off
 * here only. SEND_TYPED(name, request, response) makes write_<name>(),
 * which writes the request into a gSOAP-managed string, and read_<name>(),
 * which reads the response from standalone XML; both return a gSOAP status.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-value"
#define SEND_TYPED(name, rq, rs) \
static int \
write_##name(struct soap *soap, const struct rq *r, char **out) \
{ \
	int	rc; \
	soap->os = (const char **)out; \
	rc = soap_write_##rq(soap, r); \
	soap->os = NULL; \
	return rc; \
} \
static int \
read_##name(struct soap *soap, const char *xml, struct rs *r) \
{ \
	int	rc; \
	soap->is = xml; \
	rc = soap_read_##rs(soap, r); \
	soap->is = NULL; \
	return rc; \
}
SEND_TYPED(consult, _kp__ConsultRequest, _kp__ConsultResponse)
SEND_TYPED(manage, _kp__ManageAccessRequest, _kp__ManageAccessResponse)
SEND_TYPED(publish, _kp__PublishMutationRequest, _kp__PublishMutationResponse)
#pragma GCC diagnostic pop

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

/* A usage error: a message, and ADMIN_EXIT_USAGE. */
static int
usage(const struct send_args *a, const char *fmt, const char *arg)
{
	fprintf(stderr, "kruispunt %s: ", a->cmd);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	return ADMIN_EXIT_USAGE;
}

/* Parse "B/E", "B/" or "B" into the Period; 0, or -1. */
static int
parse_period(struct send_args *a)
{
	const char	*slash = strchr(a->period, '/');
	kp_day		 b, e;
	char		 buf[DAY_TEXT_LEN + 1];

	if (slash == NULL)
		slash = a->period + strlen(a->period);
	if ((size_t)(slash - a->period) >= sizeof(buf))
		return -1;
	memcpy(buf, a->period, (size_t)(slash - a->period));
	buf[slash - a->period] = '\0';
	if (day_parse(buf, &b) != 0)
		return -1;
	day_format(b, a->begin);
	a->period_v.Begin = a->begin;
	if (*slash == '/' && slash[1] != '\0') {
		if (day_parse(slash + 1, &e) != 0 || e < b)
			return -1;
		day_format(e, a->end);
		a->period_v.End = a->end;
	}
	return 0;
}

/* Take the options out of argv and check what all commands need. */
static int
parse_common(struct admin_ctx *actx, struct send_args *a, int *argc,
    char **argv, const struct admin_opt *opts)
{
	long	t;
	char	*end;

	if (admin_parse_opts(a->cmd, argc, argv, opts) != 0)
		return ADMIN_EXIT_USAGE;
	if (*argc != 1)
		return usage(a, "%s", *argc == 0 ? "no URL given" :
		    "one URL only");
	a->url = argv[0];
	if (strncmp(a->url, "http://", 7) != 0 &&
	    strncmp(a->url, "https://", 8) != 0)
		return usage(a, "%s: not an http:// or https:// URL", a->url);
	if (a->key == NULL || a->cert == NULL || a->ca == NULL)
		return usage(a, "%s", "--key, --cert and --ca are required");
	if ((a->tls_cert == NULL) != (a->tls_key == NULL))
		return usage(a, "%s", "--tls-cert and --tls-key go together");
	if (a->format != NULL &&
	    output_format_parse(a->format, &actx->format) != 0)
		return usage(a, "unknown format '%s'", a->format);
	if (a->timeout != NULL) {
		errno = 0;
		t = strtol(a->timeout, &end, 10);
		if (errno != 0 || *end != '\0' || t < 1 || t > 3600)
			return usage(a, "--timeout %s: seconds from 1 to 3600",
			    a->timeout);
	}
	if (a->message_id == NULL) {
		audit_ticket_new(a->msgid);
		a->message_id = a->msgid;
	}
	if (a->period != NULL && parse_period(a) != 0)
		return usage(a, "--period %s: want BEGIN/END, BEGIN/ or BEGIN "
		    "(YYYY-MM-DD)", a->period);
	return ADMIN_EXIT_OK;
}

/* Read the --payload file: one XML element, kept as standalone XML. */
static int
load_payload(struct send_args *a)
{
	xmlDocPtr	doc;

	if (a->payload == NULL)
		return ADMIN_EXIT_OK;
	doc = xmlReadFile(a->payload, NULL, XML_PARSE_NONET |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL || doc->intSubset != NULL ||
	    xmlDocGetRootElement(doc) == NULL) {
		xmlFreeDoc(doc);
		return usage(a, "--payload %s: not a readable XML document "
		    "(without DOCTYPE)", a->payload);
	}
	a->payload_xml = institution_node_xml(xmlDocGetRootElement(doc));
	xmlFreeDoc(doc);
	if (a->payload_xml == NULL || strlen(a->payload_xml) > SEND_MAX_PAYLOAD)
		return usage(a, "--payload %s: cannot copy it", a->payload);
	a->payload_v.__size = 1;
	a->payload_v.__any = &a->payload_xml;
	return ADMIN_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* The exchange                                                        */
/* ------------------------------------------------------------------ */

/* Sign the request (the Body element in xml); the serialised envelope. */
static int
sign_request(struct send_args *a, struct wsse_ctx *ctx, const char *xml,
    char **out, size_t *len)
{
	xmlDocPtr	doc;
	char		reason[256];
	int		rc = ADMIN_EXIT_FAIL;

	if ((doc = institution_envelope(a->soap12 ? 12 : 11, xml)) == NULL) {
		fprintf(stderr, "kruispunt %s: cannot build the request\n",
		    a->cmd);
		return rc;
	}
	if (wsse_sign(ctx, doc, reason, sizeof(reason)) != KP_OK)
		fprintf(stderr, "kruispunt %s: cannot sign: %s\n", a->cmd,
		    reason);
	else if (soapmsg_serialize(doc, out, len) == 0)
		rc = ADMIN_EXIT_OK;
	xmlFreeDoc(doc);
	return rc;
}

/* Post the signed request; the reply, or ADMIN_EXIT_UNAVAILABLE. */
static int
post(struct send_args *a, const char *operation, const char *body,
    size_t len, struct forward_reply *r)
{
	struct forward_options	 fo;
	struct forward		*f;
	char			 err[256], action[64];
	int			 rc = ADMIN_EXIT_OK;

	memset(&fo, 0, sizeof(fo));
	fo.connect_timeout_ms = 5000;
	fo.timeout_ms = (a->timeout != NULL ? atoi(a->timeout) : 30) * 1000;
	fo.max_response = SEND_MAX_ANSWER;
	fo.ca_file = a->ca;
	fo.tls_cert = a->tls_cert;
	fo.tls_key = a->tls_key;
	snprintf(action, sizeof(action), "%s#%s", KP_NS, operation);
	f = forward_new(&fo);
	if (forward_call(f, a->url, action, a->soap12 ? 12 : 11, body, len, r,
	    err, sizeof(err)) != 0) {
		fprintf(stderr, "kruispunt %s: cannot reach %s: %s\n", a->cmd,
		    a->url, err);
		rc = ADMIN_EXIT_UNAVAILABLE;
	}
	forward_free(f);
	return rc;
}

/* Print one field/value row (the output opens with the first). */
static void
row(struct send_ctx *s, const char *field, const char *value)
{
	static const char *const cols[] = { "field", "value" };
	const char		*v[2] = { field, value != NULL ? value : "-" };

	if (s->out == NULL)
		s->out = output_open(s->actx->format, stdout, 2, cols);
	output_row(s->out, v);
}

/* Print a fault as field/value rows. */
static void
print_fault(struct send_ctx *s, xmlNodePtr body)
{
	char	code[64], ticket[64], text[512];

	soapmsg_read_fault(body, code, sizeof(code), ticket, sizeof(ticket),
	    text, sizeof(text));
	row(s, "fault", code[0] ? code : NULL);
	row(s, "ticket", ticket[0] ? ticket : NULL);
	row(s, "text", text[0] ? text : NULL);
}

/* Check the answer's signature (and the hub pin); 0, or an exit status. */
static int
check_answer(struct send_ctx *s, struct wsse_ctx *ctx, const char *pin,
    int status)
{
	struct wsse_result	res;
	int			rc = ADMIN_EXIT_FAIL;

	memset(&res, 0, sizeof(res));
	if (wsse_verify(ctx, s->answer, &res) != KP_OK)
		fprintf(stderr, "kruispunt %s: the answer (HTTP %d) is "
		    "refused: %s: %s\n", s->a->cmd, status,
		    kp_strerror(res.error), res.reason);
	else if (pin[0] != '\0' && strcmp(res.fingerprint, pin) != 0)
		fprintf(stderr, "kruispunt %s: the answer is not signed by "
		    "--hub-cert (signer %s)\n", s->a->cmd, res.subject);
	else
		rc = ADMIN_EXIT_OK;
	wsse_result_clear(&res);
	return rc;
}

/* With --hub-cert: the certset holding it and its fingerprint; 0 or -1. */
static int
hub_pin(struct send_args *a, struct wsse_certset **cs, char pin[65])
{
	char	err[256];

	pin[0] = '\0';
	if (a->hub_cert == NULL)
		return 0;
	if (institution_cert_fingerprint(a->hub_cert, pin, err,
	    sizeof(err)) != 0 || (*cs = wsse_certset_new()) == NULL ||
	    wsse_certset_add_file(*cs, a->hub_cert, err, sizeof(err)) < 0) {
		fprintf(stderr, "kruispunt %s: --hub-cert: %s\n", a->cmd, err);
		return -1;
	}
	return 0;
}

/* A wsse context that signs with --key/--cert and verifies with --ca (and
 * the --hub-cert certset); NULL after a message. */
static struct wsse_ctx *
send_wsse(struct send_args *a, struct wsse_certset *cs)
{
	struct wsse_options	 o;
	struct wsse_ctx		*ctx;
	char			 err[256];

	wsse_options_default(&o);
	o.key_file = a->key;
	o.cert_file = a->cert;
	o.ca_file = a->ca;
	o.lookup = cs != NULL ? wsse_certset_lookup : NULL;
	o.lookup_arg = cs;
	if ((ctx = wsse_ctx_new(&o, err, sizeof(err))) == NULL)
		fprintf(stderr, "kruispunt %s: %s\n", a->cmd, err);
	return ctx;
}

/* Parse the reply; the envelope, or NULL after a message. */
static struct envelope *
parse_answer(struct send_args *a, const struct forward_reply *r)
{
	struct envelope_limits	 l;
	struct envelope		*env = NULL;
	char			 reason[256];

	envelope_limits_default(&l);
	l.max_size = SEND_MAX_ANSWER;
	if (envelope_parse(r->body, r->len, &l, &env, reason,
	    sizeof(reason)) != KP_OK) {
		fprintf(stderr, "kruispunt %s: the answer (HTTP %d) is not a "
		    "SOAP envelope: %s\n", a->cmd, r->status, reason);
		if (r->status != 200 && r->len > 0)
			fprintf(stderr, "%.*s%s", r->len > 300 ? 300 : (int)r->len,
			    r->body, r->body[r->len - 1] == '\n' ? "" : "\n");
		return NULL;
	}
	return env;
}

/*
 * Sign the request (xml: its Body element), send it, verify the answer. 0
 * with s->answer set to an answer of the operation; otherwise an exit
 * status, after a fault was printed or a message written.
 */
static int
exchange(struct send_ctx *s, const char *operation, const char *xml)
{
	struct send_args	*a = s->a;
	struct wsse_certset	*cs = NULL;
	struct wsse_ctx		*ctx = NULL;
	struct forward_reply	 r;
	char			*body = NULL, pin[65], name[64];
	size_t			 len;
	int			 rc = ADMIN_EXIT_USAGE;

	memset(&r, 0, sizeof(r));
	if (hub_pin(a, &cs, pin) != 0 || (ctx = send_wsse(a, cs)) == NULL)
		goto cleanup;
	if ((rc = sign_request(a, ctx, xml, &body, &len)) != ADMIN_EXIT_OK ||
	    (rc = post(a, operation, body, len, &r)) != ADMIN_EXIT_OK)
		goto cleanup;
	rc = ADMIN_EXIT_FAIL;
	if ((s->answer = parse_answer(a, &r)) == NULL ||
	    check_answer(s, ctx, pin, r.status) != ADMIN_EXIT_OK)
		goto cleanup;
	snprintf(name, sizeof(name), "%sResponse", operation);
	if (envelope_is(s->answer->payload, s->answer->soap_ns, "Fault"))
		print_fault(s, s->answer->body);
	else if (!envelope_is(s->answer->payload, KP_NS, name))
		fprintf(stderr, "kruispunt %s: the answer is not a kp:%s\n",
		    a->cmd, name);
	else
		rc = ADMIN_EXIT_OK;
cleanup:
	forward_reply_clear(&r);
	free(body);
	wsse_ctx_free(ctx);
	wsse_certset_free(cs);
	return rc;
}

/* The child elements of a verified Payload as standalone XML text. */
static char *
payload_text(xmlNodePtr payload)
{
	xmlNodePtr	c;
	char		*all = NULL, *one, *tmp;

	for (c = envelope_first_element(payload); c != NULL;
	    c = envelope_next_element(c)) {
		if ((one = institution_node_xml(c)) == NULL)
			continue;
		xasprintf(&tmp, "%s%s", all != NULL ? all : "", one);
		free(all);
		free(one);
		all = tmp;
	}
	return all;
}

/* Run a command: set up, build with fill(), exchange, print with show(). */
static int
send_run(struct admin_ctx *actx, struct send_args *a, const char *operation,
    int (*fill)(struct send_ctx *, char **),
    int (*show)(struct send_ctx *, const char *))
{
	struct send_ctx	 s;
	char		*xml = NULL, *answer = NULL;
	int		 rc;

	memset(&s, 0, sizeof(s));
	s.actx = actx;
	s.a = a;
	s.soap = soap_new2(SOAP_XML_STRICT, SOAP_XML_CANONICAL | SOAP_IO_BUFFER);
	if ((rc = load_payload(a)) != ADMIN_EXIT_OK)
		goto cleanup;
	if ((rc = fill(&s, &xml)) != ADMIN_EXIT_OK)
		goto cleanup;
	rc = exchange(&s, operation, xml);
	if (rc == ADMIN_EXIT_OK) {
		if ((answer = institution_node_xml(s.answer->payload)) == NULL)
			rc = ADMIN_EXIT_FAIL;
		else
			rc = show(&s, answer);
	}
	if (s.out != NULL)
		output_close(s.out);
cleanup:
	free(answer);
	free(a->payload_xml);
	envelope_free(s.answer);
	soap_destroy(s.soap);
	soap_end(s.soap);
	soap_free(s.soap);
	return rc;
}

/* Say why gSOAP could not write the request or read the answer. */
static int
typed_failed(struct send_ctx *s, const char *what)
{
	char	why[200];

	fprintf(stderr, "kruispunt %s: cannot %s: %s\n", s->a->cmd, what,
	    institution_soap_reason(s->soap, why, sizeof(why)));
	return ADMIN_EXIT_FAIL;
}

/* ------------------------------------------------------------------ */
/* send consult                                                        */
/* ------------------------------------------------------------------ */

/* The ConsultRequest. */
static int
fill_consult(struct send_ctx *s, char **xml)
{
	struct send_args		*a = s->a;
	struct _kp__ConsultRequest	 req;

	soap_default__kp__ConsultRequest(s->soap, &req);
	req.MessageId = (char *)a->message_id;
	req.Service = (char *)a->service;
	req.Ssin = (char *)a->ssin;
	req.Quality = (char *)a->quality;
	req.Period = &a->period_v;
	req.Payload = a->payload_xml != NULL ? &a->payload_v : NULL;
	if (write_consult(s->soap, &req, xml) != SOAP_OK)
		return typed_failed(s, "write the request");
	return ADMIN_EXIT_OK;
}

/* Print a ConsultResponse. */
static int
show_consult(struct send_ctx *s, const char *xml)
{
	struct _kp__ConsultResponse	 resp;
	xmlNodePtr			 n;
	char				 f[64], *p;
	int				 i;

	if (read_consult(s->soap, xml, &resp) != SOAP_OK)
		return typed_failed(s, "read the answer");
	row(s, "ticket", resp.Ticket);
	row(s, "status", soap_kp__ConsultStatus2s(s->soap, resp.Status));
	n = envelope_first_element(s->answer->payload);
	for (i = 0; i < resp.__sizeAnswer; i++) {
		while (n != NULL && !envelope_is(n, KP_NS, "Answer"))
			n = envelope_next_element(n);
		snprintf(f, sizeof(f), "answer.%d.source", i + 1);
		row(s, f, resp.Answer[i].Source);
		snprintf(f, sizeof(f), "answer.%d.status", i + 1);
		row(s, f, soap_kp__AnswerStatus2s(s->soap, resp.Answer[i].Status));
		p = n != NULL ? payload_text(soapmsg_child(n, KP_NS, "Payload")) :
		    NULL;
		snprintf(f, sizeof(f), "answer.%d.payload", i + 1);
		row(s, f, p);
		free(p);
		if (n != NULL)
			n = envelope_next_element(n);
	}
	return ADMIN_EXIT_OK;
}

/* kruispunt send consult */
static int
cmd_consult(struct admin_ctx *actx, int argc, char **argv)
{
	struct send_args	a;
	char			today[DAY_TEXT_LEN];
	int			rc;

	memset(&a, 0, sizeof(a));
	a.cmd = "send consult";
	{
		const struct admin_opt opts[] = {
			SEND_COMMON_OPTS(a),
			{ "service", &a.service, NULL },
			{ "ssin", &a.ssin, NULL },
			{ "quality", &a.quality, NULL },
			{ "period", &a.period, NULL },
			{ "payload", &a.payload, NULL },
			{ NULL, NULL, NULL }
		};
		if ((rc = parse_common(actx, &a, &argc, argv, opts)) != 0)
			return rc;
	}
	if (a.service == NULL || a.ssin == NULL || a.quality == NULL)
		return usage(&a, "%s", "--service, --ssin and --quality are "
		    "required");
	if (a.period == NULL) {
		day_format(day_today(), today);
		a.period_v.Begin = today;
	}
	return send_run(actx, &a, "Consult", fill_consult, show_consult);
}

/* ------------------------------------------------------------------ */
/* send manage-access                                                  */
/* ------------------------------------------------------------------ */

/* The ManageAccessRequest. */
static int
fill_manage(struct send_ctx *s, char **xml)
{
	struct send_args		*a = s->a;
	struct _kp__ManageAccessRequest	 req;

	soap_default__kp__ManageAccessRequest(s->soap, &req);
	req.MessageId = (char *)a->message_id;
	if (soap_s2kp__Action(s->soap, a->action, &req.Action) != SOAP_OK)
		return usage(a, "--action %s: REGISTER, UNREGISTER or LIST",
		    a->action);
	req.Ssin = (char *)a->ssin;
	req.Quality = (char *)a->quality;
	req.Period = a->period_v.Begin != NULL ? &a->period_v : NULL;
	if (write_manage(s->soap, &req, xml) != SOAP_OK)
		return typed_failed(s, "write the request");
	return ADMIN_EXIT_OK;
}

/* Print a ManageAccessResponse. */
static int
show_manage(struct send_ctx *s, const char *xml)
{
	struct _kp__ManageAccessResponse	 resp;
	struct kp__Registration			*r;
	char					 f[64], v[64];
	int					 i;

	if (read_manage(s->soap, xml, &resp) != SOAP_OK)
		return typed_failed(s, "read the answer");
	row(s, "ticket", resp.Ticket);
	row(s, "status", resp.Status);
	for (i = 0; i < resp.__sizeRegistration; i++) {
		r = &resp.Registration[i];
		snprintf(f, sizeof(f), "registration.%d.quality", i + 1);
		row(s, f, r->Quality);
		snprintf(f, sizeof(f), "registration.%d.period", i + 1);
		snprintf(v, sizeof(v), "%s/%s", r->Period && r->Period->Begin ?
		    r->Period->Begin : "", r->Period && r->Period->End ?
		    r->Period->End : "");
		row(s, f, v);
	}
	return ADMIN_EXIT_OK;
}

/* kruispunt send manage-access */
static int
cmd_manage_access(struct admin_ctx *actx, int argc, char **argv)
{
	struct send_args	a;
	int			rc;

	memset(&a, 0, sizeof(a));
	a.cmd = "send manage-access";
	{
		const struct admin_opt opts[] = {
			SEND_COMMON_OPTS(a),
			{ "action", &a.action, NULL },
			{ "ssin", &a.ssin, NULL },
			{ "quality", &a.quality, NULL },
			{ "period", &a.period, NULL },
			{ NULL, NULL, NULL }
		};
		if ((rc = parse_common(actx, &a, &argc, argv, opts)) != 0)
			return rc;
	}
	if (a.action == NULL || a.ssin == NULL)
		return usage(&a, "%s", "--action and --ssin are required");
	if (strcmp(a.action, "REGISTER") != 0 &&
	    strcmp(a.action, "UNREGISTER") != 0 && strcmp(a.action, "LIST") != 0)
		return usage(&a, "--action %s: REGISTER, UNREGISTER or LIST",
		    a.action);
	return send_run(actx, &a, "ManageAccess", fill_manage, show_manage);
}

/* ------------------------------------------------------------------ */
/* send publish-mutation                                               */
/* ------------------------------------------------------------------ */

/* The PublishMutationRequest. */
static int
fill_publish(struct send_ctx *s, char **xml)
{
	struct send_args			*a = s->a;
	struct _kp__PublishMutationRequest	 req;

	soap_default__kp__PublishMutationRequest(s->soap, &req);
	req.MessageId = (char *)a->message_id;
	req.MutationType = (char *)a->type;
	req.Ssin = (char *)a->ssin;
	req.EffectiveDate = a->begin;
	req.Payload = a->payload_xml != NULL ? &a->payload_v : NULL;
	if (write_publish(s->soap, &req, xml) != SOAP_OK)
		return typed_failed(s, "write the request");
	return ADMIN_EXIT_OK;
}

/* Print a PublishMutationResponse. */
static int
show_publish(struct send_ctx *s, const char *xml)
{
	struct _kp__PublishMutationResponse	resp;
	char					n[16];

	if (read_publish(s->soap, xml, &resp) != SOAP_OK)
		return typed_failed(s, "read the answer");
	snprintf(n, sizeof(n), "%d", resp.RecipientsQueued);
	row(s, "ticket", resp.Ticket);
	row(s, "recipients_queued", n);
	return ADMIN_EXIT_OK;
}

/* kruispunt send publish-mutation */
static int
cmd_publish_mutation(struct admin_ctx *actx, int argc, char **argv)
{
	struct send_args	a;
	kp_day			day;
	int			rc;

	memset(&a, 0, sizeof(a));
	a.cmd = "send publish-mutation";
	{
		const struct admin_opt opts[] = {
			SEND_COMMON_OPTS(a),
			{ "type", &a.type, NULL },
			{ "ssin", &a.ssin, NULL },
			{ "effective", &a.effective, NULL },
			{ "payload", &a.payload, NULL },
			{ NULL, NULL, NULL }
		};
		if ((rc = parse_common(actx, &a, &argc, argv, opts)) != 0)
			return rc;
	}
	if (a.type == NULL || a.ssin == NULL || a.effective == NULL)
		return usage(&a, "%s", "--type, --ssin and --effective are "
		    "required");
	if (day_parse(a.effective, &day) != 0)
		return usage(&a, "--effective %s: not a date (YYYY-MM-DD)",
		    a.effective);
	day_format(day, a.begin);
	return send_run(actx, &a, "PublishMutation", fill_publish,
	    show_publish);
}
