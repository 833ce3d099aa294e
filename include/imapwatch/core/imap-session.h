/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_IMAP_SESSION_H
#define IMAPWATCH_IMAP_SESSION_H

/*
 * Watching the folders of one connection over an imap_client, as a pure
 * state machine ("sans-I/O"): the client carries the bytes, the session
 * decides the commands and turns what the server reports into facts for
 * each folder's mailbox model, which emits the watch events. No sockets, no
 * timers, no OpenSSL here: the connection (src/io/connection.c) owns those
 * and calls the entry points below.
 *
 * A session has a home folder, which it selects (EXAMINE) and IDLEs on, and
 * may have guests: other folders of the account whose changes it learns
 * without selecting them — pushed by the server with NOTIFY (RFC 5465, F1,
 * F2) when it offers it, else by a STATUS pass (pipelined, or LIST-STATUS)
 * each time the connection calls imap_session_poll(). A guest that changed
 * is visited: selected, caught up exactly as the home folder would be (new
 * mail with details, changes, removals, a reset), then the session selects
 * its home again. Every guest is visited once after login, for the catch-up.
 *
 * It runs imap-login (greeting, STARTTLS, CAPABILITY, authentication),
 * then ID, ENABLE QRESYNC/CONDSTORE, a LIST of the configured folder names
 * and patterns when asked (the owner then says which folders are home and
 * guests), NOTIFY SET, EXAMINE, the flag listing or incremental resync, the
 * header fetch of new messages, and IDLE (or NOOP polling when the server
 * has no IDLE). It never sends SELECT, STORE, EXPUNGE, CLOSE, COPY, MOVE,
 * APPEND or a non-PEEK body fetch (W1–W3). Only STATUS commands are ever
 * pipelined (H4, S3).
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

/* Folders a LIST pass reports at most (server-controlled, so bounded). */
#define IMAP_SESSION_MAX_LISTED 10000

/* How the guests' changes are learnt. */
enum imap_session_guests {
	IMAP_SESSION_GUESTS_NONE,   /* no guests, or not decided yet */
	IMAP_SESSION_GUESTS_NOTIFY, /* pushed by the server (NOTIFY) */
	IMAP_SESSION_GUESTS_POLL,   /* a STATUS pass at each imap_session_poll() */
};

/* One folder a LIST pass found. */
struct imap_session_listed {
	const char *name;        /* UTF-8 (decoded from modified UTF-7) */
	const char *special_use; /* "\\Junk", "\\Trash", "\\Sent", "\\Drafts", "\\All" or NULL */
	bool noselect;           /* \Noselect: holds other folders only */
	/* The prefix of the other users' or shared namespace the folder is
	 * in (UTF-8, "Public/"), or NULL for the user's own (RFC 2342). */
	const char *foreign;
};

/* Who ended an IDLE (I9). */
enum imap_session_idle_end {
	IMAP_SESSION_IDLE_END_DONE,   /* we sent DONE: a refresh, news, other work, logout */
	IMAP_SESSION_IDLE_END_SERVER, /* the server completed IDLE without our DONE */
	IMAP_SESSION_IDLE_END_CLOSED, /* the connection ended while idling: BYE, close, reset */
};

struct imap_session_ops {
	/* The connection's coarse state changed: CONNECTING (until the
	 * greeting), AUTHENTICATING, SYNCING, IDLE or POLLING. Reported once
	 * per change, never after failed() or finished(). */
	void (*state_changed)(enum watch_state state, void *user_data);
	/* How the guests are watched, once decided, and again when NOTIFY
	 * fails and the session falls back to polling (reason says why, for
	 * the log; NULL when nothing failed). May be NULL. */
	void (*guests_changed)(enum imap_session_guests mode, const char *reason, void *user_data);
	/* A LIST pass of the entries given at creation completed: entries in
	 * server order, valid during the call. The owner sets the home (if not
	 * set yet) and the guests from inside the call. May be NULL when no
	 * entries are given. */
	void (*listed)(const struct imap_session_listed *entries, size_t n, void *user_data);
	/* A guest could not be selected (deleted meanwhile, no permission);
	 * the session dropped it and goes on. message is for the user. May be
	 * NULL. */
	void (*guest_failed)(struct mailbox *guest, const char *message, void *user_data);
	/* The session failed; message says what, in words for the user. The
	 * client is stopped; the transport should be closed. Called at most
	 * once. */
	void (*failed)(enum imap_failure failure, const char *message, void *user_data);
	/* LOGOUT completed (or the server closed after it, or logout was asked
	 * before the login): close. */
	void (*finished)(void *user_data);
	/* The server accepted IDLE ("+"); and the IDLE ended, how says who
	 * ended it (CLOSED comes just before failed()). An IDLE cut short by
	 * the session itself failing (a protocol violation) is not reported.
	 * After END_SERVER the session waits, without a command, for
	 * imap_session_refresh() before it idles again (the coarse state
	 * stays IDLE). Both may be NULL. */
	void (*idle_started)(void *user_data);
	void (*idle_ended)(enum imap_session_idle_end how, void *user_data);
};

/* Borrowed, all of them, and must outlive the session. */
struct imap_session_params {
	const struct config_account *account; /* login settings, name */
	const char *password;                 /* its owner wipes it */
	/* The folder to select and IDLE on; NULL: the owner names it from
	 * listed(). */
	struct mailbox *home;
	/* Folder names and patterns ("*", "%") to LIST after login, NULL-
	 * terminated; NULL: none (then only the home folder's special use is
	 * asked, with SPECIAL-USE). */
	const char *const *list;
	/* Guests may be watched with NOTIFY when the server offers it. */
	bool allow_notify;
};

/* Becomes client's handler (through imap-login). Sends nothing until the
 * greeting arrives. */
struct imap_session *imap_session_create(struct imap_client *client,
                                         const struct imap_session_params *params,
                                         const struct imap_session_ops *ops, void *user_data);
/* Accepts NULL. Aborts unfinished mailbox work. */
void imap_session_destroy(struct imap_session *session);

/* Names the home folder (from inside listed(), before anything was
 * selected; or later, when the old one is gone: it is left for the new one
 * after the command under way). */
void imap_session_set_home(struct imap_session *session, struct mailbox *home);

/* The guests from now on (borrowed models; home is never a guest). New
 * guests are visited once; guests no longer named are forgotten (the one
 * being visited is left when its visit ends, so its model must live until
 * the session goes home). With NOTIFY the server is told. */
void imap_session_set_guests(struct imap_session *session, struct mailbox *const *guests, size_t n);

/* Time for a STATUS pass over the guests (polling; with NOTIFY a check
 * that the server still reports them) and a LIST pass of the entries given
 * at creation, to find folders created or deleted meanwhile. When busy,
 * after the current command. */
void imap_session_poll(struct imap_session *session);

/* Time to end and re-issue IDLE (I5), to idle again after the server
 * ended an IDLE (I9), or to poll when there is no IDLE. No effect in other
 * states; never changes the coarse state. */
void imap_session_refresh(struct imap_session *session);

/* Selects every folder again and re-lists its flags (D-Bus Check): changes
 * IDLE might not have pushed are found (I7). When busy, after the current
 * command. */
void imap_session_resync(struct imap_session *session);

/* Sends DONE (when idling) and LOGOUT. */
void imap_session_logout(struct imap_session *session);

enum watch_state imap_session_get_state(const struct imap_session *session);
enum imap_session_guests imap_session_get_guests(const struct imap_session *session);

/* True once failed() or finished() was called. */
bool imap_session_is_over(const struct imap_session *session);

typedef struct imap_session imap_session;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(imap_session, imap_session_destroy)

#endif
