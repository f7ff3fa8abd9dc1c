/*
 * kruispunt - version and usage text shared by the three programs.
 *
 * Copyright (C) 2026 the kruispunt authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "build-config.h"

#include <stdio.h>

#include <libxml/xmlversion.h>
#include <mysql.h>
#include <openssl/crypto.h>
#include <xmlsec/version.h>

#include "stdsoap2.h"
#include "version.h"

/* Print "program (kruispunt) VERSION", the libraries in use and the licence. */
void
version_print(FILE *fp, const char *program)
{
	fprintf(fp, "%s (%s) %s\n", program, PACKAGE_NAME, PACKAGE_VERSION);
	fprintf(fp, "built with gSOAP %d.%d.%d, libxml2 %s, xmlsec %s, %s, "
	    "MariaDB Connector/C %s\n",
	    GSOAP_VERSION / 100000, GSOAP_VERSION / 1000 % 100,
	    GSOAP_VERSION % 1000, LIBXML_DOTTED_VERSION, XMLSEC_VERSION,
	    OpenSSL_version(OPENSSL_VERSION), mysql_get_client_info());
	fprintf(fp, "Copyright (C) 2026 the kruispunt authors.\n"
	    "License GPL-2.0-or-later: this is free software; you may "
	    "redistribute it\nunder the terms of the GNU General Public "
	    "License, version 2 or later.\nThere is NO WARRANTY, to the "
	    "extent permitted by law.\n");
}
