/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_IMAP_SESSION_PRIVATE_H
#define IMAPWATCH_IMAP_SESSION_PRIVATE_H

/*
 * Shared by the two halves of the session, not for other modules:
 * imap-session.c sends the commands and follows their tagged replies (the
 * state machine), imap-session-untagged.c turns untagged data into facts
 * for the mailbox model.
 */

#include "imapwatch/core/imap-client.h"
#include "imapwatch/core/imap-login.h"
#include "imapwatch/core/imap-parser.h"
#include "imapwatch/core/imap-session.h"

/* In protocol order: message data counts only from S_EXAMINE on
 * (imap-session-untagged.c compares states). */
enum imap_session_state {
	S_LOGIN, /* greeting to authenticated: imap-login runs it */
	S_ID,
	S_ENABLE,
	S_LIST, /* the folder's special use (RFC 6154), once per connection */
	S_EXAMINE,
	S_LIST_FLAGS,
	S_SEARCH_ALL,    /* incremental resync: every UID, compactly */
	S_FETCH_CHANGED, /* incremental resync: CONDSTORE CHANGEDSINCE */
	S_FETCH_NEW,
	S_FETCH_DETAILS,
	S_IDLE_START, /* IDLE sent, waiting for "+" */
	S_IDLING,
	S_IDLE_DONE, /* DONE sent, waiting for the tagged reply */
	S_POLL_WAIT,
	S_NOOP,
	S_LOGOUT,
	S_DONE,
};

/* Work that waits for the command under way to complete: one set, taken in
 * one place (step_next() in imap-session.c). While idling, any of the
 * first three ends the IDLE at once. */
enum imap_session_pending {
	PENDING_LOGOUT = 1u << 0,    /* imap_session_logout() */
	PENDING_RESYNC = 1u << 1,    /* imap_session_resync(): select again */
	PENDING_NEW = 1u << 2,       /* EXISTS announced messages: fetch them */
	PENDING_CHECK_NEW = 1u << 3, /* a selection or a fetch ended: fetch if the map says so */
	PENDING_DETAILS = 1u << 4,   /* headers of unseen messages of the baseline */
};

/* What ends an IDLE as soon as it is known. */
#define PENDING_WAKES_IDLE (PENDING_LOGOUT | PENDING_RESYNC | PENDING_NEW)

struct imap_session {
	enum imap_session_state state;
	enum watch_state reported; /* the coarse state last reported upward */
	const struct config_account *account;
	struct mailbox *mailbox;
	const struct imap_session_ops *ops;
	void *user_data;
	struct imap_client *client;
	struct imap_login *login;

	unsigned pending; /* enum imap_session_pending */
	bool enabled_condstore;
	bool enabled_qresync;
	bool selected; /* EXAMINE answered OK: message data is ours */
	bool have_uidvalidity;
	bool idle_broken;       /* IDLE refused: poll instead */
	unsigned idle_warnings; /* untagged NO while idling, this connection */
	/* This selection resynchronises from the previous one through
	 * CONDSTORE/QRESYNC (N7, N8) instead of listing every flag. */
	bool incremental;
	uint64_t resync_modseq; /* HIGHESTMODSEQ of the previous selection */
};

/* ---- imap-session.c ---- */

/* Ends the session with failed() unless it is over already. */
void imap_session_fail(struct imap_session *s, enum imap_failure failure, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
/* Ends IDLE; the IDLE command's tagged reply follows. */
void imap_session_send_done(struct imap_session *s);

/* ---- imap-session-untagged.c ---- */

/* An untagged response (status or data) in any state. */
void imap_session_handle_untagged(struct imap_session *s, const struct imap_response *r);

#endif
