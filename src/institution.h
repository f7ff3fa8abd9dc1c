/*
 * kruispunt - the reference institution endpoint (kruispunt-institution):
 * ProvideData from a data file, ReceiveMutation into a mutation log, both
 * signed with WS-Security, on the server module.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KP_INSTITUTION_H
#define KP_INSTITUTION_H

#include <stddef.h>

#include <libxml/tree.h>

/* The namespace of the data file (kruispunt-institution(8)). */
#define INSTITUTION_DATA_NS	"urn:kruispunt:institution-data:1"

struct kp_config;
struct soap;
struct institution;
struct institution_data;

/* One answer of the data file: a (service, SSIN) and its payload. */
struct institution_answer {
	char	  service[33];
	char	  ssin[12];
	int	  line;
	int	  nany;
	char	**any;		/* payload elements, each standalone XML */
};

struct institution_data	*institution_data_load(const char *path, char *err,
			    size_t errlen);
const struct institution_answer *institution_data_find(
			    const struct institution_data *, const char *service,
			    const char *ssin);
size_t			 institution_data_count(const struct institution_data *);
void			 institution_data_free(struct institution_data *);

struct institution	*institution_new(const struct kp_config *, char *err,
			    size_t errlen);
int			 institution_port(const struct institution *);
int			 institution_reload(struct institution *);
int			 institution_run(struct institution *);
void			 institution_free(struct institution *);

char			*institution_node_xml(xmlNodePtr);
xmlDocPtr		 institution_envelope(int soap_version, const char *xml);
const char		*institution_soap_reason(struct soap *, char *buf,
			    size_t len);
int			 institution_is_code(const char *);
int			 institution_is_ticket(const char *);
int			 institution_cert_fingerprint(const char *path, char out[65],
			    char *err, size_t errlen);

#endif
