/* SPDX-License-Identifier: MIT */
#ifndef IMAPWATCH_CONNECTION_H
#define IMAPWATCH_CONNECTION_H

/*
 * One IMAP connection watching one folder: a stream (socket + TLS) driving
 * an imap_session, with the timers the pure session cannot have — the
 * response timeout (L4; 30 s without a byte while a reply is due, which
 * also bounds DONE, I5) and the IDLE refresh / poll timer (I5, I6, L7).
 *
 * The account supervisor decides which folders go on which connection and
 * when to reconnect; a connection never reconnects by itself. Its callbacks
 * come from the main loop, never from inside a connection_* call, and the
 * supervisor may destroy the connection from within them.
 */

#include "imapwatch/core/config.h"
#include "imapwatch/core/imap-session.h"
#include "imapwatch/core/mailbox.h"

#include <glib.h>
#include <stdbool.h>

struct connection;

struct connection_ops {
	void (*phase_changed)(struct connection *connection, enum imap_session_phase phase,
	                      void *user_data);
	/* The connection is over because of failure; message is for users. */
	void (*failed)(struct connection *connection, enum imap_failure failure,
	               const char *message, void *user_data);
	/* LOGOUT completed, or the connection was not yet logged in. */
	void (*finished)(struct connection *connection, void *user_data);
};

struct connection_params {
	const struct config_account *account; /* borrowed, outlives the connection */
	const char *password;                 /* copied */
	struct mailbox *mailbox;              /* borrowed, outlives the connection */
	guint idle_refresh;                   /* seconds between IDLE re-issues */
	guint poll_interval;                  /* seconds between polls without IDLE */
	guint response_timeout;               /* seconds; 0 = 30 */
	bool trace;                           /* --trace-imap */
};

struct connection *connection_create(const struct connection_params *params,
                                     const struct connection_ops *ops, void *user_data);
/* Starts connecting. */
void connection_start(struct connection *connection);
/* Selects the folder again and re-lists its flags (imap_session_resync). */
void connection_resync(struct connection *connection);
/* Checks the connection with a round trip answered within timeout seconds
 * (after resume from sleep or a network change); a dead one fails as
 * transient. A connection busy with a command is already being timed. */
void connection_probe(struct connection *connection, guint timeout);
/* Ends IDLE and logs out; `finished` follows (or `failed` if the server does
 * not answer in time). */
void connection_logout(struct connection *connection);
/* Closes at once. Accepts NULL. */
void connection_destroy(struct connection *connection);

enum imap_session_phase connection_get_phase(const struct connection *connection);

#endif
