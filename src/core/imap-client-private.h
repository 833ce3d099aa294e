/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_CORE_IMAP_CLIENT_PRIVATE_H
#define IMAPWATCH_CORE_IMAP_CLIENT_PRIVATE_H

/*
 * Shared by the two halves of the client, not for other modules:
 * imap-client.c (commands, replies, IDLE, STARTTLS, the feed loop) and
 * imap-client-caps.c (capabilities, response codes every machine cares
 * about, failure classes).
 */

#include "imapwatch/core/imap-client.h"

/* Longest tag we make ("A" and ten digits), with room. */
#define TAG_SIZE 16

/* A command sent and not yet answered. */
struct pending {
	char tag[TAG_SIZE];
	imap_client_reply reply;
	void *data;
	bool idle;     /* an IDLE command */
	bool starttls; /* a STARTTLS command: its OK starts TLS */
	imap_client_reply refused;
	void (*tls_ready)(void *data);
};

enum idle_state {
	IDLE_NONE,
	IDLE_SENT,    /* IDLE sent, waiting for "+" */
	IDLE_RUNNING, /* "+" came: not waiting for anything */
	IDLE_DONE,    /* DONE sent, waiting for the tagged reply */
};

struct imap_client {
	const char *account;
	bool trace;
	const struct imap_client_io *io;
	const struct imap_client_handler *handler;
	void *owner;

	struct imap_parser *parser;
	bool stopped;
	bool greeted; /* the first response has been handled */
	unsigned next_tag;
	GArray *pending; /* struct pending, in the order sent */
	enum idle_state idle;

	/* Untagged responses since the last completed command, and how many
	 * are allowed (imap_client_set_untagged_limit()). */
	size_t untagged;
	size_t untagged_limit;

	uint32_t caps;
	bool caps_known;
	bool authenticated; /* mechanisms offered before login are kept */
	bool tls_active;
	bool tls_wanted; /* STARTTLS accepted: start TLS once input is checked */
	void (*tls_ready)(void *data);
	void *tls_data;

	GString *auth_mechanisms;
	char *bye_text;
	enum imap_failure bye_failure;
	GString *trace_in;
};

/* ---- imap-client-caps.c ---- */

/* A capability list (CAPABILITY data or code) replaces the known one. */
void imap_client_caps_set(struct imap_client *c, const struct imap_arg *args, size_t n);

#endif
