/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_IO_TLS_TEXT_H
#define IMAPWATCH_IO_TLS_TEXT_H

/*
 * Certificates in words, for error messages and the doctor (internal to the
 * I/O layer): names, dates and the reason a verification failed. Text from
 * certificates is cut to printable ASCII (at most 128 characters a name,
 * 5 names), since a certificate is attacker-controlled until verified.
 */

#include <glib.h>
#include <openssl/x509.h>

/* "CN=host, O=org" */
void tls_text_append_name(GString *out, const X509_NAME *name);
/* "2026-01-02 03:04:05 UTC" */
void tls_text_append_time(GString *out, const ASN1_TIME *time);
/* The DNS and IP subjectAltNames, else the CN: "a.example, b.example" */
void tls_text_append_cert_names(GString *out, X509 *cert);
/* Why cert (the one verification failed on; NULL if unknown) was refused
 * for host, in words a user can act on. New string. */
char *tls_text_describe_verify_error(X509 *cert, const char *host, long error);

#endif
