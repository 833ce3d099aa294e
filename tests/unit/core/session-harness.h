/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_TEST_SESSION_HARNESS_H
#define IMAPWATCH_TEST_SESSION_HARNESS_H

/*
 * What the session tests share: transcripts (server bytes in, the exact
 * client bytes expected out, and the watch events that result), each run
 * twice: server bytes fed whole and fed one byte at a time; and the harness
 * that drives a session over a mailbox model and records what it sends.
 */

#include "imapwatch/core/imap-session.h"

#include "transcript.h"

#include <glib.h>

struct transcript {
	const char *name;
	enum config_security security;
	enum config_auth auth;
	const char *password;
	const struct step *steps;
	/* Expected watch events, one JSON object per line. */
	const char *events;
	/* Expected end: NULL = still running; else "failed:<class>:<text>" or
	 * "finished". The text is matched as a substring. */
	const char *outcome;
	/* Expected special use of the folder after the run (NULL: none). */
	const char *special_use;
	/* Mailbox state before the session, as after an earlier run. */
	uint32_t restore_uidvalidity;
	uint32_t restore_watermark;
	/* Saved sets (compact mode) as of restore_modseq: "1:5,9", "" for
	 * none; NULL: none saved. */
	uint64_t restore_modseq;
	const char *restore_all;
	const char *restore_unseen;
	/* Expected coarse states reported, one a line ("authenticating",
	 * ...), and IDLE's beginnings and ends ("start", "done", "server",
	 * "closed"), one a line; NULL: not checked. */
	const char *states;
	const char *idle;
};

struct harness {
	struct transcript_recorder rec; /* first: the recorder callbacks take the harness */
	struct transcript_wire wire;
	GString *events;
	GString *states; /* what the session reported, as transcript.states */
	GString *idle;   /* as transcript.idle */
	struct imap_session *session;
};

#define PLAIN_IR "AGFsaWNlAHMzY3JldCBwYXNz" /* base64("\0alice\0s3cret pass") */
#define FETCH_NEW                                                                                  \
	" (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE "         \
	"MESSAGE-ID)])\r\n"

/* The session callbacks: everything goes to the harness's recorder. */
extern const struct imap_session_ops session_harness_ops;
/* A mailbox sink that appends each event as a JSON line to h->events. */
void session_harness_sink(const struct watch_event *event, void *user_data);
/* A recorder and a wire with the given login settings. */
void session_harness_init(struct harness *h, enum config_security security, enum config_auth auth);
/* Destroys the session, client and mailbox, frees what the harness
 * recorded. */
void session_harness_finish(struct harness *h, struct mailbox *mailbox);

/* Registers each transcript as the test /session/NAME. */
void session_add_transcripts(const struct transcript *const *all, size_t n);

#endif
