/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_IMAP_SESSION_H
#define IMAPWATCH_IMAP_SESSION_H

/*
 * Watching one folder over an imap_client, as a pure state machine
 * ("sans-I/O"): the client carries the bytes, the session decides the
 * commands and turns what the server reports into facts for the folder's
 * mailbox model, which emits the watch events. No sockets, no timers, no
 * OpenSSL here: the connection (src/io/connection.c) owns those and calls
 * the entry points below.
 *
 * It runs imap-login (greeting, STARTTLS, CAPABILITY, authentication),
 * then ID, ENABLE QRESYNC/CONDSTORE, EXAMINE, the flag listing or
 * incremental resync, the header fetch of new messages, and IDLE (or NOOP
 * polling when the server has no IDLE). It never sends SELECT, STORE,
 * EXPUNGE, CLOSE, COPY, MOVE, APPEND or a non-PEEK body fetch (W1–W3). One
 * command is outstanding at a time (H4, S3).
 *
 * Callbacks run synchronously from inside the entry points (or from inside
 * imap_client_feed()). They must not destroy the session; a connection that
 * wants to drop it after failed() does so from the main loop later.
 *
 * Rule IDs in comments (W1, H4, …) are those of docs/PROTOCOL.md.
 */

#include "imapwatch/core/config.h"
#include "imapwatch/core/event.h"
#include "imapwatch/core/imap-client.h"
#include "imapwatch/core/mailbox.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

struct imap_session;

/* The largest message count accepted from EXISTS. The folder's sequence map
 * holds 12 bytes a message, so a hostile "* 4000000000 EXISTS" would ask for
 * 48 GB; a count above this is a protocol violation that closes the
 * connection (TRANSIENT). Real folders stay far below it. */
#define IMAP_SESSION_MAX_EXISTS 10000000u

/* Untagged responses allowed per command on top of
 * IMAP_CLIENT_UNTAGGED_LIMIT, per message of the folder: a flag listing
 * returns one FETCH a message, a QRESYNC selection a FETCH and a VANISHED. */
#define IMAP_SESSION_UNTAGGED_PER_MESSAGE 2

struct imap_session_ops {
	/* The connection's coarse state changed: CONNECTING (until the
	 * greeting), AUTHENTICATING, SYNCING, IDLE or POLLING. Reported once
	 * per change, never after failed() or finished(). */
	void (*state_changed)(enum watch_state state, void *user_data);
	/* The session failed; message says what, in words for the user. The
	 * client is stopped; the transport should be closed. Called at most
	 * once. */
	void (*failed)(enum imap_failure failure, const char *message, void *user_data);
	/* LOGOUT completed (or the server closed after it, or logout was asked
	 * before the login): close. */
	void (*finished)(void *user_data);
};

/* Becomes client's handler (through imap-login). Borrowed, all of them,
 * and must outlive the session: client, account (login settings, name),
 * password (wiped by its owner), mailbox, ops. Sends nothing until the
 * greeting arrives. */
struct imap_session *imap_session_create(struct imap_client *client,
                                         const struct config_account *account, const char *password,
                                         struct mailbox *mailbox,
                                         const struct imap_session_ops *ops, void *user_data);
/* Accepts NULL. Aborts unfinished mailbox work. */
void imap_session_destroy(struct imap_session *session);

/* Time to end and re-issue IDLE (I5), or to poll when there is no IDLE. No
 * effect in other states. */
void imap_session_refresh(struct imap_session *session);

/* Selects the folder again and re-lists every flag (D-Bus Check): changes
 * IDLE might not have pushed are found (I7). When busy, after the current
 * command. */
void imap_session_resync(struct imap_session *session);

/* Sends DONE (when idling) and LOGOUT. */
void imap_session_logout(struct imap_session *session);

enum watch_state imap_session_get_state(const struct imap_session *session);

/* True once failed() or finished() was called. */
bool imap_session_is_over(const struct imap_session *session);

typedef struct imap_session imap_session;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(imap_session, imap_session_destroy)

#endif
