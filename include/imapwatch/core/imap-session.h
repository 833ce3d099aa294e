/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_IMAP_SESSION_H
#define IMAPWATCH_IMAP_SESSION_H

/*
 * One IMAP connection watching one folder, as a pure state machine
 * ("sans-I/O"): bytes from the server go in through imap_session_feed(),
 * commands to send and requests to the transport come out through the ops
 * callbacks, and protocol facts go into the folder's mailbox model, which
 * emits the watch events. No sockets, no timers, no OpenSSL here: the
 * connection layer owns those and calls the entry points below.
 *
 * The session follows DESIGN.md §3: greeting, (STARTTLS,) CAPABILITY,
 * AUTHENTICATE PLAIN or LOGIN, CAPABILITY, ID, ENABLE QRESYNC/CONDSTORE,
 * EXAMINE, full flag listing, header fetch of new messages, IDLE (or NOOP
 * polling when the server has no IDLE). It never sends SELECT, STORE,
 * EXPUNGE, CLOSE, COPY, MOVE, APPEND or a non-PEEK body fetch (W1–W3).
 * One command is outstanding at a time; nothing is pipelined (H4, S3).
 *
 * Callbacks run synchronously from inside the entry points. They must not
 * destroy the session; a connection that wants to drop it after failed()
 * does so from the main loop later.
 */

#include "imapwatch/core/config.h"
#include "imapwatch/core/imap-login.h" /* enum imap_failure */
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
 * IMAP_LOGIN_UNTAGGED_LIMIT, per message of the folder: a flag listing
 * returns one FETCH a message, a QRESYNC selection a FETCH and a VANISHED. */
#define IMAP_SESSION_UNTAGGED_PER_MESSAGE 2

/* Coarse progress, mapped to the account states of DESIGN.md §1. */
enum imap_session_phase {
	IMAP_SESSION_PHASE_CONNECTING,     /* waiting for the greeting / TLS */
	IMAP_SESSION_PHASE_AUTHENTICATING, /* capability, STARTTLS, login */
	IMAP_SESSION_PHASE_SYNCING,        /* EXAMINE, flag listing, fetches */
	IMAP_SESSION_PHASE_IDLE,           /* in IDLE, waiting for news */
	IMAP_SESSION_PHASE_POLLING,        /* no IDLE: waiting for the next poll */
	IMAP_SESSION_PHASE_LOGOUT,         /* LOGOUT sent */
	IMAP_SESSION_PHASE_DONE,           /* finished, cleanly or not */
};

struct imap_session_ops {
	/* Bytes to write to the server. */
	void (*send)(const char *data, size_t len, void *user_data);
	/* STARTTLS was accepted and nothing is buffered: start the handshake
	 * and call imap_session_tls_ready() when it completes. */
	void (*start_tls)(void *user_data);
	/* A protocol line for --trace-imap, credentials already replaced by
	 * "<redacted>" (outgoing = client to server). May be NULL. */
	void (*trace)(bool outgoing, const char *line, void *user_data);
	void (*phase_changed)(enum imap_session_phase phase, void *user_data);
	/* The session failed; message says what, in words for the user. The
	 * transport should be closed. Called at most once. */
	void (*failed)(enum imap_failure failure, const char *message, void *user_data);
	/* LOGOUT completed (or the server closed after it): close. */
	void (*finished)(void *user_data);
};

struct imap_session_config {
	const char *account; /* for messages */
	enum config_security security;
	enum config_auth auth;
	const char *username;
	const char *password; /* copied; the copy is wiped on destroy */
	bool trace;           /* call ops->trace */
};

/* mailbox is borrowed and must outlive the session. Sends nothing until the
 * greeting arrives. */
struct imap_session *imap_session_create(const struct imap_session_config *config,
                                         struct mailbox *mailbox,
                                         const struct imap_session_ops *ops, void *user_data);
/* Accepts NULL. Wipes the password. Aborts unfinished mailbox work. */
void imap_session_destroy(struct imap_session *session);

/* Bytes from the server (plaintext, after TLS). */
void imap_session_feed(struct imap_session *session, const char *data, size_t len);

/* The TLS handshake requested by ops->start_tls succeeded. */
void imap_session_tls_ready(struct imap_session *session);

/* The transport closed (EOF or error) with message; ends the session
 * (failed() unless LOGOUT was under way). */
void imap_session_transport_closed(struct imap_session *session, const char *message);

/* Time to end and re-issue IDLE (I5), or to poll when there is no IDLE. No
 * effect in other phases. */
void imap_session_refresh(struct imap_session *session);

/* Selects the folder again and re-lists every flag (D-Bus Check): changes
 * IDLE might not have pushed are found (I7). When busy, after the current
 * command. */
void imap_session_resync(struct imap_session *session);

/* Sends DONE (when idling) and LOGOUT. */
void imap_session_logout(struct imap_session *session);

/* True while a reply from the server is awaited (a command or DONE is
 * outstanding): the connection bounds that wait with a timer (L4). */
bool imap_session_is_waiting(const struct imap_session *session);

enum imap_session_phase imap_session_get_phase(const struct imap_session *session);
const char *imap_session_phase_name(enum imap_session_phase phase);

/* Capabilities as last reported, space separated, upper-case (for logs and
 * status). */
char *imap_session_describe_capabilities(const struct imap_session *session);

typedef struct imap_session imap_session;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(imap_session, imap_session_destroy)

#endif
