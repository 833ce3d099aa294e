/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_CONNECTION_H
#define IMAPWATCH_CONNECTION_H

/*
 * One IMAP connection of an account: an imap_session over a link (stream,
 * client, response timer) that IDLEs on its home folder and may watch
 * guests (NOTIFY or STATUS polling), plus the timers the pure session
 * cannot have — the IDLE refresh / NOOP poll timer (I5, I6, L7; every
 * idle_refresh, or sooner when the account learnt that the server ends
 * IDLE sooner, I9, core/idle-lifetime.h), the probe on silence when the
 * server sends keepalives (L1, core/liveness.h), and the guests' poll
 * every poll_interval. It measures how long each IDLE lasted and tells the
 * account who ended it.
 *
 * The account supervisor decides which folders go on which connection and
 * when to reconnect; a connection never reconnects by itself. Its callbacks
 * come from the main loop or from stream events, never from inside a
 * connection_* call; the supervisor may destroy the connection from within
 * failed() and finished().
 */

#include "imapwatch/core/config.h"
#include "imapwatch/core/event.h"
#include "imapwatch/core/idle-lifetime.h"
#include "imapwatch/core/imap-client.h"
#include "imapwatch/core/imap-session.h"
#include "imapwatch/core/mailbox.h"

#include <glib.h>
#include <stdbool.h>

struct connection;

struct connection_ops {
	/* CONNECTING, AUTHENTICATING, SYNCING, IDLE or POLLING, once per
	 * change. */
	void (*state_changed)(struct connection *connection, enum watch_state state,
	                      void *user_data);
	/* How the guests are watched (imap_session_ops.guests_changed). */
	void (*guests_changed)(struct connection *connection, enum imap_session_guests mode,
	                       const char *reason, void *user_data);
	/* A LIST pass of params.list completed (imap_session_ops.listed): set
	 * the home and the guests from inside the call. */
	void (*listed)(struct connection *connection, const struct imap_session_listed *entries,
	               size_t n, void *user_data);
	/* A guest could not be selected and was dropped. */
	void (*guest_failed)(struct connection *connection, struct mailbox *guest,
	                     const char *message, void *user_data);
	/* The connection is over because of failure; message is for users. */
	void (*failed)(struct connection *connection, enum imap_failure failure,
	               const char *message, void *user_data);
	/* LOGOUT completed, or the connection was not yet logged in. */
	void (*finished)(struct connection *connection, void *user_data);
	/* An IDLE ended after lasted µs (monotonic), how says who ended it;
	 * planned: the refresh in seconds it was given when it began. With
	 * IMAP_SESSION_IDLE_END_CLOSED, failed() follows from the main loop.
	 * Must not destroy the connection. May be NULL. */
	void (*idle_ended)(struct connection *connection, enum imap_session_idle_end how,
	                   gint64 lasted, guint planned, void *user_data);
};

/* Borrowed, all of it, and must outlive the connection: account (server,
 * login, idle_refresh, poll_interval), password (its owner wipes it), home
 * (NULL: set from listed()), list (the folders entries to LIST, or NULL),
 * idle_lifetime (what the account learnt of the server's IDLE, read as
 * each IDLE begins; NULL: refresh every idle_refresh). trace: --trace-imap. */
struct connection_params {
	const struct config_account *account;
	const char *password;
	struct mailbox *home;
	const char *const *list;
	const struct idle_lifetime *idle_lifetime;
	bool allow_notify;
	bool trace;
};

struct connection *connection_create(const struct connection_params *params,
                                     const struct connection_ops *ops, void *user_data);
/* Starts connecting. */
void connection_start(struct connection *connection);
/* Selects the folders again and re-lists their flags (imap_session_resync). */
void connection_resync(struct connection *connection);
/* imap_session_set_home(), imap_session_set_guests(): the models are
 * borrowed and must outlive the connection. */
void connection_set_home(struct connection *connection, struct mailbox *home);
void connection_set_guests(struct connection *connection, struct mailbox *const *guests, size_t n);
enum imap_session_guests connection_get_guests(const struct connection *connection);
/* Checks the connection with a round trip answered within timeout seconds
 * (after resume from sleep or a network change); a dead one fails as
 * transient. A connection busy with a command is already being timed. */
void connection_probe(struct connection *connection, guint timeout);
/* Ends IDLE and logs out; `finished` follows (or `failed` if the server does
 * not answer in time). */
void connection_logout(struct connection *connection);
/* Closes at once. Accepts NULL. */
void connection_destroy(struct connection *connection);

#endif
