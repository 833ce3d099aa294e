/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_CTL_DOCTOR_PRIVATE_H
#define IMAPWATCH_CTL_DOCTOR_PRIVATE_H

/*
 * Shared by the two halves of the doctor, not for other modules: doctor.c
 * (one account after another: password, DNS, the connection through a link
 * and the probe) and doctor-report.c (what is printed, and the advice).
 */

#include "imapwatch/core/config.h"
#include "imapwatch/core/imap-probe.h"
#include "imapwatch/ctl/doctor.h"
#include "imapwatch/io/link.h"
#include "imapwatch/io/goa.h"
#include "imapwatch/io/keyring.h"
#include "imapwatch/io/password.h"

#include <gio/gio.h>
#include <stdio.h>

enum doctor_mark {
	DOCTOR_OK,
	DOCTOR_WARN,
	DOCTOR_FAIL,
	DOCTOR_SKIP,
};

struct doctor {
	GMainLoop *loop;
	FILE *out;
	const struct config *config;
	GPtrArray *accounts; /* const struct config_account *, borrowed */
	guint next;          /* index of the next account to check */
	guint failed_accounts;

	/* The account being checked. */
	const struct config_account *account;
	unsigned failures;
	char *password; /* wiped on free */
	struct password_request *password_request;
	struct keyring_request *keyring_request;
	/* goa_account: what GNOME Online Accounts gives, and the account's
	 * settings with it (d->account points there then). */
	struct goa_request *goa_request;
	struct goa_imap goa;
	struct config_account *goa_login;
	GCancellable *cancellable;
	struct link *link;
	const struct stream *stream; /* the link's */
	struct imap_probe *probe;
	bool tcp_reported;
	bool tls_reported;
	guint done_source;
};

/* ---- doctor-report.c ---- */

/* Text from servers and certificates made fit for a terminal: valid UTF-8,
 * no control or bidi formatting characters. New string. */
char *doctor_safe(const char *text);

/* One checked line: "  ok    TEXT" and so on; a FAIL counts as a problem. */
void doctor_report(struct doctor *d, enum doctor_mark mark, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* What to change, under a failure or warning. */
void doctor_advise(struct doctor *d, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* "TCP: connected to ADDRESS port N", once. */
void doctor_report_tcp(struct doctor *d);

/* The TLS version and cipher, the certificate and a warning when it
 * expires soon, once. */
void doctor_report_tls_ok(struct doctor *d);

/* The stream failed before the IMAP session could end: says where (DNS,
 * TCP, TLS, certificate) and what to change. */
void doctor_report_stream_error(struct doctor *d);

/* IDLE, NOTIFY, QRESYNC, CONDSTORE and the mechanisms offered. */
void doctor_report_capabilities(struct doctor *d);

/* Whether the credentials were accepted, and what to check if not. */
void doctor_report_login(struct doctor *d);

/* Each configured folder: examined, missing (with the names the server
 * has and a respelling for another separator), or not selectable. */
void doctor_report_folders(struct doctor *d);

#endif
